import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { createMediaEngine } from '../../src/media/media-engine.ts';
import { parseRtpPacket } from '../../src/media/rtp-packet.ts';
import { bindLoopback, closeSocket, loopbackAllocator, receiveDatagrams } from './support/udp.ts';

test('the engine opens sessions inside the configured range and rings back on its own scheduler', async () => {
  const free = await loopbackAllocator(4);
  const engine = createMediaEngine(
    { rtp_host: '127.0.0.1', rtp_port_min: free.min, rtp_port_max: free.max + 1 },
    new FrameScheduler(),
  );
  const phone = await bindLoopback();
  const session = await engine.openSession();
  try {
    assert.equal(engine.host, '127.0.0.1');
    assert.equal(session.localHost, '127.0.0.1');
    assert.ok(session.localPort >= free.min && session.localPort <= free.max && session.localPort % 2 === 0);
    assert.equal(engine.allocator.available, engine.allocator.capacity - 1);
    const received = receiveDatagrams(phone.socket, 3);
    const ringback = engine.startRingback({
      session,
      codec: 'PCMU',
      payloadType: 0,
      remote: { address: '127.0.0.1', port: phone.port },
    });
    assert.equal(engine.scheduler.size, 1);
    const packets = (await received).map(({ data }) => parseRtpPacket(data));
    ringback.stop();
    assert.equal(engine.scheduler.size, 0);
    assert.ok(packets.every((p) => p.ssrc === session.ssrc && p.payloadType === 0));
  } finally {
    await session.close();
    await closeSocket(phone.socket);
  }
  assert.equal(engine.allocator.available, engine.allocator.capacity);
});
