import type { SessionTimerPort } from '../../../src/sip/dialog/invite-session.ts';

/** A manual clock: timers fire only when the test advances time, in due order. */
export class FakeClock implements SessionTimerPort {
  now = 0;
  #seq = 0;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#seq;
    this.#pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Advances to now + ms, firing every timer due on the way (including those set by fired timers). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#pending) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
}
