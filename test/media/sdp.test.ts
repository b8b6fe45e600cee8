import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'sdp-transform';
import {
  buildAnswer,
  buildOffer,
  isHold,
  mediaDirection,
  NoCommonCodecError,
  parseSdp,
  readAnswer,
  rejectSdp,
  remoteRtpEndpoint,
  SdpParseError,
  SdpSession,
} from '../../src/media/sdp.ts';
import { mutateText, prng } from '../sip/message/mutations.ts';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

const BARESIP_OFFER = crlf([
  'v=0',
  'o=- 1716412037 1128418436 IN IP4 192.168.1.10',
  's=-',
  'c=IN IP4 192.168.1.10',
  't=0 0',
  'm=audio 10000 RTP/AVP 96 9 0 8 101',
  'b=AS:128',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  'a=rtcp-mux',
]);

const LINPHONE_OFFER = crlf([
  'v=0',
  'o=alice 3118 1741 IN IP4 192.168.0.20',
  's=Talk',
  'c=IN IP4 192.168.0.20',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'm=audio 7078 RTP/AVP 96 97 98 8 0 18 101 99 100',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:97 speex/16000',
  'a=fmtp:97 vbr=on',
  'a=rtpmap:98 speex/8000',
  'a=fmtp:98 vbr=on',
  'a=fmtp:18 annexb=yes',
  'a=rtpmap:101 telephone-event/48000',
  'a=rtpmap:99 telephone-event/16000',
  'a=rtpmap:100 telephone-event/8000',
  'a=rtcp:7079',
  'a=rtcp-fb:* trr-int 1000',
  'm=video 9078 RTP/AVP 96',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:* nack pli',
]);

/** Static payload types without rtpmap, media-level c= overriding the session's, a=rtcp with its own address. */
const POLYCOM_OFFER = crlf([
  'v=0',
  'o=- 1326916291 1326916291 IN IP4 10.0.0.50',
  's=Polycom IP Phone',
  'c=IN IP4 10.0.0.50',
  't=0 0',
  'a=sendrecv',
  'm=audio 2222 RTP/AVP 9 102 0 8 18 127',
  'c=IN IP4 10.0.0.51',
  'a=rtpmap:102 G7221/16000',
  'a=fmtp:102 bitrate=32000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:127 telephone-event/8000',
  'a=rtcp:2229 IN IP4 10.0.0.52',
]);

const G729_ONLY_OFFER = crlf([
  'v=0',
  'o=- 1 1 IN IP4 10.0.0.9',
  's=-',
  'c=IN IP4 10.0.0.9',
  't=0 0',
  'm=audio 4000 RTP/AVP 18 96 101',
  'a=rtpmap:18 G729/8000',
  'a=rtpmap:96 opus/48000/2',
  'a=rtpmap:101 telephone-event/8000',
]);

function holdOffer(extra: { c?: string; direction?: string }): string {
  return crlf([
    'v=0',
    'o=- 5 6 IN IP4 10.0.0.7',
    's=-',
    `c=IN IP4 ${extra.c ?? '10.0.0.7'}`,
    't=0 0',
    'm=audio 5004 RTP/AVP 0 101',
    'a=rtpmap:101 telephone-event/8000',
    ...(extra.direction ? [`a=${extra.direction}`] : []),
  ]);
}

test('baresip offer: PCMU (its first G.711) with telephone-event 101, sent to its c= and port', () => {
  const answer = buildAnswer(BARESIP_OFFER, { host: '203.0.113.5', port: 20000 });
  assert.deepEqual(answer.codec, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
  assert.equal(answer.telephoneEvent, 101);
  assert.deepEqual(answer.remote, { address: '192.168.1.10', port: 10000, rtcpAddress: '192.168.1.10', rtcpPort: 10001 });
  assert.equal(answer.direction, 'sendrecv');
  const parsed = parse(answer.sdp);
  assert.equal(parsed.connection?.ip, '203.0.113.5');
  assert.equal(parsed.media.length, 1);
  assert.equal(parsed.media[0]?.port, 20000);
  assert.equal(parsed.media[0]?.payloads, '0 101');
  assert.deepEqual(
    parsed.media[0]?.rtp.map((r) => `${r.payload} ${r.codec}/${r.rate}`),
    ['0 PCMU/8000', '101 telephone-event/8000'],
  );
  assert.equal(parsed.media[0]?.direction, 'sendrecv');
});

test('Linphone offer: PCMA first, the 8 kHz telephone-event (100) chosen, video rejected with port 0', () => {
  const answer = buildAnswer(LINPHONE_OFFER, { host: '203.0.113.5', port: 20002 });
  assert.equal(answer.codec.name, 'PCMA');
  assert.equal(answer.codec.payloadType, 8);
  assert.equal(answer.telephoneEvent, 100);
  assert.equal(answer.remote?.rtcpPort, 7079);
  const parsed = parse(answer.sdp);
  assert.equal(parsed.media.length, 2, 'one m= line per offered stream');
  assert.equal(parsed.media[0]?.type, 'audio');
  assert.equal(parsed.media[0]?.payloads, '8 100');
  assert.equal(parsed.media[1]?.type, 'video');
  assert.equal(parsed.media[1]?.port, 0);
});

test('the first audio stream without a common codec is rejected; the next one is answered and sent to', () => {
  const twoStreams = crlf([
    'v=0',
    'o=- 3 3 IN IP4 10.0.0.9',
    's=-',
    'c=IN IP4 10.0.0.9',
    't=0 0',
    'm=audio 4000 RTP/AVP 18',
    'a=rtpmap:18 G729/8000',
    'm=audio 4100 RTP/AVP 8',
    'c=IN IP4 10.0.0.10',
  ]);
  const answer = buildAnswer(twoStreams, { host: '203.0.113.5', port: 20000 });
  assert.equal(answer.codec.name, 'PCMA');
  assert.deepEqual(answer.remote, { address: '10.0.0.10', port: 4100, rtcpAddress: '10.0.0.10', rtcpPort: 4101 });
  assert.deepEqual(
    parse(answer.sdp).media.map((m) => m.port),
    [0, 20000],
  );
});

test('our preference is ignored in favour of the offerer order, restricted to what we support', () => {
  const onlyPcma = buildAnswer(BARESIP_OFFER, { host: '203.0.113.5', port: 20000, supported: ['PCMA'] });
  assert.equal(onlyPcma.codec.name, 'PCMA');
  assert.equal(onlyPcma.telephoneEvent, undefined);
  assert.equal(String(parse(onlyPcma.sdp).media[0]?.payloads), '8');
});

test('Polycom offer: static types without rtpmap, media-level c= and a=rtcp address honoured', () => {
  const answer = buildAnswer(POLYCOM_OFFER, { host: '203.0.113.5', port: 20004 });
  assert.deepEqual(answer.codec, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
  assert.equal(answer.telephoneEvent, 127);
  assert.deepEqual(remoteRtpEndpoint(POLYCOM_OFFER), {
    address: '10.0.0.51',
    port: 2222,
    rtcpAddress: '10.0.0.52',
    rtcpPort: 2229,
  });
});

test('no common codec: NoCommonCodecError listing what was offered', () => {
  assert.throws(
    () => buildAnswer(G729_ONLY_OFFER, { host: '203.0.113.5', port: 20000 }),
    (error: unknown) =>
      error instanceof NoCommonCodecError && error.offered.includes('G729/8000') && error.offered.includes('opus/48000'),
  );
});

test('hold: a=sendonly is answered recvonly; a=inactive inactive; c=0.0.0.0 is hold with no endpoint', () => {
  const sendonly = buildAnswer(holdOffer({ direction: 'sendonly' }), { host: '203.0.113.5', port: 20000 });
  assert.equal(sendonly.remoteDirection, 'sendonly');
  assert.equal(sendonly.direction, 'recvonly');
  assert.equal(parse(sendonly.sdp).media[0]?.direction, 'recvonly');
  assert.equal(isHold(holdOffer({ direction: 'sendonly' })), true);

  const inactive = buildAnswer(holdOffer({ direction: 'inactive' }), { host: '203.0.113.5', port: 20000 });
  assert.equal(inactive.direction, 'inactive');
  assert.equal(isHold(holdOffer({ direction: 'inactive' })), true);

  const rfc2543 = buildAnswer(holdOffer({ c: '0.0.0.0' }), { host: '203.0.113.5', port: 20000 });
  assert.equal(rfc2543.remote, null);
  assert.equal(rfc2543.direction, 'recvonly');
  assert.equal(isHold(holdOffer({ c: '0.0.0.0' })), true);

  const ipv6Hold = holdOffer({}).replace('c=IN IP4 10.0.0.7', 'c=IN IP6 ::');
  assert.equal(isHold(ipv6Hold), true);
  assert.equal(remoteRtpEndpoint(ipv6Hold), null);

  assert.equal(isHold(holdOffer({})), false);
  assert.equal(mediaDirection(holdOffer({ direction: 'recvonly' })), 'recvonly');
  const recvonly = buildAnswer(holdOffer({ direction: 'recvonly' }), { host: '203.0.113.5', port: 20000 });
  assert.equal(recvonly.direction, 'sendonly');
});

test('we hold: our wanted direction is intersected with the offer', () => {
  const answer = buildAnswer(holdOffer({}), { host: '203.0.113.5', port: 20000, direction: 'sendonly' });
  assert.equal(answer.direction, 'sendonly');
  const both = buildAnswer(holdOffer({ direction: 'sendonly' }), {
    host: '203.0.113.5',
    port: 20000,
    direction: 'sendonly',
  });
  assert.equal(both.direction, 'inactive');
});

test('buildOffer lists the codecs in order with telephone-event 0-16, and readAnswer reads the reply', () => {
  const offer = buildOffer({ host: '203.0.113.5', port: 20010 });
  const parsed = parseSdp(offer);
  assert.equal(parsed.media[0]?.payloads, '0 8 101');
  assert.deepEqual(parsed.media[0]?.fmtp, [{ payload: 101, config: '0-16' }]);
  assert.equal(parsed.media[0]?.ptime, 20);
  assert.equal(parsed.connection?.ip, '203.0.113.5');

  const phoneAnswer = crlf([
    'v=0',
    'o=- 9 9 IN IP4 192.168.1.10',
    's=-',
    'c=IN IP4 192.168.1.10',
    't=0 0',
    'm=audio 10002 RTP/AVP 8 101',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
  ]);
  const negotiated = readAnswer(phoneAnswer, ['PCMU', 'PCMA', 'telephone-event']);
  assert.equal(negotiated.codec.name, 'PCMA');
  assert.equal(negotiated.telephoneEvent, 101);
  assert.deepEqual(negotiated.remote, { address: '192.168.1.10', port: 10002, rtcpAddress: '192.168.1.10', rtcpPort: 10003 });

  const refused = phoneAnswer.replace('m=audio 10002', 'm=audio 0');
  assert.throws(() => readAnswer(refused, ['PCMU', 'PCMA']), NoCommonCodecError);
});

test('SdpSession: the same o= id and a version one higher on each new SDP of the dialog', () => {
  const session = new SdpSession(4242, 7);
  const first = parseSdp(buildOffer({ host: '203.0.113.5', port: 20000, session }));
  const second = parseSdp(buildOffer({ host: '203.0.113.5', port: 20000, session, direction: 'sendonly' }));
  const third = parseSdp(buildAnswer(BARESIP_OFFER, { host: '203.0.113.5', port: 20000, session }).sdp);
  assert.equal(first.origin.sessionId, 4242);
  assert.equal(second.origin.sessionId, 4242);
  assert.deepEqual(
    [first.origin.sessionVersion, second.origin.sessionVersion, third.origin.sessionVersion],
    [7, 8, 9],
  );
  assert.equal(second.media[0]?.direction, 'sendonly');
});

test('rejectSdp answers every stream with port 0', () => {
  const parsed = parse(rejectSdp(LINPHONE_OFFER, { host: '203.0.113.5' }));
  assert.deepEqual(
    parsed.media.map((m) => [m.type, m.port]),
    [
      ['audio', 0],
      ['video', 0],
    ],
  );
});

test('IPv6 hosts are written with IP6', () => {
  const parsed = parseSdp(buildOffer({ host: '2001:db8::5', port: 20000 }));
  assert.equal(parsed.origin.ipVer, 6);
  assert.equal(parsed.connection?.version, 6);
});

test('parseSdp rejects text that is no session description', () => {
  assert.throws(() => parseSdp('hello'), SdpParseError);
  assert.throws(() => parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n'), SdpParseError);
  assert.throws(() => remoteRtpEndpoint(''), SdpParseError);
  assert.throws(() => parseSdp(holdOffer({}).replace('m=audio 5004', 'm=audio 70000')), SdpParseError);
});

/** What a reader made of a text: its result as JSON, or the error it threw. */
function outcome(read: () => unknown): string {
  try {
    return JSON.stringify(read());
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

test('SDP text is read as sdp-transform reads it, mangled text included', () => {
  const hold = BARESIP_OFFER.replace('a=sendrecv', 'a=sendonly').replace('c=IN IP4 192.168.1.10', 'c=IN IP4 0.0.0.0');
  const twoRtcp = POLYCOM_OFFER.replace(/(a=rtcp:[^\r]*\r\n)/, '$1a=rtcp:3001\r\n');
  const seeds = [BARESIP_OFFER, LINPHONE_OFFER, POLYCOM_OFFER, hold, twoRtcp, buildOffer({ host: '10.0.0.9', port: 4000 })];
  const rand = prng(3725);
  const texts = [...seeds];
  for (let i = 0; i < 4000; i++) {
    texts.push(mutateText(seeds[i % seeds.length]!, rand, '\r\n\t\v =/:0123456789aAcmrtpIP.-_x\u00a0\u2028\u2029'));
  }
  let refused = 0;
  for (const text of texts) {
    // Given a parsed description, the readers skip the text scanner: that is the reference.
    const slow = (): ReturnType<typeof parse> => parseSdp(text);
    const options = () => ({ host: '203.0.113.5', port: 20000, session: new SdpSession(7, 9) });
    assert.equal(outcome(() => buildAnswer(text, options())), outcome(() => buildAnswer(slow(), options())), text);
    assert.equal(outcome(() => readAnswer(text, ['PCMU', 'PCMA', 'telephone-event'])), outcome(() => readAnswer(slow(), ['PCMU', 'PCMA', 'telephone-event'])), text);
    assert.equal(outcome(() => remoteRtpEndpoint(text)), outcome(() => remoteRtpEndpoint(slow())), text);
    assert.equal(outcome(() => mediaDirection(text)), outcome(() => mediaDirection(slow())), text);
    assert.equal(outcome(() => rejectSdp(text, { host: '203.0.113.5', session: new SdpSession(7, 9) })), outcome(() => rejectSdp(slow(), { host: '203.0.113.5', session: new SdpSession(7, 9) })), text);
    if (outcome(slow).startsWith('SdpParseError')) refused++;
  }
  // The mutations must reach both sides of the reader: texts it refuses and texts it answers.
  assert.ok(refused > 100 && refused < texts.length - 100, `${refused} of ${texts.length} refused`);
});
