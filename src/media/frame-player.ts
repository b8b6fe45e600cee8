/**
 * Sends encoded G.711 frames over an RtpSession, one packet per scheduler tick: the engine under ringback, tones
 * and prompts. Each player owns a few packet buffers with the constant header bytes (version, PT, SSRC) written
 * once, on its first frame; a frame only rewrites marker, sequence, timestamp and payload, so the hot path
 * allocates nothing. A ringback stopped before its first tick (the other party answered at once) costs no buffer.
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

/**
 * One playing stream; it is also the `Playing` handed out, so starting a stream makes no closures. Its `finished`
 * promise is made only when someone asks for it (ringback never does).
 */
class FramePlayer implements PacedSource, Playing {
  private slots: Buffer[] | null = null;
  private slot = 0;
  private sent = false;
  private stopped = false;
  private readonly frameCount: number;
  private finishedPromise: Promise<void> | null = null;
  private resolveFinished: (() => void) | null = null;
  handle: PacedHandle | undefined;

  constructor(
    private readonly options: FramePlayerOptions,
    private readonly slotCount: number,
  ) {
    this.frameCount = options.frames.length / FRAME_SAMPLES;
  }

  get finished(): Promise<void> {
    if (this.finishedPromise === null) {
      this.finishedPromise = this.stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.resolveFinished = resolve;
          });
    }
    return this.finishedPromise;
  }

  private makeSlots(): Buffer[] {
    const { payloadType, session } = this.options;
    const slots: Buffer[] = [];
    const memory = Buffer.allocUnsafe(this.slotCount * PACKET_BYTES);
    for (let i = 0; i < this.slotCount; i++) {
      const packet = memory.subarray(i * PACKET_BYTES, (i + 1) * PACKET_BYTES);
      writeRtpHeader(packet, 0, { marker: false, payloadType, sequenceNumber: 0, timestamp: 0, ssrc: session.ssrc });
      slots.push(packet);
    }
    this.slots = slots;
    return slots;
  }

  frame(index: number, tick: number): void {
    const { session, frames, payloadType, loop } = this.options;
    if (!loop && index >= this.frameCount) {
      // Frames dropped after a stall can carry the index past the end without the last one being sent.
      this.stop();
      return;
    }
    const slots = this.slots ?? this.makeSlots();
    const packet = slots[this.slot] as Buffer;
    this.slot = (this.slot + 1) % slots.length;
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
    this.stopped = true;
    this.resolveFinished?.();
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
  const player = new FramePlayer(options, scheduler.maxBurst + SLOT_MARGIN);
  player.handle = scheduler.add(player);
  return player;
}
