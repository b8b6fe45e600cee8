import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipResponse } from '../../../src/sip/message/index.ts';
import { AckTimeoutError } from '../../../src/sip/ua/errors.ts';
import type { IncomingCall } from '../../../src/sip/ua/incoming-call.ts';
import { beforeSippEnds, startSipp, startUa } from './sipp.ts';

const ANSWER = 'v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40004 RTP/AVP 0\r\n';

function nextCall(ua: { onInvite(fn: (call: IncomingCall) => void): void }): Promise<IncomingCall> {
  return new Promise((resolve) => ua.onInvite(resolve));
}

function ended(call: IncomingCall): Promise<string> {
  return new Promise((resolve) => call.once('ended', resolve));
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`our UAS over ${transport}: 180, 200 with the answer, ACK, BYE from sipp (uac-call.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const incoming = nextCall(node.ua);
    const sipp = await startSipp('uac-call.xml', transport, { target: `127.0.0.1:${node.port(transport)}` });
    t.after(() => sipp.stop());
    const call = await beforeSippEnds(sipp, incoming);
    assert.match(call.offer ?? '', /m=audio \d+ RTP\/AVP 0/);
    const hangup = ended(call);
    call.progress(180);
    const { sdp } = await beforeSippEnds(sipp, call.accept({ sdp: ANSWER }));
    assert.equal(sdp, undefined);
    assert.equal(await beforeSippEnds(sipp, hangup), 'bye-received');
    assert.equal(node.ua.sessionCount, 0);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAS over ${transport}: 200 retransmitted at T1 doubling, no ACK within 64*T1 -> BYE (uac-no-ack.xml)`, async (t) => {
    // T1 = 50 ms so that 64*T1 is 3.2 s.
    const node = await startUa({ t1Ms: 50, t2Ms: 400 });
    t.after(() => node.close());
    const incoming = nextCall(node.ua);
    const sent200: number[] = [];
    node.tap.on('out', (m) => {
      if (m instanceof SipResponse && m.status === 200 && m.cseq.method === 'INVITE') sent200.push(Date.now());
    });
    const sipp = await startSipp('uac-no-ack.xml', transport, { target: `127.0.0.1:${node.port(transport)}` });
    t.after(() => sipp.stop());
    const call = await beforeSippEnds(sipp, incoming);
    const hangup = ended(call);
    const started = Date.now();
    await assert.rejects(call.accept({ sdp: ANSWER }), AckTimeoutError);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 64 * 50 - 20, `gave up after ${elapsed} ms`);
    assert.equal(await beforeSippEnds(sipp, hangup), 'ack-timeout');
    // 50, 150, 350, 750, then every 400 ms before 3200: 1150 ... 3150 (6) -> 1 + 10 copies; a loaded machine delays
    // the chain of retransmission timers but not the single 64*T1 one, so fewer copies are tolerated, never more.
    assert.ok(sent200.length >= 6 && sent200.length <= 11, `${sent200.length} copies of the 200`);
    const gaps = sent200.slice(1).map((t, i) => t - (sent200[i] as number));
    assert.ok((gaps[0] ?? 0) >= 45 && (gaps[1] ?? 0) >= 95, `first gaps ${gaps.join(', ')} ms`);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAS over ${transport}: re-INVITE from sipp answered with SDP, a reused CSeq refused 500 (uac-reinvite.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const incoming = nextCall(node.ua);
    const sipp = await startSipp('uac-reinvite.xml', transport, { target: `127.0.0.1:${node.port(transport)}` });
    t.after(() => sipp.stop());
    const call = await beforeSippEnds(sipp, incoming);
    const hangup = ended(call);
    const offers: (string | undefined)[] = [];
    const acked = call.accept({ sdp: ANSWER });
    // Set before the ACK is awaited: over TCP the ACK and the re-INVITE may arrive in one read.
    const session = call.session;
    assert.ok(session);
    session.onReinvite = (offer) => {
      offers.push(offer);
      return ANSWER.replace('o=- 7 7', 'o=- 7 8');
    };
    await beforeSippEnds(sipp, acked);
    assert.equal(await beforeSippEnds(sipp, hangup), 'bye-received');
    assert.equal(offers.length, 1);
    assert.match(offers[0] ?? '', /m=audio 40020/);
    assert.match(session.remoteSdp ?? '', /m=audio 40020/);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
}
