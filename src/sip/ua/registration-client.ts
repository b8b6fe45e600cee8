/**
 * Keeps one binding registered with a registrar (RFC 3261 §10.2): REGISTER with digest, a refresh before the
 * granted expiry, one retry with Min-Expires after a 423 (§10.2.8), and on failure a retry with exponential
 * back-off (the shape of RFC 5626 §4.5: base time doubled per consecutive failure, capped).
 */
import { EventEmitter } from 'node:events';
import type { SessionTimerPort } from '../dialog/invite-session.ts';
import { newCallId, newTag, parseNameAddr, parseUri, type SipResponse } from '../message/index.ts';
import type { Endpoint, TransportProtocol } from '../transport/endpoint.ts';
import type { Credentials } from './client-auth.ts';
import type { SendResult } from './send-request.ts';
import type { RequestOptions } from './user-agent.ts';

/** What the client needs of the user agent. */
export interface RegistrationHost {
  request(opts: RequestOptions): Promise<SendResult>;
  contact(transport: TransportProtocol): string;
  readonly clock: SessionTimerPort;
}

export interface RegistrationOptions {
  /** Request-URI of the REGISTER (the registrar's domain, §10.2). */
  readonly registrar: string;
  /** Address of record: From and To. */
  readonly aor: string;
  readonly destination: Endpoint;
  readonly credentials?: Credentials;
  /** Requested binding lifetime in seconds. */
  readonly expires: number;
  /** First retry after a failure (default 30 s), doubled per consecutive failure up to `retryMaxMs` (30 min). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
}

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export interface RegistrationEvents {
  state: [state: RegistrationState];
  /** A REGISTER succeeded; the binding lives this many seconds. */
  registered: [expires: number];
  /** A REGISTER failed: the final response, or the transaction's error; a retry is scheduled in `retryInMs`. */
  failed: [cause: SipResponse | Error, retryInMs: number];
}

export class RegistrationClient extends EventEmitter<RegistrationEvents> {
  readonly #host: RegistrationHost;
  readonly #opts: RegistrationOptions;
  readonly #callId = newCallId();
  readonly #fromTag = newTag();
  #cseq = 0;
  #expires: number;
  #state: RegistrationState = 'idle';
  #failures = 0;
  #timer: unknown;

  constructor(host: RegistrationHost, opts: RegistrationOptions) {
    super();
    this.#host = host;
    this.#opts = opts;
    this.#expires = opts.expires;
  }

  get state(): RegistrationState {
    return this.#state;
  }

  start(): void {
    if (this.#state !== 'idle' && this.#state !== 'stopped') return;
    void this.#register();
  }

  /** Stops refreshing and removes the binding (Expires: 0) when one is registered. */
  async stop(): Promise<void> {
    this.#clearTimer();
    const wasRegistered = this.#state === 'registered';
    this.#set('stopped');
    if (!wasRegistered) return;
    await this.#send(0);
  }

  async #register(minExpiresRetried = false): Promise<void> {
    this.#set('registering');
    let result: SendResult;
    try {
      result = await this.#send(this.#expires);
    } catch (err) {
      this.#failed(err as Error);
      return;
    }
    if (this.#state === 'stopped') return;
    const { response } = result;
    if (response.status >= 200 && response.status < 300) {
      this.#failures = 0;
      const granted = this.#grantedExpires(response);
      this.#set('registered');
      this.emit('registered', granted);
      // Refresh well before expiry: 30 s early for long bindings, at half-life for short ones.
      this.#schedule(Math.max(granted * 1000 - 30_000, granted * 500));
      return;
    }
    const minExpires = Number(response.get('min-expires'));
    if (response.status === 423 && !minExpiresRetried && Number.isInteger(minExpires) && minExpires > this.#expires) {
      // §10.2.8: "the UAC MAY retry the registration with an expiration interval ... greater than or equal to" Min-Expires.
      this.#expires = minExpires;
      await this.#register(true);
      return;
    }
    this.#failed(response);
  }

  #send(expires: number): Promise<SendResult> {
    this.#cseq++;
    const contact = this.#host.contact(this.#opts.destination.transport);
    return this.#host
      .request({
        method: 'REGISTER',
        uri: this.#opts.registrar,
        destination: this.#opts.destination,
        from: this.#opts.aor,
        to: this.#opts.aor,
        fromTag: this.#fromTag,
        callId: this.#callId,
        cseq: this.#cseq,
        headers: [
          ['Contact', `<${contact}>`],
          ['Expires', String(expires)],
        ],
        ...(this.#opts.credentials === undefined ? {} : { credentials: this.#opts.credentials }),
      })
      .then((result) => {
        // §10.2.4: the same Call-ID and increasing CSeq across refreshes, the digest retry included.
        this.#cseq = result.request.cseq.seq;
        return result;
      });
  }

  /** §10.2.4: the expires parameter of our Contact in the 2xx, else its Expires header, else what we asked. */
  #grantedExpires(response: SipResponse): number {
    const ours = parseUri(this.#host.contact(this.#opts.destination.transport));
    for (const value of response.getAll('contact')) {
      const na = parseNameAddr(value);
      const param = na?.params['expires'];
      if (na === null || param === undefined || param === null || ours === null) continue;
      if (na.uri.user === ours.user && na.uri.host === ours.host && na.uri.port === ours.port) return Number(param);
    }
    const header = response.get('expires');
    return header === undefined ? this.#expires : Number(header);
  }

  #failed(cause: SipResponse | Error): void {
    if (this.#state === 'stopped') return;
    this.#failures++;
    const base = this.#opts.retryBaseMs ?? 30_000;
    const max = this.#opts.retryMaxMs ?? 1_800_000;
    const retryInMs = Math.min(max, base * 2 ** (this.#failures - 1));
    this.#set('failed');
    this.emit('failed', cause, retryInMs);
    this.#schedule(retryInMs);
  }

  #schedule(ms: number): void {
    this.#clearTimer();
    this.#timer = this.#host.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#register();
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #set(state: RegistrationState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }
}
