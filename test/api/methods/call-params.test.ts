import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCallParams } from '../../../src/api/methods/call-params.ts';
import type { Params } from '../../../src/api/envelope.ts';
import type { Principal } from '../../../src/api/methods/api-method.ts';
import { apiTestDirectory } from '../fixture.ts';

const directory = apiTestDirectory();
const admin: Principal = { kind: 'admin', username: 'admin' };
const VALID = { dial_first: '15551112222', dial_second: '800', dial_as_account_id: '1101' } as const;

function codes(params: Params, method = 'switchvox.call', principal: Principal = admin): number[] {
  const r = validateCallParams(params, { method, principal, directory });
  return r.ok ? [] : r.errors.map((e) => e.code);
}
function errors(params: Params, method = 'switchvox.call', principal: Principal = admin): { code: number; message: string }[] {
  const r = validateCallParams(params, { method, principal, directory });
  return r.ok ? [] : [...r.errors];
}
function ok(params: Params, method = 'switchvox.call', principal: Principal = admin) {
  const r = validateCallParams(params, { method, principal, directory });
  assert.ok(r.ok, `expected valid, got ${JSON.stringify(r.ok ? null : r.errors)}`);
  return r.request;
}

test('defaults: caller_id_name PBX, timeouts 30, flags 0, no variables', () => {
  const r = ok(VALID);
  assert.equal(r.dialFirst, '15551112222');
  assert.equal(r.dialSecond, '800');
  assert.equal(r.account.account_id, '1101');
  assert.equal(r.callerIdName, 'PBX');
  assert.equal(r.timeout, 30);
  assert.equal(r.timeoutSecondCall, 30);
  assert.equal(r.ignoreUserApiSettings, false);
  assert.equal(r.ignoreUserCallRules, false);
  assert.equal(r.autoAnswer, false);
  assert.deepEqual(r.variables, []);
  assert.equal(r.requestedBy, 'admin');
  assert.equal(r.method, 'switchvox.call');
  // Empty optional values mean "default", as an empty XML element does.
  assert.equal(ok({ ...VALID, caller_id_name: '', timeout: '', auto_answer: '' }).callerIdName, 'PBX');
});

test('10011 for each missing required parameter, in parameter order', () => {
  assert.deepEqual(errors({}), [
    { code: 10011, message: 'Missing required parameter (dial_first)' },
    { code: 10011, message: 'Missing required parameter (dial_second)' },
    { code: 10011, message: 'Missing required parameter (dial_as_account_id)' },
  ]);
  assert.deepEqual(codes({ dial_first: '1', dial_as_account_id: '1101' }), [10011]);
});

test('54222 for dial_first and dial_second: empty, non-dialable, absurdly long, not a scalar', () => {
  for (const param of ['dial_first', 'dial_second'] as const) {
    const message = `Invalid phone number or extension for parameter ${param}. Number must only contain digits,*,or #.`;
    for (const bad of ['', 'abc', '555-1212', '+15551112222', ' 101', '1'.repeat(65)]) {
      assert.deepEqual(errors({ ...VALID, [param]: bad }), [{ code: 54222, message }], `${param}=${bad}`);
    }
    assert.deepEqual(codes({ ...VALID, [param]: ['1', '2'] }), [54222]);
    assert.deepEqual(codes({ ...VALID, [param]: { x: '1' } }), [54222]);
    for (const good of ['*98#', '0', '1'.repeat(64), '#']) assert.equal(ok({ ...VALID, [param]: good })[param === 'dial_first' ? 'dialFirst' : 'dialSecond'], good);
  }
});

test('10014 when dial_as_account_id is not digits, with the value in the message', () => {
  assert.deepEqual(errors({ ...VALID, dial_as_account_id: '11a1' }), [
    { code: 10014, message: 'Invalid account_id (11a1). Account_ids may only contain digits.' },
  ]);
  assert.deepEqual(codes({ ...VALID, dial_as_account_id: '' }), [10014]);
  assert.deepEqual(codes({ ...VALID, dial_as_account_id: '-1101' }), [10014]);
});

test('77427 when the dial-as account does not exist or is not sip, analog or virtual', () => {
  const message =
    'Invalid dial as extension. That extension does not exist in the system or is an invalid type. Please choose a valid SIP,Analog,or Virtual extension.';
  for (const id of ['9999', '1800', '1600', '101']) assert.deepEqual(errors({ ...VALID, dial_as_account_id: id }), [{ code: 77427, message }], id);
  for (const id of ['1101', '1103', '1104']) assert.equal(ok({ ...VALID, dial_as_account_id: id }).account.account_id, id);
});

test('35561: caller_id_name of 20 characters passes, 21 fails; only letters, digits, spaces, _ and &', () => {
  const message = 'Invalid caller id name. Caller id name may only contain alphanumeric characters,spaces,_,or &.';
  assert.equal(ok({ ...VALID, caller_id_name: 'A'.repeat(20) }).callerIdName, 'A'.repeat(20));
  assert.deepEqual(errors({ ...VALID, caller_id_name: 'A'.repeat(21) }), [{ code: 35561, message }]);
  assert.equal(ok({ ...VALID, caller_id_name: 'David Podolsky' }).callerIdName, 'David Podolsky');
  assert.equal(ok({ ...VALID, caller_id_name: 'R&D_2 x' }).callerIdName, 'R&D_2 x');
  for (const bad of ['Bad!', 'Zoë', 'a<b', 'tab\there', 'semi;colon']) assert.deepEqual(codes({ ...VALID, caller_id_name: bad }), [35561], bad);
  assert.deepEqual(codes({ ...VALID, caller_id_name: ['a'] }), [35561]);
});

test('variables in every accepted shape, in order; 84904 for each malformed one', () => {
  const expected = [
    { name: 'balance', value: '300' },
    { name: 'acct', value: 'a=b' },
  ];
  for (const variables of [
    { variable: ['balance=300', 'acct=a=b'] },
    ['balance=300', 'acct=a=b'],
  ]) {
    assert.deepEqual(ok({ ...VALID, variables }).variables, expected);
  }
  assert.deepEqual(ok({ ...VALID, variables: 'balance=300' }).variables, [{ name: 'balance', value: '300' }]);
  assert.deepEqual(ok({ ...VALID, variables: { variable: 'x=' } }).variables, [{ name: 'x', value: '' }]);
  assert.deepEqual(ok({ ...VALID, variables: '' }).variables, []);
  assert.deepEqual(ok({ ...VALID, variables: {} }).variables, []);
  assert.deepEqual(errors({ ...VALID, variables: ['balance=1', 'novalue', '=x', '1a=b'] }), [
    { code: 84904, message: 'Invalid variable format for parameter (novalue). Variable format must be VARIABLE_NAME=VARIABLE_VALUE.' },
    { code: 84904, message: 'Invalid variable format for parameter (=x). Variable format must be VARIABLE_NAME=VARIABLE_VALUE.' },
    { code: 84904, message: 'Invalid variable format for parameter (1a=b). Variable format must be VARIABLE_NAME=VARIABLE_VALUE.' },
  ]);
  assert.deepEqual(codes({ ...VALID, variables: { var: ['a=1'] } }), [84904]);
  assert.deepEqual(codes({ ...VALID, variables: [['a=1']] }), [84904]);
  assert.deepEqual(codes({ ...VALID, variables: Array.from({ length: 101 }, (_, i) => `v${i}=1`) }), [84904]);
});

test('75233 timeout and timeout_second_call: 0 and 999 pass; 1000, -1, abc, 1.5 fail', () => {
  for (const param of ['timeout', 'timeout_second_call'] as const) {
    const field = param === 'timeout' ? 'timeout' : 'timeoutSecondCall';
    assert.equal(ok({ ...VALID, [param]: '0' })[field], 0);
    assert.equal(ok({ ...VALID, [param]: '999' })[field], 999);
    assert.equal(ok({ ...VALID, [param]: '45' })[field], 45);
    for (const bad of ['1000', '-1', 'abc', '1.5', ' 5', ['5']]) {
      assert.deepEqual(errors({ ...VALID, [param]: bad }), [{ code: 75233, message: 'Invalid timeout. Must be a number between 0 and 999.' }], `${param}=${String(bad)}`);
    }
  }
});

test('17769 for ignore_user_api_settings, ignore_user_call_rules and auto_answer not 0 or 1', () => {
  const fields = { ignore_user_api_settings: 'ignoreUserApiSettings', ignore_user_call_rules: 'ignoreUserCallRules', auto_answer: 'autoAnswer' } as const;
  for (const [param, field] of Object.entries(fields)) {
    assert.equal(ok({ ...VALID, [param]: '1' })[field], true);
    assert.equal(ok({ ...VALID, [param]: '0' })[field], false);
    for (const bad of ['2', 'true', 'yes', '01', '-1']) {
      assert.deepEqual(errors({ ...VALID, [param]: bad }), [{ code: 17769, message: `Invalid ${param}. Value must be either a 1 or a 0.` }], `${param}=${bad}`);
    }
  }
});

test('every failing parameter is reported, in the order of the parameter table', () => {
  assert.deepEqual(
    codes({
      auto_answer: 'x',
      timeout_second_call: 'x',
      ignore_user_call_rules: 'x',
      ignore_user_api_settings: 'x',
      timeout: 'x',
      variables: ['bad'],
      caller_id_name: '!',
      dial_as_account_id: 'x',
      dial_second: 'x',
      dial_first: 'x',
    }),
    [54222, 54222, 10014, 35561, 84904, 75233, 17769, 17769, 75233, 17769],
  );
});

test('switchvox.users.call: an extension user acts as its own account; account_id optional and must be its own', () => {
  const alice = directory.account('1101');
  assert.ok(alice);
  const user: Principal = { kind: 'user', account: alice };
  const base = { dial_first: '15551112222', dial_second: '800' };
  const r = ok(base, 'switchvox.users.call', user);
  assert.equal(r.account.account_id, '1101');
  assert.equal(r.requestedBy, '101');
  assert.equal(r.method, 'switchvox.users.call');
  assert.equal(ok({ ...base, account_id: '1101' }, 'switchvox.users.call', user).account.account_id, '1101');
  assert.deepEqual(errors({ ...base, account_id: '1103' }, 'switchvox.users.call', user), [
    { code: 10007, message: 'Invalid account_id (1103). An extension user may only act as its own account.' },
  ]);
  assert.deepEqual(codes({ ...base, account_id: 'x1' }, 'switchvox.users.call', user), [10014]);
  // dial_as_account_id is not a parameter of users.call: ignored, not a way around the own-account rule.
  assert.equal(ok({ ...base, dial_as_account_id: '1103' }, 'switchvox.users.call', user).account.account_id, '1101');
  // The admin calling users.call names the account.
  assert.deepEqual(codes(base, 'switchvox.users.call'), [10011]);
  assert.equal(ok({ ...base, account_id: '1104' }, 'switchvox.users.call').account.account_id, '1104');
});
