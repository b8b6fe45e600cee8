import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { decodeG711 } from '../../src/media/g711.ts';
import { startRingback } from '../../src/media/ringback.ts';
import { parseRtpPacket } from '../../src/media/rtp-packet.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { goertzelPower } from './support/goertzel.ts';
import { bindLoopback, closeSocket, loopbackAllocator, receiveDatagrams } from './support/udp.ts';

/** Catch up on any stall a loaded machine causes: the checks below want every frame, none dropped. */
const NO_DROP = 50;

const PACKETS = 25;

for (const [codec, payloadType] of [
  ['PCMU', 0],
  ['PCMA', 8],
] as const) {
  test(`${codec} ringback over real UDP: continuous seq and timestamps, paced, and the tone decodes`, async () => {
    const allocator = await loopbackAllocator();
    const phone = await bindLoopback();
    const session = await RtpSession.open({ host: '127.0.0.1', allocator });
    const scheduler = new FrameScheduler({ maxBurst: NO_DROP });
    try {
      const arrivals: number[] = [];
      phone.socket.on('message', () => arrivals.push(performance.now()));
      const received = receiveDatagrams(phone.socket, PACKETS);
      const asked = performance.now();
      const ringback = startRingback({
        session,
        codec,
        payloadType,
        remote: { address: '127.0.0.1', port: phone.port },
        scheduler,
      });
      const datagrams = await received;
      ringback.stop();
      ringback.stop();
      assert.equal(scheduler.size, 0);

      const packets = datagrams.map(({ data, from }) => {
        assert.equal(from.port, session.localPort);
        assert.equal(data.length, 12 + 160);
        return parseRtpPacket(data);
      });
      assert.equal(packets[0]?.marker, true, 'the first packet opens a talkspurt');
      assert.ok(packets.slice(1).every((p) => !p.marker));
      for (const [i, packet] of packets.entries()) {
        assert.equal(packet.payloadType, payloadType);
        assert.equal(packet.ssrc, session.ssrc);
        if (i === 0) continue;
        const previous = packets[i - 1];
        assert.equal(packet.sequenceNumber, ((previous?.sequenceNumber ?? 0) + 1) & 0xffff, `seq at ${i}`);
        assert.equal(packet.timestamp, ((previous?.timestamp ?? 0) + 160) >>> 0, `timestamp at ${i}`);
      }

      const last = arrivals[PACKETS - 1] ?? 0;
      assert.ok(last - asked >= (PACKETS - 1) * 20 - 1, `packet ${PACKETS - 1} arrived ${last - asked} ms after start`);
      assert.ok(last - asked < (PACKETS - 1) * 20 + 1000, 'and not far behind its time');

      const pcm = decodeG711(codec, Buffer.concat(packets.map((p) => p.payload)));
      const tone = pcm.subarray(160);
      const p440 = goertzelPower(tone, 440);
      const p480 = goertzelPower(tone, 480);
      assert.ok(p440 > 1e-4 && p480 > 1e-4, `440: ${p440}, 480: ${p480}`);
      assert.ok(goertzelPower(tone, 1000) < p440 / 1000);
    } finally {
      await session.close();
      await closeSocket(phone.socket);
    }
  });
}

test('many ringbacks on one scheduler: each session keeps its own SSRC and sequence', async () => {
  const allocator = await loopbackAllocator(32);
  const phone = await bindLoopback();
  const scheduler = new FrameScheduler();
  const sessions = await Promise.all(Array.from({ length: 20 }, () => RtpSession.open({ host: '127.0.0.1', allocator })));
  try {
    const received = receiveDatagrams(phone.socket, 20 * 5);
    const ringbacks = sessions.map((session) =>
      startRingback({ session, codec: 'PCMU', payloadType: 0, remote: { address: '127.0.0.1', port: phone.port }, scheduler }),
    );
    const datagrams = await received;
    for (const ringback of ringbacks) ringback.stop();
    const bySsrc = new Map<number, number[]>();
    for (const { data } of datagrams) {
      const packet = parseRtpPacket(data);
      bySsrc.set(packet.ssrc, [...(bySsrc.get(packet.ssrc) ?? []), packet.sequenceNumber]);
    }
    assert.deepEqual(new Set(bySsrc.keys()), new Set(sessions.map((s) => s.ssrc)));
    for (const sequence of bySsrc.values()) {
      for (let i = 1; i < sequence.length; i++) assert.equal(sequence[i], ((sequence[i - 1] ?? 0) + 1) & 0xffff);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await closeSocket(phone.socket);
  }
});
