/**
 * An INVITE we send (RFC 3261 §13.2): provisional responses and early dialogs per To tag (forking), the 2xx that
 * confirms one of them, the ACK, a digest retry, CANCEL. Without an SDP offer the INVITE is a late offer: the 2xx
 * carries the peer's offer and the ACK waits for `answer.ack(localSdp)` (RFC 3725 flow I, the `{ sdp, ack }`
 * contract of drachtio-srf's `createUAC({ noAck: true })`).
 */
import { EventEmitter } from 'node:events';
import { confirmUacDialog, uacDialogState, type DialogState, type DialogStateError } from '../dialog/dialog-state.ts';
import { createRequest, formatNameAddr, newCallId, newTag, parseUri, type SipRequest, type SipResponse } from '../message/index.ts';
import { isFormattedUri, nameAddrOf } from '../message/name-addr.ts';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/client-transaction.ts';
import type { TransactionTimeoutError } from '../transaction/transaction-timeout-error.ts';
import type { Endpoint } from '../transport/endpoint.ts';
import type { TransportError } from '../transport/transport-error.ts';
import { AuthChallengeError, authorizeRequest, credentialHeaders, type Credentials } from './client-auth.ts';
import { CallCancelledError, SipResponseError } from './errors.ts';
import { Session, type SessionHost, type SessionOwner } from './session.ts';
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

/**
 * The 2xx: the peer's SDP (its offer for a late-offer INVITE, else its answer) and the session it confirmed. The 2xx
 * itself is not part of it: an answer lives as long as its call, and a parsed message costs kilobytes.
 */
export interface Answer {
  readonly sdp: string | undefined;
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
  /** From here on the call is its session: its `ended` event tells when the call ends. */
  answered: [answer: Answer];
  failed: [error: OutgoingCallError];
}

/** What an outgoing call needs from its user agent, beyond what its session needs. */
export interface OutgoingCallHost extends SessionHost {
  sessionStarted(session: Session): void;
}

const SDP = 'application/sdp';

/**
 * A class rather than an object literal with an arrow `ack`: the TS toolchain names every arrow function it assigns
 * to a property, which costs a property store per answer for the length of the call.
 */
class SessionAnswer implements Answer {
  #acked = false;

  constructor(
    readonly sdp: string | undefined,
    readonly session: Session,
    private readonly inviteSeq: number,
    private readonly auth: ReadonlyArray<readonly [string, string]>,
  ) {}

  ack(localSdp?: string): void {
    if (this.#acked) return;
    this.#acked = true;
    if (localSdp !== undefined) this.session.localSdp = localSdp;
    this.session.sendAck(this.inviteSeq, this.auth, localSdp);
  }
}

/**
 * While its INVITE transaction lives, a call keeps the INVITE, the transaction and the early dialogs (2xx
 * retransmissions and other forks' 2xx need them); once the transaction has ended only the session is left.
 */
export class OutgoingCall extends EventEmitter<OutgoingCallEvents> implements ClientTransactionUser, SessionOwner {
  /** Resolves on the first 2xx; rejects with the error also emitted as `failed`. */
  readonly answered: Promise<Answer>;
  readonly #host: OutgoingCallHost;
  readonly #credentials: Credentials | undefined;
  /** The offer of an early-offer INVITE, until the session takes it. */
  #offer: string | undefined;
  readonly #transport: Endpoint['transport'];
  /** Where the INVITE goes; dropped with the transaction. */
  #destination: Endpoint | undefined;
  #request: SipRequest | undefined;
  #tx: ClientTransaction | undefined;
  /**
   * The first provisional response of each early dialog (§12.1: a 1xx with a To tag, forks told apart by their
   * tags). Its dialog state is only built if its 2xx needs it (see `#success`).
   */
  readonly #early = new Map<string, SipResponse>();
  #session: Session | undefined;
  #authorized = false;
  #cancelled = false;
  #settled = false;
  #resolve!: (answer: Answer) => void;
  #reject!: (err: Error) => void;

  constructor(host: OutgoingCallHost, opts: InviteOptions, destination: Endpoint) {
    super();
    this.#host = host;
    this.#credentials = opts.credentials;
    this.#offer = opts.sdp;
    this.#transport = destination.transport;
    this.#destination = destination;
    this.answered = new Promise<Answer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers that follow the events instead of awaiting `answered` must not get an unhandled rejection.
    this.answered.catch(() => undefined);
    this.#request = this.#buildInvite(opts);
    this.#tx = host.layer.sendRequest(this.#request, destination, this);
  }

  /** The INVITE (the authorized copy after a digest retry); undefined once its transaction has ended. */
  get request(): SipRequest | undefined {
    return this.#request;
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /** Cancels the INVITE while it rings (§9.1); the call then fails with CallCancelledError. No-op once answered. */
  cancel(): void {
    if (this.#settled || this.#cancelled) return;
    this.#cancelled = true;
    this.#tx?.cancel();
  }

  /** Ends the call: BYE when answered, CANCEL while ringing. */
  async bye(): Promise<void> {
    if (this.#session !== undefined) await this.#session.bye();
    else this.cancel();
  }

  #buildInvite(opts: InviteOptions): SipRequest {
    const tag = newTag();
    let from: string;
    if (isFormattedUri(opts.from)) {
      // Our address of record as formatUri writes it (the usual case): formatNameAddr's text around it, without
      // parsing the URI to format it again.
      from = nameAddrOf(opts.fromDisplayName, opts.from, `;tag=${tag}`);
    } else {
      const fromUri = parseUri(opts.from);
      if (fromUri === null) throw new TypeError(`not a SIP URI: ${opts.from}`);
      from = formatNameAddr({ displayName: opts.fromDisplayName, uri: fromUri, params: { tag } });
    }
    const headers: Array<readonly [string, string]> = [
      ['Max-Forwards', '70'],
      ['From', from],
      ['To', `<${opts.to ?? opts.target}>`],
      ['Call-ID', opts.callId ?? newCallId()],
      ['CSeq', '1 INVITE'],
      ['Contact', `<${this.#host.contact(this.#transport)}>`],
      ['Allow', ALLOW],
      ...(opts.headers ?? []),
    ];
    if (opts.sdp !== undefined) headers.push(['Content-Type', SDP]);
    return createRequest({
      method: 'INVITE',
      uri: opts.target,
      headers,
      ...(opts.sdp === undefined ? {} : { body: opts.sdp }),
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

  onTerminated(tx: ClientTransaction): void {
    // Timer B and transport failures end the transaction before they reach onError, which still needs it.
    if (tx !== this.#tx || !this.#settled) return;
    this.#tx = undefined;
    this.#request = undefined;
    this.#destination = undefined;
    this.#early.clear();
    // With the transaction gone the call has nothing left to release when the session ends: a held call's session
    // must not keep it (and the answer it resolved with) for the length of the call.
    this.#session?.releaseOwner(this);
  }

  /**
   * The session ended (BYE either way) while the INVITE transaction may still wait out Timer M (32 s). The call
   * has nothing left to do: the transaction hands later 2xx to the user agent's stray handling, and this call,
   * its INVITE and its session are let go instead of being kept those 32 s after every call.
   */
  sessionEnded(session: Session): void {
    if (session !== this.#session) return;
    this.#tx?.releaseUser();
    this.#tx = undefined;
    this.#request = undefined;
    this.#destination = undefined;
    this.#early.clear();
  }

  #provisional(res: SipResponse): void {
    const tag = res.toTag;
    // §12.1: a 1xx with a To tag (not 100) creates an early dialog; forks are told apart by their tags (§12.2.1.2).
    if (tag !== undefined && res.status > 100 && !this.#settled && this.#request !== undefined && !this.#early.has(tag)) {
      this.#early.set(tag, res);
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
    const invite = this.#request;
    if (invite === undefined) return;
    const early = res.toTag === undefined ? undefined : this.#early.get(res.toTag);
    let dialog: DialogState;
    try {
      // §13.2.2.4: the 2xx recomputes the route set and brings the remote target, so confirming the early dialog
      // gives the dialog the 2xx alone creates, unless the 2xx lacks the Contact its 1xx had.
      dialog =
        early === undefined || res.has('contact') ? uacDialogState(invite, res) : confirmUacDialog(uacDialogState(invite, early), res);
    } catch (err) {
      // A 2xx without To tag or Contact cannot be ACKed in a dialog; the peer will time out on its side.
      this.#fail(err as DialogStateError);
      return;
    }
    const remoteSdp = res.body.length > 0 && res.contentType === SDP ? res.body.toString('utf8') : undefined;
    const created = new Session(this.#host, dialog, this.#transport, {
      credentials: this.#credentials,
      localSdp: this.#offer,
      remoteSdp,
      owner: this,
    });
    this.#offer = undefined;
    this.#session = created;
    this.#early.clear();
    this.#host.sessionStarted(created);
    created.answered(dialog);
    // The ACK needs only the INVITE's CSeq and credentials: the answer must not keep the INVITE alive.
    const seq = invite.cseq.seq;
    const auth = this.#credentials === undefined ? [] : credentialHeaders(invite);
    if (this.#cancelled) {
      // §9.1: a 2xx that crossed our CANCEL still makes a session; ACK it and end it at once.
      created.sendAck(seq, auth);
      this.#fail(new CallCancelledError());
      void created.bye();
      return;
    }
    const earlyOffer = created.localSdp !== undefined;
    const answer = new SessionAnswer(remoteSdp, created, seq, auth);
    if (earlyOffer) answer.ack();
    this.#settled = true;
    this.emit('answered', answer);
    this.#resolve(answer);
  }

  /** §13.2.2.4: a 2xx from a second fork is ACKed and its session ended with a BYE right away. */
  #discardFork(res: SipResponse): void {
    const invite = this.#request;
    if (invite === undefined) return;
    let dialog: DialogState;
    try {
      dialog = uacDialogState(invite, res);
    } catch (err) {
      // Without To tag or Contact there is no dialog to ACK in; the fork's UAS gives up on its own.
      this.#host.logger?.info({ err, sipCallId: res.callId }, 'unusable 2xx from another fork');
      return;
    }
    const fork = new Session(this.#host, dialog, this.#transport, { credentials: this.#credentials });
    this.#host.sessionStarted(fork);
    fork.answered(dialog);
    fork.sendAck(invite.cseq.seq, this.#credentials === undefined ? [] : credentialHeaders(invite));
    void fork.bye();
  }

  #failure(res: SipResponse): void {
    if (this.#settled) return;
    const credentials = this.#credentials;
    const invite = this.#request;
    const destination = this.#destination;
    if (
      (res.status === 401 || res.status === 407) &&
      credentials !== undefined &&
      invite !== undefined &&
      destination !== undefined &&
      !this.#authorized &&
      !this.#cancelled
    ) {
      this.#authorized = true;
      try {
        this.#request = authorizeRequest(invite, res, credentials, invite.cseq.seq + 1);
      } catch (err) {
        this.#fail(err as AuthChallengeError);
        return;
      }
      this.#early.clear();
      this.#tx = this.#host.layer.sendRequest(this.#request, destination, this);
      return;
    }
    this.#fail(this.#cancelled && res.status === 487 ? new CallCancelledError() : new SipResponseError(res));
  }

  #fail(err: OutgoingCallError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#early.clear();
    // A failed INVITE's transaction re-sends its ACK for 32 s (Timer D) on its own: nothing of this call is needed.
    this.#tx?.releaseUser();
    this.#tx = undefined;
    this.#request = undefined;
    this.#destination = undefined;
    this.emit('failed', err);
    this.#reject(err);
  }
}
