import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DigestError,
  DigestVerifier,
  answerChallenge,
  computeDigestResponse,
  parseAuthHeaderList,
  parseAuthorization,
  parseChallenge,
} from '../../../src/sip/auth/digest.ts';

// RFC 7616 §3.9.1
const RFC = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
  qop: 'auth',
} as const;

test('RFC 7616 §3.9.1 MD5 vector', () => {
  assert.equal(computeDigestResponse({ ...RFC, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
});

test('RFC 7616 §3.9.1 SHA-256 vector', () => {
  assert.equal(
    computeDigestResponse({ ...RFC, algorithm: 'SHA-256' }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

test('RFC 2069 form without qop (RFC 2617 §3.5 example realm, MD5)', () => {
  // H(H(A1):nonce:H(A2)) computed independently with the RFC 2617 example inputs and no qop.
  const r = computeDigestResponse({
    algorithm: 'MD5',
    username: 'Mufasa',
    realm: 'testrealm@host.com',
    password: 'Circle Of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  });
  assert.equal(r, '670fd8c2df070c60b045671b8b24ff02');
});

test('answerChallenge reproduces the RFC 7616 SHA-256 answer when SHA-256 and MD5 are both offered', () => {
  const challenges = [
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="${RFC.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
  ];
  for (const challenge of [challenges, [...challenges].reverse(), challenges.join(', ')]) {
    const value = answerChallenge({ challenge, method: 'GET', uri: RFC.uri, username: RFC.username, password: RFC.password, cnonce: RFC.cnonce, nc: 1 });
    const parsed = parseAuthorization(value);
    assert.ok(parsed);
    assert.equal(parsed.params.algorithm, 'SHA-256');
    assert.equal(parsed.params.response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.equal(parsed.params.qop, 'auth');
    assert.equal(parsed.params.nc, '00000001');
    assert.equal(parsed.params.opaque, 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
  }
});

test('answerChallenge: MD5 only, no qop (SIP style) gives the RFC 2069 form', () => {
  const value = answerChallenge({
    challenge: 'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"',
    method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life',
  });
  const p = parseAuthorization(value);
  assert.ok(p);
  assert.equal(p.params.response, '670fd8c2df070c60b045671b8b24ff02');
  assert.equal(p.params.qop, undefined);
});

test('answerChallenge refuses what it cannot answer', () => {
  assert.throws(() => answerChallenge({ challenge: 'Basic realm="x"', method: 'GET', uri: '/', username: 'a', password: 'b' }), DigestError);
  assert.throws(() => answerChallenge({ challenge: 'Digest realm="x", nonce="n", algorithm=SHA-512-256', method: 'GET', uri: '/', username: 'a', password: 'b' }), DigestError);
  assert.throws(() => answerChallenge({ challenge: 'Digest realm="x", nonce="n", qop="auth-int"', method: 'GET', uri: '/', username: 'a', password: 'b' }), DigestError);
});

test('parser: quoted strings with escapes, case-insensitive names, token values', () => {
  const p = parseAuthorization('digest USERNAME="a\\"b\\\\c", Realm="r, with comma", nc=00000002 ,qop=auth');
  assert.deepEqual(p, { scheme: 'digest', params: { username: 'a"b\\c', realm: 'r, with comma', nc: '00000002', qop: 'auth' } });
  assert.deepEqual(parseAuthorization('Basic dXNlcjpwYXNz'), { scheme: 'Basic', params: {}, token68: 'dXNlcjpwYXNz' });
  assert.deepEqual(parseAuthorization('Basic YTpi=='), { scheme: 'Basic', params: {}, token68: 'YTpi==' });
  assert.equal(parseAuthorization('Digest username="unterminated'), null);
  assert.equal(parseAuthorization('Digest =x'), null);
  assert.equal(parseAuthorization(''), null);
  assert.equal(parseAuthorization('Digest a=1 b=2'), null);
  const list = parseAuthHeaderList('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"');
  assert.deepEqual(list, [
    { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
    { scheme: 'Basic', params: { realm: 'simple' } },
  ]);
  assert.equal(parseChallenge('Digest realm="x", nonce="y", Basic realm="z"')?.params.nonce, 'y');
});

function makeVerifier(now: { t: number }, extra: Partial<ConstructorParameters<typeof DigestVerifier>[0]> = {}): DigestVerifier {
  return new DigestVerifier({ realm: 'pbx', nonceTtlMs: 60_000, secret: 's3cret', now: () => now.t, ...extra });
}
const lookup = (u: string): string | undefined => (u === 'admin' ? 'pw' : undefined);

test('verifier: accepts both algorithms, rejects wrong password, replayed nc, forged nonce', () => {
  const now = { t: 1_700_000_000_000 };
  const v = makeVerifier(now);
  const ch = v.challenges();
  assert.equal(ch.length, 2);
  assert.match(ch[0] ?? '', /algorithm=SHA-256/);
  assert.match(ch[1] ?? '', /algorithm=MD5/);
  // Both challenges carry the same nonce: the second algorithm continues its count.
  for (const [i, challenge] of ch.entries()) {
    const base = i * 10;
    const a1 = answerChallenge({ challenge, method: 'POST', uri: '/xml', username: 'admin', password: 'pw', nc: base + 1 });
    assert.deepEqual(v.verify(a1, 'POST', lookup), { ok: true, username: 'admin' });
    assert.deepEqual(v.verify(a1, 'POST', lookup), { ok: false, stale: false, reason: 'nonce count replayed' });
    const a2 = answerChallenge({ challenge, method: 'POST', uri: '/xml', username: 'admin', password: 'pw', nc: base + 2 });
    assert.equal(v.verify(a2, 'POST', lookup).ok, true);
    const bad = answerChallenge({ challenge, method: 'POST', uri: '/xml', username: 'admin', password: 'nope', nc: base + 3 });
    assert.deepEqual(v.verify(bad, 'POST', lookup), { ok: false, stale: false, reason: 'wrong response' });
    const wrongMethod = answerChallenge({ challenge, method: 'GET', uri: '/xml', username: 'admin', password: 'pw', nc: base + 4 });
    assert.equal(v.verify(wrongMethod, 'POST', lookup).ok, false);
  }
  const unknown = answerChallenge({ challenge: ch[0] ?? '', method: 'POST', uri: '/', username: 'eve', password: 'pw' });
  assert.deepEqual(v.verify(unknown, 'POST', lookup), { ok: false, stale: false, reason: 'unknown user' });
  const forged = answerChallenge({ challenge: 'Digest realm="pbx", qop="auth", nonce="lo0.forged"', method: 'POST', uri: '/', username: 'admin', password: 'pw' });
  assert.deepEqual(v.verify(forged, 'POST', lookup), { ok: false, stale: false, reason: 'nonce not issued here' });
  const otherRealm = answerChallenge({ challenge: (ch[0] ?? '').replace('"pbx"', '"other"'), method: 'POST', uri: '/', username: 'admin', password: 'pw' });
  assert.equal(v.verify(otherRealm, 'POST', lookup).ok, false);
  assert.equal(v.verify('Basic YWRtaW46cHc=', 'POST', lookup).ok, false);
});

test('verifier: expired nonce is stale only when the response is right; shared secret across instances', () => {
  const now = { t: 1_700_000_000_000 };
  const a = makeVerifier(now);
  const b = makeVerifier(now);
  const challenge = a.challenges()[0] ?? '';
  assert.ok(challenge.includes('stale') === false);
  assert.match(a.challenges(true)[1] ?? '', /stale=true/);
  const ok = answerChallenge({ challenge, method: 'POST', uri: '/', username: 'admin', password: 'pw' });
  assert.equal(b.verify(ok, 'POST', lookup).ok, true);
  now.t += 60_001;
  const late = answerChallenge({ challenge, method: 'POST', uri: '/', username: 'admin', password: 'pw', nc: 2 });
  assert.deepEqual(a.verify(late, 'POST', lookup), { ok: false, stale: true, reason: 'nonce expired' });
  const lateBad = answerChallenge({ challenge, method: 'POST', uri: '/', username: 'admin', password: 'x', nc: 3 });
  assert.equal((a.verify(lateBad, 'POST', lookup) as { stale: boolean }).stale, false);
  const other = new DigestVerifier({ realm: 'pbx', nonceTtlMs: 60_000, secret: 'different', now: () => now.t });
  const fresh = answerChallenge({ challenge: a.challenges()[0] ?? '', method: 'POST', uri: '/', username: 'admin', password: 'pw' });
  assert.equal(other.verify(fresh, 'POST', lookup).ok, false);
});

test('verifier: the nonce-count map is bounded and evicted nonces come back stale, never replayable', () => {
  const now = { t: 1_700_000_000_000 };
  const v = makeVerifier(now, { maxTrackedNonces: 2 });
  const answers: string[] = [];
  for (let i = 0; i < 3; i++) {
    now.t += 10;
    const challenge = v.challenges()[0] ?? '';
    const a = answerChallenge({ challenge, method: 'POST', uri: '/', username: 'admin', password: 'pw', nc: 1 });
    answers.push(a);
    assert.equal(v.verify(a, 'POST', lookup).ok, true);
  }
  assert.deepEqual(v.verify(answers[0] ?? '', 'POST', lookup), { ok: false, stale: true, reason: 'nonce no longer tracked' });
  assert.equal(v.verify(answers[2] ?? '', 'POST', lookup).ok, false);
});

test('verifier honours the algorithms option', () => {
  const v = new DigestVerifier({ realm: 'pbx', nonceTtlMs: 1000, algorithms: ['MD5'] });
  const ch = v.challenges();
  assert.equal(ch.length, 1);
  const sha = answerChallenge({ challenge: (ch[0] ?? '').replace('MD5', 'SHA-256'), method: 'POST', uri: '/', username: 'admin', password: 'pw' });
  assert.deepEqual(v.verify(sha, 'POST', lookup), { ok: false, stale: false, reason: 'unsupported algorithm' });
});

test('verifier: nonces issued in the same millisecond differ, each with its own nonce-count sequence', () => {
  const now = { t: 1_700_000_000_000 };
  const v = makeVerifier(now);
  const [a, b] = [v.challenges()[0] ?? '', v.challenges()[0] ?? ''];
  assert.notEqual(parseChallenge(a)?.params.nonce, parseChallenge(b)?.params.nonce);
  for (const challenge of [a, b]) {
    const r = answerChallenge({ challenge, method: 'POST', uri: '/', username: 'admin', password: 'pw', nc: 1 });
    assert.equal(v.verify(r, 'POST', lookup).ok, true);
  }
  const tampered = (parseChallenge(a)?.params.nonce ?? '').replace(/^[0-9a-z]+/, (t) => (parseInt(t, 36) + 1).toString(36));
  const forged = answerChallenge({ challenge: `Digest realm="pbx", qop="auth", nonce="${tampered}"`, method: 'POST', uri: '/', username: 'admin', password: 'pw' });
  assert.deepEqual(v.verify(forged, 'POST', lookup), { ok: false, stale: false, reason: 'nonce not issued here' });
});

test('verifier: credentials for another request URI are refused when the caller names its URI', () => {
  const v = makeVerifier({ t: 1_700_000_000_000 });
  const a = answerChallenge({ challenge: v.challenges()[0] ?? '', method: 'POST', uri: '/json', username: 'admin', password: 'pw' });
  assert.deepEqual(v.verify(a, 'POST', lookup, '/xml'), { ok: false, stale: false, reason: 'uri does not match the request' });
  assert.equal(v.verify(a, 'POST', lookup, '/json').ok, true);
});
