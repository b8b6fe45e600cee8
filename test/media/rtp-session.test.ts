import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRtpPacket, parseRtpPacket } from '../../src/media/rtp-packet.ts';
import type { RtpPacket } from '../../src/media/rtp-packet.ts';
import { RtpPortAllocator, RtpPortsExhaustedError } from '../../src/media/rtp-port-allocator.ts';
import { RELATCH_PACKETS, RtpSession } from '../../src/media/rtp-session.ts';
import type { Socket } from 'node:dgram';
import type { RtpEndpoint } from '../../src/media/sdp.ts';
import { bindLoopback, closeSocket, loopbackAllocator, receiveDatagrams } from './support/udp.ts';

function rtp(ssrc: number, sequenceNumber: number): Buffer {
  return buildRtpPacket({ marker: false, payloadType: 0, sequenceNumber, timestamp: sequenceNumber * 160, ssrc }, Buffer.alloc(160));
}

function nextPacket(session: RtpSession, timeoutMs = 2000): Promise<{ packet: RtpPacket; from: RtpEndpoint }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no RTP packet within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = session.onPacket((packet, from) => {
      clearTimeout(timer);
      off();
      resolve({ packet, from });
    });
  });
}

test('sends V=2 packets with the session SSRC and consecutive sequence numbers to the remote', async () => {
  const allocator = await loopbackAllocator();
  const peer = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, remote: { address: '127.0.0.1', port: peer.port } });
  try {
    assert.equal(session.localPort % 2, 0);
    const received = receiveDatagrams(peer.socket, 3);
    for (let i = 0; i < 3; i++) session.send(Buffer.from([i]), { payloadType: 0, timestamp: 1000 + i * 160 });
    const packets = (await received).map(({ data, from }) => {
      assert.equal(from.port, session.localPort);
      return parseRtpPacket(data);
    });
    assert.ok(packets.every((p) => p.ssrc === session.ssrc && p.payloadType === 0));
    const first = packets[0]?.sequenceNumber ?? 0;
    assert.deepEqual(
      packets.map((p) => p.sequenceNumber),
      [first, (first + 1) & 0xffff, (first + 2) & 0xffff],
    );
    assert.deepEqual(
      packets.map((p) => p.timestamp),
      [1000, 1160, 1320],
    );
    assert.equal(session.stats.packetsSent, 3);
  } finally {
    await session.close();
    await closeSocket(peer.socket);
  }
});

test('symmetric RTP: latches to where the peer really sends from, and replies there', async () => {
  const allocator = await loopbackAllocator();
  const natted = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, remote: { address: '127.0.0.1', port: 9 } });
  try {
    const arrival = nextPacket(session);
    natted.socket.send(rtp(111, 1), session.localPort, '127.0.0.1');
    const { from } = await arrival;
    assert.deepEqual(from, { address: '127.0.0.1', port: natted.port });
    assert.deepEqual(session.remote, { address: '127.0.0.1', port: natted.port });
    assert.ok(session.stats.lastReceivedAt !== undefined && session.stats.lastReceivedAt <= performance.now());

    const reply = receiveDatagrams(natted.socket, 1);
    session.send(Buffer.alloc(4), { payloadType: 0, timestamp: 0 });
    assert.equal(parseRtpPacket((await reply)[0]?.data as Buffer).ssrc, session.ssrc);
  } finally {
    await session.close();
    await closeSocket(natted.socket);
  }
});

test('once latched, another source is dropped until it sends RELATCH_PACKETS in sequence (no RTP bleed)', async () => {
  const allocator = await loopbackAllocator();
  const phone = await bindLoopback();
  const intruder = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator });
  const heard: number[] = [];
  session.onPacket((packet) => heard.push(packet.ssrc));
  const send = async (socket: Socket, packet: Buffer): Promise<void> => {
    socket.send(packet, session.localPort, '127.0.0.1');
    // Loopback delivers in order: the phone's next packet arriving proves the previous one was handled.
    const marker = nextPacket(session);
    phone.socket.send(rtp(111, 900), session.localPort, '127.0.0.1');
    await marker;
  };
  try {
    const first = nextPacket(session);
    phone.socket.send(rtp(111, 1), session.localPort, '127.0.0.1');
    await first;

    await send(intruder.socket, rtp(111, 2));
    await send(intruder.socket, rtp(999, 50));
    await send(intruder.socket, rtp(999, 52));
    assert.equal(session.stats.packetsFromOtherSources, 3);
    assert.equal(session.remote?.port, phone.port);
    assert.ok(!heard.includes(999));

    for (let i = 0; i < RELATCH_PACKETS - 1; i++) await send(intruder.socket, rtp(999, 100 + i));
    assert.equal(session.remote?.port, phone.port, 'one packet short of a run');
    const moved = nextPacket(session);
    intruder.socket.send(rtp(999, 100 + RELATCH_PACKETS - 1), session.localPort, '127.0.0.1');
    assert.equal((await moved).from.port, intruder.port);
    assert.equal(session.remote?.port, intruder.port, 'a sustained in-sequence stream is the peer having moved');
  } finally {
    await session.close();
    await Promise.all([closeSocket(phone.socket), closeSocket(intruder.socket)]);
  }
});

test('setRemote from a new SDP starts latching over', async () => {
  const allocator = await loopbackAllocator();
  const before = await bindLoopback();
  const after = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator });
  try {
    const first = nextPacket(session);
    before.socket.send(rtp(1, 1), session.localPort, '127.0.0.1');
    await first;
    session.setRemote({ address: '127.0.0.1', port: after.port });
    const second = nextPacket(session);
    after.socket.send(rtp(2, 7), session.localPort, '127.0.0.1');
    assert.equal((await second).from.port, after.port);
    assert.equal(session.remote?.port, after.port);
  } finally {
    await session.close();
    await Promise.all([closeSocket(before.socket), closeSocket(after.socket)]);
  }
});

test('without latching, the signalled remote is kept; non-RTP datagrams are counted and dropped', async () => {
  const allocator = await loopbackAllocator();
  const peer = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, latch: false, remote: { address: '127.0.0.1', port: 9 } });
  try {
    peer.socket.send(Buffer.from('not rtp'), session.localPort, '127.0.0.1');
    const arrival = nextPacket(session);
    peer.socket.send(
      buildRtpPacket({ marker: false, payloadType: 8, sequenceNumber: 5, timestamp: 0, ssrc: 1 }, Buffer.alloc(1)),
      session.localPort,
      '127.0.0.1',
    );
    const { packet } = await arrival;
    assert.equal(packet.payloadType, 8);
    assert.equal(session.stats.packetsDiscarded, 1);
    assert.deepEqual(session.remote, { address: '127.0.0.1', port: 9 });
  } finally {
    await session.close();
    await closeSocket(peer.socket);
  }
});

test('a port held by another process is skipped; close gives the port back for reuse', async () => {
  let squatter = await bindLoopback();
  const start = squatter.port - (squatter.port % 2);
  if (squatter.port !== start) {
    await closeSocket(squatter.socket);
    squatter = await bindLoopback(start);
  }
  const allocator = new RtpPortAllocator(start, start + 3);
  const sessions: RtpSession[] = [];
  let squatterOpen = true;
  try {
    const session = await RtpSession.open({ host: '127.0.0.1', allocator, rtcp: true });
    sessions.push(session);
    assert.equal(session.localPort, start + 2);
    assert.equal(allocator.available, 1, 'the busy port went back to the queue');
    await assert.rejects(RtpSession.open({ host: '127.0.0.1', allocator }), RtpPortsExhaustedError);
    await closeSocket(squatter.socket);
    squatterOpen = false;
    await session.close();
    assert.equal(allocator.available, 2);
    const again = await RtpSession.open({ host: '127.0.0.1', allocator });
    sessions.push(again);
    const another = await RtpSession.open({ host: '127.0.0.1', allocator });
    sessions.push(another);
    assert.deepEqual(new Set([again.localPort, another.localPort]), new Set([start, start + 2]));
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    if (squatterOpen) await closeSocket(squatter.socket);
  }
});

test('a destination dgram refuses outright is a session error, not a throw', async () => {
  const allocator = await loopbackAllocator();
  const errors: Error[] = [];
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, onError: (error) => errors.push(error) });
  try {
    session.setRemote({ address: '127.0.0.1', port: 70000 });
    assert.equal(session.send(Buffer.alloc(4), { payloadType: 0, timestamp: 0 }), false);
    assert.equal(session.stats.packetsSent, 0);
    assert.equal(session.stats.errors, 1);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ERR_SOCKET_BAD_PORT');
  } finally {
    await session.close();
  }
});

test('close is idempotent and a closed session sends nothing', async () => {
  const allocator = await loopbackAllocator();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, remote: { address: '127.0.0.1', port: 9 } });
  const closing = session.close();
  assert.equal(session.close(), closing);
  await closing;
  assert.equal(session.send(Buffer.alloc(1), { payloadType: 0, timestamp: 0 }), false);
  assert.equal(allocator.available, allocator.capacity);
});
