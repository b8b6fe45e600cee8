import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/load-config.ts';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, 'test');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

const IVR = (steps: string): string => `
accounts:
  - { account_id: "1800", extension: "800", type: ivr, display_name: "Menu", ivr_variables: [ { id: 3, name: balance, default_value: "0" } ],
      ivr_steps: ${steps} }
`;

test('ivr_steps are read with their defaults: collect defaults, labels, menu choices, goto targets', () => {
  const config = parseConfig(
    IVR(`[ { type: play, prompt: beep, label: top }, { type: collect, variable: choice }, { type: menu, variable: choice, choices: { "1": say }, otherwise: top },
          { type: say_digits, value: "\${balance}", label: say, prompts: /srv/digits }, { type: goto, to: top }, { type: hangup } ]`),
    'test',
  );
  assert.deepEqual(config.accounts[0]!.ivr_steps, [
    { label: 'top', type: 'play', prompt: 'beep' },
    { type: 'collect', variable: 'choice', max_digits: 1, terminator: '#', timeout_seconds: 5 },
    { type: 'menu', variable: 'choice', choices: { '1': 'say' }, otherwise: 'top' },
    { label: 'say', type: 'say_digits', value: '${balance}', prompts: '/srv/digits' },
    { type: 'goto', to: 'top' },
    { type: 'hangup' },
  ]);
  assert.ok(Object.isFrozen(config.accounts[0]!.ivr_steps));
});

test('bad steps are reported by key path', () => {
  assert.deepEqual(
    problems(
      IVR(`[ { type: play, prompt: /x/song.mp3 }, { type: collect, variable: "9x", max_digits: 0 }, { type: goto, to: nowhere },
            { type: menu, variable: v, choices: { "1": missing } }, { type: dance }, { type: hangup, label: a }, { type: hangup, label: a } ]`),
    ),
    [
      'accounts[0].ivr_steps[0].prompt: must be a .wav file or one of beep, ringback, busy, reorder',
      'accounts[0].ivr_steps[1].variable: must be a variable name (letters, digits, _)',
      'accounts[0].ivr_steps[1].max_digits: must be an integer from 1 to 64',
      'accounts[0].ivr_steps[4].type: must be one of play, say_digits, collect, menu, goto, hangup',
      'accounts[0].ivr_steps[6].label: duplicates label a',
      'accounts[0].ivr_steps[2].to: no step labelled nowhere',
      'accounts[0].ivr_steps[3].choices.1: no step labelled missing',
    ],
  );
});

test('only an ivr account has steps; voicemail_max_seconds is bounded', () => {
  assert.deepEqual(
    problems(`
accounts:
  - { account_id: "1101", extension: "101", type: sip, ivr_steps: [ { type: hangup } ], voicemail_max_seconds: 0 }
`),
    ['accounts[0].ivr_steps: only an ivr account has steps', 'accounts[0].voicemail_max_seconds: must be an integer from 1 to 3600'],
  );
  const ok = parseConfig('accounts:\n  - { account_id: "1101", extension: "101", type: sip, voicemail_max_seconds: 30 }\n', 'test');
  assert.equal(ok.accounts[0]!.voicemail_max_seconds, 30);
  assert.equal(ok.accounts[0]!.ivr_steps, undefined);
});
