/**
 * The media layer as the call layer sees it: sessions on ports of the configured range, all paced by one
 * scheduler. One per server, built by app.ts from `config.media`.
 */
import type { MediaConfig } from '../config/schema.ts';
import { sharedFrameScheduler } from './frame-scheduler.ts';
import type { FrameScheduler } from './frame-scheduler.ts';
import { startRingback } from './ringback.ts';
import type { Ringback, RingbackOptions } from './ringback.ts';
import { RtpPortAllocator } from './rtp-port-allocator.ts';
import { RtpSession } from './rtp-session.ts';
import type { RtpSessionOptions } from './rtp-session.ts';

export interface MediaEngine {
  readonly host: string;
  readonly allocator: RtpPortAllocator;
  readonly scheduler: FrameScheduler;
  openSession(options?: Omit<RtpSessionOptions, 'host' | 'allocator'>): Promise<RtpSession>;
  startRingback(options: Omit<RingbackOptions, 'scheduler'>): Ringback;
}

export function createMediaEngine(
  config: MediaConfig,
  scheduler: FrameScheduler = sharedFrameScheduler(),
): MediaEngine {
  const allocator = new RtpPortAllocator(config.rtp_port_min, config.rtp_port_max);
  return {
    host: config.rtp_host,
    allocator,
    scheduler,
    openSession: (options = {}) => RtpSession.open({ ...options, host: config.rtp_host, allocator }),
    startRingback: (options) =>
      startRingback({
        session: options.session,
        codec: options.codec,
        payloadType: options.payloadType,
        scheduler,
        ...(options.remote !== undefined ? { remote: options.remote } : {}),
        ...(options.tone !== undefined ? { tone: options.tone } : {}),
      }),
  };
}
