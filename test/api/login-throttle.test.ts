import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from '../../src/api/login-throttle.ts';

test('failures within the window are slowed past half the limit, then lock the address out for lockout time', () => {
  const clock = { t: 0 };
  const t = new LoginThrottle({ maxFailures: 6, windowMs: 60_000, lockoutMs: 300_000, delayStepMs: 100, maxDelayMs: 250, now: () => clock.t });
  assert.deepEqual([t.fail('a'), t.fail('a'), t.fail('a'), t.fail('a'), t.fail('a')], [0, 0, 0, 100, 200]);
  assert.equal(t.lockedFor('a'), 0);
  assert.equal(t.lockedFor('b'), 0);
  t.fail('a');
  assert.equal(t.lockedFor('a'), 300_000);
  assert.equal(t.lockedFor('b'), 0, 'other addresses are unaffected');
  clock.t += 299_999;
  assert.equal(t.lockedFor('a'), 1);
  clock.t += 1;
  assert.equal(t.lockedFor('a'), 0);
  assert.equal(t.fail('a'), 0, 'a new window starts after the lockout');
});

test('the window slides: old failures stop counting; the delay is capped', () => {
  const clock = { t: 0 };
  const t = new LoginThrottle({ maxFailures: 100, windowMs: 1000, lockoutMs: 5000, delayStepMs: 100, maxDelayMs: 250, now: () => clock.t });
  for (let i = 0; i < 50; i++) t.fail('a');
  assert.equal(t.fail('a'), 100);
  assert.equal(t.fail('a'), 200);
  assert.equal(t.fail('a'), 250);
  clock.t += 1001;
  assert.equal(t.fail('a'), 0);
});

test('memory is bounded: beyond maxAddresses the stalest entries go first', () => {
  const clock = { t: 0 };
  const t = new LoginThrottle({ maxFailures: 2, windowMs: 1000, lockoutMs: 10_000, maxAddresses: 3, now: () => clock.t });
  t.fail('locked');
  t.fail('locked');
  clock.t += 2000;
  t.fail('old');
  clock.t += 2000;
  t.fail('x');
  t.fail('y');
  t.fail('z');
  assert.ok(t.lockedFor('locked') > 0, 'a live lockout survives eviction of stale entries');
});
