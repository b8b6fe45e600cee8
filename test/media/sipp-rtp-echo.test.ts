import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeSippMediaPort } from '../helpers/free-port.ts';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { recordToWav } from '../../src/media/recorder.ts';
import { startRingback } from '../../src/media/ringback.ts';
import type { RtpPacket } from '../../src/media/rtp-packet.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { readWavFile, wavSamples } from '../../src/media/wav.ts';
import { goertzelPower } from './support/goertzel.ts';
import { bindLoopback, closeSocket, loopbackAllocator } from './support/udp.ts';

/** Catch up on any stall a loaded machine causes: the checks below want every frame, none dropped. */
const NO_DROP = 50;

const SCENARIO = fileURLToPath(new URL('./scenarios/idle-uas.xml', import.meta.url));
const ECHOES = 25;

/** Ports the kernel hands out now; sipp binds them a moment later. */
async function freePorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => bindLoopback()));
  await Promise.all(sockets.map((s) => closeSocket(s.socket)));
  return sockets.map((s) => s.port);
}

function echoes(session: RtpSession, count: number, timeoutMs: number): Promise<RtpPacket[]> {
  return new Promise((resolve, reject) => {
    const packets: RtpPacket[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${packets.length} of ${count} echoed packets within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = session.onPacket((packet) => {
      packets.push(packet);
      if (packets.length < count) return;
      clearTimeout(timer);
      off();
      resolve(packets);
    });
  });
}

test('ringback to sipp -rtp_echo comes back intact: same SSRC, continuous seq and timestamps, the tone', async () => {
  const [sipPort, controlPort] = await freePorts(2);
  const mediaPort = await freeSippMediaPort();
  const sipp = spawn(
    'sipp',
    [
      '-sf', SCENARIO,
      '-i', '127.0.0.1', '-mi', '127.0.0.1',
      '-p', String(sipPort), '-cp', String(controlPort), '-mp', String(mediaPort),
      '-rtp_echo', '-m', '1', '-timeout', '15', '-nostdin',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  sipp.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(sipp, 'exit');
  const dir = await mkdtemp(join(tmpdir(), 'echo-'));
  const allocator = await loopbackAllocator();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator });
  try {
    const path = join(dir, 'echo.wav');
    const recording = await recordToWav(session, path, { payloadTypes: { 0: 'PCMU' } });
    const received = echoes(session, ECHOES, 8000);
    // The first packets may go out before sipp has bound its echo port; the echo starts with the first it gets.
    const ringback = startRingback({
      session,
      codec: 'PCMU',
      payloadType: 0,
      remote: { address: '127.0.0.1', port: mediaPort },
      scheduler: new FrameScheduler({ maxBurst: NO_DROP }),
    });
    const packets = await received.catch((error: unknown) => {
      throw new Error(`${String(error)}; sipp stderr: ${stderr}`);
    });
    ringback.stop();
    const samples = await recording.stop();

    assert.ok(packets.every((p) => p.ssrc === session.ssrc && p.payloadType === 0 && p.payload.length === 160));
    for (let i = 1; i < packets.length; i++) {
      const previous = packets[i - 1] as RtpPacket;
      const packet = packets[i] as RtpPacket;
      assert.equal(packet.sequenceNumber, (previous.sequenceNumber + 1) & 0xffff);
      assert.equal(packet.timestamp, (previous.timestamp + 160) >>> 0);
    }
    assert.deepEqual(session.remote, { address: '127.0.0.1', port: mediaPort }, 'latched on the echo source');
    const report = session.receptionReport();
    assert.equal(report?.ssrc, session.ssrc);
    assert.equal(report?.packetsLost, 0);
    assert.ok((report?.packetsReceived ?? 0) >= ECHOES);
    const pcm = wavSamples(await readWavFile(path));
    assert.ok(pcm.length === samples && samples >= ECHOES * 160);
    const tone = pcm.subarray(160, ECHOES * 160);
    assert.ok(goertzelPower(tone, 440) > 1e-4 && goertzelPower(tone, 480) > 1e-4);
    assert.ok(goertzelPower(tone, 1000) < goertzelPower(tone, 440) / 1000);
  } finally {
    await session.close();
    if (sipp.exitCode === null && sipp.signalCode === null) sipp.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
});

