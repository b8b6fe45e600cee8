/**
 * Prompts: recorded audio (a WAV file's content or 16-bit samples) played once, or looped, over an RtpSession.
 * `encodePrompt` turns audio into G.711 frames once, so an IVR can keep its prompts encoded per codec.
 */
import type { FrameScheduler } from './frame-scheduler.ts';
import { playFrames } from './frame-player.ts';
import type { Playing } from './frame-player.ts';
import { decodeG711, encodeG711, g711Silence } from './g711.ts';
import type { RtpSession } from './rtp-session.ts';
import type { AudioCodecName, RemoteRtpEndpoint, RtpEndpoint } from './sdp.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from './tones.ts';
import type { WavAudio } from './wav.ts';
import { wavSamples } from './wav.ts';

export type { Playing } from './frame-player.ts';

/** Audio the PBX cannot send as 8 kHz mono G.711. */
export class PromptFormatError extends Error {
  override readonly name = 'PromptFormatError';
}

/** G.711 frames of the audio, the last one padded with silence. */
export function encodePrompt(audio: WavAudio | Int16Array, codec: AudioCodecName): Buffer {
  let encoded: Uint8Array;
  if (audio instanceof Int16Array) {
    encoded = encodeG711(codec, audio);
  } else {
    if (audio.sampleRate !== SAMPLE_RATE || audio.channels !== 1) {
      throw new PromptFormatError(`${audio.sampleRate} Hz, ${audio.channels} channels: prompts must be 8 kHz mono`);
    }
    // Same codec: the bytes as recorded, untouched; the other G.711 law goes through PCM.
    if (audio.format === codec) {
      encoded = audio.data;
    } else {
      const pcm = audio.format === 'pcm16' ? wavSamples(audio) : decodeG711(audio.format, audio.data);
      encoded = encodeG711(codec, pcm);
    }
  }
  if (encoded.length === 0) throw new PromptFormatError('the prompt holds no audio');
  const frames = Buffer.alloc(Math.ceil(encoded.length / FRAME_SAMPLES) * FRAME_SAMPLES, g711Silence(codec));
  frames.set(encoded, 0);
  return frames;
}

export interface PlaybackOptions {
  readonly session: RtpSession;
  readonly codec: AudioCodecName;
  readonly payloadType: number;
  /** Audio, or frames already made by encodePrompt for this codec. */
  readonly prompt: WavAudio | Int16Array | Buffer;
  readonly remote?: RtpEndpoint | RemoteRtpEndpoint;
  readonly loop?: boolean;
  readonly scheduler?: FrameScheduler;
}

export function startPlayback(options: PlaybackOptions): Playing {
  if (options.remote !== undefined) options.session.setRemote(options.remote);
  const frames = Buffer.isBuffer(options.prompt) ? options.prompt : encodePrompt(options.prompt, options.codec);
  return playFrames({
    session: options.session,
    payloadType: options.payloadType,
    frames,
    loop: options.loop ?? false,
    ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
  });
}
