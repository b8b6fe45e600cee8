import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { SipRequest, SipResponse } from '../../../src/sip/message/index.ts';
import type { IncomingCall } from '../../../src/sip/ua/incoming-call.ts';
import type { Session } from '../../../src/sip/ua/session.ts';
import { InviteInProgressError } from '../../../src/sip/ua/errors.ts';
import type { ManualTimerPort } from '../../../src/sip/transaction/timer-port.ts';
import { memoryPair, settle } from './memory-pair.ts';
import { createInDialogRequest } from '../../../src/sip/dialog/in-dialog-request.ts';
import { dialogKey } from '../../../src/sip/dialog/dialog-state.ts';

const SDP = (port: number) => `v=0\r\no=- 1 ${port} IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;

async function connected(random?: () => number) {
  const pair = memoryPair(random);
  let incoming: IncomingCall | undefined;
  pair.b.ua.onInvite((call) => {
    incoming = call;
    void call.accept({ sdp: SDP(5000) });
  });
  const call = pair.a.ua.invite({ target: pair.b.uri, from: 'sip:alice@10.0.0.1', sdp: SDP(4000) });
  const answer = await call.answered;
  await settle();
  assert.ok(incoming?.session);
  return { ...pair, call, caller: answer.session, callee: incoming.session as Session, incoming };
}

test('in-dialog INFO, OPTIONS and NOTIFY both ways are answered 200 and seen by the peer', async () => {
  const { caller, callee } = await connected();
  const seenByCallee: string[] = [];
  const seenByCaller: string[] = [];
  callee.on('request', (req) => seenByCallee.push(req.method));
  caller.on('request', (req) => seenByCaller.push(req.method));
  for (const method of ['INFO', 'OPTIONS', 'NOTIFY']) {
    assert.equal((await caller.request(method)).status, 200);
    assert.equal((await callee.request(method)).status, 200);
  }
  assert.deepEqual(seenByCallee, ['INFO', 'OPTIONS', 'NOTIFY']);
  assert.deepEqual(seenByCaller, ['INFO', 'OPTIONS', 'NOTIFY']);
  // The callee's first request used CSeq 1 and counted up; the caller's continued after the INVITE's 1.
  assert.equal(callee.dialog.localSeq, 3);
  assert.equal(caller.dialog.localSeq, 4);
});

test('re-INVITE from the callee refreshes the caller and is answered with the caller SDP', async () => {
  const { caller, callee } = await connected();
  const answer = await callee.reinvite(SDP(5002));
  assert.equal(answer, SDP(4000));
  assert.equal(caller.remoteSdp, SDP(5002));
  assert.equal(caller.state, 'confirmed');
  assert.equal(callee.state, 'confirmed');
});

test('glare: both re-INVITE at once, both get 491, each retries after its §14.1 back-off and succeeds', async () => {
  // random 0.5: the Call-ID owner (caller) waits 3050 ms, the callee 1000 ms.
  const { caller, callee, a, b } = await connected(() => 0.5);
  const statuses: number[] = [];
  for (const t of [a.transport, b.transport]) t.takeSent();
  const fromCaller = caller.reinvite(SDP(4002));
  const fromCallee = callee.reinvite(SDP(5004));
  await settle(40);
  for (const t of [a.transport, b.transport]) {
    for (const { message } of t.takeSent()) if (message instanceof SipResponse) statuses.push(message.status);
  }
  assert.deepEqual(statuses.sort(), [491, 491]);
  b.clock.advance(999);
  await settle();
  assert.equal(b.transport.sent.length, 0);
  b.clock.advance(1);
  assert.equal(await fromCallee, SDP(4000));
  a.clock.advance(3050);
  assert.equal(await fromCaller, SDP(5004));
  assert.equal(caller.remoteSdp, SDP(5004));
  assert.equal(callee.remoteSdp, SDP(4002));
});

test('a re-INVITE whose handler finds another INVITE in progress is answered 491, which the peer retries', async () => {
  const { caller, callee, a, b } = await connected(() => 0.5);
  let asked = 0;
  callee.onReinvite = () => {
    asked++;
    return asked === 1 ? Promise.reject(new InviteInProgressError()) : SDP(5006);
  };
  b.transport.takeSent();
  const reinvite = caller.reinvite(SDP(4004));
  await settle(40);
  const statuses = b.transport.takeSent().flatMap(({ message }) => (message instanceof SipResponse ? [message.status] : []));
  assert.deepEqual(statuses, [491]);
  // §14.1: the Call-ID owner retries after 2.1 + 0.5 * 2 s.
  a.clock.advance(3050);
  assert.equal(await reinvite, SDP(5006));
  assert.equal(asked, 2);
});

test('the callee without ACK: 2xx retransmitted on the session clock, BYE after 64*T1', async () => {
  const { b } = memoryPair();
  let incoming: IncomingCall | undefined;
  b.ua.onInvite((call) => (incoming = call));
  // A peer that sends the INVITE and nothing else: inject it straight into b.
  b.transport.inject(
    [
      'INVITE sip:user@10.0.0.2:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKnoack',
      'Max-Forwards: 70',
      'From: <sip:x@10.0.0.9>;tag=peer',
      'To: <sip:user@10.0.0.2>',
      'Call-ID: no-ack-call',
      'CSeq: 1 INVITE',
      'Contact: <sip:x@10.0.0.9:5060>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    { transport: 'udp', host: '10.0.0.9', port: 5060 },
  );
  assert.ok(incoming);
  const acked = incoming.accept({ sdp: SDP(5000) });
  acked.catch(() => undefined);
  await settle();
  const count200 = () => b.transport.sent.filter((m) => m.message instanceof SipResponse && m.message.status === 200).length;
  assert.equal(count200(), 1);
  b.clock.advance(500);
  await settle();
  assert.equal(count200(), 2);
  b.clock.advance(64 * 500 - 500);
  await assert.rejects(acked, { name: 'AckTimeoutError' });
  const bye = b.transport.sent.find((m) => m.message instanceof SipRequest && m.message.method === 'BYE');
  assert.ok(bye);
  assert.equal((bye.message as SipRequest).uri, 'sip:x@10.0.0.9:5060');
  assert.deepEqual(bye.to, { transport: 'udp', host: '10.0.0.9', port: 5060 });
  assert.equal(b.ua.sessionCount, 0);
});

test('a 2xx from a second fork is ACKed and sent a BYE; the call keeps the first', async () => {
  const { a, call, caller } = await connected();
  const invite = a.transport.sent.find((m) => m.message instanceof SipRequest && m.message.method === 'INVITE');
  assert.ok(invite);
  const req = invite.message as SipRequest;
  a.transport.takeSent();
  a.transport.inject(
    [
      'SIP/2.0 200 OK',
      `Via: ${req.getAll('via')[0] ?? ''}`,
      `From: ${req.get('from') ?? ''}`,
      `To: ${req.get('to') ?? ''};tag=fork2`,
      `Call-ID: ${req.callId}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:fork2@10.0.0.3:5060>',
      'Content-Type: application/sdp',
      `Content-Length: ${SDP(6000).length}`,
      '',
      SDP(6000),
    ].join('\r\n'),
    { transport: 'udp', host: '10.0.0.3', port: 5060 },
  );
  await settle();
  const sent = a.transport.takeSent().map((m) => m.message as SipRequest);
  assert.deepEqual(sent.map((m) => [m.method, m.uri, m.toTag]), [
    ['ACK', 'sip:fork2@10.0.0.3:5060', 'fork2'],
    ['BYE', 'sip:fork2@10.0.0.3:5060', 'fork2'],
  ]);
  assert.equal(call.session, caller);
  assert.equal(caller.state, 'confirmed');
});

test('an asynchronous re-INVITE answer; a BYE arriving meanwhile gets the re-INVITE a 487', async () => {
  const { caller, callee, b } = await connected();
  let release: (sdp: string | undefined) => void = () => undefined;
  callee.onReinvite = () => new Promise((resolve) => (release = resolve));
  const reinvite = caller.reinvite(SDP(4010));
  await settle();
  release(SDP(5010));
  assert.equal(await reinvite, SDP(5010));
  const second = caller.reinvite(SDP(4012));
  second.catch(() => undefined);
  await settle();
  const ended = new Promise((resolve) => callee.once('ended', resolve));
  await caller.bye();
  await ended;
  await assert.rejects(second, { name: 'SessionEndedError' });
  b.transport.takeSent();
  release(SDP(5012));
  await settle();
  const [late] = b.transport.takeSent().map((m) => m.message);
  assert.ok(late instanceof SipResponse);
  assert.deepEqual([late.status, late.cseq.method], [487, 'INVITE']);
});

test('in-dialog digest: a challenged INFO is answered once with the next CSeq in the same dialog', async () => {
  const pair = memoryPair();
  let callee: Session | undefined;
  pair.b.ua.onInvite((call) => {
    void call.accept({ sdp: SDP(5000) });
    callee = call.session;
  });
  const call = pair.a.ua.invite({
    target: pair.b.uri,
    from: 'sip:alice@10.0.0.1',
    sdp: SDP(4000),
    credentials: { username: 'alice', password: 'pw' },
  });
  const { session: caller } = await call.answered;
  await settle();
  assert.ok(callee);
  const infos: { seq: number; authorized: boolean }[] = [];
  callee.on('request', (req, tx) => {
    infos.push({ seq: req.cseq.seq, authorized: req.has('authorization') });
    pair.b.ua.requireAuth(req, tx, (u) => (u === 'alice' ? 'pw' : undefined));
  });
  const res = await caller.request('INFO', { body: 'Signal=5\r\n', contentType: 'application/dtmf-relay' });
  assert.equal(res.status, 200);
  assert.deepEqual(infos, [
    { seq: 2, authorized: false },
    { seq: 3, authorized: true },
  ]);
  assert.equal(caller.dialog.localSeq, 3);
});

test('an in-dialog method we do not handle (UPDATE) is answered 405 with Allow', async () => {
  const { caller } = await connected();
  const res = await caller.request('UPDATE');
  assert.equal(res.status, 405);
  assert.match(res.get('allow') ?? '', /INFO/);
  assert.equal(caller.state, 'confirmed');
});

test('no re-INVITE of ours while the peer re-INVITE is still being answered (§14.1)', async () => {
  const { caller, callee } = await connected();
  let release: (sdp: string | undefined) => void = () => undefined;
  callee.onReinvite = () => new Promise((resolve) => (release = resolve));
  const theirs = caller.reinvite(SDP(4020));
  await settle();
  await assert.rejects(callee.reinvite(SDP(5020)), { name: 'InviteInProgressError' });
  release(SDP(5022));
  assert.equal(await theirs, SDP(5022));
});

/**
 * A call answered on a memory pair, kept by the test only through a WeakRef (made in a function of its own so
 * that nothing in the test's scope keeps it), and a check that it has been collected.
 */
async function weaklyHeldCall(): Promise<{ a: ReturnType<typeof memoryPair>['a']; session: Session; collected(): Promise<boolean> }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { a, b } = memoryPair();
  b.ua.onInvite((call) => void call.accept({ sdp: SDP(5000) }));
  const start = async (): Promise<{ call: WeakRef<object>; session: Session }> => {
    const call = a.ua.invite({ target: b.uri, from: 'sip:alice@10.0.0.1', sdp: SDP(4000) });
    const { session } = await call.answered;
    return { call: new WeakRef(call), session };
  };
  const { call, session } = await start();
  await settle();
  const collected = async (): Promise<boolean> => {
    for (let i = 0; i < 3 && call.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    return call.deref() === undefined;
  };
  return { a, session, collected };
}

test('a call whose session ended is let go with its INVITE and BYE transactions, without waiting out Timers M and K', async () => {
  const { a, session, collected } = await weaklyHeldCall();
  assert.equal(a.ua.layer.size.client, 1, 'the INVITE transaction is in Accepted (Timer M) while the call lasts');
  await session.bye();
  await settle();
  assert.equal(session.endReason !== undefined, true);
  assert.equal(a.ua.layer.size.client, 0, 'no client transaction is left once the TU has let them go');
  assert.deepEqual((a.ua.layer.timers as ManualTimerPort).pending(), [], 'and no timer of theirs');
  assert.equal(await collected(), true, 'the ended call is not kept by its transaction');
});

test('a held call keeps its session, not the OutgoingCall, once Timer M has ended the INVITE transaction', async () => {
  const { a, session, collected } = await weaklyHeldCall();
  (a.ua.layer.timers as ManualTimerPort).advance(64 * 500);
  await settle();
  assert.equal(a.ua.layer.size.client, 0, 'Timer M ended the INVITE transaction');
  assert.equal(session.state, 'confirmed');
  assert.equal(await collected(), true, 'the session of a held call does not keep its OutgoingCall');
});

test('in-dialog requests go to the new remote target after a target refresh, not to where the last one went', async () => {
  const { caller, callee, a, b } = await connected();
  assert.equal((await caller.request('INFO')).status, 200);
  // A re-INVITE from the callee whose Contact is elsewhere: the caller's remote target becomes that URI (§12.2.2).
  const { request: reinvite } = createInDialogRequest(callee.dialog, {
    method: 'INVITE',
    contact: 'sip:moved@10.0.0.7:5090',
    body: SDP(5006),
    contentType: 'application/sdp',
  });
  const statuses: number[] = [];
  b.ua.layer.sendRequest(reinvite, { transport: 'udp', host: '10.0.0.1', port: 5060 }, {
    onResponse: (res) => statuses.push(res.status),
    onError: (err) => assert.fail(err),
  });
  await settle();
  assert.deepEqual(statuses, [200]);
  assert.equal(caller.dialog.remoteTarget, 'sip:moved@10.0.0.7:5090');
  a.transport.takeSent();
  caller.request('OPTIONS').catch(() => undefined);
  await settle();
  const options = a.transport.takeSent().find((s) => s.message.kind === 'request' && s.message.method === 'OPTIONS');
  assert.deepEqual(options?.to, { transport: 'udp', host: '10.0.0.7', port: 5090 });
  assert.equal(options?.message.kind === 'request' ? options.message.uri : '', 'sip:moved@10.0.0.7:5090');
});

test('a session is known by the key of its dialog id while its dialog state changes', async () => {
  const { caller, callee } = await connected();
  for (const session of [caller, callee]) {
    const key = session.key;
    assert.equal(key, dialogKey(session.dialog.id));
    assert.equal((await session.request('INFO')).status, 200);
    assert.equal(session.key, dialogKey(session.dialog.id));
    assert.equal(session.key, key);
  }
  assert.notEqual(caller.key, callee.key);
});
