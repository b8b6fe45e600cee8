import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoalescedTimerPort, type TimerName, type TimerTarget } from '../../../src/sip/transaction/timer-port.ts';

/** A target that records when each named timer fired and resolves once `expected` timers have. */
function recorder(expected: number): { target: TimerTarget; fired: Array<{ name: TimerName; at: number }>; done: Promise<void> } {
  const fired: Array<{ name: TimerName; at: number }> = [];
  let resolve: () => void = () => {};
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    AbortSignal.timeout(5000).addEventListener('abort', () => rej(new Error(`only ${fired.length} of ${expected} timers fired`)));
  });
  const target: TimerTarget = {
    onTimer(name) {
      fired.push({ name, at: performance.now() });
      if (fired.length === expected) resolve();
    },
  };
  return { target, fired, done };
}

test('timers of one duration fire in start order; a cancelled one never fires and holds no target', async () => {
  const port = new CoalescedTimerPort({ unref: false });
  const r = recorder(2);
  port.start(30, r.target, 'A');
  const b = port.start(30, r.target, 'B');
  port.start(30, r.target, 'D');
  port.cancel(b);
  assert.equal(port.pendingCount, 2);
  await r.done;
  assert.deepEqual(r.fired.map((f) => f.name), ['A', 'D']);
  assert.equal(port.pendingCount, 0);
});

test('different durations keep their own deadlines', async () => {
  const port = new CoalescedTimerPort({ unref: false });
  const r = recorder(3);
  const t0 = performance.now();
  port.start(120, r.target, 'F');
  port.start(10, r.target, 'E');
  port.start(60, r.target, 'K');
  await r.done;
  assert.deepEqual(r.fired.map((f) => f.name), ['E', 'K', 'F']);
  assert.ok((r.fired[2]?.at ?? 0) - t0 >= 119, 'never early');
});

test('a timer started while its bucket fires does not delay an earlier deadline in the same bucket', async () => {
  const port = new CoalescedTimerPort({ unref: false });
  const fired: Array<{ name: TimerName; at: number }> = [];
  let resolve: () => void = () => {};
  const done = new Promise<void>((res) => (resolve = res));
  const t0 = performance.now();
  const target: TimerTarget = {
    onTimer(name) {
      fired.push({ name, at: performance.now() - t0 });
      if (name === 'A') port.start(300, target, 'M');
      if (name === 'M') resolve();
    },
  };
  port.start(300, target, 'A');
  // Started 20 ms later in the same 300 ms bucket: due at ~320 ms, long before the M that A starts (~600 ms).
  await new Promise<void>((res) => setTimeout(res, 20));
  port.start(300, target, 'B');
  await done;
  assert.deepEqual(fired.map((f) => f.name), ['A', 'B', 'M']);
  assert.ok((fired[1]?.at ?? Infinity) < 500, `B fired at ${fired[1]?.at} ms`);
});
