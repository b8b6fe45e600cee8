import type { OriginationRuntime } from '../../src/calls/origination-runtime.ts';

/**
 * Resolves once `done()` holds: checked at once, then after every state change of a live call (the runtime's
 * watch), so nothing polls. Rejects after `ms` with `what` and the calls still live.
 */
export function untilCalls(runtime: OriginationRuntime, done: () => boolean, what: string, ms = 5000): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = runtime.watch(() => {
      if (!done()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${what}: not within ${ms} ms (live: ${JSON.stringify(runtime.listCalls())})`));
    }, ms);
  });
}

/** Resolves once the runtime has no live call. */
export function noLiveCalls(runtime: OriginationRuntime, ms = 5000): Promise<void> {
  return untilCalls(runtime, () => runtime.listCalls().length === 0, 'calls to end', ms);
}
