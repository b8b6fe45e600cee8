/**
 * Records what a peer sends on an RtpSession into a 16-bit PCM WAV file, decoding G.711 on the fly. Lost packets
 * become silence of their length (read from the RTP timestamps), so the file keeps real time; late or repeated
 * packets are dropped rather than reordered.
 */
import { decodeG711 } from './g711.ts';
import type { RtpPacket } from './rtp-packet.ts';
import type { RtpSession } from './rtp-session.ts';
import type { AudioCodecName } from './sdp.ts';
import { SAMPLE_RATE } from './tones.ts';
import { pcm16ToBytes, WavFileWriter } from './wav.ts';

export interface RecordOptions {
  /**
   * Payload types to record and their codec (default: the static ones, 0 PCMU and 8 PCMA); other packets
   * (telephone-event, comfort noise) are left out.
   */
  readonly payloadTypes?: Readonly<Record<number, AudioCodecName>>;
  /** The longest gap filled with silence; a larger jump (a new timeline) is joined without a gap. */
  readonly maxGapMs?: number;
}

export interface Recording {
  /** Stops recording and finishes the file; resolves with the number of samples written. */
  stop(): Promise<number>;
}

const BYTES_PER_SAMPLE = 2;

const STATIC_G711: Readonly<Record<number, AudioCodecName>> = { 0: 'PCMU', 8: 'PCMA' };

export async function recordToWav(session: RtpSession, path: string, options: RecordOptions = {}): Promise<Recording> {
  const writer = await WavFileWriter.open(path, 'pcm16', SAMPLE_RATE);
  const payloadTypes = options.payloadTypes ?? STATIC_G711;
  const maxGap = ((options.maxGapMs ?? 1000) * SAMPLE_RATE) / 1000;
  let ssrc: number | undefined;
  let expected = 0;

  const onPacket = (packet: RtpPacket): void => {
    const codec = payloadTypes[packet.payloadType];
    if (codec === undefined || packet.payload.length === 0) return;
    if (packet.ssrc === ssrc) {
      // Signed 32-bit difference: timestamps wrap around.
      const ahead = (packet.timestamp - expected) | 0;
      if (ahead < 0) return;
      if (ahead > 0 && ahead <= maxGap) writer.write(Buffer.alloc(ahead * BYTES_PER_SAMPLE));
    }
    ssrc = packet.ssrc;
    writer.write(pcm16ToBytes(decodeG711(codec, packet.payload)));
    expected = (packet.timestamp + packet.payload.length) >>> 0;
  };
  const unsubscribe = session.onPacket(onPacket);
  let stopped: Promise<number> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        unsubscribe();
        return (await writer.close()) / BYTES_PER_SAMPLE;
      })();
      return stopped;
    },
  };
}
