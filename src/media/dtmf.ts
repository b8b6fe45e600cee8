/**
 * DTMF as RFC 4733 telephone-events: reading the events a phone sends (digits reported once, whether the three
 * end packets all arrive, some, or none) and sending a digit the way RFC 4733 §2.5 asks.
 */
import { sharedFrameScheduler } from './frame-scheduler.ts';
import type { FrameScheduler, PacedSource } from './frame-scheduler.ts';
import type { RtpPacket } from './rtp-packet.ts';
import type { RtpSession } from './rtp-session.ts';
import { SAMPLE_RATE } from './tones.ts';

/** Event codes 0-16 of RFC 4733 §3.2; 16 (flash) is written "!". */
const EVENT_DIGITS = '0123456789*#ABCD!';
const EVENT_BLOCK_BYTES = 4;

export interface TelephoneEvent {
  readonly event: number;
  readonly end: boolean;
  /** Power level in -dBm0 (0-63). */
  readonly volume: number;
  /** In timestamp units since the event began. */
  readonly duration: number;
}

export class DtmfError extends Error {
  override readonly name = 'DtmfError';
}

export function eventToDigit(event: number): string | undefined {
  return EVENT_DIGITS[event];
}

export function digitToEvent(digit: string): number {
  const event = EVENT_DIGITS.indexOf(digit.toUpperCase());
  if (digit.length !== 1 || event < 0) throw new DtmfError(`"${digit}" is not a DTMF digit`);
  return event;
}

/**
 * The event blocks of a telephone-event payload. Usually one; RFC 4733 §2.5.1.5 lets a sender pack earlier,
 * ended events in front of the current one.
 */
export function parseTelephoneEvents(payload: Uint8Array): TelephoneEvent[] {
  if (payload.length === 0 || payload.length % EVENT_BLOCK_BYTES !== 0) {
    throw new DtmfError(`telephone-event payload of ${payload.length} bytes`);
  }
  const events: TelephoneEvent[] = [];
  for (let offset = 0; offset < payload.length; offset += EVENT_BLOCK_BYTES) {
    const flags = payload[offset + 1] as number;
    events.push({
      event: payload[offset] as number,
      end: (flags & 0x80) !== 0,
      volume: flags & 0x3f,
      duration: ((payload[offset + 2] as number) << 8) | (payload[offset + 3] as number),
    });
  }
  return events;
}

export function writeTelephoneEvent(target: Buffer, offset: number, event: TelephoneEvent): void {
  target[offset] = event.event;
  target[offset + 1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  target.writeUInt16BE(event.duration & 0xffff, offset + 2);
}

export interface ReceivedDigit {
  readonly digit: string;
  /** Length of the key press in timestamp units (8 kHz: 800 is 100 ms). */
  readonly duration: number;
  /** RTP timestamp of the event's start: what tells one press from the next. */
  readonly timestamp: number;
}

/** How many recent event starts are remembered to drop the repeated end packets of an event already reported. */
const REMEMBERED_EVENTS = 16;

/**
 * Turns telephone-event packets into digits. A digit is reported at its first end packet; if every end packet was
 * lost, it is reported when the next event begins, or on flush().
 */
export class DtmfReceiver {
  private readonly reported = new Float64Array(REMEMBERED_EVENTS).fill(-1);
  private reportedNext = 0;
  private pending: ReceivedDigit | undefined;
  /** Packets whose payload was no telephone-event: counted, since they come from the network and must not throw. */
  malformed = 0;

  constructor(
    readonly payloadType: number,
    private readonly onDigit: (digit: ReceivedDigit) => void,
  ) {}

  /** Feeds one received packet; packets of other payload types are ignored. */
  receive(packet: RtpPacket): void {
    if (packet.payloadType !== this.payloadType) return;
    if (packet.payload.length === 0 || packet.payload.length % EVENT_BLOCK_BYTES !== 0) {
      this.malformed += 1;
      return;
    }
    let start = packet.timestamp;
    for (const block of parseTelephoneEvents(packet.payload)) {
      this.block(block, start);
      start = (start + block.duration) >>> 0;
    }
  }

  /** Reports an event whose end never came (e.g. when the stream stops). */
  flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) this.report(pending);
  }

  private block(block: TelephoneEvent, timestamp: number): void {
    if (this.wasReported(timestamp)) return;
    const digit = eventToDigit(block.event);
    if (this.pending !== undefined && this.pending.timestamp !== timestamp) this.flush();
    if (digit === undefined) return;
    const current: ReceivedDigit = { digit, duration: block.duration, timestamp };
    if (block.end) {
      this.pending = undefined;
      this.report(current);
    } else {
      this.pending = current;
    }
  }

  private wasReported(timestamp: number): boolean {
    return this.reported.includes(timestamp);
  }

  private report(digit: ReceivedDigit): void {
    this.reported[this.reportedNext] = digit.timestamp;
    this.reportedNext = (this.reportedNext + 1) % REMEMBERED_EVENTS;
    this.onDigit(digit);
  }
}

/**
 * Reports the RFC 4733 digits a session receives; the returned function stops listening and reports a digit
 * whose end packets never came.
 */
export function listenForDtmf(
  session: RtpSession,
  payloadType: number,
  onDigit: (digit: ReceivedDigit) => void,
): () => void {
  const receiver = new DtmfReceiver(payloadType, onDigit);
  const unsubscribe = session.onPacket((packet) => receiver.receive(packet));
  return () => {
    unsubscribe();
    receiver.flush();
  };
}

export interface SendDtmfOptions {
  readonly session: RtpSession;
  readonly payloadType: number;
  readonly digit: string;
  /** Length of the press; rounded up to whole 20 ms packets. */
  readonly durationMs?: number;
  /** -dBm0, RFC 4733 §2.3.4. */
  readonly volume?: number;
  readonly scheduler?: FrameScheduler;
}

/** RFC 4733 §2.5.1.4: the final packet is sent three times. */
const END_REPEATS = 3;

class EventSender implements PacedSource {
  private readonly payload = Buffer.alloc(EVENT_BLOCK_BYTES);
  private sent = false;
  private handleStop: (() => void) | undefined;

  constructor(
    private readonly session: RtpSession,
    private readonly payloadType: number,
    private readonly event: number,
    private readonly volume: number,
    private readonly packets: number,
    private readonly samplesPerPacket: number,
    private readonly done: () => void,
  ) {}

  attach(stop: () => void): void {
    this.handleStop = stop;
  }

  frame(index: number, tick: number): void {
    // §2.5.1.2: every packet of one event carries the timestamp of its start (its first tick, even if a stall
    // dropped that packet); duration grows.
    const timestamp = (this.session.timestampBase + (tick - index) * this.samplesPerPacket) >>> 0;
    const end = index >= this.packets - 1;
    const duration = Math.min(index + 1, this.packets) * this.samplesPerPacket;
    writeTelephoneEvent(this.payload, 0, { event: this.event, end, volume: this.volume, duration });
    this.session.send(this.payload, { payloadType: this.payloadType, timestamp, marker: !this.sent });
    this.sent = true;
    if (index >= this.packets - 1 + END_REPEATS - 1) {
      this.handleStop?.();
      this.done();
    }
  }
}

/** Sends one digit as a telephone-event; resolves after its last end packet left. */
export function sendDtmf(options: SendDtmfOptions): Promise<void> {
  const event = digitToEvent(options.digit);
  const durationMs = options.durationMs ?? 100;
  const scheduler = options.scheduler ?? sharedFrameScheduler();
  const packets = Math.max(1, Math.ceil(durationMs / scheduler.frameMs));
  return new Promise((resolve) => {
    const samplesPerPacket = (scheduler.frameMs * SAMPLE_RATE) / 1000;
    const volume = options.volume ?? 10;
    const { session, payloadType } = options;
    const sender = new EventSender(session, payloadType, event, volume, packets, samplesPerPacket, resolve);
    const handle = scheduler.add(sender);
    sender.attach(() => handle.stop());
  });
}
