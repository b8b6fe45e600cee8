/**
 * The Ringback port on the media engine: one RTP session per call, answering the first party's late offer with
 * our port and the codec it preferred, then G.711 ringback paced by the media scheduler's absolute clock.
 */
import type { MediaEngine } from '../../media/media-engine.ts';
import type { Ringback as ToneHandle } from '../../media/ringback.ts';
import type { RtpSession } from '../../media/rtp-session.ts';
import { buildAnswer } from '../../media/sdp.ts';
import type { Ringback } from '../ports.ts';

interface Active {
  session: RtpSession | null;
  tone: ToneHandle | null;
  stopped: boolean;
}

export class MediaRingback implements Ringback {
  private readonly active = new Map<string, Active>();

  constructor(private readonly media: MediaEngine) {}

  async start(callId: string, offerSdp: string): Promise<string> {
    const entry: Active = { session: null, tone: null, stopped: false };
    this.active.set(callId, entry);
    try {
      entry.session = await this.media.openSession();
      // Answered before the socket bound: the SDP is still needed to ACK, but no tone is wanted any more.
      const answer = buildAnswer(offerSdp, {
        host: this.media.host,
        port: entry.session.localPort,
        supported: ['PCMU', 'PCMA'],
      });
      if (!entry.stopped && answer.remote) {
        entry.tone = this.media.startRingback({
          session: entry.session,
          codec: answer.codec.name,
          payloadType: answer.codec.payloadType,
          remote: answer.remote,
        });
      } else if (entry.stopped) {
        this.release(callId, entry);
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

  /** Calls with a tone session open (for shutdown and leak checks). */
  get size(): number {
    return this.active.size;
  }

  private release(callId: string, entry: Active): void {
    entry.tone?.stop();
    entry.tone = null;
    void entry.session?.close();
    entry.session = null;
    if (this.active.get(callId) === entry) this.active.delete(callId);
  }
}
