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

test('report blocks: fraction lost over each interval, cumulative loss, LSR and DLSR of the last SR', () => {
  const stats = new ReceptionStatistics();
  assert.equal(stats.reportBlock(0), undefined);
  for (let seq = 0; seq < 100; seq++) if (seq % 4 !== 3) stats.update(5, seq, seq * 160, seq * 20);
  stats.noteSenderReport(5, 0x11112222, 1000);
  stats.noteSenderReport(6, 0x99999999, 1500);
  const first = stats.reportBlock(1500);
  assert.equal(first?.ssrc, 5);
  assert.equal(first?.highestSequence, 98);
  assert.equal(first?.cumulativeLost, 24, '3, 7 ... 95 of the 99 expected up to 98');
  assert.equal(first?.fractionLost, Math.floor((24 * 256) / 99));
  assert.equal(first?.lastSr, 0x11112222, 'an SR of another source is not ours to echo');
  assert.equal(first?.delaySinceLastSr, 32768, '0.5 s in 1/65536 s');
  for (let seq = 100; seq < 150; seq++) stats.update(5, seq, seq * 160, seq * 20);
  const second = stats.reportBlock(3000);
  assert.equal(second?.fractionLost, Math.floor((1 * 256) / 51), 'only 99 lost since the previous report');
  assert.equal(second?.cumulativeLost, 25);
});
