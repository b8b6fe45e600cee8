import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeG711 } from '../../src/media/g711.ts';
import {
  NORTH_AMERICAN_BUSY,
  NORTH_AMERICAN_REORDER,
  NORTH_AMERICAN_RINGBACK,
  renderTone,
  toneFrames,
  ToneSpecError,
} from '../../src/media/tones.ts';
import type { ToneSpec } from '../../src/media/tones.ts';
import { goertzelPower, rms } from './support/goertzel.ts';

const ms = (value: number): number => (value * 8000) / 1000;

for (const codec of ['PCMU', 'PCMA'] as const) {
  test(`${codec} ringback: 440 and 480 Hz for 2 s, silence for 4 s, a 6 s loop of 20 ms frames`, () => {
    const frames = toneFrames(codec);
    assert.equal(frames.frameCount, 300);
    assert.equal(frames.payload.length, 300 * 160);
    const pcm = decodeG711(codec, frames.payload);

    const on = pcm.subarray(ms(100), ms(1900));
    const p440 = goertzelPower(on, 440);
    const p480 = goertzelPower(on, 480);
    assert.ok(p440 > 1e-4 && p480 > 1e-4, `440: ${p440}, 480: ${p480}`);
    for (const other of [350, 400, 620, 1000, 2000]) {
      const p = goertzelPower(on, other);
      assert.ok(p < p440 / 1000, `${other} Hz has ${p} against ${p440} at 440 Hz`);
    }
    assert.ok(Math.abs(10 * Math.log10(p440 / p480)) < 1, 'both tones at the same level');

    const off = pcm.subarray(ms(2000), ms(6000));
    assert.ok(rms(off) < 16, `off part rms ${rms(off)}`);
    assert.ok(goertzelPower(off, 440) < 1e-9);

    assert.ok(rms(pcm.subarray(ms(1990), ms(2000))) < rms(on), 'fades out at the end of the on part');
  });
}

test('the frames are computed once per codec and tone', () => {
  assert.equal(toneFrames('PCMU'), toneFrames('PCMU'));
  assert.notEqual(toneFrames('PCMU'), toneFrames('PCMA'));
});

test('a configurable cadence: UK ringback 400+450 Hz, 0.4 on 0.2 off 0.4 on 2.0 off', () => {
  const uk: ToneSpec = { frequencies: [400, 450], cadenceMs: [400, 200, 400, 2000] };
  const frames = toneFrames('PCMA', uk);
  assert.equal(frames.frameCount, 150);
  const pcm = decodeG711('PCMA', frames.payload);
  const loud = (from: number, to: number): boolean => rms(pcm.subarray(ms(from), ms(to))) > 500;
  assert.deepEqual(
    [loud(20, 380), loud(420, 580), loud(620, 980), loud(1020, 2980)],
    [true, false, true, false],
  );
  const first = pcm.subarray(ms(20), ms(380));
  assert.ok(goertzelPower(first, 400) > 1e-4 && goertzelPower(first, 450) > 1e-4);
});

test('busy and reorder: 480 + 620 Hz; reorder steps of 250 ms loop in 25 frames', () => {
  const busy = toneFrames('PCMU', NORTH_AMERICAN_BUSY);
  const reorder = toneFrames('PCMU', NORTH_AMERICAN_REORDER);
  assert.equal(busy.frameCount, 50);
  assert.equal(reorder.frameCount, 25);
  const pcm = decodeG711('PCMU', reorder.payload);
  const on = pcm.subarray(ms(10), ms(240));
  assert.ok(goertzelPower(on, 480) > 1e-5 && goertzelPower(on, 620) > 1e-5);
  assert.ok(goertzelPower(on, 440) < goertzelPower(on, 480) / 100);
  assert.ok(rms(pcm.subarray(ms(250), ms(500))) < 16);
});

test('a steady tone loops a second without a seam', () => {
  const pcm = renderTone({ frequencies: [350, 440], cadenceMs: [] });
  assert.equal(pcm.length, 8000);
  const looped = new Int16Array(16000);
  looped.set(pcm, 0);
  looped.set(pcm, 8000);
  const seam = looped.subarray(7840, 8160);
  assert.ok(goertzelPower(seam, 350) > 1e-4 && goertzelPower(seam, 440) > 1e-4);
  assert.ok(Math.abs((looped[8000] as number) - (looped[7999] as number)) < 2000);
});

test('tone descriptions that cannot be framed are ToneSpecErrors', () => {
  assert.throws(() => renderTone({ frequencies: [440], cadenceMs: [2010, 4000] }), ToneSpecError);
  assert.throws(() => renderTone({ frequencies: [440], cadenceMs: [0.1, 19.9] }), ToneSpecError);
  assert.throws(() => renderTone({ frequencies: [440], cadenceMs: [0, 20] }), ToneSpecError);
  assert.throws(() => renderTone({ frequencies: [], cadenceMs: [2000] }), ToneSpecError);
  assert.equal(NORTH_AMERICAN_RINGBACK.cadenceMs.length, 2);
});
