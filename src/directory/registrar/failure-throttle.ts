/**
 * Slows down password guessing: a source that fails authentication max_failures times within window_seconds is
 * locked out for lockout_seconds. Keyed by source address (not port: a scanner changes ports for free). The map
 * is bounded so a flood of spoofed UDP sources cannot grow it without limit; the oldest entries go first.
 */
export interface ThrottleLimits {
  readonly max_failures: number;
  readonly window_seconds: number;
  readonly lockout_seconds: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class FailureThrottle {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly limits: () => ThrottleLimits,
    private readonly now: () => number = Date.now,
    private readonly maxTracked = 10_000,
  ) {}

  isLocked(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.lockedUntil > this.now();
  }

  /** Counts a failure; true when the source is now locked out. */
  recordFailure(key: string): boolean {
    const now = this.now();
    const limits = this.limits();
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.maxTracked) {
        const oldest = this.#entries.keys().next();
        if (!oldest.done) this.#entries.delete(oldest.value);
      }
      entry = { failures: [], lockedUntil: 0 };
    } else {
      // Re-inserting moves the source to the young end of the eviction order.
      this.#entries.delete(key);
    }
    this.#entries.set(key, entry);
    const windowStart = now - limits.window_seconds * 1000;
    entry.failures = entry.failures.filter((t) => t > windowStart);
    entry.failures.push(now);
    if (limits.max_failures > 0 && entry.failures.length >= limits.max_failures) {
      entry.lockedUntil = now + limits.lockout_seconds * 1000;
      entry.failures = [];
      return true;
    }
    return false;
  }
}
