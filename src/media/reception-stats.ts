/**
 * What a receiver knows of a stream's quality (RFC 3550 §6.4.1, algorithms of appendix A.1, A.3, A.8): packets
 * received, lost, and interarrival jitter, for call records and RTCP reports.
 */

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
