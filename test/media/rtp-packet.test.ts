import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRtpPacket, parseRtpPacket, RtpParseError, writeRtpHeader } from '../../src/media/rtp-packet.ts';

test('build then parse round-trips every header field and the payload', () => {
  const payload = Buffer.from([1, 2, 3, 4, 5]);
  const packet = buildRtpPacket(
    { marker: true, payloadType: 8, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef },
    payload,
  );
  assert.equal(packet.length, 17);
  assert.equal(packet[0], 0x80, 'V=2, no padding, no extension, no CSRC');
  assert.equal(packet[1], 0x88, 'marker + PT 8');
  const parsed = parseRtpPacket(packet);
  assert.equal(parsed.marker, true);
  assert.equal(parsed.payloadType, 8);
  assert.equal(parsed.sequenceNumber, 65535);
  assert.equal(parsed.timestamp, 0xfffffff0);
  assert.equal(parsed.ssrc, 0xdeadbeef);
  assert.deepEqual([...parsed.payload], [1, 2, 3, 4, 5]);
});

test('writeRtpHeader wraps sequence and timestamp into their field widths', () => {
  const buffer = Buffer.alloc(12);
  writeRtpHeader(buffer, 0, { marker: false, payloadType: 0, sequenceNumber: 0x10001, timestamp: 2 ** 32 + 7, ssrc: 1 });
  const parsed = parseRtpPacket(buffer);
  assert.equal(parsed.sequenceNumber, 1);
  assert.equal(parsed.timestamp, 7);
  assert.equal(parsed.payload.length, 0);
});

test('CSRC list, header extension and padding are skipped to reach the payload', () => {
  const packet = Buffer.from([
    0xb2, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 9,
    0, 0, 0, 0x11, 0, 0, 0, 0x22,
    0xbe, 0xde, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd,
    0x55, 0x66,
    0x00, 0x00, 0x03,
  ]);
  const parsed = parseRtpPacket(packet);
  assert.deepEqual(parsed.csrcs, [0x11, 0x22]);
  assert.equal(parsed.extension?.profile, 0xbede);
  assert.deepEqual([...(parsed.extension?.data ?? [])], [0xaa, 0xbb, 0xcc, 0xdd]);
  assert.equal(parsed.padding, true);
  assert.deepEqual([...parsed.payload], [0x55, 0x66]);
});

test('malformed datagrams are RtpParseErrors', () => {
  assert.throws(() => parseRtpPacket(Buffer.alloc(11)), RtpParseError);
  const v1 = Buffer.alloc(12);
  v1[0] = 0x40;
  assert.throws(() => parseRtpPacket(v1), RtpParseError);
  const truncatedCsrc = Buffer.alloc(12);
  truncatedCsrc[0] = 0x81;
  assert.throws(() => parseRtpPacket(truncatedCsrc), RtpParseError);
  const badPadding = Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
  assert.throws(() => parseRtpPacket(badPadding), RtpParseError);
  const rtcpSenderReport = Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.throws(() => parseRtpPacket(rtcpSenderReport), RtpParseError);
});
