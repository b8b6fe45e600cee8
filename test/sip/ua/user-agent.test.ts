import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestVerifier } from '../../../src/sip/auth/digest.ts';
import { createResponse, formatNameAddr, parseUri, SipResponse } from '../../../src/sip/message/index.ts';
import { CallCancelledError, SipResponseError } from '../../../src/sip/ua/errors.ts';
import type { IncomingCall } from '../../../src/sip/ua/incoming-call.ts';
import { memoryPair, next, settle } from './memory-pair.ts';
import { ManualTimerPort } from '../../../src/sip/transaction/timer-port.ts';
import { MemoryNetwork } from '../../../src/sip/transport/memory-transport.ts';
import { authorizeRequest } from '../../../src/sip/ua/client-auth.ts';
import { sendRequest } from '../../../src/sip/ua/send-request.ts';
import { UserAgent } from '../../../src/sip/ua/user-agent.ts';

const OFFER = 'v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER = 'v=0\r\no=b 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

test('offer/answer call: ringing, answer, ACK, BYE from the caller ends both sides', async () => {
  const { a, b } = memoryPair();
  const calls: IncomingCall[] = [];
  b.ua.onInvite((call) => {
    calls.push(call);
    call.progress(180);
  });
  const call = a.ua.invite({ target: b.uri, from: 'sip:alice@10.0.0.1', sdp: OFFER });
  const [ringing] = await next<[{ status: number }]>(call, 'progress');
  assert.equal(ringing.status, 180);
  const inc = calls[0];
  assert.ok(inc);
  assert.equal(inc.offer, OFFER);
  const acked = inc.accept({ sdp: ANSWER });
  const answer = await call.answered;
  assert.equal(answer.sdp, ANSWER);
  const ack = await acked;
  assert.equal(ack.sdp, undefined);
  assert.equal(a.ua.sessionCount, 1);
  assert.equal(b.ua.sessionCount, 1);
  const ended = next<[string]>(inc, 'ended');
  await call.bye();
  assert.deepEqual(await ended, ['bye-received']);
  assert.equal(a.ua.sessionCount, 0);
  assert.equal(b.ua.sessionCount, 0);
});

test('late offer: the 2xx carries the offer and the ACK our answer, sent when we call ack()', async () => {
  const { a, b } = memoryPair();
  let inc: IncomingCall | undefined;
  b.ua.onInvite((call) => {
    inc = call;
  });
  const call = a.ua.invite({ target: b.uri, from: 'sip:pbx@10.0.0.1' });
  await settle();
  assert.ok(inc);
  assert.equal(inc.offer, undefined);
  let ackSeen = false;
  const acked = inc.accept({ sdp: OFFER }).then((r) => {
    ackSeen = true;
    return r;
  });
  const answer = await call.answered;
  assert.equal(answer.sdp, OFFER);
  await settle();
  assert.equal(ackSeen, false);
  answer.ack(ANSWER);
  const ack = await acked;
  assert.equal(ack.sdp, ANSWER);
  assert.equal(inc.session?.remoteSdp, ANSWER);
});

test('486 from the callee fails the call with SipResponseError', async () => {
  const { a, b } = memoryPair();
  b.ua.onInvite((call) => call.reject(486));
  const call = a.ua.invite({ target: b.uri, from: 'sip:alice@10.0.0.1', sdp: OFFER });
  await assert.rejects(call.answered, (err: unknown) => err instanceof SipResponseError && err.status === 486);
  assert.equal(a.ua.sessionCount, 0);
});

test('CANCEL while ringing: the callee hears cancelled and the caller fails with CallCancelledError', async () => {
  const { a, b } = memoryPair();
  let inc: IncomingCall | undefined;
  b.ua.onInvite((call) => {
    inc = call;
    call.progress(180);
  });
  const call = a.ua.invite({ target: b.uri, from: 'sip:alice@10.0.0.1', sdp: OFFER });
  await next(call, 'progress');
  assert.ok(inc);
  const cancelled = next(inc, 'cancelled');
  call.cancel();
  await cancelled;
  await assert.rejects(call.answered, CallCancelledError);
  await settle();
  assert.equal(b.ua.sessionCount, 0);
});

test('digest: the caller answers the 401 once with the next CSeq and the same Call-ID', async () => {
  const { a, b } = memoryPair();
  const verifier = new DigestVerifier({ realm: 'test', nonceTtlMs: 60_000 });
  const seen: { cseq: number; callId: string }[] = [];
  b.ua.onInvite((call) => {
    seen.push({ cseq: call.request.cseq.seq, callId: call.request.callId });
    if (call.request.has('authorization')) void call.accept({ sdp: ANSWER });
    else call.reject(401, { headers: verifier.challenges().map((c) => ['WWW-Authenticate', c] as const) });
  });
  const call = a.ua.invite({
    target: b.uri,
    from: 'sip:alice@10.0.0.1',
    sdp: OFFER,
    credentials: { username: 'alice', password: 'pw' },
  });
  const answer = await call.answered;
  assert.equal(answer.sdp, ANSWER);
  assert.equal(seen.length, 2);
  assert.equal(seen[1]?.cseq, (seen[0]?.cseq ?? 0) + 1);
  assert.equal(seen[1]?.callId, seen[0]?.callId);
  const auth = call.request?.get('authorization');
  assert.ok(auth);
  assert.equal(verifier.verify(auth, 'INVITE', () => 'pw').ok, true);
});

test('digest: a second challenge is not answered again', async () => {
  const { a, b } = memoryPair();
  const verifier = new DigestVerifier({ realm: 'test', nonceTtlMs: 60_000 });
  let invites = 0;
  b.ua.onInvite((call) => {
    invites++;
    call.reject(401, { headers: verifier.challenges().map((c) => ['WWW-Authenticate', c] as const) });
  });
  const call = a.ua.invite({ target: b.uri, from: 'sip:alice@10.0.0.1', sdp: OFFER, credentials: { username: 'x', password: 'y' } });
  await assert.rejects(call.answered, (err: unknown) => err instanceof SipResponseError && err.status === 401);
  assert.equal(invites, 2);
});

test('ua.requireAuth: 401 with challenges, then the authorized REGISTER passes', async () => {
  const { a, b } = memoryPair();
  const users: string[] = [];
  b.ua.onRequest('REGISTER', (req, tx) => {
    const r = b.ua.requireAuth(req, tx, (u) => (u === '201' ? 'secret' : undefined));
    if (r.ok) {
      users.push(r.username);
      tx.respond(createResponse(req, 200, undefined, { toTag: 'reg' }));
    }
  });
  const { response, request } = await a.ua.request({
    method: 'REGISTER',
    uri: 'sip:10.0.0.2:5060',
    from: 'sip:201@10.0.0.2',
    to: 'sip:201@10.0.0.2',
    contact: true,
    credentials: { username: '201', password: 'secret' },
  });
  assert.equal(response.status, 200);
  assert.equal(request.cseq.seq, 2);
  assert.deepEqual(users, ['201']);
  const bad = await a.ua.request({
    method: 'REGISTER',
    uri: 'sip:10.0.0.2:5060',
    from: 'sip:201@10.0.0.2',
    credentials: { username: '201', password: 'wrong' },
  });
  assert.equal(bad.response.status, 401);
});

test('out-of-dialog OPTIONS is answered 200 with Allow, an unknown method 405 with Allow', async () => {
  const { a, b } = memoryPair();
  const options = await a.ua.request({ method: 'OPTIONS', uri: b.uri, from: 'sip:alice@10.0.0.1' });
  assert.equal(options.response.status, 200);
  assert.match(options.response.get('allow') ?? '', /INVITE/);
  const sub = await a.ua.request({ method: 'SUBSCRIBE', uri: b.uri, from: 'sip:alice@10.0.0.1', headers: [['Event', 'presence']] });
  assert.equal(sub.response.status, 405);
  assert.match(sub.response.get('allow') ?? '', /BYE/);
});

test('an in-dialog request for a dialog we do not know is answered 481', async () => {
  const { b } = memoryPair();
  const peer = { transport: 'udp' as const, host: '10.0.0.9', port: 5060 };
  b.transport.inject(
    [
      'BYE sip:user@10.0.0.2:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKgone',
      'Max-Forwards: 70',
      'From: <sip:x@10.0.0.9>;tag=theirs',
      'To: <sip:user@10.0.0.2>;tag=nosuch',
      'Call-ID: unknown-dialog',
      'CSeq: 5 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    peer,
  );
  await settle();
  const sent = b.transport.takeSent().map((m) => m.message);
  assert.equal(sent.length, 1);
  assert.ok(sent[0] instanceof SipResponse);
  assert.equal(sent[0].status, 481);
});

function rawInvite(extra: string[], uri = 'sip:user@10.0.0.2:5060', body = ''): string {
  return [
    `INVITE ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKchk' + Math.random().toString(36).slice(2),
    'Max-Forwards: 70',
    'From: <sip:x@10.0.0.9>;tag=peer',
    'To: <sip:user@10.0.0.2>',
    'Call-ID: checks-' + Math.random().toString(36).slice(2),
    'CSeq: 1 INVITE',
    'Contact: <sip:x@10.0.0.9:5060>',
    ...extra,
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

test('UAS checks run before the INVITE handler: 420 with Unsupported, 415 with Accept, 416', async () => {
  const { b } = memoryPair();
  let handled = 0;
  b.ua.onInvite(() => handled++);
  const peer = { transport: 'udp' as const, host: '10.0.0.9', port: 5060 };
  const answer = async (text: string) => {
    b.transport.inject(text, peer);
    await settle();
    const [sent] = b.transport.takeSent();
    assert.ok(sent?.message instanceof SipResponse);
    return sent.message;
  };
  const r420 = await answer(rawInvite(['Require: 100rel']));
  assert.equal(r420.status, 420);
  assert.equal(r420.get('unsupported'), '100rel');
  const r415 = await answer(rawInvite(['Content-Type: application/x-unknown'], undefined, 'hello'));
  assert.equal(r415.status, 415);
  assert.match(r415.get('accept') ?? '', /application\/sdp/);
  const r416 = await answer(rawInvite([], 'mailto:user@10.0.0.2'));
  assert.equal(r416.status, 416);
  const noContact = await answer(rawInvite([]).replace('Contact: <sip:x@10.0.0.9:5060>\r\n', ''));
  assert.equal(noContact.status, 400);
  assert.ok(noContact.toTag);
  assert.equal(handled, 0);
});

test('an incoming INVITE authenticated with IncomingCall.authenticate: 401 first, then accepted', async () => {
  const { a, b } = memoryPair();
  const users: string[] = [];
  b.ua.onInvite((call) => {
    const auth = call.authenticate((u) => (u === '201' ? 'pw' : undefined));
    if (!auth.ok) return;
    users.push(auth.username);
    void call.accept({ sdp: ANSWER });
  });
  const call = a.ua.invite({ target: b.uri, from: 'sip:201@10.0.0.1', sdp: OFFER, credentials: { username: '201', password: 'pw' } });
  const answer = await call.answered;
  assert.equal(answer.sdp, ANSWER);
  assert.deepEqual(users, ['201']);
  const denied = a.ua.invite({ target: b.uri, from: 'sip:201@10.0.0.1', sdp: OFFER, credentials: { username: '201', password: 'no' } });
  await assert.rejects(denied.answered, (err: unknown) => err instanceof SipResponseError && err.status === 401);
});

test('fromConfig: timers and realm from the sip section; nonces of a shared secret verify across instances', async () => {
  const network = new MemoryNetwork();
  const sip = { t1_ms: 500, t2_ms: 4000, t4_ms: 5000, realm: 'pbx.example' };
  const phone = new UserAgent({ transport: network.transport({ transport: 'udp', host: '10.0.0.5', port: 5060 }), t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timers: new ManualTimerPort() });
  const first = UserAgent.fromConfig(network.transport({ transport: 'udp', host: '10.0.0.6', port: 5060 }), sip, { nonceSecret: 's3cret', timers: new ManualTimerPort() });
  assert.equal(first.t1Ms, 500);
  assert.equal(first.contact('udp'), 'sip:originate@10.0.0.6:5060');
  assert.equal(first.contact('tcp'), 'sip:originate@10.0.0.6:5060;transport=tcp');
  first.onRequest('MESSAGE', (req, tx) => {
    const r = first.requireAuth(req, tx, () => 'pw');
    assert.equal(r.ok, false);
  });
  const res = await phone.request({ method: 'MESSAGE', uri: 'sip:10.0.0.6', from: 'sip:201@10.0.0.5' });
  assert.match(res.response.get('www-authenticate') ?? '', /realm="pbx.example"/);
  // A second instance with the same secret (a restart) accepts the answer to the first one's challenge.
  const second = UserAgent.fromConfig(network.transport({ transport: 'udp', host: '10.0.0.7', port: 5060 }), sip, { nonceSecret: 's3cret', timers: new ManualTimerPort() });
  const accepted: string[] = [];
  second.onRequest('MESSAGE', (req, tx) => {
    const r = second.requireAuth(req, tx, () => 'pw');
    if (r.ok) {
      accepted.push(r.username);
      tx.respond(createResponse(req, 200, undefined, { toTag: 'm' }));
    }
  });
  const authorized = authorizeRequest(res.request, res.response, { username: '201', password: 'pw' }, 2);
  const { response } = await sendRequest(phone.layer, authorized, { transport: 'udp', host: '10.0.0.7', port: 5060 });
  assert.equal(response.status, 200);
  assert.deepEqual(accepted, ['201']);
});

test('without an INVITE handler a new INVITE is answered 480', async () => {
  const { a, b } = memoryPair();
  const call = a.ua.invite({ target: b.uri, from: 'sip:alice@10.0.0.1', sdp: OFFER });
  await assert.rejects(call.answered, (err: unknown) => err instanceof SipResponseError && err.status === 480);
});

/** A caller UA facing a raw peer that answers the INVITE with the responses a test writes. */
function rawCallee(): { a: UserAgent; peer: ReturnType<MemoryNetwork['transport']>; invites: Promise<import('../../../src/sip/message/index.ts').SipRequest> } {
  const network = new MemoryNetwork();
  const a = new UserAgent({ transport: network.transport({ transport: 'udp', host: '10.0.0.1', port: 5060 }), t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timers: new ManualTimerPort() });
  const peer = network.transport({ transport: 'udp', host: '10.0.0.2', port: 5060 });
  const invites = new Promise<import('../../../src/sip/message/index.ts').SipRequest>((resolve) =>
    peer.setReceiver({ receiveRequest: (req) => req.method === 'INVITE' && resolve(req), receiveResponse: () => {} }),
  );
  return { a, peer, invites };
}

test('an early dialog confirmed by its 2xx takes the 2xx Contact and Record-Route (§13.2.2.4), or keeps its target when the 2xx has no Contact', async () => {
  for (const twoHundredContact of ['<sip:bob@10.0.0.9:5070>', undefined]) {
    const { a, peer, invites } = rawCallee();
    const call = a.invite({ target: 'sip:bob@10.0.0.2', from: 'sip:alice@10.0.0.1', sdp: OFFER });
    const invite = await invites;
    const reply = (status: number, headers: [string, string][]): void =>
      peer.send(createResponse(invite, status, undefined, { toTag: 'fork-1', headers, ...(status === 200 ? { body: ANSWER, contentType: 'application/sdp' } : {}) }), {
        transport: 'udp',
        host: '10.0.0.1',
        port: 5060,
      });
    reply(180, [
      ['Contact', '<sip:bob@10.0.0.8:5080>'],
      ['Record-Route', '<sip:early-proxy.example;lr>'],
    ]);
    reply(200, [...(twoHundredContact === undefined ? [] : [['Contact', twoHundredContact] as [string, string]]), ['Record-Route', '<sip:proxy.example;lr>']]);
    const answer = await call.answered;
    const dialog = answer.session.dialog;
    assert.equal(dialog.early, false);
    assert.equal(dialog.id.remoteTag, 'fork-1');
    assert.equal(dialog.remoteTarget, twoHundredContact === undefined ? 'sip:bob@10.0.0.8:5080' : 'sip:bob@10.0.0.9:5070');
    assert.deepEqual(dialog.routeSet, ['<sip:proxy.example;lr>']);
    assert.equal(dialog.localSeq, invite.cseq.seq);
  }
});

test('the From of our INVITE is formatNameAddr of the address of record, its display name and tag, however the address is written', async () => {
  const { a, b } = memoryPair();
  b.ua.onInvite((call) => void call.reject(486));
  for (const from of ['sip:alice@10.0.0.1', 'sip:Alice@Example.COM:5060;transport=tcp', 'sip:%61lice@10.0.0.1', 'SIP:alice@10.0.0.1:05060', 'sips:a;b@[::1]']) {
    for (const fromDisplayName of [undefined, '', 'Alice', 'Zoë "A" \\ B']) {
      const call = a.ua.invite({ target: b.uri, from, ...(fromDisplayName === undefined ? {} : { fromDisplayName }) });
      const sent = call.request;
      assert.ok(sent !== undefined);
      const expected = formatNameAddr({ displayName: fromDisplayName, uri: parseUri(from)!, params: { tag: sent.fromTag as string } });
      assert.equal(sent.get('from'), expected, `${fromDisplayName} ${from}`);
      await assert.rejects(call.answered, SipResponseError);
    }
  }
  assert.throws(() => a.ua.invite({ target: b.uri, from: 'not a uri' }), TypeError);
});
