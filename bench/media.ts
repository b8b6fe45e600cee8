// node --import tsx bench/media.ts — the media layer's figures: session open/close, ringback start/stop, and the
// CPU cost of pacing many concurrent ringbacks over loopback UDP on one shared scheduler tick.
import { createSocket } from 'node:dgram';
import { FrameScheduler } from '../src/media/frame-scheduler.ts';
import { startRingback } from '../src/media/ringback.ts';
import { RtpPortAllocator } from '../src/media/rtp-port-allocator.ts';
import { RtpSession } from '../src/media/rtp-session.ts';
import { buildAnswer, buildOffer } from '../src/media/sdp.ts';
import { toneFrames } from '../src/media/tones.ts';

const HOST = '127.0.0.1';
const CONCURRENT = Number(process.env.BENCH_MEDIA_STREAMS ?? 1000);
const SECONDS = Number(process.env.BENCH_MEDIA_SECONDS ?? 3);

const sink = createSocket('udp4');
await new Promise<void>((resolve) => sink.bind(0, HOST, resolve));
sink.setRecvBufferSize(8 * 1024 * 1024);
const sinkPort = sink.address().port;
let received = 0;
sink.on('message', () => {
  received += 1;
});

// A range beside the kernel's choice: no hard-coded ports; busy ones are skipped by the session.
const base = Math.min(sinkPort + 2 - (sinkPort % 2), 65535 - 4 * CONCURRENT - 2);
const allocator = new RtpPortAllocator(base, base + 4 * CONCURRENT + 1);

const phoneOffer = buildOffer({ host: '192.168.1.10', port: 10000 });
let started = performance.now();
for (let i = 0; i < 5000; i++) buildAnswer(phoneOffer, { host: HOST, port: 20000 });
const answerUs = ((performance.now() - started) * 1000) / 5000;
console.log(`SDP answer to a phone's offer:  ${answerUs.toFixed(1)} µs (parse + negotiate + write)`);
started = performance.now();
for (let i = 0; i < 5000; i++) buildOffer({ host: HOST, port: 20000 });
console.log(`SDP offer:                      ${(((performance.now() - started) * 1000) / 5000).toFixed(1)} µs`);

toneFrames('PCMU');
started = performance.now();
const sessions = await Promise.all(
  Array.from({ length: CONCURRENT }, () => RtpSession.open({ host: HOST, allocator })),
);
const openMs = performance.now() - started;
const openPerSecond = Math.round((CONCURRENT / openMs) * 1000).toLocaleString('en');
console.log(`open ${CONCURRENT} RTP sessions:       ${((openMs * 1000) / CONCURRENT).toFixed(1)} µs each (${openPerSecond}/s)`);

const idle = new FrameScheduler();
started = performance.now();
for (let round = 0; round < 20; round++) {
  const ringbacks = sessions.map((session) =>
    startRingback({ session, codec: 'PCMU', payloadType: 0, remote: { address: HOST, port: sinkPort }, scheduler: idle }),
  );
  for (const ringback of ringbacks) ringback.stop();
}
const startStopUs = ((performance.now() - started) * 1000) / (20 * CONCURRENT);
console.log(`ringback start + stop:          ${startStopUs.toFixed(2)} µs (no packet sent)`);

const scheduler = new FrameScheduler();
const sentBefore = sessions.reduce((sum, s) => sum + s.stats.packetsSent, 0);
const cpuBefore = process.cpuUsage();
started = performance.now();
const lateness: number[] = [];
const probe = scheduler.add({
  frame: (_index, tick) => {
    lateness.push(performance.now() - scheduler.timeOfTick(tick));
  },
});
const ringbacks = sessions.map((session) =>
  startRingback({ session, codec: 'PCMU', payloadType: 0, remote: { address: HOST, port: sinkPort }, scheduler }),
);
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
for (const ringback of ringbacks) ringback.stop();
probe.stop();
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const sent = sessions.reduce((sum, s) => sum + s.stats.packetsSent, 0) - sentBefore;
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
lateness.sort((a, b) => a - b);
const percentile = (p: number): string => (lateness[Math.floor((lateness.length - 1) * p)] ?? 0).toFixed(1);
const count = (n: number): string => Math.round(n).toLocaleString('en');
console.log(
  `${CONCURRENT} concurrent ringbacks, ${SECONDS} s: ${count(sent / elapsed)} packets/s sent ` +
    `(expected ${count(CONCURRENT * 50)}), ${count(received / elapsed)}/s received by the sink`,
);
console.log(
  `  CPU ${((cpuSeconds / elapsed) * 100).toFixed(0)}% of one core (sender and sink in this process), ` +
    `${((cpuSeconds * 1e6) / Math.max(1, sent)).toFixed(1)} µs per packet`,
);
console.log(`  tick lateness p50 ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms, max ${percentile(1)} ms`);

started = performance.now();
await Promise.all(sessions.map((s) => s.close()));
console.log(`close ${CONCURRENT} sessions:            ${(((performance.now() - started) * 1000) / CONCURRENT).toFixed(1)} µs each`);
sink.close();
