import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerTransaction } from '../../../src/sip/transaction/index.ts';
import { TransportError } from '../../../src/sip/transport/index.ts';
import { request, responseTo, settle, setup } from './helpers.ts';

function serverSetup(transport: 'udp' | 'tcp' = 'udp') {
  const t = setup(transport);
  const txs: ServerTransaction[] = [];
  const errors: Error[] = [];
  t.layer.onRequest((_req, tx) => {
    if (tx === undefined) return;
    txs.push(tx);
    tx.onError = (err) => errors.push(err);
  });
  const statuses = (): number[] => t.net.takeSent().map((s) => (s.message.kind === 'response' ? s.message.status : 0));
  return { ...t, txs, errors, statuses };
}

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  test('Trying discards retransmissions; Proceeding resends the latest provisional; no 100 of its own', () => {
    const s = serverSetup();
    const bye = () => request('BYE', { toTag: 'to-1', cseq: 2 });
    s.net.inject(bye(), s.peer);
    const tx = s.txs[0] as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    assert.equal(tx.state, 'trying');
    assert.deepEqual(s.timers.pending(), []);
    s.net.inject(bye(), s.peer);
    assert.deepEqual(s.statuses(), []);
    assert.equal(s.txs.length, 1, 'a retransmission is not passed to the TU');
    tx.respond(responseTo(req, 100));
    assert.equal(tx.state, 'proceeding');
    s.net.inject(bye(), s.peer);
    assert.deepEqual(s.statuses(), [100, 100]);
  });

  test('a final response: Completed resends it per retransmission, drops later responses, Timer J = 64*T1', () => {
    const s = serverSetup();
    s.net.inject(request('OPTIONS'), s.peer);
    const tx = s.txs[0] as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    tx.respond(responseTo(req, 200));
    assert.equal(tx.state, 'completed');
    assert.deepEqual(s.timers.pending(), [{ name: 'J', dueInMs: 32000 }]);
    s.net.inject(request('OPTIONS'), s.peer);
    tx.respond(responseTo(req, 500));
    assert.deepEqual(s.statuses(), [200, 200]);
    s.timers.advance(31_999);
    assert.equal(tx.state, 'completed');
    s.timers.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(s.layer.size.server, 0);
    // After J the same branch is a new request again.
    s.net.inject(request('OPTIONS'), s.peer);
    assert.equal(s.txs.length, 2);
  });

  test('over UDP the final response is kept as its bytes: retransmissions are byte for byte the first send', () => {
    const s = serverSetup();
    s.net.inject(request('BYE', { toTag: 'to-1', cseq: 2 }), s.peer);
    const tx = s.txs[0] as ServerTransaction;
    const res = responseTo(tx.request!, 200, 'to-1');
    res.set('Server', 'ünïcode-agent');
    tx.respond(res);
    assert.equal(tx.request, undefined);
    assert.equal(tx.lastResponse, undefined, 'no response object is kept for Timer J');
    assert.equal(tx.lastToTag, 'to-1');
    s.net.inject(request('BYE', { toTag: 'to-1', cseq: 2 }), s.peer);
    s.net.inject(request('BYE', { toTag: 'to-1', cseq: 2 }), s.peer);
    const sent = s.net.takeSent();
    assert.equal(sent.length, 3);
    const first = sent[0]!.message.serialize();
    assert.deepEqual(first, res.serialize());
    for (const again of sent.slice(1)) {
      assert.deepEqual(again.message.serialize(), first);
      assert.deepEqual(again.to, sent[0]!.to);
    }
    assert.equal(tx.callId, sent[0]!.message.callId);
  });

  test('TCP: Timer J is zero', () => {
    const s = serverSetup('tcp');
    s.net.inject(request('OPTIONS', { transport: 'TCP' }), s.peer);
    const tx = s.txs[0] as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    tx.respond(responseTo(req, 200));
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(s.timers.pending(), []);
  });

  test('reply() builds the response with a To tag and keeps it across responses', () => {
    const s = serverSetup();
    s.net.inject(request('SUBSCRIBE'), s.peer);
    const tx = s.txs[0] as ServerTransaction;
    const p = tx.reply(183);
    assert.throws(() => tx.reply(700), RangeError);
    const f = tx.reply(202);
    assert.ok(p?.toTag !== undefined);
    assert.equal(f?.toTag, p.toTag);
    // Answered: the request is gone, and a late reply answers nothing.
    assert.equal(tx.request, undefined);
    assert.equal(tx.reply(500), undefined);
    assert.deepEqual(s.statuses(), [183, 202]);
  });

  test('a transport error is reported to the TU and ends the transaction', async () => {
    const s = serverSetup();
    s.net.inject(request('REGISTER'), s.peer);
    const tx = s.txs[0] as ServerTransaction;
    // The transaction lets its request go with the final response: the test keeps it.
    const req = tx.request!;
    s.net.failNextSends(1);
    tx.respond(responseTo(req, 200));
    await settle();
    assert.ok(s.errors[0] instanceof TransportError);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(s.timers.pending(), []);
  });
});
