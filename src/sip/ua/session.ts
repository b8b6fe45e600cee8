/**
 * A dialog with its INVITE usage, after the dialog exists (early or confirmed): in-dialog requests in both
 * directions, 2xx retransmission until the ACK, re-INVITE with glare handling, BYE. The decisions are the
 * `InviteSession` machine's and the dialog state's pure functions; this class does the I/O they ask for.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  confirmUasDialog,
  dialogKey,
  inDialogRouting,
  nextLocalSeq,
  receiveRequest,
  receiveTargetRefreshResponse,
  type DialogId,
  type DialogState,
} from '../dialog/dialog-state.ts';
import { createAckFor2xx, createInDialogRequest, type InDialogRequestOptions } from '../dialog/in-dialog-request.ts';
import { InviteSession, type InviteSessionPorts, type SessionTimerPort, type TerminationReason } from '../dialog/invite-session.ts';
import { createResponse, type SipRequest, type SipResponse, type SipUri } from '../message/index.ts';
import type { ServerTransaction } from '../transaction/server-transaction.ts';
import type { TransactionLayer } from '../transaction/transaction-layer.ts';
import type { Endpoint, TransportProtocol } from '../transport/endpoint.ts';
import { credentialHeaders, type Credentials } from './client-auth.ts';
import { InviteInProgressError, SessionEndedError, SipResponseError } from './errors.ts';
import { sendRequest, type SendOptions } from './send-request.ts';
import { ALLOW } from './allow.ts';

/** What a session needs from its user agent. */
export interface SessionHost {
  readonly layer: TransactionLayer;
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly random: () => number;
  readonly clock: SessionTimerPort;
  readonly logger: Logger | undefined;
  /** Our Contact URI for requests leaving on this transport. */
  contact(transport: TransportProtocol): string;
  /** Where a request whose next hop is `uri` is sent. */
  destination(uri: SipUri, transport: TransportProtocol): Endpoint;
  sessionEnded(session: Session): void;
}

export type SessionEndReason = TerminationReason;

/** Told when the session ends, before its `ended` event: the OutgoingCall that created it lets go of it. */
export interface SessionOwner {
  sessionEnded(session: Session): void;
}

export interface SessionEvents {
  ended: [reason: SessionEndReason];
  /** The ACK for our 2xx arrived (its body is the answer when our 2xx carried the offer). */
  ack: [ack: SipRequest];
  /**
   * An in-dialog request other than ACK, BYE and INVITE. Unless a listener answers it synchronously, OPTIONS, INFO,
   * NOTIFY and MESSAGE are then answered 200 and any other method 405.
   */
  request: [request: SipRequest, tx: ServerTransaction];
}

const SDP = 'application/sdp';
const ANSWERED_BY_DEFAULT = new Set(['OPTIONS', 'INFO', 'NOTIFY', 'MESSAGE']);

function sdpOf(message: SipRequest | SipResponse): string | undefined {
  return message.body.length > 0 && message.contentType === SDP ? message.body.toString('utf8') : undefined;
}

interface PendingReinvite {
  readonly sdp: string;
  retried: boolean;
  readonly resolve: (answer: string | undefined) => void;
  readonly reject: (err: Error) => void;
}

export class Session extends EventEmitter<SessionEvents> {
  /**
   * The machine's ports as prototype methods rather than an object of arrow functions: the TS toolchain names
   * every arrow function it assigns to a property (one property store, ~300 bytes, per function per session).
   */
  static readonly #Ports = class implements InviteSessionPorts {
    constructor(readonly session: Session) {}
    retransmit2xx(): void {
      this.session.#retransmit2xx();
    }
    sendBye(): void {
      void this.session.#sendBye();
    }
    rejectInvite(status: 491 | 500, retryAfter?: number): void {
      this.session.#rejectInvite(status, retryAfter);
    }
    retryInvite(): void {
      this.session.#retryReinvite();
    }
    terminated(reason: SessionEndReason): void {
      this.session.#terminated(reason);
    }
  };

  /**
   * The options of the session's in-dialog requests, as prototype methods for the same reason as `#Ports`; a
   * re-INVITE's also hand retransmitted 2xx back to the session.
   */
  static readonly #Requests = class implements SendOptions {
    constructor(
      readonly session: Session,
      readonly credentials: Credentials | undefined,
    ) {}
    nextSeq(): number {
      return this.session.#takeSeq();
    }
  };
  static readonly #Reinvites = class extends Session.#Requests {
    onExtra2xx(res: SipResponse): void {
      this.session.receive2xxRetransmission(res);
    }
  };

  #dialog: DialogState;
  /** `key`, and the dialog id it was made from. */
  #key = '';
  #keyOf: DialogId | undefined;
  readonly #machine: InviteSession;
  readonly #host: SessionHost;
  readonly #credentials: Credentials | undefined;
  #logger: Logger | undefined;
  /**
   * The ACK of our last INVITE, re-sent when its 2xx is retransmitted (§13.2.2.4). Dropped after 64*T1: the UAS
   * gives up retransmitting by then (§13.3.1.4), and a held call should not keep a message for its whole length.
   */
  #ack: { seq: number; ack: SipRequest; destination: Endpoint } | undefined;
  #ackExpiry: unknown;
  /** The 2xx we retransmit until its ACK (§13.3.1.4), and where it goes. */
  #pending2xx: { response: SipResponse; source: Endpoint } | undefined;
  /** The INVITE being decided and its server transaction, for the machine's `rejectInvite`. */
  #inviteTx: { tx: ServerTransaction; request: SipRequest } | undefined;
  #reinvite: PendingReinvite | undefined;
  /**
   * Where the dialog's requests go, with the remote target and route set it was found from: the ACK, a re-INVITE
   * and the BYE of a call all go to the same place, and finding it parses the target (or first route) URI.
   */
  #hop: { readonly target: string; readonly routeSet: readonly string[]; readonly endpoint: Endpoint } | undefined;
  #endReason: SessionEndReason | undefined;
  #owner: SessionOwner | undefined;
  /**
   * Answers a re-INVITE: the offer (undefined for an offerless re-INVITE) to our SDP, or undefined to refuse it
   * with 488. May be asynchronous (a third-party controller asks the other leg first); a rejection with
   * InviteInProgressError is answered 491, any other 500. Default: our last SDP.
   */
  onReinvite:
    | ((offer: string | undefined, request: SipRequest) => string | undefined | Promise<string | undefined>)
    | undefined;
  localSdp: string | undefined;
  remoteSdp: string | undefined;

  constructor(
    host: SessionHost,
    dialog: DialogState,
    readonly transport: TransportProtocol,
    opts: {
      credentials?: Credentials | undefined;
      localSdp?: string | undefined;
      remoteSdp?: string | undefined;
      owner?: SessionOwner | undefined;
    } = {},
  ) {
    super();
    this.#host = host;
    this.#owner = opts.owner;
    this.#dialog = dialog;
    this.#credentials = opts.credentials;
    this.localSdp = opts.localSdp;
    this.remoteSdp = opts.remoteSdp;
    this.#machine = new InviteSession(
      { t1Ms: host.t1Ms, t2Ms: host.t2Ms, callIdOwner: dialog.isUac, random: host.random },
      new Session.#Ports(this),
      host.clock,
    );
  }

  /** The owner no longer needs to be told when the session ends. */
  releaseOwner(owner: SessionOwner): void {
    if (this.#owner === owner) this.#owner = undefined;
  }

  /** The child logger is made on first use: most sessions never log, and a child per call costs at high call rates. */
  #log(): Logger | undefined {
    this.#logger ??= this.#host.logger?.child({ sipCallId: this.#dialog.id.callId });
    return this.#logger;
  }

  get dialog(): DialogState {
    return this.#dialog;
  }

  get key(): string {
    // The user agent's map holds this string as the session's key already: one string for the session's life
    // instead of one per look-up (sessionStarted, and sessionEnded twice).
    const id = this.#dialog.id;
    if (this.#keyOf !== id) {
      this.#key = dialogKey(id);
      this.#keyOf = id;
    }
    return this.#key;
  }

  get state(): InviteSession['state']['name'] {
    return this.#machine.state.name;
  }

  /** Why the session ended; undefined while it lives. */
  get endReason(): SessionEndReason | undefined {
    return this.#endReason;
  }

  /** Stops the session's timers without signalling (shutdown). */
  dispose(): void {
    this.#machine.dispose();
    this.#dropAck();
  }

  #dropAck(): void {
    if (this.#ackExpiry !== undefined) this.#host.clock.clearTimeout(this.#ackExpiry);
    this.#ackExpiry = undefined;
    this.#ack = undefined;
  }

  // ---- UAC side of the initial INVITE ----

  /** The 2xx to our INVITE confirmed the dialog. */
  answered(dialog: DialogState): void {
    this.#dialog = dialog;
    this.#machine.handle({ type: 'answered' });
  }

  /**
   * Sends (and remembers for 64*T1, for 2xx retransmissions) the ACK for the INVITE with this CSeq number; `headers`
   * are the INVITE's credentials (§22.1: an ACK for a 2xx carries the INVITE's Authorization).
   */
  sendAck(inviteSeq: number, headers: ReadonlyArray<readonly [string, string]>, body?: string): void {
    const ack = createAckFor2xx(this.#dialog, inviteSeq, {
      headers,
      ...(body === undefined ? {} : { body, contentType: SDP }),
    });
    const destination = this.#nextHop();
    this.#ack = { seq: inviteSeq, ack, destination };
    if (this.#ackExpiry !== undefined) this.#host.clock.clearTimeout(this.#ackExpiry);
    this.#ackExpiry = this.#host.clock.setTimeout(() => {
      this.#ack = undefined;
      this.#ackExpiry = undefined;
    }, 64 * this.#host.t1Ms);
    this.#host.layer.sendAck(ack, destination, (err) => this.#log()?.warn({ err }, 'ACK could not be sent'));
  }

  /** A retransmitted 2xx: re-send the ACK we sent for it, if we already did (late offer waits for the answer). */
  receive2xxRetransmission(res: SipResponse): void {
    const sent = this.#ack;
    if (sent === undefined || sent.seq !== res.cseq.seq) return;
    this.#host.layer.sendAck(sent.ack, sent.destination);
  }

  // ---- UAS side of the initial INVITE ----

  /** We sent a 2xx to an INVITE (initial or re-INVITE): retransmit it until the ACK (§13.3.1.4). */
  sent2xx(response: SipResponse, source: Endpoint): void {
    this.#dialog = confirmUasDialog(this.#dialog);
    this.#pending2xx = { response, source };
    this.#machine.handle({ type: '2xxSent', cseq: response.cseq.seq });
  }

  /** The early dialog ended without a session (we rejected the INVITE, or it was cancelled). */
  failed(): void {
    this.#machine.handle({ type: 'failed' });
  }

  // ---- requests from the peer ----

  receiveRequest(req: SipRequest, tx: ServerTransaction | undefined): void {
    if (req.method === 'ACK') {
      this.#receiveAck(req);
      return;
    }
    if (tx === undefined) return;
    const verdict = receiveRequest(this.#dialog, req);
    if (!verdict.ok) {
      tx.respond(createResponse(req, verdict.status, verdict.reason));
      return;
    }
    this.#dialog = verdict.state;
    switch (req.method) {
      case 'BYE':
        tx.respond(createResponse(req, 200));
        this.#machine.handle({ type: 'byeReceived' });
        return;
      case 'INVITE':
        this.#receiveReinvite(req, tx);
        return;
      default: {
        this.emit('request', req, tx);
        if (tx.state !== 'trying' && tx.state !== 'proceeding') return;
        // The listeners did not answer: the methods we allow get 200, others (UPDATE, PRACK, REFER ...) 405.
        const known = ANSWERED_BY_DEFAULT.has(req.method);
        tx.respond(
          createResponse(req, known ? 200 : 405, undefined, req.method === 'OPTIONS' || !known ? { headers: [['Allow', ALLOW]] } : {}),
        );
      }
    }
  }

  #receiveAck(ack: SipRequest): void {
    const seq = ack.cseq.seq;
    if (this.#pending2xx?.response.cseq.seq === seq) this.#pending2xx = undefined;
    const answer = sdpOf(ack);
    if (answer !== undefined) this.remoteSdp = answer;
    const wasWaiting = this.#machine.state.name === 'waitingAck' && this.#machine.state.ackCSeq === seq;
    this.#machine.handle({ type: 'ackReceived', cseq: seq });
    if (wasWaiting) this.emit('ack', ack);
  }

  #receiveReinvite(req: SipRequest, tx: ServerTransaction): void {
    this.#inviteTx = { tx, request: req };
    const effects = this.#machine.handle({ type: 'inviteReceived', cseq: req.cseq.seq });
    this.#inviteTx = undefined;
    if (effects.some((e) => e.type === 'rejectInvite')) return;
    const offer = sdpOf(req);
    const answer = this.onReinvite !== undefined ? this.onReinvite(offer, req) : this.localSdp;
    if (answer instanceof Promise) {
      answer.then(
        (sdp) => this.#answerReinvite(req, tx, offer, sdp),
        (err: Error) => {
          // A controller relaying the offer found the other dialog busy with an INVITE of its own: that is glare
          // as the peer sees it, and a 491 makes it retry after its §14.1 back-off where a 500 would end the try.
          if (err instanceof InviteInProgressError) {
            this.#answerReinvite(req, tx, offer, undefined, 491);
            return;
          }
          this.#log()?.warn({ err }, 're-INVITE handler failed');
          this.#answerReinvite(req, tx, offer, undefined, 500);
        },
      );
    } else {
      this.#answerReinvite(req, tx, offer, answer);
    }
  }

  #answerReinvite(req: SipRequest, tx: ServerTransaction, offer: string | undefined, answer: string | undefined, failure = 488): void {
    if (this.#endReason !== undefined) {
      // §15.1.2: the session ended meanwhile; "It is RECOMMENDED that a 487 (Request Terminated) response be generated".
      tx.respond(createResponse(req, 487));
      return;
    }
    if (answer === undefined) {
      tx.respond(createResponse(req, failure));
      this.#machine.handle({ type: 'inviteRejected', cseq: req.cseq.seq });
      return;
    }
    if (offer !== undefined) this.remoteSdp = offer;
    this.localSdp = answer;
    const ok = createResponse(req, 200, undefined, {
      headers: [['Contact', `<${this.#host.contact(this.transport)}>`], ['Allow', ALLOW]],
      body: answer,
      contentType: SDP,
    });
    tx.respond(ok);
    this.sent2xx(ok, tx.source);
  }

  // ---- requests to the peer ----

  /** Sends an in-dialog request (INFO, OPTIONS, NOTIFY, MESSAGE ...) and resolves with its final response. */
  async request(
    method: string,
    opts: Omit<InDialogRequestOptions, 'method'> = {},
  ): Promise<SipResponse> {
    if (this.#endReason !== undefined) throw new SessionEndedError(this.#endReason);
    const { response } = await this.#send({ ...opts, method });
    return response;
  }

  /** Ends the session with a BYE (§15.1.1); resolves once the BYE has its final response. */
  async bye(): Promise<void> {
    if (this.#endReason !== undefined) return;
    if (this.#machine.state.name === 'waitingAck') {
      // §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its 2xx
      // response or until the server transaction times out" (the ACK timeout sends its own BYE).
      const acked = await new Promise<boolean>((resolve) => {
        const onAck = (): void => {
          this.off('ended', onEnded);
          resolve(true);
        };
        const onEnded = (): void => {
          this.off('ack', onAck);
          resolve(false);
        };
        this.once('ack', onAck);
        this.once('ended', onEnded);
      });
      if (!acked || this.#endReason !== undefined) return;
    }
    const sending = this.#sendBye();
    this.#machine.handle({ type: 'byeSent' });
    await sending;
  }

  /**
   * Re-INVITE with a new offer; resolves with the answer (§14.1), retrying once after a 491 (glare). Rejects with
   * InviteInProgressError while another INVITE transaction of the dialog, in either direction, is not finished.
   */
  reinvite(sdp: string): Promise<string | undefined> {
    if (this.#endReason !== undefined) return Promise.reject(new SessionEndedError(this.#endReason));
    const { name, incomingInvite } = this.#machine.state;
    if (this.#reinvite !== undefined || incomingInvite !== null || name === 'waitingAck' || name === 'early') {
      return Promise.reject(new InviteInProgressError());
    }
    return new Promise((resolve, reject) => {
      this.#reinvite = { sdp, retried: false, resolve, reject };
      this.#sendReinvite();
    });
  }

  #sendReinvite(): void {
    const pending = this.#reinvite;
    if (pending === undefined) return;
    const { state, request } = createInDialogRequest(this.#dialog, {
      method: 'INVITE',
      contact: this.#host.contact(this.transport),
      body: pending.sdp,
      contentType: SDP,
      headers: [['Allow', ALLOW]],
    });
    this.#dialog = state;
    const seq = request.cseq.seq;
    this.#machine.handle({ type: 'inviteSent', cseq: seq });
    sendRequest(this.#host.layer, request, this.#nextHop(), new Session.#Reinvites(this, this.#credentials)).then(
      ({ response, request: sent }) => {
        // The machine knows the re-INVITE by its first CSeq, also when the final response answers the authorized copy.
        this.#machine.handle({ type: 'inviteResponse', cseq: seq, status: response.status });
        this.#reinviteAnswered(pending, sent, response);
      },
      (err: Error) => {
        this.#machine.handle({ type: 'inviteResponse', cseq: seq, status: 408 });
        this.#reinvite = undefined;
        pending.reject(err);
      },
    );
  }

  #reinviteAnswered(pending: PendingReinvite, sent: SipRequest, response: SipResponse): void {
    if (response.status >= 200 && response.status < 300) {
      this.#dialog = receiveTargetRefreshResponse(this.#dialog, 'INVITE', response);
      this.sendAck(sent.cseq.seq, credentialHeaders(sent));
      this.localSdp = pending.sdp;
      const answer = sdpOf(response);
      if (answer !== undefined) this.remoteSdp = answer;
      this.#reinvite = undefined;
      pending.resolve(answer);
      return;
    }
    if (response.status === 491 && !pending.retried) return; // the machine's glare timer re-sends it
    this.#reinvite = undefined;
    pending.reject(new SipResponseError(response));
    this.#dialogGoneOn(response.status);
  }

  #retryReinvite(): void {
    const pending = this.#reinvite;
    if (pending === undefined || this.#endReason !== undefined) return;
    pending.retried = true;
    this.#sendReinvite();
  }

  #rejectInvite(status: 491 | 500, retryAfter?: number): void {
    const invite = this.#inviteTx;
    if (invite === undefined) return;
    const headers: Array<[string, string]> = retryAfter === undefined ? [] : [['Retry-After', String(retryAfter)]];
    invite.tx.respond(createResponse(invite.request, status, undefined, { headers }));
  }

  #takeSeq(): number {
    const { state, seq } = nextLocalSeq(this.#dialog);
    this.#dialog = state;
    return seq;
  }

  async #send(opts: InDialogRequestOptions): Promise<{ response: SipResponse; request: SipRequest }> {
    const { state, request } = createInDialogRequest(this.#dialog, opts);
    this.#dialog = state;
    const result = await sendRequest(this.#host.layer, request, this.#nextHop(), new Session.#Requests(this, this.#credentials));
    if (opts.method !== 'BYE') this.#dialogGoneOn(result.response.status);
    return result;
  }

  /** §12.2.1.2: "If the response for a request within a dialog is a 481 or a 408, the UAC SHOULD terminate the dialog." */
  #dialogGoneOn(status: number): void {
    if ((status === 481 || status === 408) && this.#endReason === undefined) this.#machine.handle({ type: 'failed' });
  }

  #sendBye(): Promise<void> {
    return this.#send({ method: 'BYE' }).then(
      ({ response }) => {
        if (response.status >= 300) this.#log()?.info({ status: response.status }, 'BYE answered with an error');
      },
      (err: Error) => {
        this.#log()?.info({ err }, 'BYE failed');
      },
    );
  }

  #retransmit2xx(): void {
    const pending = this.#pending2xx;
    if (pending === undefined) return;
    this.#host.layer.sendStatelessResponse(pending.response, pending.source);
  }

  #terminated(reason: SessionEndReason): void {
    this.#endReason = reason;
    this.#pending2xx = undefined;
    // A 2xx retransmitted after the BYE has no dialog to be ACKed in; the ACK and its 32 s timer can go now.
    this.#dropAck();
    const owner = this.#owner;
    this.#owner = undefined;
    owner?.sessionEnded(this);
    const pending = this.#reinvite;
    this.#reinvite = undefined;
    pending?.reject(new SessionEndedError(reason));
    this.#host.sessionEnded(this);
    this.emit('ended', reason);
  }

  #nextHop(): Endpoint {
    const dialog = this.#dialog;
    const hop = this.#hop;
    // The route set is replaced, never edited (dialog-state.ts): the same array is the same route set.
    if (hop !== undefined && hop.target === dialog.remoteTarget && hop.routeSet === dialog.routeSet) return hop.endpoint;
    const endpoint = this.#host.destination(inDialogRouting(dialog).nextHop, this.transport);
    this.#hop = { target: dialog.remoteTarget, routeSet: dialog.routeSet, endpoint };
    return endpoint;
  }
}
