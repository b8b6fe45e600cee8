import type { SipRequest, SipResponse } from '../message/message.ts';
import { isReliable, type Endpoint } from '../transport/endpoint.ts';
import type { SipTransport } from '../transport/transport.ts';
import type { TransportError } from '../transport/transport-error.ts';
import { createAckForNon2xx } from './create-ack.ts';
import { InviteClientMachine, type InviteClientState } from './invite-client-machine.ts';
import type { TransactionTimerConfig } from './machine.ts';
import { NonInviteClientMachine, type NonInviteClientState } from './non-invite-client-machine.ts';
import type { TimerPort } from './timer-port.ts';
import { TransactionTimeoutError } from './transaction-timeout-error.ts';

/** The TU side of a client transaction (RFC 3261 §17.1): responses, and the one error that ends it. */
export interface ClientTransactionUser {
  onResponse(res: SipResponse, tx: ClientTransaction): void;
  /** Timer B/F (§17.1.1.2, §17.1.2.2: treat as 408) or a transport failure (§8.1.3.1: treat as 503). */
  onError(err: TransactionTimeoutError | TransportError, tx: ClientTransaction): void;
  /** The transaction has ended and left the layer: what the TU kept for it can go. */
  onTerminated?(tx: ClientTransaction): void;
}

/** What a client transaction needs from the layer that owns it. */
export interface ClientTransactionHost {
  readonly transport: SipTransport;
  readonly timers: TimerPort;
  /** T1/T2/T4 and reliability for a transport: two shared frozen objects, not one per transaction. */
  timerConfig(reliable: boolean): TransactionTimerConfig;
  clientTerminated(tx: ClientTransaction): void;
  /** A response for a transaction whose TU has gone (see `releaseUser`): handled as if it matched none. */
  strayResponse(res: SipResponse, source: Endpoint): void;
  /** Sends the CANCEL of a pending INVITE as its own non-INVITE client transaction (§9.1). */
  sendCancel(invite: ClientTransaction, user: ClientTransactionUser | undefined): void;
}

export type ClientTransactionState = InviteClientState | NonInviteClientState;

/**
 * The user of a transaction whose TU has gone: one object for all of them. Responses come back from where the
 * request went (§18.1.2).
 */
const RELEASED: ClientTransactionUser = {
  onResponse(res: SipResponse, tx: ClientTransaction): void {
    tx.host.strayResponse(res, tx.destination);
  },
  onError(): void {},
};

/**
 * One client transaction: the request, where it goes, and the RFC 3261 machine for its method. Once a final
 * response has arrived the transaction only absorbs retransmissions for a while (Timers D, K, M: up to 32 s), and
 * keeps no more than that needs: the request goes (an INVITE's ACK for a non-2xx is built before it does).
 */
export class ClientTransaction {
  readonly method: string;
  readonly branch: string;
  readonly callId: string;
  #request: SipRequest | undefined;
  readonly #host: ClientTransactionHost;
  #user: ClientTransactionUser;
  readonly #machine: InviteClientMachine<SipResponse> | NonInviteClientMachine<SipResponse>;
  readonly #onSendError: (err: TransportError) => void;
  #ack: SipRequest | undefined;
  #cancel: 'none' | 'pending' | 'sent' = 'none';
  #cancelUser: ClientTransactionUser | undefined;

  constructor(
    request: SipRequest,
    readonly destination: Endpoint,
    readonly key: string,
    user: ClientTransactionUser,
    host: ClientTransactionHost,
  ) {
    this.method = request.method;
    this.branch = request.topVia.branch as string;
    this.callId = request.callId;
    this.#request = request;
    this.#host = host;
    this.#user = user;
    const cfg = host.timerConfig(isReliable(destination.transport));
    this.#machine =
      request.method === 'INVITE'
        ? new InviteClientMachine<SipResponse>(this, host.timers, cfg)
        : new NonInviteClientMachine<SipResponse>(this, host.timers, cfg);
    // Assigned here rather than as a field initializer: no per-instance function naming by the TS toolchain.
    this.#onSendError = (err) => this.#machine.input({ type: 'transportError', error: err });
  }

  /** @internal the layer that owns this transaction. */
  get host(): ClientTransactionHost {
    return this.#host;
  }

  /** The request as sent; undefined once a final response has arrived. */
  get request(): SipRequest | undefined {
    return this.#request;
  }

  get state(): ClientTransactionState {
    return this.#machine.state;
  }

  /** @internal started by the layer once it has indexed the transaction. */
  start(): void {
    this.#machine.start();
  }

  /** @internal started by the layer's `adoptInvite`: Proceeding, nothing sent. */
  startAdopted(): void {
    if (!(this.#machine instanceof InviteClientMachine)) throw new TypeError('only an INVITE transaction can be adopted');
    this.#machine.adopt();
  }

  /** @internal a response matched this transaction (§17.1.3). */
  receive(res: SipResponse): void {
    this.#machine.input({ type: 'response', status: res.status, response: res });
  }

  /**
   * Cancels a pending INVITE (§9.1). Sent at once after a provisional response, else as soon as one arrives
   * ("If no provisional response has been received, the CANCEL request MUST NOT be sent"); a no-op once a final
   * response arrived or for other methods. The INVITE itself then ends with the 487 the UAS answers.
   */
  cancel(user?: ClientTransactionUser): void {
    if (this.method !== 'INVITE' || this.#cancel !== 'none') return;
    this.#cancelUser = user;
    if (this.state === 'proceeding') this.#sendCancel();
    else if (this.state === 'calling') this.#cancel = 'pending';
  }

  /**
   * The TU no longer follows this transaction (an INVITE whose session ended while Timer M runs, a request that
   * has its final response): the responses the transaction would pass up go to the layer's stray handling, and
   * the TU can be collected. A transaction left with nothing to do but that (an INVITE in Accepted, a non-INVITE
   * in Completed) ends at once; an INVITE in Completed stays to re-send its ACK (Timer D).
   */
  releaseUser(): void {
    this.#user = RELEASED;
    this.#machine.input({ type: 'released' });
  }

  /** Timers still running (none once Terminated). */
  runningTimers(): string[] {
    return this.#machine.runningTimers();
  }

  /** @internal ends the transaction without telling the TU (the layer is closing). */
  dispose(): void {
    this.#machine.dispose();
  }

  // ---- ports of the machines ----

  sendRequest(): void {
    if (this.#request !== undefined) this.#host.transport.send(this.#request, this.destination, this.#onSendError);
  }

  sendAck(res: SipResponse): void {
    // Built from the request on the first final response, which is before the request is let go.
    this.#ack ??= createAckForNon2xx(this.#request as SipRequest, res);
    this.#host.transport.send(this.#ack, this.destination, this.#onSendError);
  }

  passResponse(res: SipResponse): void {
    if (this.#cancel === 'pending' && res.status < 200) this.#sendCancel();
    const user = this.#user;
    user.onResponse(res, this);
    // After the TU: it may still read the request it answered (a digest retry copies it).
    if (res.status >= 200) this.#request = undefined;
    // Released before this final response arrived: nothing is left to pass on to.
    if (user === RELEASED && res.status >= 200) this.#machine.input({ type: 'released' });
  }

  timedOut(timer: 'B' | 'F' | 'Cancel'): void {
    this.#user.onError(new TransactionTimeoutError(timer, this.method, this.branch), this);
  }

  transportFailed(error: Error): void {
    this.#user.onError(error as TransportError, this);
  }

  terminated(): void {
    this.#host.clientTerminated(this);
    this.#user.onTerminated?.(this);
  }

  #sendCancel(): void {
    this.#cancel = 'sent';
    this.#host.sendCancel(this, this.#cancelUser);
    if (this.#machine instanceof InviteClientMachine) this.#machine.input({ type: 'cancelSent' });
  }
}
