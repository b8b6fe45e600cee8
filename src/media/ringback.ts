/**
 * Ringback toward a party while the other leg rings: the precomputed tone frames sent over an RtpSession, one
 * packet per scheduler tick. Each stream owns a few packet buffers with the constant header bytes (version, PT,
 * SSRC) written once; a frame only rewrites sequence, timestamp and payload, so the hot path allocates nothing.
 */
import { sharedFrameScheduler } from './frame-scheduler.ts';
import type { FrameScheduler, PacedSource } from './frame-scheduler.ts';
import { RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.ts';
import type { RtpSession } from './rtp-session.ts';
import type { AudioCodecName, RtpEndpoint } from './sdp.ts';
import { FRAME_SAMPLES, NORTH_AMERICAN_RINGBACK, toneFrames } from './tones.ts';
import type { ToneFrames, ToneSpec } from './tones.ts';

export interface RingbackOptions {
  readonly session: RtpSession;
  readonly codec: AudioCodecName;
  readonly payloadType: number;
  /** Sets the session's remote first (from the answer's SDP); otherwise the session's current one is used. */
  readonly remote?: RtpEndpoint;
  readonly tone?: ToneSpec;
  readonly scheduler?: FrameScheduler;
}

export interface Ringback {
  stop(): void;
}

/**
 * Packets handed to the socket are sent on a later turn of the event loop (dgram resolves the address first), so a
 * buffer is reused only after more sends than a tick can make: maxBurst + a margin.
 */
const SLOT_MARGIN = 3;
const PACKET_BYTES = RTP_HEADER_BYTES + FRAME_SAMPLES;

class TonePlayer implements PacedSource {
  private readonly slots: Buffer[];
  private slot = 0;

  constructor(
    private readonly session: RtpSession,
    private readonly frames: ToneFrames,
    private readonly payloadType: number,
    slotCount: number,
  ) {
    const memory = Buffer.allocUnsafe(slotCount * PACKET_BYTES);
    this.slots = [];
    for (let i = 0; i < slotCount; i++) {
      const packet = memory.subarray(i * PACKET_BYTES, (i + 1) * PACKET_BYTES);
      writeRtpHeader(packet, 0, { marker: false, payloadType, sequenceNumber: 0, timestamp: 0, ssrc: session.ssrc });
      this.slots.push(packet);
    }
  }

  frame(index: number, tick: number): void {
    const packet = this.slots[this.slot] as Buffer;
    this.slot = (this.slot + 1) % this.slots.length;
    // RFC 3551 §4.1: the marker bit flags the first packet of a talkspurt.
    packet[1] = (index === 0 ? 0x80 : 0) | this.payloadType;
    packet.writeUInt16BE(this.session.nextSequence(), 2);
    // Timestamps follow the scheduler's absolute ticks, so any stream on this session continues the same timeline.
    packet.writeUInt32BE((this.session.timestampBase + tick * FRAME_SAMPLES) >>> 0, 4);
    const offset = (index % this.frames.frameCount) * FRAME_SAMPLES;
    this.frames.payload.copy(packet, RTP_HEADER_BYTES, offset, offset + FRAME_SAMPLES);
    this.session.sendPacket(packet);
  }
}

/** Starts ringback on a session; stop() is idempotent. */
export function startRingback(options: RingbackOptions): Ringback {
  if (options.remote !== undefined) options.session.setRemote(options.remote);
  const scheduler = options.scheduler ?? sharedFrameScheduler();
  if (scheduler.frameMs * 8 !== FRAME_SAMPLES) {
    throw new RangeError(`ringback frames are ${FRAME_SAMPLES} samples; the scheduler ticks every ${scheduler.frameMs} ms`);
  }
  const player = new TonePlayer(
    options.session,
    toneFrames(options.codec, options.tone ?? NORTH_AMERICAN_RINGBACK),
    options.payloadType,
    scheduler.maxBurst + SLOT_MARGIN,
  );
  const handle = scheduler.add(player);
  return { stop: () => handle.stop() };
}
