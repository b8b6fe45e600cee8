import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestVerifier } from '../../../src/sip/auth/digest.ts';
import { createResponse } from '../../../src/sip/message/index.ts';
import { AuthChallengeError, authorizeRequest, credentialHeaders } from '../../../src/sip/ua/client-auth.ts';
import { request } from '../dialog/messages.ts';

const register = request([
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKfirst;rport',
  'Max-Forwards: 70',
  'To: <sip:201@pbx.example.com>',
  'From: <sip:201@pbx.example.com>;tag=fromtag',
  'Call-ID: reg-1',
  'CSeq: 7 REGISTER',
  'Contact: <sip:201@127.0.0.1:5062>',
  'Expires: 300',
]);

test('answers a 401: same Call-ID and From tag, next CSeq, new branch, credentials the verifier accepts', () => {
  const verifier = new DigestVerifier({ realm: 'pbx', nonceTtlMs: 60_000 });
  const challenge = createResponse(register, 401, undefined, {
    toTag: 'x',
    headers: verifier.challenges().map((c) => ['WWW-Authenticate', c] as const),
  });
  const retry = authorizeRequest(register, challenge, { username: '201', password: 'secret' }, 8);
  assert.equal(retry.callId, 'reg-1');
  assert.equal(retry.fromTag, 'fromtag');
  assert.equal(retry.toTag, undefined);
  assert.deepEqual(retry.cseq, { seq: 8, method: 'REGISTER' });
  assert.notEqual(retry.topVia.branch, 'z9hG4bKfirst');
  assert.equal(retry.get('contact'), '<sip:201@127.0.0.1:5062>');
  const auth = retry.get('authorization');
  assert.ok(auth);
  assert.deepEqual(verifier.verify(auth, 'REGISTER', (u) => (u === '201' ? 'secret' : undefined)), { ok: true, username: '201' });
  assert.deepEqual(verifier.verify(auth, 'REGISTER', () => 'wrong').ok, false);
});

test('answers a 407 with Proxy-Authorization and replaces earlier credentials', () => {
  const verifier = new DigestVerifier({ realm: 'proxy', nonceTtlMs: 60_000, algorithms: ['MD5'] });
  const challenge = createResponse(register, 407, undefined, {
    toTag: 'x',
    headers: [['Proxy-Authenticate', verifier.challenges()[0] as string]],
  });
  const first = authorizeRequest(register, challenge, { username: 'u', password: 'p' }, 8);
  const second = authorizeRequest(first, challenge, { username: 'u', password: 'p' }, 9);
  assert.equal(second.getAll('proxy-authorization').length, 1);
  assert.equal(second.has('authorization'), false);
  assert.deepEqual(credentialHeaders(second).map(([n]) => n), ['Proxy-Authorization']);
  assert.equal(verifier.verify(second.get('proxy-authorization') as string, 'REGISTER', () => 'p').ok, true);
});

test('a challenge without a usable Digest is refused with a typed error', () => {
  const challenge = createResponse(register, 401, undefined, { headers: [['WWW-Authenticate', 'Basic realm="x"']] });
  assert.throws(() => authorizeRequest(register, challenge, { username: 'u', password: 'p' }, 8), AuthChallengeError);
  const bare = createResponse(register, 401);
  assert.throws(() => authorizeRequest(register, bare, { username: 'u', password: 'p' }, 8), AuthChallengeError);
});
