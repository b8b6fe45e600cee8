import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBye, buildReport, parseRtcp, RtcpParseError } from '../../src/media/rtcp.ts';
import { buildRtpPacket, parseRtpPacket, RtpParseError } from '../../src/media/rtp-packet.ts';
import { parseSdp, SdpParseError } from '../../src/media/sdp.ts';
import { decodeWav, WavFormatError } from '../../src/media/wav.ts';

/** A fixed-seed generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** Network input either parses or fails with the parser's own error type: never a RangeError from a read. */
function survives(parse: (data: Buffer) => unknown, errorType: new (...args: never[]) => Error, seeds: Buffer[]): void {
  const next = random(7);
  for (let round = 0; round < 3000; round++) {
    const seed = seeds[round % seeds.length] as Buffer;
    const data = Buffer.from(seed.subarray(0, Math.floor(next() * (seed.length + 1))));
    const flips = Math.floor(next() * 4);
    for (let i = 0; i < flips && data.length > 0; i++) data[Math.floor(next() * data.length)] = Math.floor(next() * 256);
    try {
      parse(data);
    } catch (error) {
      assert.ok(error instanceof errorType, `round ${round}: ${String(error)} for ${data.toString('hex')}`);
    }
  }
}

test('RTP, RTCP and WAV readers fail only with their typed errors on mangled input', () => {
  const rtp = buildRtpPacket({ marker: true, payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 9 }, Buffer.alloc(4));
  const withEverything = Buffer.from('b2000001000000a00000000900000011000000 22bede0001aabbccdd5566000003'.replace(' ', ''), 'hex');
  assert.equal(parseRtpPacket(withEverything).payload.length, 2);
  survives(parseRtpPacket, RtpParseError, [rtp, withEverything]);
  const block = { ssrc: 1, fractionLost: 2, cumulativeLost: 3, highestSequence: 4, jitter: 5, lastSr: 6, delaySinceLastSr: 7 };
  const sender = { ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 };
  const sr = buildReport({ ssrc: 42, cname: 'pbx', sender, reports: [block] });
  const bye = buildBye({ ssrc: 42, cname: 'pbx', reason: 'bye now' });
  assert.equal(parseRtcp(sr).length, 2);
  assert.equal(parseRtcp(bye).length, 3);
  survives(parseRtcp, RtcpParseError, [sr, bye]);
  const wav = Buffer.concat([
    Buffer.from('RIFF', 'ascii'),
    Buffer.from([44, 0, 0, 0]),
    Buffer.from('WAVEfmt ', 'ascii'),
    Buffer.from([16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]),
    Buffer.from('data', 'ascii'),
    Buffer.from([8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
  ]);
  assert.equal(decodeWav(wav).data.length, 8);
  survives(decodeWav, WavFormatError, [wav]);
});

test('SDP text cut and mangled is parsed or refused with SdpParseError', () => {
  const offer = Buffer.from(
    'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n' +
      'a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtcp:4001 IN IP4 10.0.0.2\r\na=sendonly\r\n',
  );
  assert.equal(parseSdp(offer.toString('latin1')).media.length, 1);
  survives((data) => parseSdp(data.toString('latin1')), SdpParseError, [offer]);
});
