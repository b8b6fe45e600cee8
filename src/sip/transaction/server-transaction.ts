import { createResponse } from '../message/create.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import { newTag } from '../message/ids.ts';
import { isReliable, type Endpoint } from '../transport/endpoint.ts';
import { responseDestination } from '../transport/response-destination.ts';
import type { SipTransport } from '../transport/transport.ts';
import type { TransportError } from '../transport/transport-error.ts';
import { InviteServerMachine, type InviteServerState } from './invite-server-machine.ts';
import type { TransactionTimerConfig } from './machine.ts';
import { NonInviteServerMachine, type NonInviteServerState } from './non-invite-server-machine.ts';
import type { TimerPort } from './timer-port.ts';
import { TransactionTimeoutError } from './transaction-timeout-error.ts';

/** What a server transaction needs from the layer that owns it. */
export interface ServerTransactionHost {
  readonly transport: SipTransport;
  readonly timers: TimerPort;
  /** T1/T2/T4 and reliability for a transport: two shared frozen objects, not one per transaction. */
  timerConfig(reliable: boolean): TransactionTimerConfig;
  serverTerminated(tx: ServerTransaction): void;
  /** An ACK that matched an INVITE transaction in Accepted: handed to the TU like an ACK for 2xx. */
  passAck(ack: SipRequest, tx: ServerTransaction): void;
  /** Timer H or a transport failure the TU did not subscribe to. */
  unhandledError(err: TransactionTimeoutError | TransportError, tx: ServerTransaction): void;
}

export type ServerTransactionState = InviteServerState | NonInviteServerState;

/**
 * A final response sent over UDP as its transaction keeps it for up to 32 s of retransmissions (Timers G/J): its
 * bytes as a one-byte string (the most compact form a V8 heap has), where they went, and its To tag. A parsed or
 * built response would keep its header table, and the request text its values are cut from, three times longer.
 */
class SentResponse {
  /** The bytes of the first send, let go once sent. */
  #first: Buffer | undefined;
  readonly #wire: string;

  constructor(
    bytes: Buffer,
    readonly to: Endpoint,
    readonly toTag: string | undefined,
  ) {
    this.#first = bytes;
    this.#wire = bytes.toString('latin1');
  }

  bytes(): Buffer {
    const first = this.#first;
    this.#first = undefined;
    return first ?? Buffer.from(this.#wire, 'latin1');
  }
}

/** What the machine keeps and re-sends: the response itself until a final one over UDP is reduced to its bytes. */
type KeptResponse = SipResponse | SentResponse;

/** A flat copy: a string cut from a received message would keep the whole message's text alive. */
function detached(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * One server transaction: the request, where it came from, and the RFC 3261 machine for its method. After the final
 * response the transaction answers retransmissions for a while (Timers G/H/I, J, L: up to 32 s) from its last
 * response alone, and lets the request go.
 */
export class ServerTransaction {
  readonly method: string;
  #callId: string;
  #branch: string;
  #request: SipRequest | undefined;
  /**
   * Called when a CANCEL matched this INVITE before it had a final response (§9.2). The layer has already answered
   * the CANCEL with 200; the TU answers the INVITE with 487. Unset, the layer sends the 487 itself.
   */
  onCancel: ((cancel: SipRequest, tx: ServerTransaction) => void) | undefined;
  /** Timer H fired (no ACK for a non-2xx final response) or a response could not be sent (§17.2.4). */
  onError: ((err: TransactionTimeoutError | TransportError, tx: ServerTransaction) => void) | undefined;
  #cancelled = false;
  readonly #host: ServerTransactionHost;
  readonly #machine: InviteServerMachine<SipRequest, KeptResponse> | NonInviteServerMachine<KeptResponse>;
  readonly #reliable: boolean;
  readonly #onSendError: (err: TransportError) => void;

  constructor(
    request: SipRequest,
    /** The address the request came from: responses go back there (§18.2.2). */
    readonly source: Endpoint,
    /** The local listener it arrived on. */
    readonly local: Endpoint,
    readonly key: string,
    host: ServerTransactionHost,
  ) {
    this.method = request.method;
    this.#callId = request.callId;
    this.#branch = request.topVia.branch ?? '';
    this.#request = request;
    this.#host = host;
    this.#reliable = isReliable(source.transport);
    const cfg = host.timerConfig(this.#reliable);
    this.#machine =
      request.method === 'INVITE'
        ? new InviteServerMachine<SipRequest, KeptResponse>(this, host.timers, cfg)
        : new NonInviteServerMachine<KeptResponse>(this, host.timers, cfg);
    // Assigned here rather than as a field initializer: no per-instance function naming by the TS toolchain.
    this.#onSendError = (err) => this.#machine.input({ type: 'transportError', error: err });
  }

  /** The request, for the TU to answer; undefined once the final response has been sent. */
  get request(): SipRequest | undefined {
    return this.#request;
  }

  get state(): ServerTransactionState {
    return this.#machine.state;
  }

  /** A CANCEL matched this INVITE while it was still pending. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  get callId(): string {
    return this.#callId;
  }

  /**
   * The last response sent while the request is pending (provisional), or a final one over a reliable transport;
   * a final response over UDP is kept as bytes only (see `lastToTag`).
   */
  get lastResponse(): SipResponse | undefined {
    const last = this.#machine.lastResponse;
    return last instanceof SentResponse ? undefined : last;
  }

  /** The To tag of the last response sent, which a CANCEL's 200 repeats (§9.2). */
  get lastToTag(): string | undefined {
    return this.#machine.lastResponse?.toTag;
  }

  /** Passes a response from the TU to the transaction (§17.2.1 / §17.2.2). Responses after the final are absorbed. */
  respond(res: SipResponse): void {
    if (res.status < 100 || res.status > 699) throw new RangeError(`invalid status ${res.status}`);
    if (res.status < 200 || this.#reliable || this.#request === undefined) {
      this.#machine.input({ type: 'respond', status: res.status, response: res });
      if (res.status >= 200) this.#request = undefined;
      return;
    }
    // The final response over UDP: from here on only its bytes are re-sent, and nothing of the request is kept.
    const sent = new SentResponse(res.serialize(), responseDestination(res.topVia, this.source), res.toTag);
    this.#request = undefined;
    this.#callId = detached(this.#callId);
    this.#branch = detached(this.#branch);
    this.#machine.input({ type: 'respond', status: res.status, response: sent });
  }

  /**
   * Builds a response to the request with `createResponse` and sends it (the To tag of earlier responses kept).
   * After the final response there is nothing left to answer: undefined.
   */
  reply(status: number, reason?: string): SipResponse | undefined {
    const request = this.#request;
    if (request === undefined) return undefined;
    const tag = this.lastToTag;
    const res = createResponse(request, status, reason, status === 100 ? {} : { toTag: tag ?? newTag() });
    this.respond(res);
    return res;
  }

  runningTimers(): string[] {
    return this.#machine.runningTimers();
  }

  /** @internal */
  start(): void {
    if (this.#machine instanceof InviteServerMachine) this.#machine.start();
  }

  /** @internal a retransmission of the request matched this transaction. */
  receiveRetransmission(): void {
    this.#machine.input({ type: 'request' });
  }

  /** @internal an ACK matched this (INVITE) transaction. */
  receiveAck(ack: SipRequest): void {
    if (this.#machine instanceof InviteServerMachine) this.#machine.input({ type: 'ack', request: ack });
  }

  /** @internal §9.2: a CANCEL matched; true when the INVITE was still pending and is now being cancelled. */
  cancelWith(cancel: SipRequest): boolean {
    if (this.method !== 'INVITE' || this.state !== 'proceeding' || this.#cancelled) return false;
    this.#cancelled = true;
    if (this.onCancel !== undefined) this.onCancel(cancel, this);
    else this.reply(487);
    return true;
  }

  /** @internal */
  dispose(): void {
    this.#machine.dispose();
  }

  // ---- ports of the machines ----

  sendResponse(res: KeptResponse): void {
    if (res instanceof SentResponse) this.#host.transport.sendResponseBytes(res.bytes(), res.to, this.#onSendError, this.local);
    else this.#host.transport.sendResponse(res, this.source, this.#onSendError, this.local);
  }

  makeTrying(): SipResponse {
    // The machine asks only while no response has been sent, so the request is still here.
    return createResponse(this.#request as SipRequest, 100);
  }

  passAck(ack: SipRequest): void {
    this.#host.passAck(ack, this);
  }

  timedOut(timer: 'H'): void {
    this.#report(new TransactionTimeoutError(timer, this.method, this.#branch));
  }

  transportFailed(error: Error): void {
    this.#report(error as TransportError);
  }

  terminated(): void {
    this.#host.serverTerminated(this);
  }

  #report(err: TransactionTimeoutError | TransportError): void {
    if (this.onError !== undefined) this.onError(err, this);
    else this.#host.unhandledError(err, this);
  }
}
