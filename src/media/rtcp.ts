/**
 * RTCP (RFC 3550 §6): the compound packets a session sends (SR or RR, then SDES with our CNAME; BYE on close) and
 * reading what the peer sends, so a call can learn the far end left or how its audio fares.
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;

/** One reception report block (§6.4.1): how the sender of the RTCP packet receives stream `ssrc`. */
export interface ReportBlock {
  readonly ssrc: number;
  /** Fraction of packets lost since the previous report, 0-255 (/256). */
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received from `ssrc`, 0 if none. */
  readonly lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  readonly delaySinceLastSr: number;
}

export interface SenderInfo {
  readonly ntpSeconds: number;
  readonly ntpFraction: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export type RtcpPacket =
  | {
      readonly type: 'sr';
      readonly ssrc: number;
      readonly sender: SenderInfo;
      readonly reports: readonly ReportBlock[];
    }
  | { readonly type: 'rr'; readonly ssrc: number; readonly reports: readonly ReportBlock[] }
  | { readonly type: 'sdes'; readonly chunks: readonly { readonly ssrc: number; readonly cname?: string }[] }
  | { readonly type: 'bye'; readonly ssrcs: readonly number[]; readonly reason?: string }
  | { readonly type: 'other'; readonly packetType: number };

export class RtcpParseError extends Error {
  override readonly name = 'RtcpParseError';
  constructor(readonly reason: string) {
    super(`invalid RTCP packet: ${reason}`);
  }
}

const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;
const REPORT_BLOCK_BYTES = 24;
const SDES_CNAME = 1;

/** NTP time (§4) of a wall-clock instant in milliseconds since 1970. */
export function ntpTime(unixMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(unixMs / 1000);
  return {
    seconds: (seconds + NTP_UNIX_OFFSET_SECONDS) >>> 0,
    fraction: Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0,
  };
}

/** The middle 32 bits of an NTP time: what LSR carries. */
export function ntpMiddle(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

function header(target: Buffer, offset: number, count: number, packetType: number, totalBytes: number): void {
  target[offset] = 0x80 | count;
  target[offset + 1] = packetType;
  target.writeUInt16BE(totalBytes / 4 - 1, offset + 2);
}

function writeReport(target: Buffer, offset: number, block: ReportBlock): void {
  target.writeUInt32BE(block.ssrc >>> 0, offset);
  target[offset + 4] = block.fractionLost & 0xff;
  // 24-bit signed cumulative loss, clamped (§6.4.1).
  const lost = Math.max(-0x800000, Math.min(0x7fffff, block.cumulativeLost)) & 0xffffff;
  target.writeUIntBE(lost, offset + 5, 3);
  target.writeUInt32BE(block.highestSequence >>> 0, offset + 8);
  target.writeUInt32BE(block.jitter >>> 0, offset + 12);
  target.writeUInt32BE(block.lastSr >>> 0, offset + 16);
  target.writeUInt32BE(block.delaySinceLastSr >>> 0, offset + 20);
}

function sdesBytes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  // SSRC, CNAME item (type, length, text), then at least one zero byte ending the item list, padded to 32 bits.
  const unpadded = 4 + 2 + text.length + 1;
  const chunk = Math.ceil(unpadded / 4) * 4;
  const packet = Buffer.alloc(4 + chunk);
  header(packet, 0, 1, RTCP_SDES, packet.length);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  packet[8] = SDES_CNAME;
  packet[9] = text.length;
  text.copy(packet, 10);
  return packet;
}

/**
 * A compound report: SR when we sent media since the last report (sender given), RR otherwise, then SDES CNAME
 * (§6.1: every compound packet carries it).
 */
export function buildReport(options: {
  ssrc: number;
  cname: string;
  sender?: SenderInfo;
  reports: readonly ReportBlock[];
}): Buffer {
  const reports = options.reports.slice(0, 31);
  const isSr = options.sender !== undefined;
  const size = 8 + (isSr ? 20 : 0) + reports.length * REPORT_BLOCK_BYTES;
  const report = Buffer.alloc(size);
  header(report, 0, reports.length, isSr ? RTCP_SR : RTCP_RR, size);
  report.writeUInt32BE(options.ssrc >>> 0, 4);
  let offset = 8;
  if (options.sender !== undefined) {
    const s = options.sender;
    report.writeUInt32BE(s.ntpSeconds >>> 0, 8);
    report.writeUInt32BE(s.ntpFraction >>> 0, 12);
    report.writeUInt32BE(s.rtpTimestamp >>> 0, 16);
    report.writeUInt32BE(s.packetCount >>> 0, 20);
    report.writeUInt32BE(s.octetCount >>> 0, 24);
    offset = 28;
  }
  for (const block of reports) {
    writeReport(report, offset, block);
    offset += REPORT_BLOCK_BYTES;
  }
  return Buffer.concat([report, sdesBytes(options.ssrc, options.cname)]);
}

/** A compound BYE: an empty RR, SDES CNAME, then BYE (§6.6), with an optional reason. */
export function buildBye(options: { ssrc: number; cname: string; reason?: string }): Buffer {
  const reason = options.reason === undefined ? undefined : Buffer.from(options.reason, 'utf8').subarray(0, 255);
  const size = 8 + (reason === undefined ? 0 : Math.ceil((1 + reason.length) / 4) * 4);
  const bye = Buffer.alloc(size);
  header(bye, 0, 1, RTCP_BYE, size);
  bye.writeUInt32BE(options.ssrc >>> 0, 4);
  if (reason !== undefined) {
    bye[8] = reason.length;
    reason.copy(bye, 9);
  }
  return Buffer.concat([buildReport({ ssrc: options.ssrc, cname: options.cname, reports: [] }), bye]);
}

function readReports(data: Buffer, offset: number, count: number, end: number): ReportBlock[] {
  if (offset + count * REPORT_BLOCK_BYTES > end) throw new RtcpParseError('report blocks run past the packet');
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * REPORT_BLOCK_BYTES;
    const lost = data.readUIntBE(at + 5, 3);
    blocks.push({
      ssrc: data.readUInt32BE(at),
      fractionLost: data[at + 4] as number,
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSequence: data.readUInt32BE(at + 8),
      jitter: data.readUInt32BE(at + 12),
      lastSr: data.readUInt32BE(at + 16),
      delaySinceLastSr: data.readUInt32BE(at + 20),
    });
  }
  return blocks;
}

function readSdes(data: Buffer, offset: number, count: number, end: number): { ssrc: number; cname?: string }[] {
  const chunks: { ssrc: number; cname?: string }[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 4 > end) throw new RtcpParseError('SDES chunk runs past the packet');
    const ssrc = data.readUInt32BE(at);
    at += 4;
    let cname: string | undefined;
    while (at < end && data[at] !== 0) {
      const type = data[at] as number;
      const length = data[at + 1];
      if (length === undefined || at + 2 + length > end) throw new RtcpParseError('SDES item runs past the packet');
      if (type === SDES_CNAME) cname = data.toString('utf8', at + 2, at + 2 + length);
      at += 2 + length;
    }
    // The zero byte ending the items, then padding to the next 32-bit boundary.
    at = Math.ceil((at + 1 - offset) / 4) * 4 + offset;
    chunks.push(cname === undefined ? { ssrc } : { ssrc, cname });
  }
  return chunks;
}

/** Every packet of a compound RTCP datagram. */
export function parseRtcp(data: Buffer): RtcpPacket[] {
  const packets: RtcpPacket[] = [];
  let offset = 0;
  if (data.length < 4) throw new RtcpParseError(`${data.length} bytes`);
  while (offset < data.length) {
    if (offset + 4 > data.length) throw new RtcpParseError('truncated header');
    const first = data[offset] as number;
    if (first >> 6 !== 2) throw new RtcpParseError(`version ${first >> 6}`);
    const count = first & 0x1f;
    const packetType = data[offset + 1] as number;
    const end = offset + (data.readUInt16BE(offset + 2) + 1) * 4;
    if (end > data.length) throw new RtcpParseError('length runs past the datagram');
    const body = offset + 4;
    switch (packetType) {
      case RTCP_SR: {
        if (body + 24 > end) throw new RtcpParseError('short SR');
        packets.push({
          type: 'sr',
          ssrc: data.readUInt32BE(body),
          sender: {
            ntpSeconds: data.readUInt32BE(body + 4),
            ntpFraction: data.readUInt32BE(body + 8),
            rtpTimestamp: data.readUInt32BE(body + 12),
            packetCount: data.readUInt32BE(body + 16),
            octetCount: data.readUInt32BE(body + 20),
          },
          reports: readReports(data, body + 24, count, end),
        });
        break;
      }
      case RTCP_RR: {
        if (body + 4 > end) throw new RtcpParseError('short RR');
        packets.push({ type: 'rr', ssrc: data.readUInt32BE(body), reports: readReports(data, body + 4, count, end) });
        break;
      }
      case RTCP_SDES:
        packets.push({ type: 'sdes', chunks: readSdes(data, body, count, end) });
        break;
      case RTCP_BYE: {
        if (body + count * 4 > end) throw new RtcpParseError('short BYE');
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(data.readUInt32BE(body + i * 4));
        const reasonAt = body + count * 4;
        const reasonLength = reasonAt < end ? (data[reasonAt] as number) : 0;
        const reason =
          reasonLength > 0 && reasonAt + 1 + reasonLength <= end
            ? data.toString('utf8', reasonAt + 1, reasonAt + 1 + reasonLength)
            : undefined;
        packets.push(reason === undefined ? { type: 'bye', ssrcs } : { type: 'bye', ssrcs, reason });
        break;
      }
      default:
        packets.push({ type: 'other', packetType });
    }
    offset = end;
  }
  return packets;
}
