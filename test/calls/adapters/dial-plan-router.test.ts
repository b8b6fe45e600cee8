import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../../src/config/load-config.ts';
import { Directory } from '../../../src/directory/directory.ts';
import { createDialPlanRouter, directoryIvrVariables } from '../../../src/calls/adapters/dial-plan-router.ts';

const config = parseConfig(readFileSync(new URL('../../../config/demo.yaml', import.meta.url), 'utf8'), 'demo.yaml');
const directory = new Directory(config);
const account = (id: string) => directory.account(id)!;

const contacts = {
  hasContacts: (accountId: string) => accountId === '1102' || accountId === '1101',
  lookup: (accountId: string) =>
    accountId === '1102'
      ? [1, 2].map((n) => ({
          accountId,
          contact: `sip:102@10.0.0.${n}:5060`,
          sendTo: { transport: 'udp' as const, host: '127.0.0.1', port: 6000 + n },
          expiresAt: Number.MAX_SAFE_INTEGER,
        }))
      : [],
};
const router = createDialPlanRouter(() => directory, contacts);

test('an extension with two registered phones becomes two forks of one step', () => {
  const r = router.plan({ number: '102', account: account('1106'), ignoreApiSettings: false, followCallRules: true });
  assert.ok(r.ok);
  assert.equal(r.leg.dialed, '102');
  assert.deepEqual(r.leg.steps[0]!.targets.map((t) => (t.kind === 'phone' ? t.sendTo.port : t.kind)), [6001, 6002]);
});

test('an outside number is rewritten by Call API settings and goes to the trunk with its rule', () => {
  const r = router.plan({ number: '15551234567', account: account('1106'), ignoreApiSettings: false, followCallRules: true });
  assert.ok(r.ok);
  assert.equal(r.leg.dialed, '915551234567');
  assert.deepEqual(r.leg.steps[0]!.targets, [
    { kind: 'trunk', attempts: [{ trunk: 'carrier', number: '15551234567', rule: 'long-distance', isFinal: true }] },
  ]);
});

test('an IVR is answered by the PBX; an extension without phones has no route', () => {
  const ivr = router.plan({ number: '800', account: account('1106'), ignoreApiSettings: false, followCallRules: true });
  assert.ok(ivr.ok);
  assert.deepEqual(ivr.leg.steps[0]!.targets, [{ kind: 'pbx', app: 'ivr', accountId: '1800', extension: '800' }]);
  const none = router.plan({ number: '106', account: account('1106'), ignoreApiSettings: false, followCallRules: false });
  assert.equal(none.ok, false);
});

test('IVR variables are looked up by name across the IVRs', () => {
  const vars = directoryIvrVariables(() => directory);
  assert.equal(vars.lookup('balance'), 3);
  assert.equal(vars.lookup('nothing'), undefined);
});
