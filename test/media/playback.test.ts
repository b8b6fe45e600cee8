import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { FrameSizeError, playFrames } from '../../src/media/frame-player.ts';
import { decodeG711, encodeG711 } from '../../src/media/g711.ts';
import { encodePrompt, PromptFormatError, startPlayback } from '../../src/media/playback.ts';
import { parseRtpPacket } from '../../src/media/rtp-packet.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { renderTone } from '../../src/media/tones.ts';
import { decodeWav, encodeWav, pcm16ToBytes } from '../../src/media/wav.ts';
import { goertzelPower } from './support/goertzel.ts';
import { ManualClock } from './support/manual-clock.ts';
import { bindLoopback, closeSocket, loopbackAllocator, receiveDatagrams } from './support/udp.ts';

/** Catch up on any stall a loaded machine causes: the checks below want every frame, none dropped. */
const NO_DROP = 50;

/** 4100 samples of 1 kHz: 25 whole frames and a partial one. */
const PROMPT = renderTone({ frequencies: [1000], cadenceMs: [], levelDbm0: -10 }).subarray(0, 4100);

test('encodePrompt: whole frames, the tail padded with silence; same-law bytes kept as recorded', () => {
  const fromPcm = encodePrompt(decodeWav(encodeWav({ format: 'pcm16', data: pcm16ToBytes(PROMPT) })), 'PCMU');
  assert.equal(fromPcm.length, 26 * 160);
  assert.deepEqual(fromPcm.subarray(0, 4100), Buffer.from(encodeG711('PCMU', PROMPT)));
  assert.ok(fromPcm.subarray(4100).every((b) => b === 0xff), 'mu-law silence');

  const alaw = encodeG711('PCMA', PROMPT);
  const kept = encodePrompt(decodeWav(encodeWav({ format: 'PCMA', data: alaw })), 'PCMA');
  assert.deepEqual(kept.subarray(0, 4100), Buffer.from(alaw));
  assert.ok(kept.subarray(4100).every((b) => b === 0xd5), 'A-law silence');

  const crossed = decodeG711('PCMU', encodePrompt(decodeWav(encodeWav({ format: 'PCMA', data: alaw })), 'PCMU'));
  assert.ok(goertzelPower(crossed.subarray(0, 4000), 1000) > 1e-3);
});

test('prompts that are not 8 kHz mono, or empty, are PromptFormatErrors', () => {
  const wide = encodeWav({ format: 'pcm16', sampleRate: 16000, data: pcm16ToBytes(PROMPT) });
  assert.throws(() => encodePrompt(decodeWav(wide), 'PCMU'), PromptFormatError);
  assert.throws(() => encodePrompt(new Int16Array(0), 'PCMU'), PromptFormatError);
  assert.throws(() => playFrames({ session: {} as RtpSession, payloadType: 0, frames: Buffer.alloc(100), loop: false }), FrameSizeError);
});

test('a prompt played once over UDP: every frame once, in order, then finished', async () => {
  const allocator = await loopbackAllocator();
  const phone = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator });
  const scheduler = new FrameScheduler({ maxBurst: NO_DROP });
  try {
    const received = receiveDatagrams(phone.socket, 26);
    const playing = startPlayback({
      session,
      codec: 'PCMA',
      payloadType: 8,
      prompt: PROMPT,
      remote: { address: '127.0.0.1', port: phone.port },
      scheduler,
    });
    await playing.finished;
    assert.equal(scheduler.size, 0);
    assert.equal(session.stats.packetsSent, 26);
    const packets = (await received).map(({ data }) => parseRtpPacket(data));
    assert.equal(packets[0]?.marker, true);
    for (let i = 1; i < packets.length; i++) {
      assert.equal(packets[i]?.timestamp, ((packets[i - 1]?.timestamp ?? 0) + 160) >>> 0);
    }
    const pcm = decodeG711('PCMA', Buffer.concat(packets.map((p) => p.payload)));
    assert.ok(goertzelPower(pcm.subarray(0, 4000), 1000) > 1e-3);
  } finally {
    await session.close();
    await closeSocket(phone.socket);
  }
});

test('a looped prompt goes round until stopped; a stall past the end of a single play ends it cleanly', async () => {
  const allocator = await loopbackAllocator();
  const phone = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, remote: { address: '127.0.0.1', port: phone.port } });
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock, maxBurst: 3 });
  try {
    const short = encodePrompt(PROMPT.subarray(0, 800), 'PCMU');
    const looping = startPlayback({ session, codec: 'PCMU', payloadType: 0, prompt: short, loop: true, scheduler });
    clock.advance(20 * 12 - 1);
    assert.equal(session.stats.packetsSent, 12);
    looping.stop();
    await looping.finished;
    clock.advance(100);
    assert.equal(session.stats.packetsSent, 12);

    const once = startPlayback({ session, codec: 'PCMU', payloadType: 0, prompt: short, scheduler });
    clock.advance(20);
    clock.stall(400);
    clock.fireDue();
    await once.finished;
    assert.equal(scheduler.size, 0);
    assert.ok(session.stats.packetsSent <= 12 + 5, 'nothing sent past the last frame');
  } finally {
    await session.close();
    await closeSocket(phone.socket);
  }
});
