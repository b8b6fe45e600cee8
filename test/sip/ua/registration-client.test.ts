import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestVerifier } from '../../../src/sip/auth/digest.ts';
import { createResponse, type SipRequest } from '../../../src/sip/message/index.ts';
import { RegistrationClient, type RegistrationState } from '../../../src/sip/ua/registration-client.ts';
import { requireAuth } from '../../../src/sip/ua/require-auth.ts';
import { memoryPair, next } from './memory-pair.ts';

const destination = { transport: 'udp' as const, host: '10.0.0.2', port: 5060 };

function registrar(answer: (req: SipRequest) => { status: number; headers?: [string, string][] }) {
  const { a, b } = memoryPair();
  const seen: SipRequest[] = [];
  const verifier = new DigestVerifier({ realm: 'pbx', nonceTtlMs: 3_600_000 });
  b.ua.onRequest('REGISTER', (req, tx) => {
    seen.push(req);
    if (!requireAuth(verifier, req, tx, (u) => (u === '201' ? 'pw' : undefined)).ok) return;
    const { status, headers } = answer(req);
    tx.respond(createResponse(req, status, undefined, { toTag: 'r', headers: headers ?? [] }));
  });
  const client = new RegistrationClient(a.ua, {
    registrar: 'sip:10.0.0.2',
    aor: 'sip:201@10.0.0.2',
    destination,
    credentials: { username: '201', password: 'pw' },
    expires: 120,
    retryBaseMs: 1000,
    retryMaxMs: 4000,
  });
  const states: RegistrationState[] = [];
  client.on('state', (s) => states.push(s));
  return { client, seen, states, clock: a.clock, ua: a.ua };
}

test('registers with digest, same Call-ID and rising CSeq, and refreshes before expiry', async () => {
  const { client, seen, states, clock } = registrar((req) => ({
    status: 200,
    headers: [['Contact', `${req.get('contact') ?? ''};expires=60`]],
  }));
  const registered = next<[number]>(client, 'registered');
  client.start();
  assert.deepEqual(await registered, [60]);
  assert.deepEqual(states, ['registering', 'registered']);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map((r) => r.cseq.seq), [1, 2]);
  assert.equal(seen[0]?.callId, seen[1]?.callId);
  assert.equal(seen[1]?.get('expires'), '120');
  // Granted 60 s: refreshed at half-life, 30 s.
  const refreshed = next<[number]>(client, 'registered');
  clock.advance(29_999);
  assert.equal(seen.length, 2);
  clock.advance(1);
  await refreshed;
  assert.equal(seen.length, 4);
  assert.equal(seen[2]?.callId, seen[0]?.callId);
  assert.ok((seen[2]?.cseq.seq ?? 0) > 2);
});

test('a failing registrar is retried with doubling back-off up to the cap', async () => {
  const { client, states, clock } = registrar(() => ({ status: 503 }));
  const delays: number[] = [];
  client.on('failed', (_cause, retryInMs) => delays.push(retryInMs));
  for (let i = 0; i < 4; i++) {
    const failed = next(client, 'failed');
    if (i === 0) client.start();
    else clock.advance(delays[i - 1] ?? 0);
    await failed;
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 4000]);
  assert.equal(states.at(-1), 'failed');
});

test('423 is retried once with Min-Expires; stop() removes the binding with Expires 0', async () => {
  const { client, seen } = registrar((req) =>
    Number(req.get('expires')) < 300 && Number(req.get('expires')) !== 0
      ? { status: 423, headers: [['Min-Expires', '300']] }
      : { status: 200, headers: [['Expires', req.get('expires') ?? '']] },
  );
  const registered = next<[number]>(client, 'registered');
  client.start();
  assert.deepEqual(await registered, [300]);
  await client.stop();
  assert.equal(client.state, 'stopped');
  assert.equal(seen.at(-1)?.get('expires'), '0');
});
