/**
 * An INVITE we send (RFC 3261 §13.2): provisional responses and early dialogs per To tag (forking), the 2xx that
 * confirms one of them, the ACK, a digest retry, CANCEL. Without an SDP offer the INVITE is a late offer: the 2xx
 * carries the peer's offer and the ACK waits for `answer.ack(localSdp)` (RFC 3725 flow I, the `{ sdp, ack }`
 * contract of drachtio-srf's `createUAC({ noAck: true })`).
 */
import { EventEmitter } from 'node:events';
import { confirmUacDialog, uacDialogState, type DialogState, type DialogStateError } from '../dialog/dialog-state.ts';
import { createRequest, formatNameAddr, newCallId, newTag, parseUri, type SipRequest, type SipResponse } from '../message/index.ts';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/client-transaction.ts';
import type { TransactionTimeoutError } from '../transaction/transaction-timeout-error.ts';
import type { Endpoint } from '../transport/endpoint.ts';
import type { TransportError } from '../transport/transport-error.ts';
import { AuthChallengeError, authorizeRequest, type Credentials } from './client-auth.ts';
import { CallCancelledError, SipResponseError } from './errors.ts';
import { Session, type SessionEndReason, type SessionHost } from './session.ts';
import { ALLOW } from './allow.ts';

export interface InviteOptions {
  /** Request-URI. */
  readonly target: string;
  /** Where the INVITE is sent; default: the target's host, port (5060) and `transport` parameter. */
  readonly destination?: Endpoint;
  /** Our address of record for From. */
  readonly from: string;
  readonly fromDisplayName?: string;
  /** To URI; default the target. */
  readonly to?: string;
  /** The offer; absent, the INVITE is a late offer and the ACK carries our answer. */
  readonly sdp?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Answer one 401/407 with these. */
  readonly credentials?: Credentials;
  readonly callId?: string;
}

/** The 2xx: the peer's SDP (its offer for a late-offer INVITE, else its answer) and the session it confirmed. */
export interface Answer {
  readonly sdp: string | undefined;
  readonly response: SipResponse;
  readonly session: Session;
  /**
   * Sends the ACK, with our answer for a late-offer INVITE. An INVITE that carried an offer is ACKed at once, and
   * calling this again changes nothing.
   */
  ack(localSdp?: string): void;
}

export type OutgoingCallError =
  | SipResponseError
  | CallCancelledError
  | TransactionTimeoutError
  | TransportError
  | AuthChallengeError
  | DialogStateError;

export interface OutgoingCallEvents {
  /** Every provisional response (100 included). */
  progress: [response: SipResponse];
  /** A provisional response carrying SDP (early media). */
  early: [sdp: string, response: SipResponse];
  answered: [answer: Answer];
  failed: [error: OutgoingCallError];
  ended: [reason: SessionEndReason];
}

/** What an outgoing call needs from its user agent, beyond what its session needs. */
export interface OutgoingCallHost extends SessionHost {
  sessionStarted(session: Session): void;
}

const SDP = 'application/sdp';

export class OutgoingCall extends EventEmitter<OutgoingCallEvents> implements ClientTransactionUser {
  /** Resolves on the first 2xx; rejects with the error also emitted as `failed`. */
  readonly answered: Promise<Answer>;
  readonly #host: OutgoingCallHost;
  readonly #opts: InviteOptions;
  readonly #destination: Endpoint;
  #request: SipRequest;
  #tx: ClientTransaction;
  readonly #early = new Map<string, DialogState>();
  #session: Session | undefined;
  #authorized = false;
  #cancelled = false;
  #settled = false;
  #resolve!: (answer: Answer) => void;
  #reject!: (err: Error) => void;

  constructor(host: OutgoingCallHost, opts: InviteOptions, destination: Endpoint) {
    super();
    this.#host = host;
    this.#opts = opts;
    this.#destination = destination;
    this.answered = new Promise<Answer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers that follow the events instead of awaiting `answered` must not get an unhandled rejection.
    this.answered.catch(() => undefined);
    this.#request = this.#buildInvite();
    this.#tx = host.layer.sendRequest(this.#request, destination, this);
  }

  get request(): SipRequest {
    return this.#request;
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /** Cancels the INVITE while it rings (§9.1); the call then fails with CallCancelledError. No-op once answered. */
  cancel(): void {
    if (this.#settled || this.#cancelled) return;
    this.#cancelled = true;
    this.#tx.cancel();
  }

  /** Ends the call: BYE when answered, CANCEL while ringing. */
  async bye(): Promise<void> {
    if (this.#session !== undefined) await this.#session.bye();
    else this.cancel();
  }

  #buildInvite(): SipRequest {
    const fromUri = parseUri(this.#opts.from);
    if (fromUri === null) throw new TypeError(`not a SIP URI: ${this.#opts.from}`);
    const from = formatNameAddr({ displayName: this.#opts.fromDisplayName, uri: fromUri, params: { tag: newTag() } });
    const headers: Array<readonly [string, string]> = [
      ['Max-Forwards', '70'],
      ['From', from],
      ['To', `<${this.#opts.to ?? this.#opts.target}>`],
      ['Call-ID', this.#opts.callId ?? newCallId()],
      ['CSeq', '1 INVITE'],
      ['Contact', `<${this.#host.contact(this.#destination.transport)}>`],
      ['Allow', ALLOW],
      ...(this.#opts.headers ?? []),
    ];
    if (this.#opts.sdp !== undefined) headers.push(['Content-Type', SDP]);
    return createRequest({
      method: 'INVITE',
      uri: this.#opts.target,
      headers,
      ...(this.#opts.sdp === undefined ? {} : { body: this.#opts.sdp }),
    });
  }

  // ---- ClientTransactionUser ----

  onResponse(res: SipResponse, tx: ClientTransaction): void {
    if (tx !== this.#tx) return;
    if (res.status < 200) this.#provisional(res);
    else if (res.status < 300) this.#success(res);
    else this.#failure(res);
  }

  onError(err: TransactionTimeoutError | TransportError, tx: ClientTransaction): void {
    if (tx !== this.#tx) return;
    this.#fail(this.#cancelled ? new CallCancelledError() : err);
  }

  #provisional(res: SipResponse): void {
    const tag = res.toTag;
    // §12.1: a 1xx with a To tag (not 100) creates an early dialog; forks are told apart by their tags (§12.2.1.2).
    if (tag !== undefined && res.status > 100 && !this.#settled) {
      const existing = this.#early.get(tag);
      this.#early.set(tag, existing ?? uacDialogState(this.#request, res));
    }
    this.emit('progress', res);
    if (res.body.length > 0 && res.contentType === SDP) this.emit('early', res.body.toString('utf8'), res);
  }

  #success(res: SipResponse): void {
    const session = this.#session;
    if (session !== undefined) {
      if (session.dialog.id.remoteTag === res.toTag) session.receive2xxRetransmission(res);
      else this.#discardFork(res);
      return;
    }
    const early = res.toTag === undefined ? undefined : this.#early.get(res.toTag);
    let dialog: DialogState;
    try {
      dialog = early === undefined ? uacDialogState(this.#request, res) : confirmUacDialog(early, res);
    } catch (err) {
      // A 2xx without To tag or Contact cannot be ACKed in a dialog; the peer will time out on its side.
      this.#fail(err as DialogStateError);
      return;
    }
    const remoteSdp = res.body.length > 0 && res.contentType === SDP ? res.body.toString('utf8') : undefined;
    const created = new Session(this.#host, dialog, this.#destination.transport, {
      credentials: this.#opts.credentials,
      localSdp: this.#opts.sdp,
      remoteSdp,
    });
    this.#session = created;
    this.#early.clear();
    this.#host.sessionStarted(created);
    created.answered(dialog);
    created.on('ended', (reason) => this.emit('ended', reason));
    const invite = this.#request;
    if (this.#cancelled) {
      // §9.1: a 2xx that crossed our CANCEL still makes a session; ACK it and end it at once.
      created.sendAck(invite);
      this.#fail(new CallCancelledError());
      void created.bye();
      return;
    }
    let acked = false;
    const answer: Answer = {
      sdp: remoteSdp,
      response: res,
      session: created,
      ack: (localSdp) => {
        if (acked) return;
        acked = true;
        if (localSdp !== undefined) created.localSdp = localSdp;
        created.sendAck(invite, localSdp);
      },
    };
    if (this.#opts.sdp !== undefined) answer.ack();
    this.#settled = true;
    this.emit('answered', answer);
    this.#resolve(answer);
  }

  /** §13.2.2.4: a 2xx from a second fork is ACKed and its session ended with a BYE right away. */
  #discardFork(res: SipResponse): void {
    let dialog: DialogState;
    try {
      dialog = uacDialogState(this.#request, res);
    } catch (err) {
      // Without To tag or Contact there is no dialog to ACK in; the fork's UAS gives up on its own.
      this.#host.logger?.info({ err, sipCallId: res.callId }, 'unusable 2xx from another fork');
      return;
    }
    const fork = new Session(this.#host, dialog, this.#destination.transport, { credentials: this.#opts.credentials });
    this.#host.sessionStarted(fork);
    fork.answered(dialog);
    fork.sendAck(this.#request);
    void fork.bye();
  }

  #failure(res: SipResponse): void {
    if (this.#settled) return;
    const credentials = this.#opts.credentials;
    if ((res.status === 401 || res.status === 407) && credentials !== undefined && !this.#authorized && !this.#cancelled) {
      this.#authorized = true;
      try {
        this.#request = authorizeRequest(this.#request, res, credentials, this.#request.cseq.seq + 1);
      } catch (err) {
        this.#fail(err as AuthChallengeError);
        return;
      }
      this.#early.clear();
      this.#tx = this.#host.layer.sendRequest(this.#request, this.#destination, this);
      return;
    }
    this.#fail(this.#cancelled && res.status === 487 ? new CallCancelledError() : new SipResponseError(res));
  }

  #fail(err: OutgoingCallError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#early.clear();
    this.emit('failed', err);
    this.#reject(err);
  }
}
