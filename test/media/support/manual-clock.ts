import type { MediaClock } from '../../../src/media/frame-scheduler.ts';

interface Timer {
  readonly at: number;
  readonly callback: () => void;
}

/** A MediaClock whose time moves only when the test says so; due timers fire in time order as it passes. */
export class ManualClock implements MediaClock {
  private time: number;
  private timers = new Set<Timer>();

  constructor(start = 1000.25) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = { at: this.time + delayMs, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing each timer at its due time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.timers) if (timer.at <= end && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.timers.delete(next);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = end;
  }

  /** Jumps time forward without firing anything: an event loop blocked by other work. */
  stall(ms: number): void {
    this.time += ms;
  }

  /** Fires the timers that are due now (after a stall). */
  fireDue(): void {
    this.advance(0);
  }
}
