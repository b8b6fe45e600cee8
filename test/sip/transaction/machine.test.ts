import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransactionMachine } from '../../../src/sip/transaction/machine.ts';
import { InvalidTransitionError, ManualTimerPort, type TimerName } from '../../../src/sip/transaction/index.ts';

class Toy extends TransactionMachine<'a' | 'b' | 'c'> {
  fired: TimerName[] = [];
  constructor(timers: ManualTimerPort) {
    super('a', { a: ['b'], b: ['c'], c: [] }, timers, { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, reliable: false });
  }
  onTimer(name: TimerName): void {
    this.timerFired(name);
    this.fired.push(name);
  }
  go(to: 'a' | 'b' | 'c'): void {
    this.transition(to);
  }
  arm(name: TimerName, ms: number): void {
    this.startTimer(name, ms);
  }
}

test('transition() follows the allowed-moves table and throws InvalidTransitionError otherwise', () => {
  const m = new Toy(new ManualTimerPort());
  assert.throws(() => m.go('c'), InvalidTransitionError);
  m.go('b');
  assert.throws(() => m.go('a'), /Toy: invalid transition b -> a/);
  m.go('c');
  assert.equal(m.state, 'c');
});

test('timers: restarting replaces, fired ones are forgotten, dispose() releases the rest', () => {
  const timers = new ManualTimerPort();
  const m = new Toy(timers);
  m.arm('E', 500);
  m.arm('E', 800);
  m.arm('F', 1000);
  assert.deepEqual(timers.pending(), [
    { name: 'E', dueInMs: 800 },
    { name: 'F', dueInMs: 1000 },
  ]);
  timers.advance(800);
  assert.deepEqual(m.fired, ['E']);
  assert.deepEqual(m.runningTimers(), ['F']);
  m.dispose();
  assert.deepEqual(timers.pending(), []);
  timers.advance(10_000);
  assert.deepEqual(m.fired, ['E']);
});

test('ManualTimerPort fires in due order, ties in start order, including timers started while firing', () => {
  const timers = new ManualTimerPort();
  const order: string[] = [];
  const target = {
    onTimer(name: TimerName): void {
      order.push(`${name}@${timers.now}`);
      if (name === 'A') timers.start(0, target, 'K');
    },
  };
  timers.start(200, target, 'B');
  timers.start(100, target, 'A');
  timers.start(200, target, 'D');
  timers.advance(150);
  assert.deepEqual(order, ['A@100', 'K@100']);
  assert.equal(timers.now, 150);
  assert.equal(timers.fireNext(), 'B');
  assert.equal(timers.fireNext(), 'D');
  assert.equal(timers.fireNext(), undefined);
  assert.deepEqual(order, ['A@100', 'K@100', 'B@200', 'D@200']);
});
