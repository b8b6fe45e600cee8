/**
 * Voicemail on one RTP session: a beep, and what the caller says recorded to a 16-bit WAV file until the caller
 * hangs up (stop()) or the message reaches its longest length after the beep, when the PBX hangs up.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FrameScheduler } from '../frame-scheduler.ts';
import { encodePrompt, startPlayback } from '../playback.ts';
import type { Playing } from '../playback.ts';
import { recordToWav } from '../recorder.ts';
import type { Recording } from '../recorder.ts';
import type { RtpSession } from '../rtp-session.ts';
import type { AudioCodecName } from '../sdp.ts';
import { renderTone, SAMPLE_RATE } from '../tones.ts';

export interface VoicemailOptions {
  readonly session: RtpSession;
  readonly codec: AudioCodecName;
  readonly payloadType: number;
  /** The WAV file to write; its folder is created. */
  readonly path: string;
  readonly maxMs: number;
  readonly scheduler?: FrameScheduler;
  /** The message reached maxMs: the PBX ends the call. */
  readonly onMaxLength: () => void;
}

/** A finished message: the file and its length. Null `path` when the caller left before the beep ended. */
export interface VoicemailMessage {
  readonly path: string | null;
  readonly durationMs: number;
}

/** The usual voicemail beep: 1 kHz for half a second. */
const BEEP_MS = 500;

export class VoicemailRecording {
  private beep: Playing | undefined;
  private recording: Recording | undefined;
  private beepDone = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped: Promise<VoicemailMessage> | undefined;
  private readonly started: Promise<void>;

  private constructor(private readonly options: VoicemailOptions) {
    this.started = this.run();
  }

  /** Starts recording and the beep at once. */
  static start(options: VoicemailOptions): VoicemailRecording {
    return new VoicemailRecording(options);
  }

  /**
   * Recording starts with the answer, under the beep: a caller who talks over the beep is kept, and so is a peer
   * that starts at once (an IVR dialed as the other leg says its first digits while the beep still plays).
   */
  private async run(): Promise<void> {
    const { session, codec, payloadType } = this.options;
    await mkdir(dirname(this.options.path), { recursive: true });
    if (this.stopped !== undefined) return;
    this.recording = await recordToWav(session, this.options.path, { payloadTypes: { [payloadType]: codec } });
    if (this.stopped !== undefined) return;
    const beep = startPlayback({
      session,
      codec,
      payloadType,
      prompt: encodePrompt(renderTone({ frequencies: [1000], cadenceMs: [BEEP_MS, 20], levelDbm0: -13 }), codec),
      ...(this.options.scheduler !== undefined ? { scheduler: this.options.scheduler } : {}),
    });
    this.beep = beep;
    await beep.finished;
    if (this.stopped !== undefined) return;
    this.beepDone = true;
    this.timer = setTimeout(() => this.options.onMaxLength(), this.options.maxMs);
    this.timer.unref();
  }

  /** Ends the message (the caller hung up, or after onMaxLength); resolves once the file is complete. */
  stop(): Promise<VoicemailMessage> {
    this.stopped ??= (async () => {
      clearTimeout(this.timer);
      this.beep?.stop();
      // The file may still be opening: wait for run() to settle so it is closed, not leaked.
      await this.started;
      const recording = this.recording;
      if (recording === undefined) return { path: null, durationMs: 0 };
      const samples = await recording.stop();
      if (!this.beepDone) {
        // Gone before the beep ended: a hang-up, not a message.
        await rm(this.options.path, { force: true });
        return { path: null, durationMs: 0 };
      }
      return { path: this.options.path, durationMs: Math.round((samples * 1000) / SAMPLE_RATE) };
    })();
    return this.stopped;
  }
}
