import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { recordToWav } from '../../src/media/recorder.ts';
import { startRingback } from '../../src/media/ringback.ts';
import { buildRtpPacket } from '../../src/media/rtp-packet.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { renderTone } from '../../src/media/tones.ts';
import { readWavFile, wavSamples } from '../../src/media/wav.ts';
import { goertzelPower, rms } from './support/goertzel.ts';
import { bindLoopback, closeSocket, loopbackAllocator } from './support/udp.ts';

function packetsReceived(session: RtpSession, count: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`received ${seen} of ${count} packets`));
    }, timeoutMs);
    const off = session.onPacket(() => {
      seen += 1;
      if (seen < count) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

test('a ringback recorded on the far session decodes to 440 + 480 Hz in a 16-bit WAV', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rec-'));
  const allocator = await loopbackAllocator();
  const caller = await RtpSession.open({ host: '127.0.0.1', allocator });
  const phone = await RtpSession.open({ host: '127.0.0.1', allocator });
  try {
    const path = join(dir, 'ringback.wav');
    const recording = await recordToWav(phone, path);
    const arrived = packetsReceived(phone, 15);
    const ringback = startRingback({
      session: caller,
      codec: 'PCMA',
      payloadType: 8,
      remote: { address: '127.0.0.1', port: phone.localPort },
      scheduler: new FrameScheduler(),
    });
    await arrived;
    ringback.stop();
    const samples = await recording.stop();
    assert.ok(samples >= 15 * 160, `${samples} samples`);
    const audio = await readWavFile(path);
    assert.equal(audio.format, 'pcm16');
    const pcm = wavSamples(audio);
    assert.equal(pcm.length, samples);
    const body = pcm.subarray(160, 15 * 160);
    assert.ok(goertzelPower(body, 440) > 1e-4 && goertzelPower(body, 480) > 1e-4);
  } finally {
    await Promise.all([caller.close(), phone.close()]);
    await rm(dir, { recursive: true, force: true });
  }
});

test('lost packets become silence of their length; late packets and telephone-events are left out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rec-'));
  const allocator = await loopbackAllocator();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator });
  const sender = await bindLoopback();
  try {
    const path = join(dir, 'gaps.wav');
    const recording = await recordToWav(session, path, { payloadTypes: { 0: 'PCMU' } });
    const frame = encodeG711('PCMU', renderTone({ frequencies: [1000], cadenceMs: [], levelDbm0: -6 }).subarray(0, 160));
    const send = (sequenceNumber: number, timestamp: number, payloadType = 0): void => {
      const packet = buildRtpPacket({ marker: false, payloadType, sequenceNumber, timestamp, ssrc: 42 }, frame);
      sender.socket.send(packet, session.localPort, '127.0.0.1');
    };
    const arrived = packetsReceived(session, 5);
    send(1, 0xffffff00);
    send(2, 0xffffffa0);
    send(4, 0xffffffa0 + 320);
    send(3, 0xffffffa0 + 160);
    send(5, 0xffffffa0 + 480, 101);
    await arrived;
    const samples = await recording.stop();
    assert.equal(samples, 4 * 160, 'two frames, a lost one as silence across the timestamp wrap, one more');
    const pcm = wavSamples(await readWavFile(path));
    assert.ok(rms(pcm.subarray(0, 320)) > 1000);
    assert.equal(rms(pcm.subarray(320, 480)), 0);
    assert.ok(rms(pcm.subarray(480, 640)) > 1000);
  } finally {
    await session.close();
    await closeSocket(sender.socket);
    await rm(dir, { recursive: true, force: true });
  }
});
