/**
 * Call-progress tones, precomputed once per codec and cadence as G.711 frames of 20 ms (160 samples at 8 kHz).
 * A stream then only copies frame `index % frameCount`: a whole cadence period loops.
 */
import { encodeG711 } from './g711.ts';
import type { AudioCodecName } from './sdp.ts';

export const SAMPLE_RATE = 8000;
export const FRAME_SAMPLES = 160;
const FRAME_MS = (FRAME_SAMPLES * 1000) / SAMPLE_RATE;

/**
 * A tone: frequencies summed, played on/off by the cadence. `cadenceMs` alternates on and off durations, starting
 * with on ([2000, 4000]: 2 s on, 4 s off); the whole period must be a multiple of 20 ms so it loops on frame
 * boundaries. An empty cadence is a steady tone.
 */
export interface ToneSpec {
  readonly frequencies: readonly number[];
  readonly cadenceMs: readonly number[];
  /** Level of each frequency in dBm0. */
  readonly levelDbm0?: number;
}

/** ANSI T1.401 / North American ringback: 440 + 480 Hz at -19 dBm0 each, 2 s on, 4 s off. */
export const NORTH_AMERICAN_RINGBACK: ToneSpec = { frequencies: [440, 480], cadenceMs: [2000, 4000], levelDbm0: -19 };

/** North American busy: 480 + 620 Hz, 0.5 s on, 0.5 s off. */
export const NORTH_AMERICAN_BUSY: ToneSpec = { frequencies: [480, 620], cadenceMs: [500, 500], levelDbm0: -24 };

/** North American reorder (fast busy, all circuits busy): 480 + 620 Hz, 0.25 s on, 0.25 s off. */
export const NORTH_AMERICAN_REORDER: ToneSpec = { frequencies: [480, 620], cadenceMs: [250, 250], levelDbm0: -24 };

/** ITU-T G.711 puts 0 dBm0 at a sine peak of 5664 on the 14-bit mu-law scale: 22656 in 16-bit samples. */
const ZERO_DBM0_PEAK = 22656;
/** Fade in and out over 2 ms so on/off edges do not click. */
const RAMP_SAMPLES = 16;

/** A looped sequence of encoded frames. */
export interface ToneFrames {
  readonly codec: AudioCodecName;
  readonly frameCount: number;
  /** frameCount * 160 bytes. */
  readonly payload: Buffer;
}

/** Invalid tone description. */
export class ToneSpecError extends Error {
  override readonly name = 'ToneSpecError';
}

/** The tone as 16-bit PCM over one cadence period (one second for a steady tone). */
export function renderTone(spec: ToneSpec): Int16Array {
  if (spec.frequencies.length === 0) throw new ToneSpecError('a tone needs at least one frequency');
  const segments = spec.cadenceMs.length === 0 ? [1000] : spec.cadenceMs;
  for (const ms of segments) {
    if (!(ms > 0) || !Number.isInteger((ms * SAMPLE_RATE) / 1000)) {
      throw new ToneSpecError(`cadence step ${ms} ms is not a whole number of samples`);
    }
  }
  const period = segments.reduce((sum, ms) => sum + ms, 0);
  if (period % FRAME_MS !== 0) throw new ToneSpecError(`cadence period ${period} ms is not a multiple of 20 ms`);
  const steady = spec.cadenceMs.length === 0;
  const total = (period * SAMPLE_RATE) / 1000;
  const amplitude = ZERO_DBM0_PEAK * 10 ** ((spec.levelDbm0 ?? -19) / 20);
  const pcm = new Int16Array(total);
  let start = 0;
  for (const [i, ms] of segments.entries()) {
    const length = (ms * SAMPLE_RATE) / 1000;
    if (i % 2 === 0) {
      for (let n = 0; n < length; n++) {
        // Phase runs on from the period start so a steady tone loops without a seam at whole-hertz frequencies.
        const t = (start + n) / SAMPLE_RATE;
        let value = 0;
        for (const f of spec.frequencies) value += Math.sin(2 * Math.PI * f * t);
        const ramp = steady ? 1 : Math.min(1, (n + 1) / RAMP_SAMPLES, (length - n) / RAMP_SAMPLES);
        pcm[start + n] = Math.round(value * amplitude * ramp);
      }
    }
    start += length;
  }
  return pcm;
}

const cache = new Map<string, ToneFrames>();
/** Per spec object, so the usual call (the same configured spec every time) skips building the key. */
const bySpec = new WeakMap<ToneSpec, Partial<Record<AudioCodecName, ToneFrames>>>();

/** The tone's frames in a codec, computed on first use and kept for the life of the process. */
export function toneFrames(codec: AudioCodecName, spec: ToneSpec = NORTH_AMERICAN_RINGBACK): ToneFrames {
  let known = bySpec.get(spec);
  const found = known?.[codec];
  if (found !== undefined) return found;
  const key = `${codec}|${spec.frequencies.join(',')}|${spec.cadenceMs.join(',')}|${spec.levelDbm0 ?? ''}`;
  let frames = cache.get(key);
  if (frames === undefined) {
    const encoded = encodeG711(codec, renderTone(spec));
    const payload = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    frames = { codec, frameCount: payload.length / FRAME_SAMPLES, payload };
    cache.set(key, frames);
  }
  if (known === undefined) {
    known = {};
    bySpec.set(spec, known);
  }
  known[codec] = frames;
  return frames;
}
