import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { planLeg } from '../../src/dialplan/plan-leg.ts';
import { Directory } from '../../src/directory/directory.ts';

const path = new URL('../../config/demo.yaml', import.meta.url);
const directory = new Directory(parseConfig(readFileSync(path, 'utf8'), path.pathname));
const account = (id: string) => {
  const a = directory.account(id);
  assert.ok(a, `demo account ${id}`);
  return a;
};
const registered = new Set(['1101', '1102', '1106']);
const locations = { hasContacts: (id: string) => registered.has(id) };

describe('dial plan over the shipped demo configuration', () => {
  it('public example: account 1106 dials 15554578299 as 915554578299, out through the carrier without the 9', () => {
    const result = planLeg({ number: '15554578299', account: account('1106'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    assert.deepEqual(result, {
      ok: true,
      plan: { dialed: '915554578299', steps: [{ destinations: [{ kind: 'trunk', attempts: [{ trunk: 'carrier', number: '15554578299', rule: 'long-distance', isFinal: true }] }], ringSeconds: null }] },
    });
  });

  it('public example: dial_first 15551112222 is dialed as 915551112222 and dial_second 800 reaches the IVR', () => {
    const first = planLeg({ number: '15551112222', account: account('1106'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    const second = planLeg({ number: '800', account: account('1106'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    assert.equal(first.ok && first.plan.dialed, '915551112222');
    assert.deepEqual(second.ok && second.plan.steps, [{ destinations: [{ kind: 'ivr', accountId: '1800', extension: '800' }], ringSeconds: null }]);
    assert.deepEqual(directory.ivrVariable('balance'), { id: 3, name: 'balance', defaultValue: '0', ivrAccountId: '1800' });
  });

  it('a number already starting with 9 is left alone when ignore_user_api_settings=1', () => {
    const result = planLeg({ number: '915554578299', account: account('1106'), directory, locations, ignoreApiSettings: true, followCallRules: true });
    assert.equal(result.ok && result.plan.dialed, '915554578299');
  });

  it("the lobby phone's deny list keeps it off long distance, not off local calls", () => {
    const long = planLeg({ number: '15554578299', account: account('1103'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    const local = planLeg({ number: '5554578299', account: account('1103'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    assert.deepEqual([long.ok, local.ok], [false, true]);
  });

  it('virtual extension 104 forwards to an outside number through the carrier', () => {
    const remote = planLeg({ number: '104', account: account('1106'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    assert.deepEqual(remote.ok && remote.plan.steps.map((s) => s.destinations), [
      [{ kind: 'trunk', attempts: [{ trunk: 'carrier', number: '15551234567', rule: 'long-distance', isFinal: true }] }],
    ]);
  });

  it('101 rings its phones, cascades to 102, then voicemail; the support queue has no route', () => {
    const alice = planLeg({ number: '101', account: account('1106'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    assert.deepEqual(
      alice.ok && alice.plan.steps.map((s) => [s.destinations.map((d) => d.kind), s.ringSeconds]),
      [[['phones'], 20], [['phones'], 20], [['voicemail'], null]],
    );
    const queue = planLeg({ number: '600', account: account('1106'), directory, locations, ignoreApiSettings: false, followCallRules: true });
    assert.deepEqual(queue, { ok: false, reason: 'extension 600 is a queue: queues are not supported' });
  });
});
