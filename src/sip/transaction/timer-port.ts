/**
 * Timers of the transaction machines go through this port so tests drive them with a manual clock and the layer
 * can run many thousands of live transactions without a closure per timer: the port calls
 * `target.onTimer(name)` and node's `setTimeout(fn, ms, ...args)` carries the target and name as arguments.
 * Node already coalesces timers: all timeouts of one duration share a linked list behind a single libuv timer, and
 * the transaction timers use a handful of durations (T1 multiples, T2, T4, 64*T1), so inserting and cancelling is
 * O(1) without a wheel of our own.
 */

/** RFC 3261 §17 timers, RFC 6026 L and M, and the 200 ms "send 100 Trying" timer of §17.2.1. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

export interface TimerTarget {
  onTimer(name: TimerName): void;
}

/** An opaque handle; only the port that made it can cancel it. */
export type TimerHandle = object;

export interface TimerPort {
  start(ms: number, target: TimerTarget, name: TimerName): TimerHandle;
  cancel(handle: TimerHandle): void;
}

function fire(target: TimerTarget, name: TimerName): void {
  target.onTimer(name);
}

/** The production port: node timers, unref'd so live transactions never keep a process alive on their own. */
export const nodeTimers: TimerPort = {
  start(ms, target, name) {
    const t = setTimeout(fire, ms, target, name);
    t.unref();
    return t;
  },
  cancel(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

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
