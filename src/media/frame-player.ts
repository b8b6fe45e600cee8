/**
 * Sends encoded G.711 frames over an RtpSession, one packet per scheduler tick: the engine under ringback, tones
 * and prompts. Each player owns a few packet buffers with the constant header bytes (version, PT, SSRC) written
 * once; a frame only rewrites marker, sequence, timestamp and payload, so the hot path allocates nothing.
 */
import { sharedFrameScheduler } from './frame-scheduler.ts';
import type { FrameScheduler, PacedHandle, PacedSource } from './frame-scheduler.ts';
import { RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.ts';
import type { RtpSession } from './rtp-session.ts';
import { FRAME_SAMPLES } from './tones.ts';

/**
 * Packets handed to the socket are sent on a later turn of the event loop (dgram resolves the address first), so a
 * buffer is reused only after more sends than one tick can make: maxBurst + a margin.
 */
const SLOT_MARGIN = 3;
const PACKET_BYTES = RTP_HEADER_BYTES + FRAME_SAMPLES;

export interface FramePlayerOptions {
  readonly session: RtpSession;
  readonly payloadType: number;
  /** frameCount * 160 bytes of G.711. */
  readonly frames: Buffer;
  /** Start over after the last frame instead of finishing. */
  readonly loop: boolean;
  readonly scheduler?: FrameScheduler;
}

export interface Playing {
  /** Stops sending; idempotent. `finished` resolves. */
  stop(): void;
  /** Resolves once the last frame left (or stop() was called). */
  readonly finished: Promise<void>;
}

/** The scheduler's tick and the 160-sample frames must agree, or timestamps would not follow real time. */
export class FrameSizeError extends Error {
  override readonly name = 'FrameSizeError';
}

class FramePlayer implements PacedSource {
  private readonly slots: Buffer[] = [];
  private slot = 0;
  private sent = false;
  private readonly frameCount: number;
  handle: PacedHandle | undefined;

  constructor(
    private readonly options: FramePlayerOptions,
    slotCount: number,
    private readonly done: () => void,
  ) {
    this.frameCount = options.frames.length / FRAME_SAMPLES;
    const memory = Buffer.allocUnsafe(slotCount * PACKET_BYTES);
    for (let i = 0; i < slotCount; i++) {
      const packet = memory.subarray(i * PACKET_BYTES, (i + 1) * PACKET_BYTES);
      writeRtpHeader(packet, 0, {
        marker: false,
        payloadType: options.payloadType,
        sequenceNumber: 0,
        timestamp: 0,
        ssrc: options.session.ssrc,
      });
      this.slots.push(packet);
    }
  }

  frame(index: number, tick: number): void {
    const { session, frames, payloadType, loop } = this.options;
    if (!loop && index >= this.frameCount) {
      // Frames dropped after a stall can carry the index past the end without the last one being sent.
      this.stop();
      return;
    }
    const packet = this.slots[this.slot] as Buffer;
    this.slot = (this.slot + 1) % this.slots.length;
    // RFC 3551 §4.1: the marker bit flags the first packet of a talkspurt (index 0 unless a stall dropped it).
    packet[1] = (this.sent ? 0 : 0x80) | payloadType;
    this.sent = true;
    packet.writeUInt16BE(session.nextSequence(), 2);
    // Timestamps follow the scheduler's absolute ticks, so any stream on this session continues the same timeline.
    packet.writeUInt32BE((session.timestampBase + tick * FRAME_SAMPLES) >>> 0, 4);
    const offset = (index % this.frameCount) * FRAME_SAMPLES;
    frames.copy(packet, RTP_HEADER_BYTES, offset, offset + FRAME_SAMPLES);
    session.sendPacket(packet);
    if (!loop && index === this.frameCount - 1) this.stop();
  }

  stop(): void {
    this.handle?.stop();
    this.done();
  }
}

/** Starts sending the frames from the scheduler's next tick. */
export function playFrames(options: FramePlayerOptions): Playing {
  const scheduler = options.scheduler ?? sharedFrameScheduler();
  if ((scheduler.frameMs * 8000) / 1000 !== FRAME_SAMPLES) {
    throw new FrameSizeError(`frames are ${FRAME_SAMPLES} samples; the scheduler ticks every ${scheduler.frameMs} ms`);
  }
  if (options.frames.length === 0 || options.frames.length % FRAME_SAMPLES !== 0) {
    throw new FrameSizeError(`${options.frames.length} bytes are not whole frames of ${FRAME_SAMPLES}`);
  }
  let resolve: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    resolve = r;
  });
  const player = new FramePlayer(options, scheduler.maxBurst + SLOT_MARGIN, () => resolve());
  player.handle = scheduler.add(player);
  return { stop: () => player.stop(), finished };
}
