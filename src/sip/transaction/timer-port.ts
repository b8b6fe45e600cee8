/**
 * Timers of the transaction machines go through this port so tests drive them with a manual clock and the layer
 * can run many thousands of live transactions without a closure per timer: the port calls `target.onTimer(name)`.
 */

/** RFC 3261 §17 timers, RFC 6026 L and M, and the 200 ms "send 100 Trying" timer of §17.2.1. */
/**
 * RFC 3261 Table 4 and RFC 6026 timers, plus 'Trying' (§17.2.1: the UAS's 100 after 200 ms) and 'Cancel' (§9.1:
 * 64*T1 after a CANCEL, an INVITE still without a final response is given up).
 */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying' | 'Cancel';

export interface TimerTarget {
  onTimer(name: TimerName): void;
}

/** An opaque handle; only the port that made it can cancel it. */
export type TimerHandle = object;

export interface TimerPort {
  start(ms: number, target: TimerTarget, name: TimerName): TimerHandle;
  cancel(handle: TimerHandle): void;
}

interface CoalescedEntry {
  readonly at: number;
  /** Cleared on cancel, so a cancelled entry waiting for its turn in the queue holds no transaction. */
  target: TimerTarget | undefined;
  readonly name: TimerName;
}

/** Entries of one duration: deadlines come in start order, so the queue is sorted by construction. */
interface Bucket {
  readonly ms: number;
  queue: CoalescedEntry[];
  head: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The production port. Transaction timers come in a handful of durations (T1 multiples up to T2, T4, 64*T1,
 * 200 ms), so every duration gets one FIFO queue behind one node timer: starting is a push, cancelling clears a
 * field, and a live transaction costs one small object per timer instead of a node Timeout with its argument
 * list. The node timers are unref'd: live transactions never keep a process alive on their own.
 */
export class CoalescedTimerPort implements TimerPort {
  readonly #buckets = new Map<number, Bucket>();
  readonly #now: () => number;
  readonly #unref: boolean;

  /** `unref: false` lets pending timers keep the process alive (tests that await them). */
  constructor(opts: { now?: () => number; unref?: boolean } = {}) {
    this.#now = opts.now ?? (() => performance.now());
    this.#unref = opts.unref ?? true;
  }

  start(ms: number, target: TimerTarget, name: TimerName): TimerHandle {
    let bucket = this.#buckets.get(ms);
    if (bucket === undefined) {
      bucket = { ms, queue: [], head: 0, timer: undefined };
      this.#buckets.set(ms, bucket);
    }
    const entry: CoalescedEntry = { at: this.#now() + ms, target, name };
    bucket.queue.push(entry);
    if (bucket.timer === undefined) this.#arm(bucket, ms);
    return entry;
  }

  cancel(handle: TimerHandle): void {
    (handle as CoalescedEntry).target = undefined;
  }

  /** Timers started and neither fired nor cancelled (for tests and metrics). */
  get pendingCount(): number {
    let n = 0;
    for (const b of this.#buckets.values()) for (let i = b.head; i < b.queue.length; i++) if (b.queue[i]?.target !== undefined) n++;
    return n;
  }

  #arm(bucket: Bucket, delay: number): void {
    bucket.timer = setTimeout(this.#fire, Math.max(1, Math.ceil(delay)), bucket);
    if (this.#unref) bucket.timer.unref();
  }

  readonly #fire = (bucket: Bucket): void => {
    bucket.timer = undefined;
    const now = this.#now();
    const q = bucket.queue;
    try {
      while (bucket.head < q.length) {
        const e = q[bucket.head] as CoalescedEntry;
        if (e.at > now) break;
        bucket.head++;
        const target = e.target;
        if (target === undefined) continue;
        e.target = undefined;
        target.onTimer(e.name);
      }
    } finally {
      // Even when a target threw, the rest of the queue must stay scheduled.
      this.#rearm(bucket, now);
    }
  };

  #rearm(bucket: Bucket, now: number): void {
    // Drop the consumed prefix now and then instead of shifting on every expiry.
    if (bucket.head > 1024 && bucket.head * 2 > bucket.queue.length) {
      bucket.queue = bucket.queue.slice(bucket.head);
      bucket.head = 0;
    }
    // A timer started while firing armed the bucket for its own deadline; the head may be due sooner.
    if (bucket.timer !== undefined) {
      clearTimeout(bucket.timer);
      bucket.timer = undefined;
    }
    const next = bucket.queue[bucket.head];
    if (next !== undefined) {
      this.#arm(bucket, next.at - now);
    } else {
      bucket.queue = [];
      bucket.head = 0;
    }
  }
}

/** The port the layer uses unless told otherwise. */
export const nodeTimers: TimerPort = new CoalescedTimerPort();

interface ManualTimer {
  at: number;
  seq: number;
  target: TimerTarget;
  name: TimerName;
  cancelled: boolean;
}

/** A deterministic clock for tests: nothing fires until `advance()` moves time forward. */
export class ManualTimerPort implements TimerPort {
  #now = 0;
  #seq = 0;
  #pending: ManualTimer[] = [];

  get now(): number {
    return this.#now;
  }

  start(ms: number, target: TimerTarget, name: TimerName): TimerHandle {
    const timer: ManualTimer = { at: this.#now + ms, seq: this.#seq++, target, name, cancelled: false };
    this.#pending.push(timer);
    return timer;
  }

  cancel(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
    this.#pending = this.#pending.filter((t) => t !== handle);
  }

  /** Timers still scheduled, soonest first: what a test asserts on ("Timer E is due in 500 ms"). */
  pending(): { name: TimerName; dueInMs: number }[] {
    return this.#sorted().map((t) => ({ name: t.name, dueInMs: t.at - this.#now }));
  }

  /** Moves the clock forward, firing every timer due on the way in order (timers started while firing included). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#sorted()[0];
      if (next === undefined || next.at > end) break;
      this.#pending = this.#pending.filter((t) => t !== next);
      this.#now = next.at;
      next.target.onTimer(next.name);
    }
    this.#now = end;
  }

  /** Fires the soonest timer whatever its due time; returns its name, or undefined when none is pending. */
  fireNext(): TimerName | undefined {
    const next = this.#sorted()[0];
    if (next === undefined) return undefined;
    this.#pending = this.#pending.filter((t) => t !== next);
    this.#now = next.at;
    next.target.onTimer(next.name);
    return next.name;
  }

  #sorted(): ManualTimer[] {
    return [...this.#pending].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}
