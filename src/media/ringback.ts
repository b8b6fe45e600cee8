/**
 * Ringback toward a party while the other leg rings: the tone's precomputed frames looped over an RtpSession,
 * paced by the shared scheduler.
 */
import type { FrameScheduler } from './frame-scheduler.ts';
import { playFrames } from './frame-player.ts';
import type { RtpSession } from './rtp-session.ts';
import type { AudioCodecName, RemoteRtpEndpoint, RtpEndpoint } from './sdp.ts';
import { NORTH_AMERICAN_RINGBACK, toneFrames } from './tones.ts';
import type { ToneSpec } from './tones.ts';

export interface RingbackOptions {
  readonly session: RtpSession;
  readonly codec: AudioCodecName;
  readonly payloadType: number;
  /** Sets the session's remote first (from the answer's SDP); otherwise the session's current one is used. */
  readonly remote?: RtpEndpoint | RemoteRtpEndpoint;
  /** Another cadence or another tone (busy, reorder); North American ringback by default. */
  readonly tone?: ToneSpec;
  readonly scheduler?: FrameScheduler;
}

export interface Ringback {
  stop(): void;
}

/** Starts ringback on a session; stop() is idempotent. */
export function startRingback(options: RingbackOptions): Ringback {
  if (options.remote !== undefined) options.session.setRemote(options.remote);
  // The player is the handle: its stop() is a method, so nothing is wrapped per call.
  return playFrames({
    session: options.session,
    payloadType: options.payloadType,
    frames: toneFrames(options.codec, options.tone ?? NORTH_AMERICAN_RINGBACK).payload,
    loop: true,
    ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
  });
}
