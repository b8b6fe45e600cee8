/** G.711 (PCMU / PCMA) to and from 16-bit linear PCM, on the alawmulaw package. */
import alawmulaw from 'alawmulaw';
import type { AudioCodecName } from './sdp.ts';

const { alaw, mulaw } = alawmulaw;

export function encodeG711(codec: AudioCodecName, samples: Int16Array): Uint8Array {
  return codec === 'PCMU' ? mulaw.encode(samples) : alaw.encode(samples);
}

export function decodeG711(codec: AudioCodecName, bytes: Uint8Array): Int16Array {
  return codec === 'PCMU' ? mulaw.decode(bytes) : alaw.decode(bytes);
}

/** The byte that decodes to silence: what fills a lost packet's place in a recording or an "off" tone segment. */
export function g711Silence(codec: AudioCodecName): number {
  return (codec === 'PCMU' ? mulaw.encodeSample(0) : alaw.encodeSample(0)) & 0xff;
}
