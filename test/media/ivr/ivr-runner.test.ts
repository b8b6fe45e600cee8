import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IvrStep } from '../../../src/config/schema.ts';
import { sendDtmf } from '../../../src/media/dtmf.ts';
import { listenForInbandDtmf } from '../../../src/media/inband-dtmf.ts';
import { IvrRunner } from '../../../src/media/ivr/ivr-runner.ts';
import { RtpSession } from '../../../src/media/rtp-session.ts';
import { renderTone } from '../../../src/media/tones.ts';
import { encodeWav, pcm16ToBytes } from '../../../src/media/wav.ts';
import { loopbackAllocator } from '../support/udp.ts';

/** The IVR's session and a caller's, pointed at each other on loopback. */
async function pair(t: { after: (fn: () => Promise<void>) => void }): Promise<{ ivr: RtpSession; caller: RtpSession }> {
  const allocator = await loopbackAllocator();
  const ivr = await RtpSession.open({ host: '127.0.0.1', allocator });
  const caller = await RtpSession.open({ host: '127.0.0.1', allocator });
  ivr.setRemote({ address: '127.0.0.1', port: caller.localPort });
  caller.setRemote({ address: '127.0.0.1', port: ivr.localPort });
  t.after(async () => {
    await ivr.close();
    await caller.close();
  });
  return { ivr, caller };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

test('say_digits "${balance}" reaches the caller as in-band DTMF 3, 0, 0, then the IVR hangs up', async (t) => {
  const { ivr, caller } = await pair(t);
  const heard: string[] = [];
  listenForInbandDtmf(caller, { 0: 'PCMU' }, (d) => heard.push(d));
  const steps: IvrStep[] = [{ type: 'play', prompt: 'beep' }, { type: 'say_digits', value: '${balance}' }, { type: 'hangup' }];
  const hungUp = new Promise<string>((resolve, reject) => {
    const runner = new IvrRunner({
      session: ivr,
      media: { codec: 'PCMU', payloadType: 0 },
      steps,
      variables: { balance: '300' },
      onHangup: resolve,
      onError: reject,
    });
    runner.start();
  });
  assert.equal(await withTimeout(hungUp, 5000, 'IVR hang-up'), 'ivr_hangup');
  assert.deepEqual(heard, ['3', '0', '0']);
});

test('collect takes RFC 4733 digits from the caller; the menu plays the chosen WAV prompt', async (t) => {
  const { ivr, caller } = await pair(t);
  const dir = mkdtempSync(join(tmpdir(), 'ivr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The "prompt" is a 2 digit as tones, so the caller can tell which branch played.
  const two = renderTone({ frequencies: [697, 1336], cadenceMs: [200, 100], levelDbm0: -10 });
  writeFileSync(join(dir, 'two.wav'), encodeWav({ format: 'pcm16', data: pcm16ToBytes(two) }));
  const steps: IvrStep[] = [
    { type: 'collect', variable: 'choice', max_digits: 2, terminator: '#', timeout_seconds: 5 },
    { type: 'menu', variable: 'choice', choices: { '42': 'two' }, otherwise: 'bye' },
    { type: 'play', prompt: join(dir, 'two.wav'), label: 'two' },
    { type: 'hangup', label: 'bye' },
  ];
  const heard: string[] = [];
  listenForInbandDtmf(caller, { 8: 'PCMA' }, (d) => heard.push(d));
  let runner!: IvrRunner;
  const hungUp = new Promise<string>((resolve, reject) => {
    runner = new IvrRunner({
      session: ivr,
      media: { codec: 'PCMA', payloadType: 8, telephoneEvent: 101 },
      steps,
      variables: {},
      onHangup: resolve,
      onError: reject,
    });
    runner.start();
  });
  await sendDtmf({ session: caller, payloadType: 101, digit: '4' });
  await sendDtmf({ session: caller, payloadType: 101, digit: '2' });
  assert.equal(await withTimeout(hungUp, 5000, 'IVR hang-up'), 'ivr_hangup');
  assert.equal(runner.variables.choice, '42');
  assert.deepEqual(heard, ['2']);
});

test('a missing prompt file is reported and skipped; stop() silences the IVR at once', async (t) => {
  const { ivr, caller } = await pair(t);
  const errors: Error[] = [];
  let hangups = 0;
  const runner = new IvrRunner({
    session: ivr,
    media: { codec: 'PCMU', payloadType: 0 },
    steps: [{ type: 'play', prompt: '/nonexistent/x.wav' }, { type: 'play', prompt: 'ringback' }],
    variables: {},
    onHangup: () => (hangups += 1),
    onError: (e) => errors.push(e),
  });
  const firstPacket = new Promise<void>((resolve) => caller.onPacket(() => resolve()));
  runner.start();
  await withTimeout(firstPacket, 3000, 'ringback packets');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /ENOENT/);
  runner.stop();
  assert.ok(runner.ended);
  const sent = ivr.stats.packetsSent;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(ivr.stats.packetsSent <= sent + 1, `still sending after stop: ${ivr.stats.packetsSent - sent}`);
  assert.equal(hangups, 0, 'the caller left: the IVR does not hang up on its own');
});
