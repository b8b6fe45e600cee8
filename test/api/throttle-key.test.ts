import { test } from 'node:test';
import assert from 'node:assert/strict';
import { throttleKey } from '../../src/api/api-authenticator.ts';

test('failed logins count per IPv4 address and per IPv6 /64', () => {
  assert.equal(throttleKey('192.0.2.7'), '192.0.2.7');
  assert.equal(throttleKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(throttleKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(throttleKey('2001:0DB8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
  assert.equal(throttleKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(throttleKey('::1'), '0:0:0:0::/64');
  assert.equal(throttleKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
});
