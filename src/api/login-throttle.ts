/**
 * Failed logins per client address: after half of max_failures within window_seconds each further failure is
 * answered more slowly; at max_failures the address is locked out for lockout_seconds. Memory is bounded: when
 * full, entries with nothing to remember are dropped first, then the oldest not locked out, then the oldest.
 */
export interface LoginThrottleOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  /** Extra delay per failure beyond half of maxFailures, capped at maxDelayMs. */
  readonly delayStepMs?: number;
  readonly maxDelayMs?: number;
  readonly maxAddresses?: number;
  readonly now?: () => number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

export class LoginThrottle {
  readonly #o: Required<LoginThrottleOptions>;
  readonly #entries = new Map<string, Entry>();
  #lastSweep = -Infinity;

  constructor(options: LoginThrottleOptions) {
    this.#o = { delayStepMs: 200, maxDelayMs: 2000, maxAddresses: 100_000, now: Date.now, ...options };
  }

  /** Milliseconds the address remains locked out; 0 when it may try. */
  lockedFor(address: string): number {
    const e = this.#entries.get(address);
    if (e === undefined) return 0;
    return Math.max(0, e.lockedUntil - this.#o.now());
  }

  /** Records a failed login; returns how long to hold the answer back (0 while under half the limit). */
  fail(address: string): number {
    const now = this.#o.now();
    let e = this.#entries.get(address);
    if (e === undefined || now - e.windowStart > this.#o.windowMs) {
      if (e === undefined && this.#entries.size >= this.#o.maxAddresses) this.#evict(now);
      e = { failures: 0, windowStart: now, lockedUntil: e?.lockedUntil ?? 0 };
      this.#entries.set(address, e);
    }
    e.failures++;
    if (e.failures >= this.#o.maxFailures) {
      e.lockedUntil = now + this.#o.lockoutMs;
      e.failures = 0;
      e.windowStart = now;
      return 0;
    }
    const over = e.failures - Math.floor(this.#o.maxFailures / 2);
    return over > 0 ? Math.min(this.#o.maxDelayMs, over * this.#o.delayStepMs) : 0;
  }

  #evict(now: number): void {
    // A full sweep is O(entries): at most once a second, so spraying addresses cannot make every failure pay it.
    if (now - this.#lastSweep >= 1000) {
      this.#lastSweep = now;
      for (const [k, e] of this.#entries) {
        if (e.lockedUntil <= now && now - e.windowStart > this.#o.windowMs) this.#entries.delete(k);
      }
    }
    if (this.#entries.size < this.#o.maxAddresses) return;
    // Spraying from many addresses must not flush a live lockout: drop the oldest unlocked entry first.
    for (const [k, e] of this.#entries) {
      if (e.lockedUntil <= now) {
        this.#entries.delete(k);
        return;
      }
    }
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}
