/**
 * The LegSignalling port for the PBX's own apps (IVR, voicemail), wrapped around the SIP adapter: a fork whose
 * target is `{ kind: 'pbx' }` is answered here at once, as a late-offer peer would answer an offerless INVITE
 * (RFC 3725 flow I): our offer goes up as the 2xx's SDP, the machine's answer comes back in ack(). Every other
 * fork goes to the inner adapter untouched.
 *
 * As leg 2, the offer reaches leg 1 in a re-INVITE and leg 1's answer arrives in ack(): the app starts toward
 * the first party. As leg 1, ack() carries the ringback's answer, and the second party's offer later arrives as
 * reinvite(), answered here and the media retargeted. Either way the app runs on our own RTP session.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Account } from '../../config/schema.ts';
import type { Directory } from '../../directory/directory.ts';
import { callVariables, defaultIvrSteps } from '../../media/ivr/ivr-machine.ts';
import { IvrRunner } from '../../media/ivr/ivr-runner.ts';
import type { IvrMedia } from '../../media/ivr/ivr-runner.ts';
import type { MediaEngine } from '../../media/media-engine.ts';
import type { RtpSession } from '../../media/rtp-session.ts';
import { buildAnswer, buildOffer, NoCommonCodecError, readAnswer, SdpParseError, SdpSession } from '../../media/sdp.ts';
import type { SupportedCodecName } from '../../media/sdp.ts';
import { VoicemailRecording } from '../../media/voicemail/voicemail-recording.ts';
import type { VoicemailStore } from '../../store/voicemail-store.ts';
import type { DialogSnapshot, DialRequest, ForkEvents, InviteSnapshot, LegSignalling } from '../ports.ts';

export interface PbxAppSignallingDeps {
  readonly media: MediaEngine;
  /** The current directory snapshot: the IVR's steps and variables, the voicemail box's limits. */
  readonly directory: () => Directory;
  /** The server's data folder: voicemail files go under `<dataDir>/voicemail/`. Without it, voicemail fails. */
  readonly dataDir?: string;
  readonly voicemail?: VoicemailStore;
  readonly logger: Logger;
}

const CODECS: readonly SupportedCodecName[] = ['PCMU', 'PCMA', 'telephone-event'];
const DEFAULT_VOICEMAIL_MAX_SECONDS = 120;

/** What runs on an answered fork once its media is known. */
type App =
  | { readonly kind: 'ivr'; readonly runner: IvrRunner }
  /** `saved`: stops the recording and writes the message's row. */
  | { readonly kind: 'voicemail'; readonly saved: () => Promise<void> };

interface PbxFork {
  readonly request: DialRequest;
  readonly target: Extract<DialRequest['target'], { kind: 'pbx' }>;
  readonly account: Account;
  readonly events: ForkEvents;
  /** Our o= line across the 2xx offer and re-INVITE answers (RFC 3264 §8). */
  readonly sdp: SdpSession;
  session: RtpSession | null;
  app: App | null;
  media: IvrMedia | null;
  /** The machine let go of the fork (cancel, discard, bye) or the app ended it. */
  done: boolean;
}

function mediaOf(negotiated: { codec: { name: IvrMedia['codec']; payloadType: number }; telephoneEvent?: number }): IvrMedia {
  return {
    codec: negotiated.codec.name,
    payloadType: negotiated.codec.payloadType,
    ...(negotiated.telephoneEvent !== undefined ? { telephoneEvent: negotiated.telephoneEvent } : {}),
  };
}

/** File-name-safe UTC time: 20261127T181500123Z. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

export class PbxAppSignalling implements LegSignalling {
  private readonly forks = new Map<string, PbxFork>();
  /** Apps being stopped: a voicemail is only complete once its file is closed and its row written. */
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly inner: LegSignalling,
    private readonly deps: PbxAppSignallingDeps,
  ) {}

  /** PBX app forks alive (for leak checks). */
  get size(): number {
    return this.forks.size;
  }

  /** Resolves once every app stopped so far has closed its session (and saved its voicemail). */
  async settled(): Promise<void> {
    while (this.closing.size > 0) await Promise.all(this.closing);
  }

  dial(request: DialRequest, events: ForkEvents): void {
    const target = request.target;
    if (target.kind !== 'pbx') {
      this.inner.dial(request, events);
      return;
    }
    const account = this.deps.directory().account(target.accountId);
    const refusal =
      account === undefined
        ? `no account ${target.accountId}`
        : target.app === 'ivr' && account.type !== 'ivr'
          ? `account ${target.accountId} is not an IVR`
          : target.app === 'voicemail' && this.deps.dataDir === undefined
            ? 'voicemail needs a data folder'
            : null;
    if (refusal !== null || account === undefined) {
      queueMicrotask(() => events.failed(503, refusal ?? 'no account'));
      return;
    }
    const fork: PbxFork = { request, target, account, events, sdp: new SdpSession(), session: null, app: null, media: null, done: false };
    this.forks.set(request.forkId, fork);
    void this.answer(fork);
  }

  /** Opens our RTP session and answers with our offer, like a phone's 200 OK to an offerless INVITE. */
  private async answer(fork: PbxFork): Promise<void> {
    let session: RtpSession;
    try {
      session = await this.deps.media.openSession({
        onError: (err) => this.deps.logger.warn({ err, callId: fork.request.callId }, 'PBX app RTP error'),
      });
    } catch (err) {
      this.deps.logger.warn({ err, callId: fork.request.callId }, 'PBX app has no RTP port');
      this.forks.delete(fork.request.forkId);
      if (!fork.done) fork.events.failed(503, err instanceof Error ? err.message : String(err));
      return;
    }
    if (fork.done) {
      // Cancelled while the port was being bound: the 487 a phone would send.
      await session.close();
      this.forks.delete(fork.request.forkId);
      fork.events.failed(487, 'cancelled');
      return;
    }
    fork.session = session;
    const offer = buildOffer({ host: this.deps.media.host, port: session.localPort, codecs: CODECS, session: fork.sdp });
    fork.events.answered(offer, null);
  }

  cancel(forkId: string): void {
    const fork = this.forks.get(forkId);
    if (fork === undefined) return this.inner.cancel(forkId);
    // Answered already: the machine discards it next (CANCEL crossed the 2xx). Still binding: answer() reports 487.
    fork.done = true;
  }

  ack(forkId: string, answerSdp: string): void {
    const fork = this.forks.get(forkId);
    if (fork === undefined) return this.inner.ack(forkId, answerSdp);
    const session = fork.session;
    if (session === null || fork.done) return;
    let media: IvrMedia;
    try {
      const negotiated = readAnswer(answerSdp, CODECS);
      session.setRemote(negotiated.remote);
      media = mediaOf(negotiated);
    } catch (err) {
      if (!(err instanceof NoCommonCodecError) && !(err instanceof SdpParseError)) throw err;
      this.deps.logger.warn({ err, callId: fork.request.callId }, 'PBX app: unusable answer, hanging up');
      this.finish(fork, true);
      return;
    }
    fork.media = media;
    this.startApp(fork, session, media);
  }

  private startApp(fork: PbxFork, session: RtpSession, media: IvrMedia): void {
    const { request, account, target } = fork;
    const logger = this.deps.logger.child({ callId: request.callId, app: target.app, extension: target.extension });
    if (target.app === 'ivr') {
      const runner = new IvrRunner({
        session,
        media,
        steps: account.ivr_steps ?? defaultIvrSteps(account.ivr_variables),
        variables: callVariables(account.ivr_variables, request.variables),
        scheduler: this.deps.media.scheduler,
        onHangup: (reason) => {
          logger.debug({ reason }, 'IVR hung up');
          this.finish(fork, true);
        },
        onError: (err) => logger.warn({ err }, 'IVR sound not played'),
      });
      fork.app = { kind: 'ivr', runner };
      runner.start();
      return;
    }
    const receivedAt = Date.now();
    // The call id comes from our own generator, but a file name is no place to trust that.
    const relative = join('voicemail', target.extension, `${stamp(receivedAt)}-${request.callId.replace(/[^A-Za-z0-9_-]/g, '_')}.wav`);
    const recording = VoicemailRecording.start({
      session,
      codec: media.codec,
      payloadType: media.payloadType,
      path: join(this.deps.dataDir as string, relative),
      maxMs: (account.voicemail_max_seconds ?? DEFAULT_VOICEMAIL_MAX_SECONDS) * 1000,
      scheduler: this.deps.media.scheduler,
      onMaxLength: () => this.finish(fork, true),
    });
    let saving: Promise<void> | undefined;
    const saved = (): Promise<void> =>
      (saving ??= recording.stop().then((message) => {
        if (message.path === null) return;
        this.deps.voicemail?.add({
          accountId: target.accountId,
          extension: target.extension,
          callId: request.callId,
          callerName: request.callerId.name,
          caller: request.callerId.number,
          path: relative,
          receivedAt,
          durationMs: message.durationMs,
        });
        logger.info({ path: relative, durationMs: message.durationMs }, 'voicemail left');
      }));
    fork.app = { kind: 'voicemail', saved };
  }

  discard(forkId: string): void {
    const fork = this.forks.get(forkId);
    if (fork === undefined) return this.inner.discard(forkId);
    this.finish(fork, false);
  }

  reinvite(forkId: string, offerSdp: string): void {
    const fork = this.forks.get(forkId);
    if (fork === undefined) return this.inner.reinvite(forkId, offerSdp);
    const session = fork.session;
    if (session === null || fork.done) {
      queueMicrotask(() => fork.events.reinviteFailed(481));
      return;
    }
    let sdp: string;
    try {
      const answer = buildAnswer(offerSdp, { host: this.deps.media.host, port: session.localPort, supported: CODECS, session: fork.sdp });
      session.setRemote(answer.remote);
      const media = mediaOf(answer);
      fork.media = media;
      if (fork.app?.kind === 'ivr') fork.app.runner.setMedia(media);
      sdp = answer.sdp;
    } catch (err) {
      if (!(err instanceof NoCommonCodecError) && !(err instanceof SdpParseError)) throw err;
      queueMicrotask(() => fork.events.reinviteFailed(488));
      return;
    }
    // Reported on a later turn, like a SIP answer, so the machine has finished the transition that re-INVITEd.
    queueMicrotask(() => fork.events.reinviteAnswered(sdp));
  }

  bye(forkId: string): void {
    const fork = this.forks.get(forkId);
    if (fork === undefined) return this.inner.bye(forkId);
    this.finish(fork, false);
  }

  relay(firstForkId: string, secondForkId: string): void {
    // An app answers a phone's re-INVITE itself (its session keeps our SDP); only two SIP peers need a relay.
    if (this.forks.has(firstForkId) || this.forks.has(secondForkId)) return;
    this.inner.relay(firstForkId, secondForkId);
  }

  byeDialog(dialog: DialogSnapshot): Promise<void> {
    return this.inner.byeDialog(dialog);
  }

  cancelInvite(invite: InviteSnapshot): Promise<void> {
    return this.inner.cancelInvite(invite);
  }

  /** Stops the app and closes the session; `hangUp`: the app ended the call, so the machine hears a BYE. */
  private finish(fork: PbxFork, hangUp: boolean): void {
    if (fork.done && fork.session === null) return;
    const wasDone = fork.done;
    fork.done = true;
    this.forks.delete(fork.request.forkId);
    const app = fork.app;
    fork.app = null;
    const session = fork.session;
    fork.session = null;
    const closed = (async () => {
      if (app?.kind === 'ivr') app.runner.stop();
      if (app?.kind === 'voicemail') await app.saved();
      await session?.close();
    })();
    const tracked = closed.then(
      () => undefined,
      (err: unknown) => this.deps.logger.warn({ err, callId: fork.request.callId }, 'PBX app did not close cleanly'),
    );
    this.closing.add(tracked);
    void tracked.then(() => this.closing.delete(tracked));
    if (hangUp && !wasDone) queueMicrotask(() => fork.events.ended());
  }
}
