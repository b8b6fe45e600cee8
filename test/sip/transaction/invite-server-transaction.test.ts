import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SipRequest } from '../../../src/sip/message/index.ts';
import { TransactionTimeoutError, type ServerTransaction } from '../../../src/sip/transaction/index.ts';
import { TransportError } from '../../../src/sip/transport/index.ts';
import { request, responseTo, settle, setup } from './helpers.ts';

function serverSetup(transport: 'udp' | 'tcp' = 'udp') {
  const t = setup(transport);
  const seen: Array<{ req: SipRequest; tx: ServerTransaction | undefined }> = [];
  const errors: Error[] = [];
  t.layer.onRequest((req, tx) => {
    seen.push({ req, tx });
    if (tx !== undefined) tx.onError = (err) => errors.push(err);
  });
  const via = transport === 'udp' ? 'UDP' : 'TCP';
  const invite = (): SipRequest => request('INVITE', { transport: via });
  const statuses = (): number[] => t.net.takeSent().map((s) => (s.message.kind === 'response' ? s.message.status : 0));
  return { ...t, seen, errors, invite, statuses, via };
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  test('the TU gets the INVITE with its transaction; 100 Trying goes out after 200 ms of silence', () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    assert.equal(s.seen.length, 1);
    const tx = s.seen[0]?.tx;
    assert.equal(tx?.state, 'proceeding');
    assert.deepEqual(s.timers.pending(), [{ name: 'Trying', dueInMs: 200 }]);
    s.timers.advance(199);
    assert.deepEqual(s.statuses(), []);
    s.timers.advance(1);
    assert.deepEqual(s.statuses(), [100]);
    // A retransmission is answered with the latest provisional and not passed to the TU.
    s.net.inject(s.invite(), s.peer);
    assert.deepEqual(s.statuses(), [100]);
    assert.equal(s.seen.length, 1);
  });

  test('no 100 when the TU answers within 200 ms; retransmissions get the latest provisional', () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    s.net.inject(s.invite(), s.peer);
    assert.deepEqual(s.statuses(), [], 'nothing to resend before any response');
    tx.respond(responseTo(req, 180));
    assert.deepEqual(s.timers.pending(), []);
    assert.deepEqual(s.statuses(), [180]);
    tx.respond(responseTo(req, 183));
    s.net.inject(s.invite(), s.peer);
    assert.deepEqual(s.statuses(), [183, 183]);
  });

  test('UDP non-2xx: Timer G retransmits (T1 doubling to T2) until Timer H times out at 64*T1', () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    tx.respond(responseTo(req, 486));
    assert.equal(tx.state, 'completed');
    assert.deepEqual(s.statuses(), [486]);
    assert.deepEqual(s.timers.pending(), [
      { name: 'G', dueInMs: 500 },
      { name: 'H', dueInMs: 32000 },
    ]);
    const times: number[] = [];
    for (;;) {
      const before = s.net.sent.length;
      if (s.timers.fireNext() === undefined) break;
      if (s.net.sent.length > before) times.push(s.timers.now);
    }
    assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(tx.state, 'terminated');
    const err = s.errors[0];
    assert.ok(err instanceof TransactionTimeoutError);
    assert.equal(err.timer, 'H');
    assert.equal(s.layer.size.server, 0);
  });

  test('ACK in Completed: Confirmed absorbs ACKs until Timer I (T4); the ACK never reaches the TU', () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    tx.respond(responseTo(req, 404));
    s.net.inject(s.invite(), s.peer);
    assert.deepEqual(s.statuses(), [404, 404], 'a retransmitted INVITE gets the final again');
    s.net.inject(request('ACK', { toTag: 'to-1' }), s.peer);
    assert.equal(tx.state, 'confirmed');
    assert.deepEqual(s.timers.pending(), [{ name: 'I', dueInMs: 5000 }]);
    s.net.inject(request('ACK', { toTag: 'to-1' }), s.peer);
    s.net.inject(s.invite(), s.peer);
    assert.equal(s.seen.length, 1);
    assert.deepEqual(s.statuses(), [], 'nothing is resent in Confirmed');
    s.timers.advance(5000);
    assert.equal(tx.state, 'terminated');
    assert.equal(s.layer.size.server, 0);
  });

  test('2xx: Accepted absorbs INVITE retransmissions, sends the TU 2xx retransmissions, ends at Timer L', () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    const ok = responseTo(req, 200);
    tx.respond(ok);
    assert.equal(tx.state, 'accepted');
    assert.deepEqual(s.statuses(), [200]);
    assert.deepEqual(s.timers.pending(), [{ name: 'L', dueInMs: 32000 }]);
    s.net.inject(s.invite(), s.peer);
    assert.deepEqual(s.statuses(), [], 'the transaction does not retransmit a 2xx itself');
    assert.equal(s.seen.length, 1);
    tx.respond(ok);
    assert.deepEqual(s.statuses(), [200], 'the TU retransmits the 2xx through the transaction');
    tx.respond(responseTo(req, 500));
    assert.deepEqual(s.statuses(), [], 'a non-2xx after a 2xx is dropped');
    // The ACK of a 2xx has its own branch: transaction-less, to the TU.
    s.net.inject(request('ACK', { branch: 'z9hG4bK-ack-2xx', toTag: 'to-1' }), s.peer);
    assert.equal(s.seen.length, 2);
    assert.equal(s.seen[1]?.req.method, 'ACK');
    assert.equal(s.seen[1]?.tx, undefined);
    // An ACK reusing the INVITE branch (RFC 2543 style) matches the transaction and is handed over too.
    s.net.inject(request('ACK', { toTag: 'to-1' }), s.peer);
    assert.equal(s.seen.length, 3);
    assert.equal(s.seen[2]?.tx, undefined);
    s.timers.advance(32000);
    assert.equal(tx.state, 'terminated');
    assert.equal(s.layer.size.server, 0);
  });

  test('TCP: no Timer G, and Timer I is zero: the ACK terminates at once', () => {
    const s = serverSetup('tcp');
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    tx.respond(responseTo(req, 603));
    assert.deepEqual(s.timers.pending(), [{ name: 'H', dueInMs: 32000 }]);
    s.net.inject(request('ACK', { transport: 'TCP', toTag: 'to-1' }), s.peer);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(s.timers.pending(), []);
  });

  test('a transport error while sending a response is reported to the TU', async () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    s.net.failNextSends(1);
    tx.respond(responseTo(req, 180));
    await settle();
    assert.ok(s.errors[0] instanceof TransportError);
    assert.equal(tx.state, 'terminated');
    assert.equal(s.layer.size.server, 0);
  });

  test('a transport error in Accepted is reported but the transaction stays (RFC 6026)', async () => {
    const s = serverSetup();
    s.net.inject(s.invite(), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    s.net.failNextSends(1);
    tx.respond(responseTo(req, 200));
    await settle();
    assert.ok(s.errors[0] instanceof TransportError);
    assert.equal(tx.state, 'accepted');
  });

  test('UDP responses go to the source address and rport (RFC 3581)', () => {
    const s = serverSetup();
    const source = { transport: 'udp' as const, host: '10.0.0.9', port: 40000 };
    s.net.inject(s.invite(), source);
    const tx = s.seen[0]?.tx as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    assert.equal(req.topVia.received, '10.0.0.9');
    assert.equal(req.topVia.rport, 40000);
    tx.respond(responseTo(req, 180));
    assert.deepEqual(s.net.takeSent()[0]?.to, source);
  });
});
