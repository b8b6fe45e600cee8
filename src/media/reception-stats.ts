/**
 * What a receiver knows of a stream's quality (RFC 3550 §6.4.1, algorithms of appendix A.1, A.3, A.8): packets
 * received, lost, and interarrival jitter, for call records and RTCP reports.
 */
import type { ReportBlock } from './rtcp.ts';

export interface ReceptionReport {
  readonly ssrc: number;
  readonly packetsReceived: number;
  /** Expected minus received; negative when duplicates arrived (RFC 3550 A.3). */
  readonly packetsLost: number;
  /** Extended highest sequence number: cycles * 65536 + highest seq. */
  readonly highestSequence: number;
  /** Interarrival jitter in milliseconds (A.8). */
  readonly jitterMs: number;
}

/** A.1: a jump this large is a restarted stream, not loss. */
const MAX_DROPOUT = 3000;
const SEQ_MOD = 0x10000;

export class ReceptionStatistics {
  private ssrc = -1;
  private baseSequence = 0;
  private maxSequence = 0;
  private cycles = 0;
  private received = 0;
  /** Jitter in timestamp units, kept as the RFC's running estimate. */
  private jitter = 0;
  private lastTransit: number | undefined;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** LSR of the last sender report from this source and when it arrived (ms), for DLSR. */
  private lastSr = 0;
  private lastSrAt = 0;

  constructor(private readonly clockRate = 8000) {}

  /** Counts one packet; `arrivalMs` on any monotonic clock. */
  update(ssrc: number, sequence: number, timestamp: number, arrivalMs: number): void {
    if (ssrc !== this.ssrc) this.restart(ssrc, sequence);
    const delta = (sequence - this.maxSequence + SEQ_MOD) % SEQ_MOD;
    if (delta > 0 && delta < MAX_DROPOUT) {
      if (sequence < this.maxSequence) this.cycles += SEQ_MOD;
      this.maxSequence = sequence;
    } else if (delta >= MAX_DROPOUT && delta <= SEQ_MOD - 100) {
      // Neither in order nor a late packet: the sender restarted its sequence.
      this.restart(ssrc, sequence);
    }
    this.received += 1;

    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - timestamp;
    if (this.lastTransit !== undefined) {
      // Timestamps wrap at 2^32: fold the transit difference back near zero.
      let d = transit - this.lastTransit;
      d -= Math.round(d / 2 ** 32) * 2 ** 32;
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  private restart(ssrc: number, sequence: number): void {
    this.ssrc = ssrc;
    this.baseSequence = sequence;
    this.maxSequence = sequence;
    this.cycles = 0;
    this.received = 0;
    this.jitter = 0;
    this.lastTransit = undefined;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
    this.lastSr = 0;
    this.lastSrAt = 0;
  }

  /** Remembers a sender report of the stream (its NTP time's middle 32 bits), echoed back as LSR/DLSR. */
  noteSenderReport(ssrc: number, ntpMiddle: number, arrivalMs: number): void {
    if (ssrc !== this.ssrc) return;
    this.lastSr = ntpMiddle;
    this.lastSrAt = arrivalMs;
  }

  /**
   * An RTCP report block (RFC 3550 §6.4.1, A.3); the fraction lost covers the time since the previous call.
   * Undefined until a packet arrived.
   */
  reportBlock(nowMs: number): ReportBlock | undefined {
    const report = this.report();
    if (report === undefined) return undefined;
    const expected = report.highestSequence - this.baseSequence + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: report.ssrc,
      fractionLost: lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval),
      cumulativeLost: report.packetsLost,
      highestSequence: report.highestSequence,
      jitter: Math.floor(this.jitter),
      lastSr: this.lastSr,
      delaySinceLastSr: this.lastSr === 0 ? 0 : Math.floor(((nowMs - this.lastSrAt) / 1000) * 65536),
    };
  }

  /** Undefined until a packet arrived. */
  report(): ReceptionReport | undefined {
    if (this.ssrc < 0) return undefined;
    const highest = this.cycles + this.maxSequence;
    return {
      ssrc: this.ssrc,
      packetsReceived: this.received,
      packetsLost: highest - this.baseSequence + 1 - this.received,
      highestSequence: highest,
      jitterMs: (this.jitter * 1000) / this.clockRate,
    };
  }
}
