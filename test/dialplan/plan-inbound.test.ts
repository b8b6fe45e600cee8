import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planInbound } from '../../src/dialplan/plan-inbound.ts';
import { account, directory, rule, trunk } from '../directory/fixtures.ts';

const dir = directory({
  trunks: [trunk({ name: 'carrier' })],
  rules: [rule({ name: 'any', pattern_begin: '9', pattern_trim: 1, trunk: 'carrier' })],
  accounts: [
    account({ account_id: '1101', extension: '101' }),
    account({ account_id: '1104', extension: '104', type: 'virtual', call_rules: [{ type: 'forward', number: '95551234567' }] }),
    account({ account_id: '1800', extension: '800', type: 'ivr' }),
  ],
});
const locations = { hasContacts: (id: string) => id === '1101' };

describe('planInbound', () => {
  it('never routes an outside number through the outgoing call rules', () => {
    assert.deepEqual(planInbound({ number: '95551234567', directory: dir, locations }), { ok: false, reason: 'inbound call to 95551234567: not an extension' });
  });

  it('rings an extension and reaches an IVR', () => {
    assert.deepEqual(planInbound({ number: '101', directory: dir, locations }), {
      ok: true,
      plan: { dialed: '101', steps: [{ destinations: [{ kind: 'phones', accountId: '1101', extension: '101' }], ringSeconds: null }] },
    });
    assert.deepEqual(planInbound({ number: '800', directory: dir, locations }), {
      ok: true,
      plan: { dialed: '800', steps: [{ destinations: [{ kind: 'ivr', accountId: '1800', extension: '800' }], ringSeconds: null }] },
    });
  });

  it("follows the extension owner's forward to an outside number", () => {
    const result = planInbound({ number: '104', directory: dir, locations });
    assert.deepEqual(result.ok && result.plan.steps[0]?.destinations, [{ kind: 'trunk', attempts: [{ trunk: 'carrier', number: '5551234567', rule: 'any', isFinal: true }] }]);
  });
});
