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
  /** Sends the CANCEL of a pending INVITE as its own non-INVITE client transaction (§9.1). */
  sendCancel(invite: ClientTransaction, user: ClientTransactionUser | undefined): void;
}

export type ClientTransactionState = InviteClientState | NonInviteClientState;

/** One client transaction: the request, where it goes, and the RFC 3261 machine for its method. */
export class ClientTransaction {
  readonly #host: ClientTransactionHost;
  readonly #user: ClientTransactionUser;
  readonly #machine: InviteClientMachine<SipResponse> | NonInviteClientMachine<SipResponse>;
  readonly #onSendError: (err: TransportError) => void;
  #ack: SipRequest | undefined;
  #cancel: 'none' | 'pending' | 'sent' = 'none';
  #cancelUser: ClientTransactionUser | undefined;

  constructor(
    readonly request: SipRequest,
    readonly destination: Endpoint,
    readonly key: string,
    user: ClientTransactionUser,
    host: ClientTransactionHost,
  ) {
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

  get method(): string {
    return this.request.method;
  }

  get branch(): string {
    return this.request.topVia.branch as string;
  }

  get state(): ClientTransactionState {
    return this.#machine.state;
  }

  /** @internal started by the layer once it has indexed the transaction. */
  start(): void {
    this.#machine.start();
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
    if (this.request.method !== 'INVITE' || this.#cancel !== 'none') return;
    this.#cancelUser = user;
    if (this.state === 'proceeding') this.#sendCancel();
    else if (this.state === 'calling') this.#cancel = 'pending';
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
    this.#host.transport.send(this.request, this.destination, this.#onSendError);
  }

  sendAck(res: SipResponse): void {
    this.#ack ??= createAckForNon2xx(this.request, res);
    this.#host.transport.send(this.#ack, this.destination, this.#onSendError);
  }

  passResponse(res: SipResponse): void {
    if (this.#cancel === 'pending' && res.status < 200) this.#sendCancel();
    this.#user.onResponse(res, this);
  }

  timedOut(timer: 'B' | 'F'): void {
    this.#user.onError(new TransactionTimeoutError(timer, this.request.method, this.branch), this);
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
  }
}
