import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceptionStatistics } from '../../src/media/reception-stats.ts';

test('a perfect 20 ms stream: nothing lost, no jitter', () => {
  const stats = new ReceptionStatistics();
  assert.equal(stats.report(), undefined);
  for (let i = 0; i < 100; i++) stats.update(7, 1000 + i, 5000 + i * 160, 10_000 + i * 20);
  assert.deepEqual(stats.report(), { ssrc: 7, packetsReceived: 100, packetsLost: 0, highestSequence: 1099, jitterMs: 0 });
});

test('lost packets counted across the sequence wrap; a late packet is not loss', () => {
  const stats = new ReceptionStatistics();
  const sequences = [65533, 65534, 0, 1, 3, 2, 5];
  sequences.forEach((seq, i) => stats.update(1, seq, i * 160, i * 20));
  const report = stats.report();
  assert.equal(report?.highestSequence, 65536 + 5);
  assert.equal(report?.packetsReceived, 7);
  assert.equal(report?.packetsLost, 2, '65535 and 4');
});

test('jitter converges to the mean deviation of arrival times (A.8)', () => {
  const stats = new ReceptionStatistics();
  for (let i = 0; i < 2000; i++) stats.update(1, i, i * 160, i * 20 + (i % 2 === 0 ? 0 : 4));
  const jitter = stats.report()?.jitterMs ?? 0;
  assert.ok(Math.abs(jitter - 4) < 0.2, `jitter ${jitter} ms for arrivals alternating 0 and 4 ms late`);
});

test('timestamps wrapping at 2^32 do not read as jitter', () => {
  const stats = new ReceptionStatistics();
  for (let i = 0; i < 50; i++) stats.update(1, i, (2 ** 32 - 800 + i * 160) >>> 0, i * 20);
  assert.equal(stats.report()?.jitterMs, 0);
});

test('a new SSRC or a big sequence jump starts the count over', () => {
  const stats = new ReceptionStatistics();
  for (let i = 0; i < 10; i++) stats.update(1, i, i * 160, i * 20);
  stats.update(2, 500, 0, 300);
  assert.deepEqual(
    [stats.report()?.ssrc, stats.report()?.packetsReceived, stats.report()?.packetsLost],
    [2, 1, 0],
  );
  stats.update(2, 30_000, 160, 320);
  assert.deepEqual([stats.report()?.packetsReceived, stats.report()?.packetsLost], [1, 0]);
});
