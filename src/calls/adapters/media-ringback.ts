/**
 * The Ringback port on the media engine: an RTP session per call, answering the first party's late offer with
 * our port and the codec it preferred, then G.711 ringback paced by the media scheduler's absolute clock.
 *
 * Ringback lasts only while the second leg rings, so sessions are kept in a small pool and reused: binding and
 * closing a UDP socket per call costs more than the whole tone. Setting the next call's remote resets latching,
 * and a bridged phone sends its media to the other party, so nothing of one call reaches the next.
 */
import type { MediaEngine } from '../../media/media-engine.ts';
import type { Ringback as ToneHandle } from '../../media/ringback.ts';
import type { RtpSession } from '../../media/rtp-session.ts';
import { buildAnswer, type SupportedCodecName } from '../../media/sdp.ts';
import type { Ringback } from '../ports.ts';

interface Active {
  session: RtpSession | null;
  tone: ToneHandle | null;
  stopped: boolean;
}

const SUPPORTED: readonly SupportedCodecName[] = ['PCMU', 'PCMA'];

/** Idle sessions kept for reuse; beyond this, a finished ringback closes its socket. */
const POOL_SIZE = 256;

export class MediaRingback implements Ringback {
  private readonly active = new Map<string, Active>();
  private readonly idle: RtpSession[] = [];

  constructor(private readonly media: MediaEngine) {}

  start(callId: string, offerSdp: string): Promise<string> {
    const entry: Active = { session: null, tone: null, stopped: false };
    this.active.set(callId, entry);
    const pooled = this.idle.pop();
    if (pooled === undefined) return this.startOnNewSession(callId, offerSdp, entry);
    // A pooled session answers at once: no async function (and its promise machinery) per call.
    try {
      return Promise.resolve(this.answer(callId, offerSdp, entry, pooled));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private async startOnNewSession(callId: string, offerSdp: string, entry: Active): Promise<string> {
    let session: RtpSession;
    try {
      session = await this.media.openSession();
    } catch (err) {
      this.release(callId, entry);
      throw err;
    }
    return this.answer(callId, offerSdp, entry, session);
  }

  /** Answers the offer from this session and starts the tone, unless the call stopped it meanwhile. */
  private answer(callId: string, offerSdp: string, entry: Active, session: RtpSession): string {
    entry.session = session;
    try {
      const answer = buildAnswer(offerSdp, { host: this.media.host, port: session.localPort, supported: SUPPORTED });
      // Answered before the socket bound: the SDP is still needed to ACK, but no tone is wanted any more.
      if (entry.stopped) this.release(callId, entry);
      else {
        session.setRemote(answer.remote);
        if (answer.remote) {
          entry.tone = this.media.startRingback({ session, codec: answer.codec.name, payloadType: answer.codec.payloadType });
        }
      }
      return answer.sdp;
    } catch (err) {
      this.release(callId, entry);
      throw err;
    }
  }

  stop(callId: string): void {
    const entry = this.active.get(callId);
    if (!entry) return;
    entry.stopped = true;
    if (entry.session) this.release(callId, entry);
  }

  /** Calls with a tone session now (for shutdown and leak checks). */
  get size(): number {
    return this.active.size;
  }

  /** Closes the pooled sessions (shutdown). */
  async close(): Promise<void> {
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((s) => s.close()));
  }

  private release(callId: string, entry: Active): void {
    entry.tone?.stop();
    entry.tone = null;
    const session = entry.session;
    entry.session = null;
    if (session && !session.isClosed) {
      session.setRemote(null);
      if (this.idle.length < POOL_SIZE) this.idle.push(session);
      else void session.close();
    }
    if (this.active.get(callId) === entry) this.active.delete(callId);
  }
}
