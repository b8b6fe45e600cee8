import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportProtocol } from '../../../src/sip/transport/endpoint.ts';
import { CallCancelledError, SipResponseError } from '../../../src/sip/ua/errors.ts';
import { SipResponse, type SipMessage } from '../../../src/sip/message/index.ts';
import { RegistrationClient } from '../../../src/sip/ua/registration-client.ts';
import { beforeSippEnds, startSipp, startUa } from './sipp.ts';

const NEW_OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n';
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

function target(port: number, transport: TransportProtocol): string {
  return `sip:service@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
}

const is2xxToInvite = (m: SipMessage): boolean => m instanceof SipResponse && m.status === 200 && m.cseq.method === 'INVITE';
const isAck = (m: SipMessage): boolean => m.kind === 'request' && m.method === 'ACK';

test('our late-offer UAC over udp: sipp retransmits the 200 until ack(answer) sends the ACK (uas-late-offer.xml)', async (t) => {
  const node = await startUa();
  t.after(() => node.close());
  const sipp = await startSipp('uas-late-offer.xml', 'udp');
  t.after(() => sipp.stop());
  let okReceived = 0;
  let acksBeforeAnswer = 0;
  let answered = false;
  const twoCopies = new Promise<void>((resolve) =>
    node.tap.on('in', (m) => {
      if (is2xxToInvite(m) && ++okReceived === 2) resolve();
    }),
  );
  node.tap.on('out', (m) => {
    if (isAck(m) && !answered) acksBeforeAnswer++;
  });
  const call = node.ua.invite({ target: target(sipp.port, 'udp'), from: 'sip:pbx@127.0.0.1' });
  assert.equal(call.request?.body.length, 0);
  const answer = await call.answered;
  assert.match(answer.sdp ?? '', /m=audio/);
  await twoCopies;
  assert.equal(acksBeforeAnswer, 0);
  answered = true;
  answer.ack(OFFER);
  await call.bye();
  const result = await sipp.done;
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`our UAC over ${transport}: ACK and BYE follow the reversed Record-Route, loose routing (uas-record-route.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-record-route.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    const { session } = await call.answered;
    assert.equal(session.dialog.routeSet.length, 2);
    await call.bye();
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: glare, 491 both ways, our retry after the Call-ID owner's back-off (uas-glare.xml)`, async (t) => {
    // random 0: the Call-ID owner's back-off is its minimum, 2.1 s.
    const node = await startUa({ random: () => 0 });
    t.after(() => node.close());
    const sipp = await startSipp('uas-glare.xml', transport);
    t.after(() => sipp.stop());
    const sent491: number[] = [];
    node.tap.on('out', (m) => {
      if (m instanceof SipResponse && m.status === 491) sent491.push(m.cseq.seq);
    });
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    const { session } = await call.answered;
    const started = Date.now();
    const answer = await beforeSippEnds(sipp, session.reinvite(NEW_OFFER));
    const elapsed = Date.now() - started;
    assert.match(answer ?? '', /m=audio 40030/);
    assert.deepEqual(sent491, [1]);
    assert.ok(elapsed >= 2100 && elapsed < 4000, `retried after ${elapsed} ms`);
    await call.bye();
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: a retransmitted 200 gets the ACK again (uas-reack.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-reack.xml', transport);
    t.after(() => sipp.stop());
    let acks = 0;
    const secondAck = new Promise<void>((resolve) =>
      node.tap.on('out', (m) => {
        if (isAck(m) && ++acks === 2) resolve();
      }),
    );
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    await call.answered;
    await secondAck;
    await call.bye();
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: re-INVITE to the 200's Contact with CSeq 2, answer, ACK, BYE (uas-reinvite.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-reinvite.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    const { session } = await call.answered;
    const answer = await session.reinvite(NEW_OFFER);
    assert.match(answer ?? '', /m=audio 40010/);
    assert.equal(session.remoteSdp, answer);
    assert.equal(session.localSdp, NEW_OFFER);
    await call.bye();
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: 401 answered once with digest that sipp verifyauth accepts (uas-digest.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-digest.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({
      target: target(sipp.port, transport),
      from: 'sip:alice@127.0.0.1',
      sdp: OFFER,
      credentials: { username: 'alice', password: 'secret' },
    });
    await call.answered;
    assert.equal(call.request?.cseq.seq, 2);
    await call.bye();
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: ringing, 200 with SDP, ACK, BYE (uas-answer.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-answer.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    const statuses: number[] = [];
    call.on('progress', (res) => statuses.push(res.status));
    const answer = await call.answered;
    assert.ok(statuses.includes(180));
    assert.match(answer.sdp ?? '', /m=audio \d+ RTP\/AVP 0/);
    assert.equal(node.ua.sessionCount, 1);
    await call.bye();
    assert.equal(node.ua.sessionCount, 0);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: 486 fails the call and is ACKed (uas-busy.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-busy.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    await assert.rejects(call.answered, (err: unknown) => err instanceof SipResponseError && err.status === 486);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: CANCEL while ringing ends in 487 and CallCancelledError (uas-ring-cancel.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-ring-cancel.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    await new Promise<void>((resolve) => call.on('progress', (res) => res.status === 180 && resolve()));
    call.cancel();
    await assert.rejects(call.answered, CallCancelledError);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`registration client over ${transport}: digest, refresh before expiry, un-register (uas-register.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-register.xml', transport);
    t.after(() => sipp.stop());
    const client = new RegistrationClient(node.ua, {
      registrar: `sip:127.0.0.1:${sipp.port}${transport === 'tcp' ? ';transport=tcp' : ''}`,
      aor: 'sip:trunkuser@127.0.0.1',
      destination: { transport, host: '127.0.0.1', port: sipp.port },
      credentials: { username: 'trunkuser', password: 'trunkpw' },
      expires: 2,
    });
    const granted: number[] = [];
    const twice = new Promise<void>((resolve) =>
      client.on('registered', (expires) => {
        granted.push(expires);
        if (granted.length === 2) resolve();
      }),
    );
    const failures: string[] = [];
    client.on('failed', (cause) => failures.push(cause instanceof Error ? cause.message : String(cause.status)));
    client.start();
    await beforeSippEnds(sipp, twice);
    assert.deepEqual(granted, [2, 2]);
    await client.stop();
    assert.deepEqual(failures, []);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
}
