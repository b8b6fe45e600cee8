import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load-config.ts';

function problems(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.source, 'test.yaml');
    return [...err.problems];
  }
  assert.fail('expected a ConfigError');
}

const ACCOUNTS = `
accounts:
  - { account_id: "1", extension: "101", type: sip }
  - { account_id: "2", extension: "102", type: analog }
  - { account_id: "3", extension: "103", type: virtual }
`;

test('the demo config loads, frozen, with defaults filled in', () => {
  const c = loadConfig(new URL('../../config/demo.yaml', import.meta.url).pathname);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.accounts) && Object.isFrozen(c.accounts[0]?.caller_id));
  assert.deepEqual(c.api.https, { host: '0.0.0.0', port: 8443 });
  assert.deepEqual(c.api.http, { host: '127.0.0.1', port: 8080 });
  assert.equal(c.api.admin.username, 'admin');
  assert.equal(c.api.admin.password, undefined);
  assert.equal(c.calls.max_ring_seconds, 120);
  const bob = c.accounts.find((a) => a.account_id === '1102');
  assert.deepEqual(bob?.call_api_settings.rewrites, [{ lengths: [10, 11], begins_with: '', trim: 0, prepend: '9' }]);
  assert.deepEqual(bob?.caller_id, { name: 'Bob Brown', number: '' });
  assert.equal(c.accounts.find((a) => a.account_id === '1800')?.ivr_variables[0]?.name, 'balance');
  assert.equal(c.trunks[0]?.domain, '127.0.0.1');
  assert.equal(c.outgoing_call_rules[2]?.pattern_trim, 0);
});

test('an empty document is a valid config with an HTTPS listener and no accounts', () => {
  const c = parseConfig('', 'empty.yaml');
  assert.equal(c.api.https?.port, 8443);
  assert.equal(c.api.http, null);
  assert.deepEqual(c.accounts, []);
  assert.equal(c.sip.listen.length, 1);
});

test('bad enum reported with its path and the allowed values', () => {
  const p = problems(`${ACCOUNTS}  - { account_id: "4", extension: "104", type: fax }\n`);
  assert.deepEqual(p, [{ path: 'accounts[3].type', message: 'must be one of sip, analog, virtual, ivr, queue, conference' }]);
});

test('unknown keys are errors, x- keys are ignored, anchors and merges work', () => {
  const p = problems(`api:\n  htps: { port: 1 }\nx-any: { whatever: 1 }\n${ACCOUNTS}  - { account_id: "4", extension: "104", type: sip, dispaly_name: x }\nbogus: 1\n`);
  assert.deepEqual(p.map((x) => x.path).sort(), ['accounts[3].dispaly_name', 'api.htps', 'bogus']);
  const c = parseConfig('x-a: &a { type: sip, display_name: Same }\naccounts:\n  - { account_id: "9", extension: "9", <<: *a }\n', 't');
  assert.equal(c.accounts[0]?.display_name, 'Same');
});

test('every problem is collected: types, ranges, required fields, cross references, duplicates', () => {
  const p = problems(`
api: { https: { port: 70000 }, max_body_bytes: abc }
sip: { t1_ms: 5000, t2_ms: 100 }
trunks:
  - { name: t1, host: h }
  - { name: t1, host: h2, register: yes please }
outgoing_call_rules:
  - { name: r, pattern_begin: "9x", trunk: nowhere, pattern_min: 5, pattern_max: 3 }
accounts:
  - { account_id: "12a", extension: "101", type: sip, outgoing_rules_deny: [missing] }
  - { account_id: "13", extension: "101", type: sip, ivr_variables: [{ id: 1, name: v }] }
  - { extension: "105", type: ivr, ivr_variables: [{ id: 1, name: "bad name" }] }
`);
  const byPath = new Map(p.map((x) => [x.path, x.message]));
  assert.equal(byPath.get('api.https.port'), 'must be an integer from 0 to 65535');
  assert.equal(byPath.get('api.max_body_bytes'), 'must be an integer from 256 to 16777216');
  assert.equal(byPath.get('sip.t1_ms'), 'must not exceed t2_ms');
  assert.equal(byPath.get('trunks[1].register'), 'must be true or false');
  assert.equal(byPath.get('trunks[1].name'), 'duplicates trunks[0].name (t1)');
  assert.equal(byPath.get('outgoing_call_rules[0].pattern_begin'), 'must be digits, * or # only');
  assert.equal(byPath.get('outgoing_call_rules[0].trunk'), 'no trunk named nowhere');
  assert.equal(byPath.get('outgoing_call_rules[0].pattern_min'), 'must not exceed pattern_max');
  assert.equal(byPath.get('accounts[0].account_id'), 'must be digits only');
  assert.equal(byPath.get('accounts[0].outgoing_rules_deny[0]'), 'no outgoing call rule named missing');
  assert.equal(byPath.get('accounts[1].extension'), 'duplicates accounts[0].extension (101)');
  assert.equal(byPath.get('accounts[1].ivr_variables'), 'only an ivr account defines variables');
  assert.equal(byPath.get('accounts[2].account_id'), 'is required');
  assert.equal(byPath.get('accounts[2].ivr_variables[0].name'), 'must be a variable name (letters, digits, _)');
  assert.equal(byPath.get('accounts[2].ivr_variables[0].id'), 'IVR variable id 1 is already used by account 13');
});

test('YAML syntax errors and unreadable files are ConfigErrors too', () => {
  assert.equal(problems('accounts: [ {')[0]?.path, '');
  assert.match(problems('a: 1\na: 2\n')[0]?.message ?? '', /YAML/);
  assert.deepEqual(problems('- 1\n- 2\n'), [{ path: '', message: 'must be a mapping' }]);
  assert.throws(() => loadConfig('/nonexistent/originate.yaml'), (e: unknown) => e instanceof ConfigError && /cannot read file/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'originate-cfg-'));
  writeFileSync(join(dir, 'c.yaml'), 'api: { http: { port: 0 }, https: null }\n');
  const c = loadConfig(join(dir, 'c.yaml'));
  assert.equal(c.api.https, null);
  assert.deepEqual(c.api.http, { host: '127.0.0.1', port: 0 });
  assert.deepEqual(problems('api: { https: null }'), [{ path: 'api', message: 'needs an https or an http listener' }]);
});

test('YAML numbers where digits are expected are read as the digits', () => {
  const c = parseConfig('accounts:\n  - { account_id: 1101, extension: 101, type: sip }\n', 't');
  assert.equal(c.accounts[0]?.account_id, '1101');
  assert.equal(c.accounts[0]?.extension, '101');
});

test('the admin user name may not be an extension number (extension users log in with theirs)', () => {
  assert.deepEqual(problems('api: { admin: { username: "101" } }\naccounts:\n  - { account_id: "1", extension: "101", type: sip }\n'), [
    { path: 'api.admin.username', message: 'is the extension of accounts[0]; choose another name' },
  ]);
});
