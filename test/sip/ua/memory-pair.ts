import { ManualTimerPort } from '../../../src/sip/transaction/timer-port.ts';
import { MemoryNetwork, type MemoryTransport } from '../../../src/sip/transport/memory-transport.ts';
import { UserAgent } from '../../../src/sip/ua/user-agent.ts';
import { FakeClock } from '../dialog/fake-clock.ts';

export interface Node {
  ua: UserAgent;
  transport: MemoryTransport;
  clock: FakeClock;
  uri: string;
}

/** Two user agents over an in-memory network, transaction and session timers under the test's control. */
export function memoryPair(random: () => number = () => 0.5): { a: Node; b: Node; network: MemoryNetwork } {
  const network = new MemoryNetwork();
  const make = (host: string, port: number): Node => {
    const transport = network.transport({ transport: 'udp', host, port });
    const clock = new FakeClock();
    const ua = new UserAgent({
      transport,
      t1Ms: 500,
      t2Ms: 4000,
      t4Ms: 5000,
      timers: new ManualTimerPort(),
      clock,
      random,
    });
    return { ua, transport, clock, uri: `sip:user@${host}:${port}` };
  };
  return { a: make('10.0.0.1', 5060), b: make('10.0.0.2', 5060), network };
}

/** Resolves on the next emission of `event`, rejects after `ms` so a missing event fails the test, not hangs it. */
export function next<T extends unknown[]>(
  emitter: { once(event: string, fn: (...args: T) => void): unknown },
  event: string,
  ms = 2000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...args: T) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Lets queued microtasks (in-memory deliveries) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
