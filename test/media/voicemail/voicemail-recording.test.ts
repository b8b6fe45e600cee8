import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeG711 } from '../../../src/media/g711.ts';
import { startPlayback } from '../../../src/media/playback.ts';
import { RtpSession } from '../../../src/media/rtp-session.ts';
import { renderTone } from '../../../src/media/tones.ts';
import { VoicemailRecording } from '../../../src/media/voicemail/voicemail-recording.ts';
import { decodeWav, wavSamples } from '../../../src/media/wav.ts';
import { goertzelPower } from '../../calls/goertzel.ts';
import { loopbackAllocator } from '../support/udp.ts';

async function setup(t: { after: (fn: () => Promise<void> | void) => void }): Promise<{ box: RtpSession; caller: RtpSession; dir: string }> {
  const allocator = await loopbackAllocator();
  const box = await RtpSession.open({ host: '127.0.0.1', allocator });
  const caller = await RtpSession.open({ host: '127.0.0.1', allocator });
  box.setRemote({ address: '127.0.0.1', port: caller.localPort });
  caller.setRemote({ address: '127.0.0.1', port: box.localPort });
  const dir = mkdtempSync(join(tmpdir(), 'voicemail-'));
  t.after(async () => {
    await box.close();
    await caller.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { box, caller, dir };
}

test('the caller hears a 1 kHz beep; what it says from the answer on is in the WAV (folder created), up to max length after the beep', async (t) => {
  const { box, caller, dir } = await setup(t);
  const beep: Int16Array[] = [];
  caller.onPacket((p) => {
    if (p.payloadType === 8) beep.push(decodeG711('PCMA', p.payload));
  });
  const path = join(dir, 'voicemail', '101', 'm.wav');
  let maxed!: () => void;
  const reachedMax = new Promise<void>((resolve) => (maxed = resolve));
  const vm = VoicemailRecording.start({ session: box, codec: 'PCMA', payloadType: 8, path, maxMs: 800, onMaxLength: () => maxed() });
  const talking = startPlayback({ session: caller, codec: 'PCMA', payloadType: 8, prompt: renderTone({ frequencies: [697], cadenceMs: [], levelDbm0: -10 }), loop: true });
  t.after(() => talking.stop());
  await reachedMax;
  const message = await vm.stop();
  assert.equal(message.path, path);
  // Recorded from the answer: the half-second beep, then up to maxMs.
  assert.ok(message.durationMs >= 1200 && message.durationMs <= 1500, `duration ${message.durationMs}`);
  const heard = new Int16Array(beep.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of beep) {
    heard.set(b, at);
    at += b.length;
  }
  assert.ok(heard.length >= 3600, `beep of ${heard.length} samples`);
  assert.ok(goertzelPower(heard.subarray(0, 3600), 1000, 8000) > 1000);
  const samples = wavSamples(decodeWav(readFileSync(path)));
  assert.ok(goertzelPower(samples, 697, 8000) > 100 * goertzelPower(samples, 1000, 8000), 'the message holds the caller, not the beep');
  assert.deepEqual(await vm.stop(), message, 'stop() again gives the same message');
});

test('a caller gone before the beep ended leaves no file', async (t) => {
  const { box, dir } = await setup(t);
  const path = join(dir, 'vm', 'early.wav');
  const vm = VoicemailRecording.start({ session: box, codec: 'PCMU', payloadType: 0, path, maxMs: 10_000, onMaxLength: () => assert.fail('no max length') });
  const message = await vm.stop();
  assert.deepEqual(message, { path: null, durationMs: 0 });
  assert.equal(existsSync(path), false);
});
