/**
 * An INVITE we received (RFC 3261 §13.3): provisional responses (an early dialog from the first one with our tag),
 * the 2xx with our SDP retransmitted until the ACK, rejection with 4xx-6xx, and CANCEL (§9.2: 487).
 */
import { EventEmitter } from 'node:events';
import { uasDialogState } from '../dialog/dialog-state.ts';
import { createResponse, newTag, type SipRequest } from '../message/index.ts';
import type { ServerTransaction } from '../transaction/server-transaction.ts';
import { AckTimeoutError, AlreadyAnsweredError, SessionEndedError } from './errors.ts';
import type { RequireAuthResult } from './require-auth.ts';
import { Session, type SessionEndReason, type SessionHost } from './session.ts';
import { ALLOW } from './allow.ts';

export interface IncomingCallEvents {
  /** The caller cancelled before we answered; we have already answered the INVITE 487. */
  cancelled: [];
  ended: [reason: SessionEndReason];
}

export interface IncomingCallHost extends SessionHost {
  sessionStarted(session: Session): void;
  requireAuth(
    req: SipRequest,
    tx: ServerTransaction,
    lookupPassword: (username: string) => string | undefined,
  ): RequireAuthResult;
}

export interface ResponseOptions {
  readonly sdp?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** What the ACK of our 2xx brought: the answer, when our 2xx carried the offer (the INVITE had none). */
export interface Acknowledged {
  readonly ack: SipRequest;
  readonly sdp: string | undefined;
}

const SDP = 'application/sdp';

export class IncomingCall extends EventEmitter<IncomingCallEvents> {
  /** The caller's offer; undefined for a late-offer INVITE (then our 2xx offers and the ACK answers). */
  readonly offer: string | undefined;
  readonly #host: IncomingCallHost;
  readonly #tx: ServerTransaction;
  readonly #localTag = newTag();
  #session: Session | undefined;
  #final = false;

  constructor(
    host: IncomingCallHost,
    readonly request: SipRequest,
    tx: ServerTransaction,
  ) {
    super();
    this.#host = host;
    this.#tx = tx;
    this.offer = request.body.length > 0 && request.contentType === SDP ? request.body.toString('utf8') : undefined;
    tx.onCancel = () => this.#cancelled();
    tx.onError = (err) => host.logger?.info({ err, sipCallId: request.callId }, 'incoming INVITE transaction failed');
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /** Digest check of the INVITE; when it fails the INVITE has been answered 401 and this call is over. */
  authenticate(lookupPassword: (username: string) => string | undefined): RequireAuthResult {
    if (this.#final) throw new AlreadyAnsweredError();
    const result = this.#host.requireAuth(this.request, this.#tx, lookupPassword);
    if (!result.ok) this.#final = true;
    return result;
  }

  /** Sends a provisional response (180 by default; 183 with SDP for early media). */
  progress(status = 180, opts: ResponseOptions = {}): void {
    if (this.#final || status <= 100 || status >= 200) return;
    this.#ensureSession(true);
    this.#tx.respond(this.#response(status, opts));
  }

  /** Answers 200 with our SDP; resolves when the ACK arrives, rejects when it never does (we then sent BYE). */
  accept(opts: ResponseOptions = {}): Promise<Acknowledged> {
    if (this.#final) return Promise.reject(new AlreadyAnsweredError());
    this.#final = true;
    const session = this.#ensureSession(false);
    const ok = this.#response(200, opts);
    session.localSdp = opts.sdp;
    session.remoteSdp = this.offer;
    const acknowledged = new Promise<Acknowledged>((resolve, reject) => {
      const onAck = (ack: SipRequest): void => {
        session.off('ended', onEnded);
        resolve({ ack, sdp: ack.body.length > 0 && ack.contentType === SDP ? ack.body.toString('utf8') : undefined });
      };
      const onEnded = (reason: SessionEndReason): void => {
        session.off('ack', onAck);
        reject(reason === 'ack-timeout' ? new AckTimeoutError() : new SessionEndedError(reason));
      };
      session.once('ack', onAck);
      session.once('ended', onEnded);
    });
    this.#tx.respond(ok);
    session.sent2xx(ok, this.#tx.source);
    return acknowledged;
  }

  /** Rejects the INVITE with a final 3xx-6xx response. */
  reject(status: number, opts: { reason?: string; headers?: ReadonlyArray<readonly [string, string]> } = {}): void {
    if (this.#final) return;
    this.#final = true;
    this.#tx.respond(
      createResponse(this.request, status, opts.reason, { toTag: this.#localTag, headers: opts.headers ?? [] }),
    );
    this.#session?.failed();
  }

  async bye(): Promise<void> {
    if (this.#session !== undefined && this.#final) await this.#session.bye();
    else this.reject(480);
  }

  #response(status: number, opts: ResponseOptions) {
    const headers: Array<readonly [string, string]> = [
      ['Contact', `<${this.#host.contact(this.#tx.local.transport)}>`],
      ['Allow', ALLOW],
      ...(opts.headers ?? []),
    ];
    return createResponse(this.request, status, undefined, {
      toTag: this.#localTag,
      headers,
      ...(opts.sdp === undefined ? {} : { body: opts.sdp, contentType: SDP }),
    });
  }

  #ensureSession(early: boolean): Session {
    if (this.#session !== undefined) return this.#session;
    const session = new Session(this.#host, uasDialogState(this.request, this.#localTag, early), this.#tx.local.transport);
    this.#session = session;
    this.#host.sessionStarted(session);
    session.on('ended', (reason) => this.emit('ended', reason));
    return session;
  }

  #cancelled(): void {
    if (this.#final) return;
    this.#final = true;
    this.#tx.respond(createResponse(this.request, 487, undefined, { toTag: this.#localTag }));
    this.#session?.failed();
    this.emit('cancelled');
  }
}
