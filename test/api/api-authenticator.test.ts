import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiAuthenticator } from '../../src/api/api-authenticator.ts';
import type { Credentials } from '../../src/config/credentials.ts';
import { answerChallenge } from '../../src/sip/auth/digest.ts';
import { apiTestConfig, apiTestDirectory } from './fixture.ts';

const credentials: Credentials = {
  adminUsername: 'admin',
  adminPassword: () => 'admin-secret',
  sipPassword: () => undefined,
  apiPassword: (id) => (id === '1101' ? 'alice-pw' : undefined),
};

function make(clock: { t: number }): ApiAuthenticator {
  const directory = apiTestDirectory();
  return new ApiAuthenticator({ auth: apiTestConfig().api.auth, credentials, directory: { current: () => directory }, nonceSecret: 'k', now: () => clock.t });
}

test('an expired nonce with the right password is answered stale=true and is not counted as a failure', () => {
  const clock = { t: 1_700_000_000_000 };
  const auth = make(clock);
  const first = auth.authenticate(undefined, 'POST', '/xml', '192.0.2.1');
  assert.ok(!first.ok && first.status === 401);
  clock.t += 301_000;
  // max_failures is 4 in the fixture: five stale answers in a row must not lock the address out.
  for (let i = 1; i <= 5; i++) {
    const authorization = answerChallenge({ challenge: first.challenges, method: 'POST', uri: '/xml', username: 'admin', password: 'admin-secret', nc: i });
    const r = auth.authenticate(authorization, 'POST', '/xml', '192.0.2.1');
    assert.ok(!r.ok && r.status === 401, `attempt ${i}`);
    assert.match(r.challenges[0] ?? '', /algorithm=MD5, nonce="[^"]+", stale=true$/);
    assert.match(r.challenges[1] ?? '', /algorithm=SHA-256, nonce="[^"]+", stale=true$/);
    assert.equal(r.challenges[2], 'Basic realm="test-realm", charset="UTF-8"');
  }
  const fresh = auth.authenticate(undefined, 'POST', '/xml', '192.0.2.1');
  assert.ok(!fresh.ok && fresh.status === 401);
  const ok = auth.authenticate(
    answerChallenge({ challenge: fresh.challenges, method: 'POST', uri: '/xml', username: '101', password: 'alice-pw' }),
    'POST',
    '/xml',
    '192.0.2.1',
  );
  assert.ok(ok.ok);
  assert.equal(ok.principal.kind, 'user');
  assert.equal(ok.principal.kind === 'user' ? ok.principal.account.account_id : '', '1101');
});

test('lockout is per address and ends after lockout_seconds', () => {
  const clock = { t: 1_700_000_000_000 };
  const auth = make(clock);
  const bad = `Basic ${Buffer.from('admin:nope').toString('base64')}`;
  const good = `Basic ${Buffer.from('admin:admin-secret').toString('base64')}`;
  const statuses = [1, 2, 3, 4].map(() => (auth.authenticate(bad, 'POST', '/xml', '2001:db8::1') as { status: number }).status);
  assert.deepEqual(statuses, [401, 401, 401, 429]);
  const sameNet = auth.authenticate(good, 'POST', '/xml', '2001:db8::ffff');
  assert.ok(!sameNet.ok && sameNet.status === 429 && !sameNet.newlyLocked);
  assert.equal(auth.authenticate(good, 'POST', '/xml', '192.0.2.9').ok, true);
  clock.t += 60_000;
  assert.equal(auth.authenticate(good, 'POST', '/xml', '2001:db8::1').ok, true);
});

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

test('Basic credentials repeated on a connection are accepted only while the password still matches', () => {
  let adminPassword = 'admin-secret';
  let aliceKey = 'alice-pw';
  let directory = apiTestDirectory();
  const auth = new ApiAuthenticator({
    auth: apiTestConfig().api.auth,
    credentials: { ...credentials, adminPassword: () => adminPassword, apiPassword: (id) => (id === '1101' ? aliceKey : undefined) },
    directory: { current: () => directory },
    nonceSecret: 'k',
    now: () => 1_700_000_000_000,
  });
  const connection = {};
  const admin = basic('admin', 'admin-secret');
  for (let i = 0; i < 3; i++) {
    const r = auth.authenticate(admin, 'POST', '/xml', '192.0.2.1', connection);
    assert.ok(r.ok && r.principal.kind === 'admin' && r.principal.username === 'admin', `request ${i}`);
  }
  // Another header on the same connection is checked on its own, whatever was accepted before.
  const wrong = auth.authenticate(basic('admin', 'admin-secreT'), 'POST', '/xml', '192.0.2.1', connection);
  assert.ok(!wrong.ok && wrong.status === 401);
  assert.ok(auth.authenticate(admin, 'POST', '/xml', '192.0.2.1', connection).ok);
  // A reload that changes the password refuses the header the connection was accepted with.
  adminPassword = 'rotated';
  const stale = auth.authenticate(admin, 'POST', '/xml', '192.0.2.1', connection);
  assert.ok(!stale.ok && stale.status === 401);
  assert.ok(auth.authenticate(basic('admin', 'rotated'), 'POST', '/xml', '192.0.2.1', connection).ok);

  const alice = basic('101', 'alice-pw');
  const first = auth.authenticate(alice, 'POST', '/xml', '192.0.2.2', connection);
  assert.ok(first.ok && first.principal.kind === 'user' && first.principal.account.account_id === '1101');
  // The principal comes from the directory in force, not from the one the header was first accepted under.
  directory = apiTestDirectory();
  const again = auth.authenticate(alice, 'POST', '/xml', '192.0.2.2', connection);
  assert.ok(again.ok && again.principal.kind === 'user');
  assert.equal(again.principal.account, directory.account('1101'));
  aliceKey = 'new-key';
  const refused = auth.authenticate(alice, 'POST', '/xml', '192.0.2.2', connection);
  assert.ok(!refused.ok && refused.status === 401);
});

test('a locked-out address is refused even with Basic credentials its connection was accepted with', () => {
  const auth = make({ t: 1_700_000_000_000 });
  const connection = {};
  const good = basic('admin', 'admin-secret');
  assert.ok(auth.authenticate(good, 'POST', '/xml', '192.0.2.7', connection).ok);
  for (let i = 0; i < 4; i++) auth.authenticate(basic('admin', 'nope'), 'POST', '/xml', '192.0.2.7', {});
  const r = auth.authenticate(good, 'POST', '/xml', '192.0.2.7', connection);
  assert.ok(!r.ok && r.status === 429);
});
