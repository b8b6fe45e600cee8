/**
 * Runs an IVR script on one RTP session: executes the interpreter's effects (sounds become G.711 frames played on
 * the shared scheduler, the collect timer a real timer) and feeds it the digits the caller presses, whether they
 * come as RFC 4733 events or as tones in the audio.
 */
import type { IvrStep, IvrToneName } from '../../config/schema.ts';
import { listenForDtmf } from '../dtmf.ts';
import type { FrameScheduler } from '../frame-scheduler.ts';
import { g711Silence } from '../g711.ts';
import { listenForInbandDtmf } from '../inband-dtmf.ts';
import { encodePrompt, startPlayback } from '../playback.ts';
import type { Playing } from '../playback.ts';
import type { RtpSession } from '../rtp-session.ts';
import type { AudioCodecName } from '../sdp.ts';
import { FRAME_SAMPLES, NORTH_AMERICAN_BUSY, NORTH_AMERICAN_REORDER, NORTH_AMERICAN_RINGBACK, renderTone, SAMPLE_RATE } from '../tones.ts';
import type { ToneSpec } from '../tones.ts';
import { readWavFile } from '../wav.ts';
import { initialIvrState, ivrTransition } from './ivr-machine.ts';
import type { IvrEffect, IvrInput, IvrSound, IvrState } from './ivr-machine.ts';

/** What the session negotiated: the codec we send in, and telephone-event's payload type when the peer has it. */
export interface IvrMedia {
  readonly codec: AudioCodecName;
  readonly payloadType: number;
  readonly telephoneEvent?: number;
}

export interface IvrRunnerOptions {
  readonly session: RtpSession;
  readonly media: IvrMedia;
  readonly steps: readonly IvrStep[];
  readonly variables: Readonly<Record<string, string>>;
  readonly scheduler?: FrameScheduler;
  /** The script ended by itself (hangup step, end of script): the call is to be hung up. */
  readonly onHangup: (reason: string) => void;
  /** A sound that could not be played (missing or unreadable file); the script goes on without it. */
  readonly onError: (error: Error) => void;
}

const BEEP: ToneSpec = { frequencies: [1000], cadenceMs: [240, 60], levelDbm0: -13 };

const TONES: Readonly<Record<IvrToneName, ToneSpec>> = {
  beep: BEEP,
  ringback: NORTH_AMERICAN_RINGBACK,
  busy: NORTH_AMERICAN_BUSY,
  reorder: NORTH_AMERICAN_REORDER,
};

const DTMF_ROWS: Readonly<Record<string, number>> = { '1': 697, '2': 697, '3': 697, '4': 770, '5': 770, '6': 770, '7': 852, '8': 852, '9': 852, '*': 941, '0': 941, '#': 941 };
const DTMF_COLUMNS: Readonly<Record<string, number>> = { '1': 1209, '4': 1209, '7': 1209, '*': 1209, '2': 1336, '5': 1336, '8': 1336, '0': 1336, '3': 1477, '6': 1477, '9': 1477, '#': 1477 };

/**
 * A digit as a tone pair: 120 ms on, 120 ms off (ITU-T Q.24 receivers need 40 ms of tone and of pause), each
 * frequency at -10 dBm0 so the pair stays clear of clipping.
 */
export function dtmfToneSpec(digit: string): ToneSpec {
  const row = DTMF_ROWS[digit];
  const column = DTMF_COLUMNS[digit];
  if (row === undefined || column === undefined) throw new RangeError(`"${digit}" has no DTMF tone pair`);
  return { frequencies: [row, column], cadenceMs: [120, 120], levelDbm0: -10 };
}

export class IvrRunner {
  private state: IvrState;
  private media: IvrMedia;
  private playing: Playing | undefined;
  /** Bumped on every play and on stop: a sound finishing loading after that is dropped. */
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  /** Once a digit came as RFC 4733, the same press heard in the audio is not counted again. */
  private eventsSeen = false;

  constructor(private readonly options: IvrRunnerOptions) {
    this.state = initialIvrState(options.variables);
    this.media = options.media;
  }

  get variables(): Readonly<Record<string, string>> {
    return this.state.variables;
  }

  get ended(): boolean {
    return this.state.phase === 'ended';
  }

  start(): void {
    this.listen();
    this.dispatch({ type: 'start' });
  }

  /** A re-INVITE changed the codec: later sounds and digit detection use the new one. */
  setMedia(media: IvrMedia): void {
    this.media = media;
    if (!this.ended) this.listen();
  }

  /** The caller left: stops sending and listening. */
  stop(): void {
    this.dispatch({ type: 'hangup' });
    this.release();
  }

  private listen(): void {
    this.stopListening?.();
    const { session } = this.options;
    const { codec, payloadType, telephoneEvent } = this.media;
    const stops: Array<() => void> = [];
    if (telephoneEvent !== undefined) {
      stops.push(
        listenForDtmf(session, telephoneEvent, (d) => {
          this.eventsSeen = true;
          this.dispatch({ type: 'digit', digit: d.digit });
        }),
      );
    }
    stops.push(
      listenForInbandDtmf(session, { [payloadType]: codec }, (digit) => {
        if (!this.eventsSeen) this.dispatch({ type: 'digit', digit });
      }),
    );
    this.stopListening = () => {
      for (const stop of stops) stop();
    };
  }

  private dispatch(input: IvrInput): void {
    const { state, effects } = ivrTransition(this.options.steps, this.state, input);
    this.state = state;
    for (const effect of effects) this.run(effect);
  }

  private run(effect: IvrEffect): void {
    switch (effect.type) {
      case 'play':
        void this.play(effect.sounds);
        return;
      case 'startTimer':
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.dispatch({ type: 'timeout' });
        }, effect.ms);
        this.timer.unref();
        return;
      case 'cancelTimer':
        clearTimeout(this.timer);
        this.timer = undefined;
        return;
      case 'hangup':
        this.release();
        this.options.onHangup(effect.reason);
        return;
    }
  }

  private async play(sounds: readonly IvrSound[]): Promise<void> {
    const generation = ++this.generation;
    this.playing?.stop();
    const { codec, payloadType } = this.media;
    const frames: Buffer[] = [];
    for (const sound of sounds) {
      try {
        frames.push(await this.encode(sound, codec));
      } catch (error) {
        this.options.onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (generation !== this.generation || this.ended) return;
    if (frames.length === 0) {
      this.dispatch({ type: 'played' });
      return;
    }
    const playing = startPlayback({
      session: this.options.session,
      codec,
      payloadType,
      prompt: Buffer.concat(frames),
      ...(this.options.scheduler !== undefined ? { scheduler: this.options.scheduler } : {}),
    });
    this.playing = playing;
    await playing.finished;
    if (generation === this.generation && !this.ended) this.dispatch({ type: 'played' });
  }

  private async encode(sound: IvrSound, codec: AudioCodecName): Promise<Buffer> {
    switch (sound.kind) {
      case 'file':
        return encodePrompt(await readWavFile(sound.path), codec);
      case 'tone':
        return encodePrompt(renderTone(TONES[sound.name]), codec);
      case 'dtmf':
        return encodePrompt(renderTone(dtmfToneSpec(sound.digit)), codec);
      case 'silence': {
        const samples = Math.ceil((sound.ms * SAMPLE_RATE) / 1000 / FRAME_SAMPLES) * FRAME_SAMPLES;
        return Buffer.alloc(samples, g711Silence(codec));
      }
    }
  }

  private release(): void {
    this.generation += 1;
    this.playing?.stop();
    this.playing = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopListening?.();
    this.stopListening = undefined;
  }
}
