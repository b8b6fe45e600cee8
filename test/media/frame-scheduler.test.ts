import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import type { MediaClock, PacedSource } from '../../src/media/frame-scheduler.ts';
import { ManualClock } from './support/manual-clock.ts';

class Recorder implements PacedSource {
  readonly frames: { index: number; tick: number; at: number }[] = [];
  constructor(private readonly clock: MediaClock) {}
  frame(index: number, tick: number): void {
    this.frames.push({ index, tick, at: this.clock.now() });
  }
}

test('frame n of a source leaves at start + n * 20 ms, start being the next tick of the grid', () => {
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock });
  clock.advance(5.3);
  const source = new Recorder(clock);
  const handle = scheduler.add(source);
  const start = scheduler.timeOfTick(handle.startTick);
  assert.ok(start >= clock.now() && start < clock.now() + 20);
  clock.advance(1000);
  assert.equal(source.frames.length, 50);
  for (const [n, frame] of source.frames.entries()) {
    assert.equal(frame.index, n);
    const lateness = frame.at - (start + n * 20);
    assert.ok(lateness >= 0 && lateness < 1, `frame ${n} ${lateness} ms after its time`);
  }
  handle.stop();
});

test('after a stalled event loop the missed frames are all sent at once, then the cadence resumes', () => {
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock, maxBurst: 5 });
  const source = new Recorder(clock);
  const handle = scheduler.add(source);
  clock.advance(60);
  const before = source.frames.length;
  clock.stall(70);
  clock.fireDue();
  const burst = source.frames.slice(before);
  const dueIndex = Math.floor((clock.now() - scheduler.timeOfTick(handle.startTick)) / 20);
  assert.equal(dueIndex - before + 1, 3);
  assert.deepEqual(
    burst.map((f) => f.index),
    [before, before + 1, before + 2],
    'every frame due by now, in order, none skipped',
  );
  clock.advance(200);
  const indexes = source.frames.map((f) => f.index);
  assert.deepEqual(indexes, [...indexes.keys()], 'indexes stay contiguous');
  const last = source.frames.at(-1);
  assert.ok(last !== undefined && last.at - (scheduler.timeOfTick(handle.startTick) + last.index * 20) < 1);
  handle.stop();
});

test('a stall longer than maxBurst frames drops the oldest missed frames instead of flooding', () => {
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock, maxBurst: 3 });
  const source = new Recorder(clock);
  const handle = scheduler.add(source);
  clock.advance(20);
  const before = source.frames.length;
  const lastIndex = source.frames.at(-1)?.index ?? -1;
  clock.stall(200);
  clock.fireDue();
  const burst = source.frames.slice(before).map((f) => f.index);
  assert.equal(burst.length, 3);
  const dueIndex = Math.floor((clock.now() - scheduler.timeOfTick(handle.startTick)) / 20);
  assert.deepEqual(burst, [dueIndex - 2, dueIndex - 1, dueIndex]);
  assert.ok(burst[0] !== undefined && burst[0] > lastIndex + 1, 'the gap shows in the index (RTP timestamp)');
  handle.stop();
});

/** A clock whose timers fire late by a varying amount, as a busy event loop makes them. */
class JitteryClock extends ManualClock {
  private calls = 0;
  override setTimer(callback: () => void, delayMs: number): unknown {
    this.calls += 1;
    return super.setTimer(callback, delayMs + ((this.calls * 7) % 13));
  }
}

test('no drift over a simulated minute with late timers: 3000 frames, the last one on time', () => {
  const clock = new JitteryClock();
  const scheduler = new FrameScheduler({ clock, maxBurst: 5 });
  const source = new Recorder(clock);
  const handle = scheduler.add(source);
  const start = scheduler.timeOfTick(handle.startTick);
  clock.advance(60_000 + 13);
  const frames = source.frames;
  assert.ok(frames.length >= 3000 && frames.length <= 3001, `${frames.length} frames`);
  assert.deepEqual(
    frames.map((f) => f.index),
    [...frames.keys()],
  );
  let worst = 0;
  for (const frame of frames) worst = Math.max(worst, frame.at - (start + frame.index * 20));
  assert.ok(worst < 14, `a frame left ${worst} ms late: lateness must not accumulate`);
  handle.stop();
});

test('thousands of sources share one timer, and the timer goes when the last source stops', () => {
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock });
  const sources = Array.from({ length: 2000 }, () => new Recorder(clock));
  const handles = sources.map((source, i) => {
    clock.advance(i % 3);
    return scheduler.add(source);
  });
  assert.equal(clock.pendingTimers, 1);
  clock.advance(100);
  assert.equal(clock.pendingTimers, 1);
  assert.ok(sources.every((s) => s.frames.length >= 4));
  for (const handle of handles) handle.stop();
  assert.equal(scheduler.size, 0);
  assert.equal(clock.pendingTimers, 0);
  const counts = sources.map((s) => s.frames.length);
  clock.advance(100);
  assert.deepEqual(
    sources.map((s) => s.frames.length),
    counts,
  );
});

test('a source stopping itself inside frame() gets no further frame, even in a catch-up burst', () => {
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock });
  let calls = 0;
  const handle = scheduler.add({
    frame: () => {
      calls += 1;
      handle.stop();
    },
  });
  clock.stall(100);
  clock.fireDue();
  clock.advance(100);
  assert.equal(calls, 1);
});

test('a source that throws surfaces its error, and the other streams keep their clock', () => {
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock });
  const broken = scheduler.add({
    frame: () => {
      throw new Error('broken source');
    },
  });
  const healthy = new Recorder(clock);
  const handle = scheduler.add(healthy);
  assert.throws(() => clock.advance(1), /broken source/);
  broken.stop();
  clock.advance(100);
  assert.ok(healthy.frames.length >= 5, `${healthy.frames.length} frames after the failure`);
  handle.stop();
});
