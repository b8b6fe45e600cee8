import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SipRequest } from '../../../src/sip/message/index.ts';
import { TransactionTimeoutError } from '../../../src/sip/transaction/index.ts';
import { TransportError } from '../../../src/sip/transport/index.ts';
import { outgoing, recorder, responseTo, settle, setup, takeRequest } from './helpers.ts';

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026)', () => {
  test('UDP: Timer A retransmits with doubling intervals, Timer B times out after 64*T1', () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    assert.equal(tx.state, 'calling');
    assert.deepEqual(timers.pending(), [
      { name: 'A', dueInMs: 500 },
      { name: 'B', dueInMs: 32000 },
    ]);
    const sendTimes: number[] = [];
    const origSend = net.sent.length;
    assert.equal(origSend, 1);
    for (;;) {
      const before = net.sent.length;
      const fired = timers.fireNext();
      if (fired === undefined) break;
      if (net.sent.length > before) sendTimes.push(timers.now);
    }
    // §17.1.1.2: A fires at T1, then 2*T1, 4*T1 ... after the previous one, until B at 64*T1.
    assert.deepEqual(sendTimes, [500, 1500, 3500, 7500, 15500, 31500]);
    assert.equal(user.errors.length, 1);
    const err = user.errors[0];
    assert.ok(err instanceof TransactionTimeoutError);
    assert.equal(err.timer, 'B');
    assert.equal(timers.now, 32000);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(tx.runningTimers(), []);
    assert.equal(layer.size.client, 0);
    for (const s of net.sent) assert.equal(s.message.topVia.branch, tx.branch);
  });

  test('a provisional response moves to Proceeding: retransmissions and Timer B stop, the 1xx reaches the TU', () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    const sent = takeRequest(net);
    net.inject(responseTo(sent, 180), peer);
    assert.equal(tx.state, 'proceeding');
    assert.equal(user.responses[0]?.status, 180);
    assert.deepEqual(timers.pending(), []);
    timers.advance(120_000);
    assert.equal(net.sent.length, 0);
    assert.equal(user.errors.length, 0);
    net.inject(responseTo(sent, 183), peer);
    assert.deepEqual(user.responses.map((r) => r.status), [180, 183]);
  });

  test('2xx enters Accepted: every 2xx retransmission reaches the TU until Timer M, then they are stray', () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    const strays: number[] = [];
    layer.onStrayResponse((res) => strays.push(res.status));
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    const invite = takeRequest(net);
    assert.equal(tx.request?.callId, invite.callId, 'Calling keeps the request to retransmit it');
    net.inject(responseTo(invite, 200), peer);
    assert.equal(tx.state, 'accepted');
    assert.equal(tx.request, undefined, 'Accepted lasts 32 s and needs no request');
    assert.deepEqual([tx.method, tx.branch, tx.callId], ['INVITE', invite.topVia.branch, invite.callId]);
    assert.deepEqual(timers.pending(), [{ name: 'M', dueInMs: 32000 }]);
    net.inject(responseTo(invite, 200), peer);
    assert.deepEqual(user.responses.map((r) => r.status), [200, 200]);
    assert.equal(net.sent.length, 0, 'no ACK for a 2xx from the transaction');
    net.inject(responseTo(invite, 486), peer);
    assert.equal(user.responses.length, 2, 'a non-2xx in Accepted is absorbed');
    timers.advance(32000);
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.size.client, 0);
    net.inject(responseTo(invite, 200), peer);
    assert.deepEqual(strays, [200]);
  });

  test('a TU that lets go of an accepted INVITE ends it at once: later 2xx are stray, as after Timer M', () => {
    const { timers, net, layer, peer } = setup();
    const strays: number[] = [];
    layer.onStrayResponse((res) => strays.push(res.status));
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 180), peer);
    tx.releaseUser();
    assert.equal(tx.state, 'proceeding', 'a pending INVITE still waits for its final response');
    net.inject(responseTo(invite, 200), peer);
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.size.client, 0);
    assert.deepEqual(timers.pending(), [], 'no Timer M left running');
    assert.deepEqual(strays, [200], 'the 2xx went where a released transaction sends it');
    net.inject(responseTo(invite, 200), peer);
    net.inject(responseTo(invite, 486), peer);
    assert.deepEqual(strays, [200, 200], 'a retransmitted 2xx too; a non-2xx is dropped');
    assert.deepEqual(user.responses.map((r) => r.status), [180]);
  });

  test('a TU that lets go of a completed INVITE does not end it: the ACK is still re-sent until Timer D', () => {
    const { timers, net, layer, peer } = setup();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, recorder());
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 486), peer);
    net.takeSent();
    tx.releaseUser();
    assert.equal(tx.state, 'completed');
    net.inject(responseTo(invite, 486), peer);
    assert.equal(net.takeSent()[0]?.message.cseq.method, 'ACK');
    assert.deepEqual(timers.pending(), [{ name: 'D', dueInMs: 32000 }]);
  });

  test('300-699 in Calling: ACK built per §17.1.1.3, retransmitted per final retransmission, Timer D ends it', () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE', 7), peer, user);
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 486, 'busy-tag'), peer);
    assert.equal(tx.state, 'completed');
    assert.deepEqual(user.responses.map((r) => r.status), [486]);
    const [ack] = net.takeSent();
    assert.ok(ack !== undefined && ack.message.kind === 'request');
    const a = ack.message;
    assert.equal(a.method, 'ACK');
    assert.equal(a.uri, invite.uri);
    assert.equal(a.topVia.branch, invite.topVia.branch);
    assert.equal(a.vias.length, 1);
    assert.equal(a.callId, invite.callId);
    assert.equal(a.fromTag, 'ours-1');
    assert.equal(a.toTag, 'busy-tag');
    assert.deepEqual(a.cseq, { seq: 7, method: 'ACK' });
    assert.deepEqual(a.getAll('route'), ['<sip:proxy.example;lr>']);
    assert.deepEqual(ack.to, peer);
    assert.equal(tx.request, undefined, 'Completed re-sends the ACK it built and needs no request');
    net.inject(responseTo(invite, 486, 'busy-tag'), peer);
    assert.equal(net.takeSent()[0]?.message.toString(), a.toString());
    assert.equal(user.responses.length, 1, 'the retransmitted final is not passed up');
    assert.deepEqual(timers.pending(), [{ name: 'D', dueInMs: 32000 }]);
    timers.advance(32000);
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.size.client, 0);
  });

  test('300-699 in Proceeding also completes with an ACK', () => {
    const { net, layer, peer } = setup();
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 180), peer);
    net.inject(responseTo(invite, 603), peer);
    assert.equal(tx.state, 'completed');
    assert.equal(net.takeSent()[0]?.message.cseq.method, 'ACK');
    assert.deepEqual(user.responses.map((r) => r.status), [180, 603]);
  });

  test('TCP: no Timer A, and Timer D is zero: a non-2xx final terminates at once', () => {
    const { timers, net, layer, peer } = setup('tcp');
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    assert.deepEqual(timers.pending(), [{ name: 'B', dueInMs: 32000 }]);
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 404), peer);
    assert.equal(tx.state, 'terminated');
    assert.equal(net.takeSent()[0]?.message.cseq.method, 'ACK');
    assert.deepEqual(timers.pending(), []);
    assert.equal(layer.size.client, 0);
  });

  test('TCP: Timer B still times out a silent server', () => {
    const { timers, layer, peer } = setup('tcp');
    const user = recorder();
    layer.sendRequest(outgoing('INVITE'), peer, user);
    timers.advance(31_999);
    assert.equal(user.errors.length, 0);
    timers.advance(1);
    assert.ok(user.errors[0] instanceof TransactionTimeoutError);
  });

  test('a transport error in Calling is reported to the TU and ends the transaction', async () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    net.failNextSends(1);
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    await settle();
    assert.ok(user.errors[0] instanceof TransportError);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(timers.pending(), []);
    assert.equal(layer.size.client, 0);
  });

  test('a transport error sending the ACK in Completed is reported and ends the transaction', async () => {
    const { net, layer, peer } = setup();
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    const invite = takeRequest(net);
    net.failNextSends(1);
    net.inject(responseTo(invite, 500), peer);
    await settle();
    assert.equal(tx.state, 'terminated');
    assert.ok(user.errors[0] instanceof TransportError);
  });

  test('cancel() before a provisional response waits for it (§9.1), then sends a CANCEL matching the INVITE', () => {
    const { net, layer, peer } = setup();
    const user = recorder();
    const cancelUser = recorder();
    const tx = layer.sendRequest(outgoing('INVITE', 3), peer, user);
    const invite = takeRequest(net);
    tx.cancel(cancelUser);
    assert.equal(net.sent.length, 0, 'no CANCEL before a provisional response');
    net.inject(responseTo(invite, 180), peer);
    const [cancel] = net.takeSent();
    assert.ok(cancel !== undefined && cancel.message.kind === 'request');
    const c = cancel.message;
    assert.equal(c.method, 'CANCEL');
    assert.equal(c.uri, invite.uri);
    assert.equal(c.topVia.branch, invite.topVia.branch);
    assert.equal(c.vias.length, 1);
    assert.deepEqual(c.cseq, { seq: 3, method: 'CANCEL' });
    assert.equal(c.get('to'), invite.get('to'));
    assert.equal(c.get('from'), invite.get('from'));
    assert.deepEqual(c.getAll('route'), invite.getAll('route'));
    assert.equal(layer.size.client, 2);
    net.inject(responseTo(c, 200), peer);
    assert.deepEqual(cancelUser.responses.map((r) => r.status), [200]);
    net.inject(responseTo(invite, 487), peer);
    assert.deepEqual(user.responses.map((r) => r.status), [180, 487]);
    tx.cancel();
    assert.equal(net.takeSent().filter((s) => s.message.cseq.method === 'CANCEL').length, 0, 'no second CANCEL');
  });

  test('a cancelled INVITE that never gets its final response is given up 64*T1 after the CANCEL (§9.1)', () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, user);
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 180), peer);
    timers.advance(10_000);
    tx.cancel();
    const cancel = net.takeSent()[0]?.message;
    assert.equal(cancel?.cseq.method, 'CANCEL');
    net.inject(responseTo(cancel as SipRequest, 200), peer);
    assert.ok(timers.pending().some((t) => t.name === 'Cancel' && t.dueInMs === 32_000));
    timers.advance(31_999);
    assert.equal(tx.state, 'proceeding');
    timers.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.size.client, 0);
    const err = user.errors[0];
    assert.ok(err instanceof TransactionTimeoutError && err.timer === 'Cancel');
    assert.deepEqual(tx.runningTimers(), []);
  });

  test('the §9.1 wait ends with the final response: a 487 after the CANCEL completes as usual', () => {
    const { timers, net, layer, peer } = setup();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, recorder());
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 180), peer);
    tx.cancel();
    net.takeSent();
    net.inject(responseTo(invite, 487), peer);
    assert.equal(tx.state, 'completed');
    assert.ok(!tx.runningTimers().includes('Cancel'));
    timers.advance(64 * 500);
    assert.equal(tx.state, 'terminated');
  });

  test('cancel() in Proceeding sends at once; after a final response it does nothing', () => {
    const { net, layer, peer } = setup();
    const tx = layer.sendRequest(outgoing('INVITE'), peer, recorder());
    const invite = takeRequest(net);
    net.inject(responseTo(invite, 183), peer);
    tx.cancel();
    assert.equal(net.takeSent()[0]?.message.cseq.method, 'CANCEL');
    const tx2 = layer.sendRequest(outgoing('INVITE', 2), peer, recorder());
    const invite2 = takeRequest(net);
    net.inject(responseTo(invite2, 200), peer);
    tx2.cancel();
    assert.equal(net.sent.length, 0);
  });
});

describe('an INVITE adopted from a gone process (recovery after a restart)', () => {
  test('nothing is sent until cancel(), which sends the CANCEL at once; the 487 is ACKed in the transaction', () => {
    const { timers, net, layer, peer } = setup();
    const user = recorder();
    const invite = outgoing('INVITE', 9);
    invite.prepend('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-from-before;rport');
    const tx = layer.adoptInvite(invite, peer, user);
    assert.equal(tx.state, 'proceeding');
    assert.equal(net.sent.length, 0, 'the INVITE itself is not sent again');
    assert.deepEqual(timers.pending(), []);
    tx.cancel();
    const cancel = net.takeSent()[0]?.message as SipRequest;
    assert.equal(cancel.method, 'CANCEL');
    assert.equal(cancel.topVia.branch, 'z9hG4bK-from-before');
    net.inject(responseTo(cancel, 200), peer);
    net.inject(responseTo(invite, 487), peer);
    const ack = net.takeSent()[0]?.message as SipRequest;
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.uri, invite.uri);
    assert.equal(ack.topVia.branch, 'z9hG4bK-from-before');
    assert.deepEqual(ack.cseq, { seq: 9, method: 'ACK' });
    assert.deepEqual(user.responses.map((r) => r.status), [487]);
    assert.equal(tx.state, 'completed');
  });

  test('a 2xx that crossed the CANCEL reaches the adopter; only an INVITE can be adopted', () => {
    const { net, layer, peer } = setup();
    const user = recorder();
    const invite = outgoing('INVITE');
    invite.prepend('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-crossed;rport');
    const tx = layer.adoptInvite(invite, peer, user);
    tx.cancel();
    net.takeSent();
    net.inject(responseTo(invite, 200), peer);
    assert.deepEqual(user.responses.map((r) => r.status), [200]);
    assert.equal(tx.state, 'accepted');
    assert.throws(() => layer.adoptInvite(outgoing('OPTIONS'), peer, recorder()), TypeError);
  });
});
