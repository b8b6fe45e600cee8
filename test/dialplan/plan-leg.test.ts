import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planLeg } from '../../src/dialplan/plan-leg.ts';
import type { LegPlan } from '../../src/dialplan/route-plan.ts';
import { account, directory, rule, trunk } from '../directory/fixtures.ts';

const nineForTenOrEleven = { rewrites: [{ lengths: [10, 11], begins_with: '', trim: 0, prepend: '9' }] };

const dir = directory({
  trunks: [trunk({ name: 'carrier' }), trunk({ name: 'cheap' })],
  rules: [
    rule({ name: 'long-distance', pattern_begin: '91', pattern_min: 12, pattern_max: 12, pattern_trim: 1, trunk: 'carrier' }),
    rule({ name: 'local', pattern_begin: '9', pattern_min: 11, pattern_max: 11, pattern_trim: 1, trunk: 'carrier' }),
    rule({ name: 'emergency', pattern_begin: '911', pattern_min: 3, pattern_max: 3, trunk: 'carrier' }),
    rule({ name: 'intl-cheap', pattern_begin: '9011', pattern_min: 8, pattern_max: 20, pattern_trim: 4, pattern_prepend: '00', trunk: 'cheap', is_final: false }),
    rule({ name: 'intl', pattern_begin: '9011', pattern_min: 8, pattern_max: 20, pattern_trim: 4, pattern_prepend: '+', trunk: 'carrier' }),
    rule({ name: 'never-reached', pattern_begin: '9011', pattern_min: 8, pattern_max: 20, trunk: 'cheap' }),
  ],
  accounts: [
    account({
      account_id: '1101',
      extension: '101',
      call_rules: [
        { type: 'ring_phones', ring_seconds: 20 },
        { type: 'cascade', numbers: ['102', '915551230000', '107'], ring_seconds: 15 },
        { type: 'voicemail' },
      ],
    }),
    account({ account_id: '1102', extension: '102' }),
    account({ account_id: '1103', extension: '103', type: 'analog', outgoing_rules_deny: ['long-distance'] }),
    account({ account_id: '1104', extension: '104', type: 'virtual', call_rules: [{ type: 'forward', number: '915551234567' }] }),
    account({ account_id: '1105', extension: '105', outgoing_rules_allow: ['local', 'long-distance'], outgoing_rules_deny: ['long-distance'] }),
    account({ account_id: '1106', extension: '106', display_name: 'David Podolsky', call_api_settings: nineForTenOrEleven }),
    account({ account_id: '1107', extension: '107', call_rules: [{ type: 'ring_phones', ring_seconds: 20 }] }),
    account({ account_id: '1108', extension: '108', call_rules: [{ type: 'forward', number: '102' }, { type: 'voicemail' }] }),
    account({ account_id: '1109', extension: '109', call_rules: [{ type: 'ring_phones', ring_seconds: 0 }, { type: 'forward', number: '5' }] }),
    account({ account_id: '1800', extension: '800', type: 'ivr', ivr_variables: [{ id: 3, name: 'balance', default_value: '0' }] }),
    account({ account_id: '1600', extension: '600', type: 'queue' }),
    account({ account_id: '1700', extension: '700', type: 'conference' }),
  ],
});

const registered = new Set(['1101', '1102']);
const locations = { hasContacts: (id: string) => registered.has(id) };
const nobody = { hasContacts: () => false };

const phones = (n: string) => ({ kind: 'phones', accountId: `1${n}`, extension: n }) as const;
const viaTrunk = (...attempts: [string, string, string, boolean][]) =>
  ({ kind: 'trunk', attempts: attempts.map(([trunk, number, rule, isFinal]) => ({ trunk, number, rule, isFinal })) }) as const;
const once = (dialed: string, ...destinations: LegPlan['steps'][number]['destinations']): LegPlan => ({
  dialed,
  steps: [{ destinations, ringSeconds: null }],
});

interface Case {
  readonly name: string;
  readonly as: string;
  readonly number: string;
  readonly ignoreApi?: boolean;
  readonly ignoreRules?: boolean;
  readonly locations?: typeof locations;
  readonly plan?: LegPlan;
  readonly reason?: RegExp;
}

const cases: Case[] = [
  // Call API settings
  {
    name: 'public example: 1106 dials 15554578299 as 915554578299',
    as: '1106',
    number: '15554578299',
    plan: once('915554578299', viaTrunk(['carrier', '15554578299', 'long-distance', true])),
  },
  {
    name: 'a number already starting with 9 is left alone when API settings are ignored',
    as: '1106',
    number: '915554578299',
    ignoreApi: true,
    plan: once('915554578299', viaTrunk(['carrier', '15554578299', 'long-distance', true])),
  },
  { name: 'ignored API settings do not add the 9, so no rule matches', as: '1106', number: '15554578299', ignoreApi: true, reason: /no outgoing call rule matches 15554578299/ },
  { name: '10 digits get the 9 as well', as: '1106', number: '5551112222', plan: once('95551112222', viaTrunk(['carrier', '5551112222', 'local', true])) },
  { name: 'a 12-digit number is not rewritten', as: '1106', number: '915551112222', plan: once('915551112222', viaTrunk(['carrier', '15551112222', 'long-distance', true])) },
  { name: 'an extension is not rewritten by a length rule', as: '1106', number: '102', plan: once('102', phones('102')) },
  { name: 'an account without Call API settings dials as given', as: '1102', number: '15554578299', reason: /no outgoing call rule matches/ },
  // allow / deny, prefix / length
  { name: 'deny list: 1103 may not use long-distance', as: '1103', number: '915554578299', reason: /account 1103 may not use/ },
  { name: 'deny list leaves the other rules', as: '1103', number: '95551112222', plan: once('95551112222', viaTrunk(['carrier', '5551112222', 'local', true])) },
  { name: 'allow list minus deny list', as: '1105', number: '915554578299', reason: /account 1105 may not use/ },
  { name: 'allow list lets local through', as: '1105', number: '95551112222', plan: once('95551112222', viaTrunk(['carrier', '5551112222', 'local', true])) },
  { name: 'allow list keeps out rules not on it', as: '1105', number: '911', reason: /account 1105 may not use/ },
  { name: 'too short for any rule', as: '1102', number: '9555', reason: /no outgoing call rule matches 9555/ },
  { name: 'too long for local, wrong prefix for long-distance', as: '1102', number: '955511122223', reason: /no outgoing call rule matches/ },
  { name: 'first match wins, no trim on emergency', as: '1102', number: '911', plan: once('911', viaTrunk(['carrier', '911', 'emergency', true])) },
  // fall-through
  {
    name: 'a non-final rule falls through to the next matching rule, which is final',
    as: '1102',
    number: '9011441234567',
    plan: once('9011441234567', viaTrunk(['cheap', '00441234567', 'intl-cheap', false], ['carrier', '+441234567', 'intl', true])),
  },
  // extensions and call rules
  { name: 'extension with phones, no call rules', as: '1106', number: '102', plan: once('102', phones('102')) },
  { name: 'extension without registered phones', as: '1106', number: '102', locations: nobody, reason: /extension 102 has no registered phones/ },
  {
    name: 'call rules: phones, then cascade (extension + outside number), then voicemail',
    as: '1106',
    number: '101',
    plan: {
      dialed: '101',
      steps: [
        { destinations: [phones('101')], ringSeconds: 20 },
        { destinations: [phones('102'), viaTrunk(['carrier', '15551230000', 'long-distance', true])], ringSeconds: 15 },
        { destinations: [{ kind: 'voicemail', accountId: '1101', extension: '101' }], ringSeconds: null },
      ],
    },
  },
  { name: 'ignore call rules rings the registered phones only', as: '1106', number: '101', ignoreRules: true, plan: once('101', phones('101')) },
  {
    name: 'no registered phones anywhere: cascade keeps its outside number, then voicemail',
    as: '1106',
    number: '101',
    locations: nobody,
    plan: {
      dialed: '101',
      steps: [
        { destinations: [viaTrunk(['carrier', '15551230000', 'long-distance', true])], ringSeconds: 15 },
        { destinations: [{ kind: 'voicemail', accountId: '1101', extension: '101' }], ringSeconds: null },
      ],
    },
  },
  { name: 'ignore call rules and no registered phones: no route', as: '1106', number: '101', ignoreRules: true, locations: nobody, reason: /extension 101 has no registered phones/ },
  { name: 'ring_phones rule without registered phones: no route', as: '1106', number: '107', reason: /extension 107 has no call rule that can ring \(no registered phones\)/ },
  { name: 'virtual extension forwards to an outside number', as: '1106', number: '104', plan: once('104', viaTrunk(['carrier', '15551234567', 'long-distance', true])) },
  { name: 'virtual extension with call rules ignored has no phones', as: '1106', number: '104', ignoreRules: true, reason: /extension 104 has no registered phones/ },
  { name: 'forward to an extension rings its phones; voicemail after a forward is unreachable', as: '1106', number: '108', plan: once('108', phones('102')) },
  {
    name: 'ring time 0 rings until the leg timeout; a forward without route is skipped with its reason',
    as: '1106',
    number: '109',
    locations: { hasContacts: (id) => id === '1109' },
    plan: once('109', phones('109')),
  },
  { name: 'forward to a number without route and no phones', as: '1106', number: '109', locations: nobody, reason: /forward: no outgoing call rule matches 5/ },
  // other extension types
  { name: 'an IVR is answered by the PBX', as: '1106', number: '800', locations: nobody, plan: once('800', { kind: 'ivr', accountId: '1800', extension: '800' }) },
  { name: 'queues are not supported', as: '1106', number: '600', reason: /extension 600 is a queue: queues are not supported/ },
  { name: 'conferences are not supported', as: '1106', number: '700', reason: /conferences are not supported/ },
];

describe('planLeg', () => {
  for (const c of cases) {
    it(c.name, () => {
      const acct = dir.account(c.as);
      assert.ok(acct, `test account ${c.as}`);
      const result = planLeg({
        number: c.number,
        account: acct,
        directory: dir,
        locations: c.locations ?? locations,
        ignoreApiSettings: c.ignoreApi ?? false,
        followCallRules: !(c.ignoreRules ?? false),
      });
      if (c.plan) {
        assert.deepEqual(result, { ok: true, plan: c.plan });
      } else {
        assert.equal(result.ok, false, JSON.stringify(result));
        assert.match(result.ok ? '' : result.reason, c.reason ?? /./);
      }
    });
  }

  it('a rule naming a trunk that does not exist gives no route with the trunk named', () => {
    const broken = directory({ accounts: [account({ account_id: '1', extension: '1' })], rules: [rule({ name: 'r', pattern_begin: '9', trunk: 'gone' })] });
    const result = planLeg({ number: '9123', account: broken.account('1')!, directory: broken, locations, ignoreApiSettings: false, followCallRules: true });
    assert.deepEqual(result, { ok: false, reason: 'outgoing call rule for 9123 names unknown trunk gone' });
  });
});
