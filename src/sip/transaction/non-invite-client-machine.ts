import { TransactionMachine, type TransactionTimerConfig } from './machine.ts';
import type { TimerName, TimerPort } from './timer-port.ts';

/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).
 *
 * ```
 *                        |Request from TU
 *                        |send request
 *    Timer E             V
 *    send request  +-----------+
 *        +---------|           |-------------------+
 *        |         |  Trying   |  Timer F          |
 *        +-------->|           |  or Transport Err.|
 *                  +-----------+  inform TU        |
 *     200-699         |  |                         |
 *     resp. to TU     |  |1xx                      |
 *     +---------------+  |resp. to TU              |
 *     |                  |                         |
 *     |   Timer E        V       Timer F           |
 *     |   send req +-----------+ or Transport Err. |
 *     |  +---------|           | inform TU         |
 *     |  |         |Proceeding |------------------>|
 *     |  +-------->|           |-----+             |
 *     |            +-----------+     |1xx          |
 *     |              |      ^        |resp to TU   |
 *     | 200-699      |      +--------+             |
 *     | resp. to TU  |                             |
 *     |              |                             |
 *     |              V                             |
 *     |            +-----------+                   |
 *     |            |           |                   |
 *     |            | Completed |                   |
 *     |            |           |                   |
 *     |            +-----------+                   |
 *     |              ^   |                         |
 *     |              |   | Timer K                 |
 *     +--------------+   | -                       |
 *                        |                         |
 *                        V                         |
 *  NOTE:           +-----------+                   |
 *                  |           |                   |
 *  transitions     | Terminated|<------------------+
 *  labeled with    |           |
 *  the event       +-----------+
 *  over the action
 *  to take
 * ```
 */
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NonInviteClientInput<R> =
  | { readonly type: 'response'; readonly status: number; readonly response: R }
  | { readonly type: 'timer'; readonly name: 'E' | 'F' | 'K' }
  | { readonly type: 'transportError'; readonly error: Error }
  /** The TU no longer follows the transaction (it has its final response). */
  | { readonly type: 'released' };

export interface NonInviteClientPorts<R> {
  sendRequest(): void;
  passResponse(response: R): void;
  timedOut(timer: 'F'): void;
  transportFailed(error: Error): void;
  terminated(): void;
}

const MOVES: Readonly<Record<NonInviteClientState, readonly NonInviteClientState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class NonInviteClientMachine<R> extends TransactionMachine<NonInviteClientState> {
  readonly #ports: NonInviteClientPorts<R>;
  #timerEMs: number;

  constructor(ports: NonInviteClientPorts<R>, timers: TimerPort, cfg: TransactionTimerConfig) {
    super('trying', MOVES, timers, cfg);
    this.#ports = ports;
    this.#timerEMs = cfg.t1Ms;
  }

  /** §17.1.2.2: the request is sent, Timer F is set to 64*T1 and, on unreliable transports, Timer E to T1. */
  start(): void {
    this.#ports.sendRequest();
    if (!this.cfg.reliable) this.startTimer('E', this.#timerEMs);
    this.startTimer('F', 64 * this.cfg.t1Ms);
  }

  onTimer(name: TimerName): void {
    this.timerFired(name);
    if (name === 'E' || name === 'F' || name === 'K') this.input({ type: 'timer', name });
  }

  input(i: NonInviteClientInput<R>): void {
    switch (this.state) {
      case 'trying':
      case 'proceeding':
        this.#tryingOrProceeding(i);
        return;
      case 'completed':
        // §17.1.2.2: "Once the client transaction enters the Completed state, it MUST set Timer K to fire in T4
        // seconds for unreliable transports ... The Completed state exists to buffer any additional response
        // retransmissions that may be received" (absorbed here).
        // With the TU gone there is nothing to buffer for: a retransmitted response that matches no transaction is
        // dropped by the layer just the same, without this transaction being kept for T4.
        if ((i.type === 'timer' && i.name === 'K') || i.type === 'released') this.#terminate();
        return;
      case 'terminated':
        return;
    }
  }

  #tryingOrProceeding(i: NonInviteClientInput<R>): void {
    switch (i.type) {
      case 'timer':
        if (i.name === 'E') {
          // §17.1.2.2: in Trying, "the timer is reset with a value of MIN(2*T1, T2)" and doubled up to T2; "If
          // Timer E fires while in the Proceeding state, the request MUST be passed to the transport layer for
          // retransmission, and Timer E MUST be reset with a value of T2 seconds."
          this.#timerEMs = this.state === 'trying' ? Math.min(2 * this.#timerEMs, this.cfg.t2Ms) : this.cfg.t2Ms;
          this.startTimer('E', this.#timerEMs);
          this.#ports.sendRequest();
        } else if (i.name === 'F') {
          // §17.1.2.2: "If Timer F fires while the client transaction is still in the Trying state [or Proceeding],
          // the client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the Terminated
          // state."
          this.#terminate();
          this.#ports.timedOut('F');
        }
        return;
      case 'transportError':
        // §17.1.2.2: "If a transport error occurs, the client transaction SHOULD inform the TU and enter the
        // Terminated state."
        this.#terminate();
        this.#ports.transportFailed(i.error);
        return;
      case 'response':
        if (i.status < 200) {
          // §17.1.2.2: "If a provisional response is received while in the Trying state, the response MUST be
          // passed to the TU, and then the client transaction SHOULD move to the Proceeding state."
          if (this.state === 'trying') this.transition('proceeding');
          this.#ports.passResponse(i.response);
          return;
        }
        // §17.1.2.2: "If a final response (status codes 200-699) is received while in the Trying [or Proceeding]
        // state, the response MUST be passed to the TU, and the client transaction MUST transition to the
        // Completed state." Timer K is T4 on unreliable transports, zero on reliable ones.
        this.transition('completed');
        this.cancelTimer('E');
        this.cancelTimer('F');
        // Timer K before the TU hears the response: a TU that lets the transaction go right away ends it from
        // within passResponse, and nothing may be armed after that.
        if (!this.cfg.reliable) this.startTimer('K', this.cfg.t4Ms);
        this.#ports.passResponse(i.response);
        if (this.cfg.reliable && this.state === 'completed') this.#terminate();
        return;
    }
  }

  #terminate(): void {
    this.transition('terminated');
    this.cancelAllTimers();
    this.#ports.terminated();
  }
}
