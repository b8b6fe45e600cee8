import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IvrStep } from '../../../src/config/schema.ts';
import {
  callVariables,
  defaultIvrSteps,
  initialIvrState,
  ivrTransition,
  substitute,
} from '../../../src/media/ivr/ivr-machine.ts';
import type { IvrEffect, IvrInput, IvrState } from '../../../src/media/ivr/ivr-machine.ts';

/** Feeds inputs in order; returns the final state and every effect, in order. */
function drive(steps: readonly IvrStep[], variables: Record<string, string>, inputs: readonly IvrInput[]): { state: IvrState; effects: IvrEffect[] } {
  let state = initialIvrState(variables);
  const effects: IvrEffect[] = [];
  for (const input of inputs) {
    const t = ivrTransition(steps, state, input);
    state = t.state;
    effects.push(...t.effects);
  }
  return { state, effects };
}

const BALANCE = [{ id: 3, name: 'balance', default_value: '0' }, { id: 4, name: 'acct', default_value: '77' }];

test('API variables override the IVR defaults for the call; names the IVR does not define are dropped', () => {
  assert.deepEqual(callVariables(BALANCE, [{ name: 'balance', value: '300' }, { name: 'nope', value: '1' }]), { balance: '300', acct: '77' });
  assert.deepEqual(callVariables(BALANCE, []), { balance: '0', acct: '77' });
  assert.equal(substitute('b=${balance} a=${acct} x=${missing}', { balance: '300', acct: '7' }), 'b=300 a=7 x=');
});

test('say_digits without prompts: each digit as in-band DTMF after a lead-in, then the script hangs up', () => {
  const steps: IvrStep[] = [{ type: 'play', prompt: 'beep' }, { type: 'say_digits', value: '${balance}' }, { type: 'hangup' }];
  const first = drive(steps, { balance: '300' }, [{ type: 'start' }]);
  assert.equal(first.state.phase, 'playing');
  assert.deepEqual(first.effects, [{ type: 'play', sounds: [{ kind: 'tone', name: 'beep' }] }]);
  const second = drive(steps, { balance: '300' }, [{ type: 'start' }, { type: 'played' }]);
  assert.deepEqual(second.effects.at(-1), {
    type: 'play',
    sounds: [{ kind: 'silence', ms: 200 }, { kind: 'dtmf', digit: '3' }, { kind: 'dtmf', digit: '0' }, { kind: 'dtmf', digit: '0' }],
  });
  const done = drive(steps, { balance: '300' }, [{ type: 'start' }, { type: 'played' }, { type: 'played' }]);
  assert.equal(done.state.phase, 'ended');
  assert.deepEqual(done.effects.at(-1), { type: 'hangup', reason: 'ivr_hangup' });
});

test('say_digits with a prompts folder plays one file per digit; non-digits are skipped', () => {
  const steps: IvrStep[] = [{ type: 'say_digits', value: '1.5#', prompts: '/p/digits/' }];
  const { effects } = drive(steps, {}, [{ type: 'start' }]);
  assert.deepEqual(effects, [
    { type: 'play', sounds: [{ kind: 'file', path: '/p/digits/1.wav' }, { kind: 'file', path: '/p/digits/5.wav' }, { kind: 'file', path: '/p/digits/pound.wav' }] },
  ]);
});

test('the default script says each variable and hangs up; an empty value says nothing', () => {
  const steps = defaultIvrSteps([...BALANCE, { id: 5, name: 'empty', default_value: '' }]);
  const { state, effects } = drive(steps, { balance: '12', acct: '9', empty: '' }, [{ type: 'start' }, { type: 'played' }, { type: 'played' }]);
  const plays = effects.filter((e) => e.type === 'play');
  assert.equal(plays.length, 2);
  assert.equal(state.phase, 'ended');
  assert.deepEqual(effects.at(-1), { type: 'hangup', reason: 'ivr_hangup' });
});

const MENU: IvrStep[] = [
  { type: 'play', prompt: '/p/menu.wav', label: 'top' },
  { type: 'collect', variable: 'choice', max_digits: 1, terminator: '#', timeout_seconds: 4 },
  { type: 'menu', variable: 'choice', choices: { '1': 'balance', '2': 'bye' }, otherwise: 'top' },
  { type: 'say_digits', value: '${balance}', label: 'balance' },
  { type: 'hangup', label: 'bye' },
];

test('collect waits with a timer; a digit completes it and the menu jumps to its choice', () => {
  const waiting = drive(MENU, { balance: '42' }, [{ type: 'start' }, { type: 'played' }]);
  assert.equal(waiting.state.phase, 'collecting');
  assert.deepEqual(waiting.effects.at(-1), { type: 'startTimer', ms: 4000 });
  const chose = drive(MENU, { balance: '42' }, [{ type: 'start' }, { type: 'played' }, { type: 'digit', digit: '1' }]);
  assert.equal(chose.state.variables.choice, '1');
  assert.deepEqual(chose.effects.slice(-2), [
    { type: 'cancelTimer' },
    { type: 'play', sounds: [{ kind: 'silence', ms: 200 }, { kind: 'dtmf', digit: '4' }, { kind: 'dtmf', digit: '2' }] },
  ]);
  const bye = drive(MENU, {}, [{ type: 'start' }, { type: 'played' }, { type: 'digit', digit: '2' }]);
  assert.equal(bye.state.phase, 'ended');
});

test('a timeout with nothing collected takes the menu\'s otherwise; digits pressed during a prompt are kept', () => {
  const again = drive(MENU, {}, [{ type: 'start' }, { type: 'played' }, { type: 'timeout' }]);
  assert.equal(again.state.variables.choice, '');
  assert.deepEqual(again.effects.at(-1), { type: 'play', sounds: [{ kind: 'file', path: '/p/menu.wav' }] });
  assert.equal(again.state.phase, 'playing');
  const typeahead = drive(MENU, {}, [{ type: 'start' }, { type: 'digit', digit: '2' }, { type: 'played' }]);
  assert.equal(typeahead.state.phase, 'ended', 'the 2 pressed during the prompt chose "bye"');
  assert.ok(!typeahead.effects.some((e) => e.type === 'startTimer'));
});

test('collect stops at max digits or at the terminator, which is not kept; a late timeout is ignored', () => {
  const steps: IvrStep[] = [
    { type: 'collect', variable: 'pin', max_digits: 4, terminator: '#', timeout_seconds: 10 },
    { type: 'say_digits', value: '${pin}' },
  ];
  const digits = (keys: string): IvrInput[] => [...keys].map((digit) => ({ type: 'digit', digit }));
  const four = drive(steps, {}, [{ type: 'start' }, ...digits('12345')]);
  assert.equal(four.state.variables.pin, '1234');
  assert.equal(four.state.phase, 'playing');
  const term = drive(steps, {}, [{ type: 'start' }, ...digits('97#'), { type: 'timeout' }]);
  assert.equal(term.state.variables.pin, '97');
  assert.equal(term.state.phase, 'playing');
  assert.equal(term.effects.filter((e) => e.type === 'cancelTimer').length, 1);
});

test('the caller hanging up ends the script without a hangup effect and cancels a pending collect', () => {
  const { state, effects } = drive(MENU, {}, [{ type: 'start' }, { type: 'played' }, { type: 'hangup' }, { type: 'digit', digit: '1' }]);
  assert.equal(state.phase, 'ended');
  assert.equal(state.endReason, 'caller_hung_up');
  assert.deepEqual(effects.slice(-1), [{ type: 'cancelTimer' }]);
});

test('a script looping through gotos without waiting is stopped; running off the end hangs up', () => {
  const loop: IvrStep[] = [{ type: 'goto', to: 'a', label: 'a' }];
  const looped = drive(loop, {}, [{ type: 'start' }]);
  assert.deepEqual(looped.effects, [{ type: 'hangup', reason: 'script_loops_without_waiting' }]);
  const off = drive([{ type: 'play', prompt: 'busy' }], {}, [{ type: 'start' }, { type: 'played' }]);
  assert.deepEqual(off.effects.at(-1), { type: 'hangup', reason: 'end_of_script' });
});
