/**
 * Hands out even RTP ports (RFC 3550 §11: RTP on even, RTCP on the odd port above) from the configured range.
 * Freed ports go to the back of the queue, so a port is reused as late as possible and stray packets of the call
 * that had it are unlikely to reach the next one.
 */

/** Every port of the range is in use. */
export class RtpPortsExhaustedError extends Error {
  override readonly name = 'RtpPortsExhaustedError';
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    super(`no free RTP port in ${min}-${max}`);
  }
}

export class RtpPortAllocator {
  /** A ring of free ports: O(1) take and give back, no allocation after construction. */
  private readonly ring: Uint16Array;
  private head = 0;
  private count: number;
  private readonly taken: Uint8Array;
  readonly min: number;
  readonly max: number;

  constructor(min: number, max: number) {
    const first = min % 2 === 0 ? min : min + 1;
    // The RTCP port above the last RTP port must stay inside the range.
    const last = max % 2 === 0 ? max - 2 : max - 1;
    if (first < 1 || max > 65535 || last < first) {
      throw new RangeError(`RTP port range ${min}-${max} has no even port pair`);
    }
    this.min = first;
    this.max = last;
    const size = (last - first) / 2 + 1;
    this.ring = new Uint16Array(size);
    for (let i = 0; i < size; i++) this.ring[i] = first + i * 2;
    this.count = size;
    this.taken = new Uint8Array(size);
  }

  get capacity(): number {
    return this.ring.length;
  }

  get available(): number {
    return this.count;
  }

  /** The next free even port; throws RtpPortsExhaustedError when none is left. */
  allocate(): number {
    if (this.count === 0) throw new RtpPortsExhaustedError(this.min, this.max);
    const port = this.ring[this.head] as number;
    this.head = (this.head + 1) % this.ring.length;
    this.count -= 1;
    this.taken[(port - this.min) / 2] = 1;
    return port;
  }

  /** Gives a port back; a port that is not out (or not ours) is ignored, so a double close stays harmless. */
  release(port: number): void {
    const slot = (port - this.min) / 2;
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.ring.length || this.taken[slot] === 0) return;
    this.taken[slot] = 0;
    this.ring[(this.head + this.count) % this.ring.length] = port;
    this.count += 1;
  }
}
