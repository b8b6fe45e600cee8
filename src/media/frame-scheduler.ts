/**
 * One timer for every paced media stream of the process.
 *
 * Time is cut into ticks of `frameMs` on a fixed grid: tick k falls at epoch + k * frameMs, read from a monotonic
 * clock. A stream joins at the next tick and gets exactly one frame per tick from then on, so packet n of a stream
 * leaves at start + n * frameMs whatever the timer's jitter: a late timer sends every frame it missed (up to
 * `maxBurst`, beyond which the oldest are dropped rather than flooding the peer), and lateness never accumulates
 * as it does with setInterval. Thousands of concurrent ringbacks cost one timer and one pass per tick.
 */

/** Monotonic time in milliseconds and a one-shot timer; injected so tests can run a minute in a millisecond. */
export interface MediaClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: MediaClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    // Media alone never keeps the process up: the sockets and the SIP stack do.
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PacedSource {
  /**
   * One frame is due. `index` counts frames since the source started (frames dropped after a stall included, so
   * index * samples-per-frame is the RTP timestamp offset); `tick` is the scheduler's absolute tick.
   */
  frame(index: number, tick: number): void;
}

export interface PacedHandle {
  /** The tick of the source's frame 0. */
  readonly startTick: number;
  stop(): void;
}

/** A paced source and its place on the grid; it is also the handle, so adding a source makes no closure. */
class Entry implements PacedHandle {
  nextTick: number;
  active = true;

  constructor(
    private readonly scheduler: FrameScheduler,
    readonly source: PacedSource,
    readonly startTick: number,
  ) {
    this.nextTick = startTick;
  }

  stop(): void {
    this.scheduler.remove(this);
  }
}

export interface FrameSchedulerOptions {
  readonly clock?: MediaClock;
  readonly frameMs?: number;
  /** Frames sent per stream in one pass when the timer was late; older missed frames are dropped. */
  readonly maxBurst?: number;
}

export class FrameScheduler {
  readonly frameMs: number;
  readonly maxBurst: number;
  private readonly clock: MediaClock;
  /** Fixed for the scheduler's life, so tick numbers (and the RTP timestamps made from them) only grow. */
  private readonly epoch: number;
  private readonly entries = new Set<Entry>();
  private timer: unknown;
  private timerTick = -1;

  constructor(options: FrameSchedulerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.frameMs = options.frameMs ?? 20;
    this.maxBurst = options.maxBurst ?? 5;
    this.epoch = this.clock.now();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The time at which a tick falls, on the scheduler's clock. */
  timeOfTick(tick: number): number {
    return this.epoch + tick * this.frameMs;
  }

  /** Starts pacing a source from the next tick (now, when now is on the grid). */
  add(source: PacedSource): PacedHandle {
    const startTick = Math.ceil((this.clock.now() - this.epoch) / this.frameMs);
    const entry = new Entry(this, source, startTick);
    this.entries.add(entry);
    if (this.timer === undefined || startTick < this.timerTick) this.arm(startTick);
    return entry;
  }

  /** Called by the entry's stop(). */
  remove(entry: Entry): void {
    if (!entry.active) return;
    entry.active = false;
    this.entries.delete(entry);
    if (this.entries.size === 0 && this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  private arm(tick: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timerTick = tick;
    this.timer = this.clock.setTimer(this.run, Math.max(0, Math.ceil(this.timeOfTick(tick) - this.clock.now())));
  }

  private readonly run = (): void => {
    this.timer = undefined;
    const current = Math.floor((this.clock.now() - this.epoch) / this.frameMs);
    try {
      for (const entry of this.entries) {
        if (entry.nextTick > current) continue;
        if (current - entry.nextTick >= this.maxBurst) entry.nextTick = current - this.maxBurst + 1;
        while (entry.active && entry.nextTick <= current) {
          const tick = entry.nextTick;
          entry.nextTick += 1;
          entry.source.frame(tick - entry.startTick, tick);
        }
      }
    } finally {
      // A source that threw is a bug to surface, but the other streams keep their clock.
      if (this.entries.size > 0 && this.timer === undefined) this.arm(current + 1);
    }
  };
}

let shared: FrameScheduler | undefined;

/** The process-wide scheduler that streams use unless given another one. */
export function sharedFrameScheduler(): FrameScheduler {
  shared ??= new FrameScheduler();
  return shared;
}
