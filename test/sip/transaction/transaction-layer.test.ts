import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseVia, type SipRequest, type SipResponse } from '../../../src/sip/message/index.ts';
import { ManualTimerPort, TransactionLayer, type ServerTransaction } from '../../../src/sip/transaction/index.ts';
import { MemoryTransport } from '../../../src/sip/transport/index.ts';
import { outgoing, recorder, request, responseTo, setup, takeRequest, TIMERS } from './helpers.ts';

function serverSetup() {
  const t = setup();
  const seen: Array<{ req: SipRequest; tx: ServerTransaction | undefined }> = [];
  t.layer.onRequest((req, tx) => seen.push({ req, tx }));
  const sent = () => t.net.takeSent().map((s) => (s.message.kind === 'response' ? `${s.message.status} ${s.message.cseq.method}` : s.message.method));
  return { ...t, seen, sent };
}

describe('transaction layer: matching (RFC 3261 §17.1.3, §17.2.3)', () => {
  test('server matching uses branch, sent-by and method; ACK belongs to the INVITE', () => {
    const s = serverSetup();
    s.net.inject(request('INVITE'), s.peer);
    s.net.inject(request('INVITE'), s.peer);
    assert.equal(s.seen.length, 1, 'same branch + sent-by + method: a retransmission');
    s.net.inject(request('INVITE', { sentBy: '127.0.0.3:5070' }), s.peer);
    assert.equal(s.seen.length, 2, 'another sent-by is another transaction');
    s.net.inject(request('INVITE', { branch: 'z9hG4bK-peer-2' }), s.peer);
    assert.equal(s.seen.length, 3, 'another branch is another transaction');
    s.net.inject(request('OPTIONS'), s.peer);
    assert.equal(s.seen.length, 4, 'same branch, other method: another transaction');
    assert.equal(s.layer.size.server, 4);
  });

  test('RFC 2543 fallback: without the magic cookie, retransmissions and the non-2xx ACK still match', () => {
    const s = serverSetup();
    s.net.inject(request('INVITE', { branch: 'old-style-1' }), s.peer);
    s.net.inject(request('INVITE', { branch: 'old-style-1' }), s.peer);
    assert.equal(s.seen.length, 1);
    const tx = s.seen[0]?.tx as ServerTransaction;
    tx.respond(responseTo(tx.request!, 486));
    s.net.inject(request('ACK', { branch: 'old-style-1', toTag: 'to-1' }), s.peer);
    assert.equal(tx.state, 'confirmed');
    assert.equal(s.seen.length, 1);
  });

  test('a request without any branch does not crash the layer', () => {
    const s = serverSetup();
    const req = request('OPTIONS');
    req.set('via', 'SIP/2.0/UDP 127.0.0.2:5070');
    s.net.inject(req, s.peer);
    assert.equal(s.seen.length, 1);
    (s.seen[0]?.tx as ServerTransaction).reply(200);
    assert.deepEqual(s.sent(), ['200 OPTIONS']);
  });

  test('client matching uses the branch and the CSeq method: a CANCEL response is not the INVITE one', () => {
    const t = setup();
    const inviteUser = recorder();
    const cancelUser = recorder();
    const tx = t.layer.sendRequest(outgoing('INVITE'), t.peer, inviteUser);
    const invite = takeRequest(t.net);
    t.net.inject(responseTo(invite, 180), t.peer);
    tx.cancel(cancelUser);
    const cancel = takeRequest(t.net);
    t.net.inject(responseTo(cancel, 200), t.peer);
    assert.deepEqual(cancelUser.responses.map((r) => r.status), [200]);
    assert.deepEqual(inviteUser.responses.map((r) => r.status), [180]);
    const other = responseTo(invite, 200);
    other.set('via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-unknown');
    t.net.inject(other, t.peer);
    assert.equal(inviteUser.responses.length, 1, 'another branch does not match');
    const otherMethod = responseTo(invite, 200);
    otherMethod.set('cseq', '1 OPTIONS');
    t.net.inject(otherMethod, t.peer);
    assert.equal(inviteUser.responses.length, 1, 'the INVITE branch with another CSeq method does not match');
  });

  test('a branch belongs to one transaction, but for the CANCEL of its INVITE (RFC 3261 §8.1.1.7)', () => {
    const t = setup();
    const invite = outgoing('INVITE');
    invite.set('via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-shared');
    t.layer.sendRequest(invite, t.peer, recorder());
    const options = outgoing('OPTIONS');
    options.set('via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-shared');
    assert.throws(() => t.layer.sendRequest(options, t.peer, recorder()), /branch z9hG4bK-shared is live/);
    const cancel = outgoing('CANCEL');
    cancel.set('via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-shared');
    const cancelUser = recorder();
    t.layer.sendRequest(cancel, t.peer, cancelUser);
    assert.deepEqual(t.layer.size, { client: 2, server: 0 });
    t.net.inject(responseTo(cancel, 200), t.peer);
    assert.deepEqual(cancelUser.responses.map((r) => r.status), [200]);
  });

  test('requests without Via get one with our address, rport and a magic-cookie branch', () => {
    const t = setup();
    const tx = t.layer.sendRequest(outgoing('OPTIONS'), t.peer, recorder());
    const sent = takeRequest(t.net);
    const via = sent.topVia;
    assert.equal(via.transport, 'UDP');
    assert.equal(via.host, '127.0.0.1');
    assert.equal(via.port, 5060);
    assert.equal(via.rport, true);
    assert.match(via.branch ?? '', /^z9hG4bK/);
    assert.equal(tx.branch, via.branch);
    const again = t.layer.sendRequest(outgoing('OPTIONS'), t.peer, recorder());
    assert.notEqual(again.branch, tx.branch);
  });

  test('a top Via without a magic-cookie branch gets a fresh one', () => {
    const t = setup();
    const req = outgoing('OPTIONS');
    req.set('via', ['SIP/2.0/UDP 127.0.0.1:5060;branch=legacy;rport', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-below']);
    t.layer.sendRequest(req, t.peer, recorder());
    const sent = takeRequest(t.net);
    assert.match(sent.topVia.branch ?? '', /^z9hG4bK/);
    assert.equal(sent.vias[1]?.branch, 'z9hG4bK-below');
  });

  test('sendAck goes straight to the transport, outside any transaction; sendRequest refuses ACK', () => {
    const t = setup();
    t.layer.sendAck(outgoing('ACK'), t.peer);
    assert.equal(takeRequest(t.net).method, 'ACK');
    assert.equal(t.layer.size.client, 0);
    assert.throws(() => t.layer.sendRequest(outgoing('ACK'), t.peer, recorder()), TypeError);
  });

  test('responses matching nothing: 2xx to INVITE go to the stray handler, others are dropped', () => {
    const t = setup();
    const strays: number[] = [];
    t.layer.onStrayResponse((res) => strays.push(res.status));
    const inv = request('INVITE', { branch: 'z9hG4bK-gone' });
    t.net.inject(responseTo(inv, 200), t.peer);
    t.net.inject(responseTo(inv, 486), t.peer);
    t.net.inject(responseTo(request('BYE', { branch: 'z9hG4bK-gone' }), 200), t.peer);
    assert.deepEqual(strays, [200]);
  });

  test('without a request handler, requests get 503', () => {
    const t = setup();
    t.net.inject(request('OPTIONS'), t.peer);
    const sent = t.net.takeSent()[0]?.message;
    assert.equal(sent?.kind === 'response' ? sent.status : 0, 503);
  });

  test('the Via added to our request reads as its text parses (the transaction is keyed without parsing it)', () => {
    for (const [transport, host] of [
      ['udp', '127.0.0.1'],
      ['tcp', '::1'],
      ['udp', 'pbx-1.example.com'],
    ] as const) {
      const net = new MemoryTransport({ transport, host, port: 5062 });
      const layer = new TransactionLayer(net, TIMERS, new ManualTimerPort());
      const req = outgoing('INVITE');
      layer.sendRequest(req, { transport, host: '192.0.2.5', port: 5060 }, recorder());
      const ack = outgoing('ACK');
      layer.sendAck(ack, { transport, host: '192.0.2.5', port: 5060 });
      for (const sent of [req, ack]) {
        const text = sent.get('via') as string;
        const parsed = parseVia(text);
        assert.deepEqual(sent.topVia, parsed, text);
        // Key order too: formatVia writes a Via's parameters in that order (an authorized retry copies the top Via).
        assert.deepEqual(Object.keys(sent.topVia.params), Object.keys(parsed?.params ?? {}));
        assert.deepEqual(Object.keys(sent.topVia), Object.keys(parsed ?? {}));
        assert.match(text, /^SIP\/2\.0\/(UDP|TCP) \S+:5062;branch=z9hG4bK[0-9a-f]{16};rport$/);
      }
      layer.close();
    }
  });

  test('close() releases every transaction and timer', () => {
    const t = setup();
    t.layer.onRequest(() => {});
    t.layer.sendRequest(outgoing('INVITE'), t.peer, recorder());
    t.net.inject(request('INVITE'), t.peer);
    assert.ok(t.timers.pending().length > 0);
    t.layer.close();
    assert.deepEqual(t.timers.pending(), []);
    assert.deepEqual(t.layer.size, { client: 0, server: 0 });
  });
});

describe('transaction layer: CANCEL (RFC 3261 §9.2)', () => {
  test('a CANCEL for a pending INVITE: 200 to the CANCEL, onCancel told, the TU answers 487', () => {
    const s = serverSetup();
    s.net.inject(request('INVITE'), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    const ringing = tx.reply(180) as SipResponse;
    const cancels: SipRequest[] = [];
    tx.onCancel = (cancel, inviteTx) => {
      cancels.push(cancel);
      inviteTx.reply(487);
    };
    s.sent();
    s.net.inject(request('CANCEL'), s.peer);
    assert.equal(s.seen.length, 1, 'the CANCEL is not passed to the request handler');
    assert.equal(cancels.length, 1);
    assert.ok(tx.cancelled);
    const out = s.net.takeSent();
    assert.deepEqual(
      out.map((o) => (o.message.kind === 'response' ? `${o.message.status} ${o.message.cseq.method}` : '')),
      ['200 CANCEL', '487 INVITE'],
    );
    assert.equal(out[0]?.message.toTag, ringing.toTag, 'the CANCEL 200 carries the INVITE response To tag');
    assert.equal(out[1]?.message.toTag, ringing.toTag);
    // A retransmitted CANCEL is answered from its own transaction, onCancel is not called again.
    s.net.inject(request('CANCEL'), s.peer);
    assert.deepEqual(s.sent(), ['200 CANCEL']);
    assert.equal(cancels.length, 1);
  });

  test('without onCancel the layer answers the INVITE with 487 itself', () => {
    const s = serverSetup();
    s.net.inject(request('INVITE'), s.peer);
    s.net.inject(request('CANCEL'), s.peer);
    assert.deepEqual(s.sent(), ['200 CANCEL', '487 INVITE']);
    const tx = s.seen[0]?.tx as ServerTransaction;
    assert.equal(tx.state, 'completed');
  });

  test('a CANCEL that matches no transaction gets 481', () => {
    const s = serverSetup();
    s.net.inject(request('CANCEL', { branch: 'z9hG4bK-nothing' }), s.peer);
    assert.deepEqual(s.sent(), ['481 CANCEL']);
    assert.equal(s.seen.length, 0);
  });

  test('a CANCEL after the final response gets 200 and changes nothing', () => {
    const s = serverSetup();
    s.net.inject(request('INVITE'), s.peer);
    const tx = s.seen[0]?.tx as ServerTransaction;
    tx.reply(200);
    s.sent();
    let told = false;
    tx.onCancel = () => (told = true);
    s.net.inject(request('CANCEL'), s.peer);
    assert.deepEqual(s.sent(), ['200 CANCEL']);
    assert.equal(told, false);
    assert.equal(tx.cancelled, false);
  });

  test('a CANCEL from another sent-by does not cancel the INVITE', () => {
    const s = serverSetup();
    s.net.inject(request('INVITE'), s.peer);
    s.net.inject(request('CANCEL', { sentBy: '127.0.0.9:5070' }), s.peer);
    assert.deepEqual(s.sent(), ['481 CANCEL']);
  });
});

test('a request handler that throws: the request gets 500, the error reaches the transport, the transaction ends', () => {
  const t = setup();
  t.layer.onRequest(() => {
    throw new Error('TU bug');
  });
  assert.throws(() => t.net.inject(request('INVITE'), t.peer), /TU bug/);
  const sent = t.net.takeSent()[0]?.message;
  assert.equal(sent?.kind === 'response' ? sent.status : 0, 500);
  t.timers.advance(64 * 500);
  assert.equal(t.layer.size.server, 0);
});

test('the Via added for an IPv6 local endpoint has a bracketed host', () => {
  const timers = new ManualTimerPort();
  const net = new MemoryTransport({ transport: 'udp', host: '2001:db8::5', port: 5060 });
  const layer = new TransactionLayer(net, TIMERS, timers);
  layer.sendRequest(outgoing('OPTIONS'), { transport: 'udp', host: '2001:db8::9', port: 5060 }, recorder());
  const via = takeRequest(net).topVia;
  assert.equal(via.host, '[2001:db8::5]');
  assert.equal(via.port, 5060);
});
