/**
 * RTP fixed header (RFC 3550 §5.1): writing into a caller-owned buffer so senders reuse memory, and parsing
 * received datagrams into a view over the same bytes.
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;

export interface RtpHeaderFields {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
}

export interface RtpPacket extends RtpHeaderFields {
  readonly padding: boolean;
  readonly csrcs: readonly number[];
  /** Extension header (RFC 3550 §5.3.1) when the X bit is set. */
  readonly extension?: { readonly profile: number; readonly data: Buffer };
  /** A view over the received datagram, padding removed. */
  readonly payload: Buffer;
}

/** A datagram that is not an RTP packet we can read. */
export class RtpParseError extends Error {
  override readonly name = 'RtpParseError';
  constructor(readonly reason: string) {
    super(`invalid RTP packet: ${reason}`);
  }
}

/** Writes the 12-byte header (no CSRC, no extension) at `offset`; returns the offset of the payload. */
export function writeRtpHeader(buffer: Buffer, offset: number, fields: RtpHeaderFields): number {
  buffer[offset] = RTP_VERSION << 6;
  buffer[offset + 1] = ((fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f)) & 0xff;
  buffer.writeUInt16BE(fields.sequenceNumber & 0xffff, offset + 2);
  buffer.writeUInt32BE(fields.timestamp >>> 0, offset + 4);
  buffer.writeUInt32BE(fields.ssrc >>> 0, offset + 8);
  return offset + RTP_HEADER_BYTES;
}

/** A new buffer holding header and payload; for senders off the hot path (DTMF, tests). */
export function buildRtpPacket(fields: RtpHeaderFields, payload: Uint8Array): Buffer {
  const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
  writeRtpHeader(packet, 0, fields);
  packet.set(payload, RTP_HEADER_BYTES);
  return packet;
}

export function parseRtpPacket(data: Buffer): RtpPacket {
  if (data.length < RTP_HEADER_BYTES) throw new RtpParseError(`${data.length} bytes, shorter than the header`);
  const first = data[0] as number;
  if (first >> 6 !== RTP_VERSION) throw new RtpParseError(`version ${first >> 6}`);
  const second = data[1] as number;
  const payloadType = second & 0x7f;
  // RFC 5761 §4: PT 64-95 collide with RTCP packet types 192-223 when demultiplexing on one port.
  if (payloadType >= 72 && payloadType <= 76) throw new RtpParseError(`payload type ${payloadType} is RTCP`);
  const csrcCount = first & 0x0f;
  let offset = RTP_HEADER_BYTES + csrcCount * 4;
  if (data.length < offset) throw new RtpParseError('truncated CSRC list');
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(data.readUInt32BE(RTP_HEADER_BYTES + i * 4));
  let extension: RtpPacket['extension'];
  if ((first & 0x10) !== 0) {
    if (data.length < offset + 4) throw new RtpParseError('truncated extension header');
    const profile = data.readUInt16BE(offset);
    const words = data.readUInt16BE(offset + 2);
    const end = offset + 4 + words * 4;
    if (data.length < end) throw new RtpParseError('truncated extension');
    extension = { profile, data: data.subarray(offset + 4, end) };
    offset = end;
  }
  let end = data.length;
  const padding = (first & 0x20) !== 0;
  if (padding) {
    const padBytes = data[data.length - 1] as number;
    if (padBytes === 0 || offset + padBytes > data.length) throw new RtpParseError(`bad padding count ${padBytes}`);
    end -= padBytes;
  }
  return {
    padding,
    marker: (second & 0x80) !== 0,
    payloadType,
    sequenceNumber: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    csrcs,
    ...(extension !== undefined ? { extension } : {}),
    payload: data.subarray(offset, end),
  };
}
