import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { startRingback } from '../../src/media/ringback.ts';
import { buildBye, buildReport, ntpMiddle, ntpTime, parseRtcp, RtcpParseError } from '../../src/media/rtcp.ts';
import type { RtcpPacket } from '../../src/media/rtcp.ts';
import type { RtpEndpoint } from '../../src/media/sdp.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { ManualClock } from './support/manual-clock.ts';
import { bindLoopback, closeSocket, loopbackAllocator, receiveDatagrams } from './support/udp.ts';

const block = {
  ssrc: 0x01020304,
  fractionLost: 25,
  cumulativeLost: -3,
  highestSequence: 70_000,
  jitter: 12,
  lastSr: 0xaabbccdd,
  delaySinceLastSr: 65536,
};

test('SR with a report block and SDES CNAME round-trips', () => {
  const sender = { ntpSeconds: 3_900_000_000, ntpFraction: 2 ** 31, rtpTimestamp: 160, packetCount: 50, octetCount: 8000 };
  const packets = parseRtcp(buildReport({ ssrc: 42, cname: 'pbx@example', sender, reports: [block] }));
  assert.deepEqual(packets, [
    { type: 'sr', ssrc: 42, sender, reports: [block] },
    { type: 'sdes', chunks: [{ ssrc: 42, cname: 'pbx@example' }] },
  ]);
});

test('RR without blocks, and BYE with a reason after RR + SDES', () => {
  assert.deepEqual(parseRtcp(buildReport({ ssrc: 7, cname: 'x', reports: [] }))[0], { type: 'rr', ssrc: 7, reports: [] });
  const bye = parseRtcp(buildBye({ ssrc: 7, cname: 'abc', reason: 'hung up' }));
  assert.deepEqual(
    bye.map((p) => p.type),
    ['rr', 'sdes', 'bye'],
  );
  assert.deepEqual(bye[2], { type: 'bye', ssrcs: [7], reason: 'hung up' });
  assert.ok(buildBye({ ssrc: 7, cname: 'abc', reason: 'hung up' }).length % 4 === 0);
});

test('NTP time: the 1900 epoch and the fraction of a second; LSR is its middle 32 bits', () => {
  assert.deepEqual(ntpTime(0), { seconds: 2_208_988_800, fraction: 0 });
  assert.deepEqual(ntpTime(1500), { seconds: 2_208_988_801, fraction: 2 ** 31 });
  assert.equal(ntpMiddle(0x12345678, 0x9abcdef0), 0x56789abc);
});

test('unreadable RTCP is an RtcpParseError; unknown packet types are kept as such', () => {
  assert.throws(() => parseRtcp(Buffer.from([0x80, 200, 0])), RtcpParseError);
  assert.throws(() => parseRtcp(Buffer.from([0x40, 201, 0, 1, 0, 0, 0, 1])), RtcpParseError);
  assert.throws(() => parseRtcp(Buffer.from([0x80, 201, 0, 9, 0, 0, 0, 1])), RtcpParseError);
  assert.deepEqual(parseRtcp(Buffer.from([0x80, 206, 0, 1, 0, 0, 0, 1])), [{ type: 'other', packetType: 206 }]);
});

function nextRtcp(session: RtpSession, type: RtcpPacket['type'], timeoutMs = 3000): Promise<{ packets: readonly RtcpPacket[]; from: RtpEndpoint }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no RTCP ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = session.onRtcp((packets, from) => {
      if (!packets.some((p) => p.type === type)) return;
      clearTimeout(timer);
      off();
      resolve({ packets, from });
    });
  });
}

test('two sessions exchange SR and RR over their RTCP ports, and BYE on close', async () => {
  const allocator = await loopbackAllocator();
  const pbx = await RtpSession.open({ host: '127.0.0.1', allocator, rtcp: true, cname: 'pbx' });
  const phone = await RtpSession.open({ host: '127.0.0.1', allocator, rtcp: true, cname: 'phone' });
  let pbxOpen = true;
  try {
    const phoneHeard = new Promise<void>((resolve) => {
      const off = phone.onPacket(() => {
        if (phone.stats.packetsReceived < 10) return;
        off();
        resolve();
      });
    });
    const ringback = startRingback({
      session: pbx,
      codec: 'PCMU',
      payloadType: 0,
      remote: { address: '127.0.0.1', port: phone.localPort, rtcpAddress: '127.0.0.1', rtcpPort: phone.localPort + 1 },
      scheduler: new FrameScheduler(),
    });
    await phoneHeard;
    ringback.stop();

    const sr = nextRtcp(phone, 'sr');
    assert.equal(pbx.sendRtcpReport(), true);
    const { packets: fromPbx, from } = await sr;
    assert.equal(from.port, pbx.localPort + 1);
    const senderReport = fromPbx.find((p) => p.type === 'sr');
    assert.ok(senderReport?.type === 'sr');
    assert.equal(senderReport.ssrc, pbx.ssrc);
    assert.equal(senderReport.sender.packetCount, pbx.stats.packetsSent);
    assert.equal(senderReport.sender.octetCount, pbx.stats.packetsSent * 160);
    assert.deepEqual(fromPbx.find((p) => p.type === 'sdes'), { type: 'sdes', chunks: [{ ssrc: pbx.ssrc, cname: 'pbx' }] });

    // The phone latched on the PBX's RTP and RTCP, so its report goes back without any remote being set.
    const rr = nextRtcp(pbx, 'rr');
    assert.equal(phone.sendRtcpReport(), true);
    const receiverReport = (await rr).packets.find((p) => p.type === 'rr');
    assert.ok(receiverReport?.type === 'rr');
    const about = receiverReport.reports[0];
    assert.equal(about?.ssrc, pbx.ssrc);
    assert.equal(about?.cumulativeLost, 0);
    assert.equal(about?.lastSr, ntpMiddle(senderReport.sender.ntpSeconds, senderReport.sender.ntpFraction));
    assert.ok((about?.delaySinceLastSr ?? 0) > 0);

    const bye = nextRtcp(phone, 'bye');
    await pbx.close();
    pbxOpen = false;
    await bye;
    assert.equal(phone.stats.byeReceived, true);
  } finally {
    if (pbxOpen) await pbx.close();
    await phone.close();
  }
});

test('RTCP on the RTP port (rtcp-mux) is read as RTCP, not discarded as bad RTP', async () => {
  const allocator = await loopbackAllocator();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator });
  const peer = await bindLoopback();
  try {
    const bye = nextRtcp(session, 'bye');
    peer.socket.send(buildBye({ ssrc: 9, cname: 'p' }), session.localPort, '127.0.0.1');
    await bye;
    assert.equal(session.stats.packetsDiscarded, 0);
    assert.equal(session.stats.rtcpReceived, 1);
  } finally {
    await session.close();
    await closeSocket(peer.socket);
  }
});

test('periodic reports every 5 s on the scheduler, stopped by close', async () => {
  const allocator = await loopbackAllocator();
  const peer = await bindLoopback();
  const session = await RtpSession.open({
    host: '127.0.0.1',
    allocator,
    rtcp: true,
    remote: { address: '127.0.0.1', port: peer.port - 1 },
  });
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock });
  try {
    const reports = receiveDatagrams(peer.socket, 2);
    session.startRtcpReports(scheduler);
    session.startRtcpReports(scheduler);
    clock.advance(10_000);
    assert.equal(session.stats.rtcpSent, 2);
    const received = (await reports).map(({ data }) => parseRtcp(data)[0]?.type);
    assert.deepEqual(received, ['rr', 'rr']);
  } finally {
    await session.close();
    await closeSocket(peer.socket);
  }
  assert.equal(scheduler.size, 0);
});
