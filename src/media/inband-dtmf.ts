/**
 * DTMF heard in the audio itself, for peers that send tones instead of RFC 4733 events (old gateways, some
 * trunks). Goertzel filters on the eight DTMF frequencies over blocks of 205 samples (the classic size: bins land
 * close to every DTMF frequency at 8 kHz), checked as ITU-T Q.24 receivers are: a level floor, the strongest row
 * and column standing clear of their neighbours, twist within limits, and most of the block's energy in the pair.
 * A digit is reported after two blocks agree (about 50 ms), and again only after a pause.
 */

import { decodeG711 } from './g711.ts';
import type { RtpSession } from './rtp-session.ts';
import type { AudioCodecName } from './sdp.ts';

const ROWS = [697, 770, 852, 941];
const COLUMNS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];
const BLOCK = 205;
const SAMPLE_RATE = 8000;

/** Per-tone power floor: about -30 dBm0 (powers are normalised so a full-scale sine gives 0.25). */
const MIN_TONE_POWER = 5e-5;
/** The strongest row (column) must beat the next one by 6 dB... */
const DOMINANCE = 4;
/**
 * ...the high (column) tone may be up to 8 dB stronger than the low one (standard twist: lines lose more of the
 * high group, so phones send it louder), or up to 4 dB weaker (reverse twist)...
 */
const MAX_STANDARD_TWIST = 10 ** (8 / 10);
const MAX_REVERSE_TWIST = 10 ** (4 / 10);
/** ...and the two tones must carry most of the block's energy, which speech and music do not. */
const MIN_PURITY = 0.6;

const COEFFICIENTS = [...ROWS, ...COLUMNS].map((f) => 2 * Math.cos((2 * Math.PI * f) / SAMPLE_RATE));

export class InbandDtmfDetector {
  private readonly block = new Float64Array(BLOCK);
  private filled = 0;
  private readonly powers = new Float64Array(8);
  private candidate: string | undefined;
  private reported: string | undefined;

  constructor(private readonly onDigit: (digit: string) => void) {}

  /** Feeds 16-bit samples at 8 kHz, in any chunk size. */
  process(samples: Int16Array): void {
    for (let i = 0; i < samples.length; i++) {
      this.block[this.filled] = (samples[i] as number) / 32768;
      this.filled += 1;
      if (this.filled === BLOCK) {
        this.filled = 0;
        this.decide(this.detect());
      }
    }
  }

  private detect(): string | undefined {
    let energy = 0;
    for (let i = 0; i < BLOCK; i++) energy += (this.block[i] as number) ** 2;
    energy /= BLOCK;
    for (let k = 0; k < 8; k++) {
      const coefficient = COEFFICIENTS[k] as number;
      let previous = 0;
      let beforePrevious = 0;
      for (let i = 0; i < BLOCK; i++) {
        const current = (this.block[i] as number) + coefficient * previous - beforePrevious;
        beforePrevious = previous;
        previous = current;
      }
      this.powers[k] =
        (previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious) /
        (BLOCK * BLOCK);
    }
    const row = strongest(this.powers, 0);
    const column = strongest(this.powers, 4);
    if (row === undefined || column === undefined) return undefined;
    const rowPower = this.powers[row] as number;
    const columnPower = this.powers[column + 4] as number;
    if (rowPower < MIN_TONE_POWER || columnPower < MIN_TONE_POWER) return undefined;
    if (columnPower > rowPower * MAX_STANDARD_TWIST || rowPower > columnPower * MAX_REVERSE_TWIST) return undefined;
    // A pure sine of power p (as normalised here) has mean square 2p.
    if (2 * (rowPower + columnPower) < MIN_PURITY * energy) return undefined;
    return KEYS[row]?.[column];
  }

  private decide(digit: string | undefined): void {
    if (digit !== undefined && digit === this.candidate && digit !== this.reported) {
      this.reported = digit;
      this.onDigit(digit);
    }
    if (digit === undefined) this.reported = undefined;
    this.candidate = digit;
  }
}

/** Index (0-3) of the strongest of four powers from `offset`, if it beats the others by DOMINANCE. */
function strongest(powers: Float64Array, offset: number): number | undefined {
  let best = 0;
  for (let i = 1; i < 4; i++) if ((powers[offset + i] as number) > (powers[offset + best] as number)) best = i;
  const bestPower = powers[offset + best] as number;
  for (let i = 0; i < 4; i++) {
    if (i !== best && (powers[offset + i] as number) * DOMINANCE > bestPower) return undefined;
  }
  return best;
}

/** Runs a detector on the audio a session receives; returns the function that stops listening. */
export function listenForInbandDtmf(
  session: RtpSession,
  payloadTypes: Readonly<Record<number, AudioCodecName>>,
  onDigit: (digit: string) => void,
): () => void {
  const detector = new InbandDtmfDetector(onDigit);
  return session.onPacket((packet) => {
    const codec = payloadTypes[packet.payloadType];
    if (codec !== undefined) detector.process(decodeG711(codec, packet.payload));
  });
}
