import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Trunk } from '../../../src/config/schema.ts';
import { DirectoryHolder } from '../../../src/directory/directory-holder.ts';
import type { RegisterOutcome, RegisterPort } from '../../../src/directory/trunks/register-port.ts';
import { TrunkManager } from '../../../src/directory/trunks/trunk-manager.ts';
import { backoffDelayMs, refreshDelaySeconds, type TrunkTimers } from '../../../src/directory/trunks/trunk-registration.ts';
import { directory, trunk } from '../fixtures.ts';

const logger = pino({ level: 'silent' });

/** Timers fired by hand, in due order, with a clock they advance. */
class ManualTimers implements TrunkTimers {
  now = 1_000_000;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();
  #next = 0;
  set(fn: () => void, ms: number): unknown {
    const id = ++this.#next;
    this.#pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(handle: unknown): void {
    this.#pending.delete(handle as number);
  }
  /** Delays of the pending timers from now, in ms. */
  pending(): number[] {
    return [...this.#pending.values()].map((t) => t.at - this.now);
  }
  fireNext(): void {
    const [id, t] = [...this.#pending.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    assert.ok(id !== undefined && t !== undefined, 'a timer is pending');
    this.#pending.delete(id);
    this.now = t.at;
    t.fn();
  }
}

/** A port answering from a script; each call records what was asked. */
function scriptedPort(answers: (RegisterOutcome | Error)[]) {
  const calls: { trunk: string; expires: number }[] = [];
  const port: RegisterPort = {
    register(t: Trunk, expires: number) {
      calls.push({ trunk: t.name, expires });
      const next = answers.shift() ?? { status: 200, reason: 'OK', expires };
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return { port, calls };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const carrier = trunk({ name: 'carrier', register: true, register_expires: 600, username: 'u', password: 'p', max_calls: 2 });

describe('refresh and back-off policy', () => {
  it('refreshes a minute early, never before half the grant', () => {
    assert.deepEqual([3600, 600, 120, 60, 2].map(refreshDelaySeconds), [3540, 540, 60, 30, 1]);
  });
  it('doubles the retry delay up to the maximum', () => {
    const policy = { initialMs: 1000, maxMs: 10_000 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy)), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

describe('TrunkManager', () => {
  function setup(answers: (RegisterOutcome | Error)[], trunks = [carrier]) {
    const timers = new ManualTimers();
    const { port, calls } = scriptedPort(answers);
    const holder = new DirectoryHolder(directory({ trunks }));
    const manager = new TrunkManager({ directory: holder, port, logger, timers, now: () => timers.now, backoff: { initialMs: 1000, maxMs: 4000 } });
    return { timers, calls, holder, manager };
  }

  it('registers, refreshes at the scheduled time with the configured expiry, and keeps the granted one', async () => {
    const { timers, calls, manager } = setup([{ status: 200, reason: 'OK', expires: 300 }]);
    manager.start();
    await settle();
    assert.deepEqual(calls, [{ trunk: 'carrier', expires: 600 }]);
    const [status] = manager.trunkStatus();
    assert.equal(status?.state, 'registered');
    assert.equal(status?.expiresAt, timers.now + 300_000);
    assert.deepEqual(timers.pending(), [240_000]);
    timers.fireNext();
    await settle();
    assert.deepEqual(calls.at(-1), { trunk: 'carrier', expires: 600 });
  });

  it('backs off after failures, doubling up to the maximum, and recovers', async () => {
    const { timers, calls, manager } = setup([{ status: 503, reason: 'Busy' }, new Error('transaction timeout'), { status: 403, reason: 'Forbidden' }, { status: 500, reason: 'x' }]);
    manager.start();
    await settle();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(...timers.pending());
      timers.fireNext();
      await settle();
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 4000]);
    assert.equal(calls.length, 5);
    const [status] = manager.trunkStatus();
    assert.equal(status?.state, 'registered');
    assert.equal(status?.failures, 0);
  });

  it('shows the last failure: status 0 and the error for a timeout', async () => {
    const { manager } = setup([new Error('Timer F fired')]);
    manager.start();
    await settle();
    const [status] = manager.trunkStatus();
    assert.deepEqual([status?.state, status?.lastStatus, status?.lastReason, status?.failures], ['failed', 0, 'Timer F fired', 1]);
  });

  it('retries at once with Min-Expires after a 423', async () => {
    const { calls, manager } = setup([{ status: 423, reason: 'Interval Too Brief', minExpires: 1800 }]);
    manager.start();
    await settle();
    await settle();
    assert.deepEqual(calls.map((c) => c.expires), [600, 1800]);
    assert.equal(manager.trunkStatus()[0]?.state, 'registered');
  });

  it('un-registers on stop with Expires 0', async () => {
    const { timers, calls, manager } = setup([]);
    manager.start();
    await settle();
    await manager.stop();
    assert.deepEqual(calls.map((c) => c.expires), [600, 0]);
    assert.deepEqual(timers.pending(), []);
  });

  it('follows reloads: new trunks register, removed ones un-register, unchanged ones are left alone', async () => {
    const other = trunk({ name: 'other', register: true, register_expires: 900, username: 'o', password: 'q' });
    const { calls, holder, manager } = setup([]);
    manager.start();
    await settle();
    holder.replace(directory({ trunks: [carrier, other] }));
    await settle();
    holder.replace(directory({ trunks: [other] }));
    await settle();
    assert.deepEqual(calls, [
      { trunk: 'carrier', expires: 600 },
      { trunk: 'other', expires: 900 },
      { trunk: 'carrier', expires: 0 },
    ]);
    holder.replace(directory({ trunks: [{ ...other, password: 'changed' }] }));
    await settle();
    assert.deepEqual(calls.slice(3).map((c) => [c.trunk, c.expires]).sort(), [['other', 0], ['other', 900]]);
  });

  it('does not register a trunk without credentials', async () => {
    const { calls, manager } = setup([], [trunk({ name: 'anon', register: true })]);
    manager.start();
    await settle();
    assert.deepEqual(calls, []);
    assert.equal(manager.trunkStatus()[0]?.state, 'not_registering');
  });

  it('limits concurrent calls per trunk; a release frees one slot once', () => {
    const { manager } = setup([], [carrier, trunk({ name: 'open' })]);
    const a = manager.acquire('carrier');
    const b = manager.acquire('carrier');
    assert.ok(a && b);
    assert.equal(manager.acquire('carrier'), null);
    assert.equal(manager.trunkStatus()[0]?.activeCalls, 2);
    a();
    a();
    assert.equal(manager.trunkStatus()[0]?.activeCalls, 1);
    assert.ok(manager.acquire('carrier'));
    assert.equal(manager.acquire('carrier'), null);
    assert.equal(manager.acquire('nope'), null);
    for (let i = 0; i < 50; i++) assert.ok(manager.acquire('open'), 'max_calls 0 is no limit');
  });

  it('gives the digest user name (auth_username over username) and password by trunk name', () => {
    const { manager } = setup([], [carrier, trunk({ name: 'alias', username: 'from-user', auth_username: 'auth-user', password: 'pw' }), trunk({ name: 'none' })]);
    assert.deepEqual(manager.credentials('carrier'), { username: 'u', password: 'p' });
    assert.deepEqual(manager.credentials('alias'), { username: 'auth-user', password: 'pw' });
    assert.equal(manager.credentials('none'), undefined);
    assert.equal(manager.credentials('missing'), undefined);
  });
});
