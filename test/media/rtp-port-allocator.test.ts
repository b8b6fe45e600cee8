import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPortAllocator, RtpPortsExhaustedError } from '../../src/media/rtp-port-allocator.ts';

test('hands out even ports whose RTCP port stays in range, then throws when exhausted', () => {
  const allocator = new RtpPortAllocator(30001, 30008);
  assert.equal(allocator.capacity, 3);
  assert.deepEqual([allocator.allocate(), allocator.allocate(), allocator.allocate()], [30002, 30004, 30006]);
  assert.throws(() => allocator.allocate(), RtpPortsExhaustedError);
});

test('freed ports are reused, least recently freed first', () => {
  const allocator = new RtpPortAllocator(30000, 30005);
  const a = allocator.allocate();
  const b = allocator.allocate();
  assert.deepEqual([a, b], [30000, 30002]);
  allocator.release(b);
  allocator.release(a);
  assert.equal(allocator.allocate(), 30004, 'never-used port before freed ones');
  assert.equal(allocator.allocate(), b);
  assert.equal(allocator.allocate(), a);
  assert.equal(allocator.available, 0);
});

test('releasing twice, an odd port or a foreign port changes nothing', () => {
  const allocator = new RtpPortAllocator(30000, 30003);
  const port = allocator.allocate();
  allocator.release(port);
  allocator.release(port);
  allocator.release(port + 1);
  allocator.release(40000);
  assert.equal(allocator.available, 2);
  assert.equal(allocator.allocate(), 30002);
  assert.equal(allocator.allocate(), 30000);
  assert.throws(() => allocator.allocate(), RtpPortsExhaustedError);
});

test('a range without an even port pair is refused', () => {
  assert.throws(() => new RtpPortAllocator(30001, 30002), RangeError);
  assert.throws(() => new RtpPortAllocator(30004, 30004), RangeError);
});
