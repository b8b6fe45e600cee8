import { TransactionMachine, type TransactionTimerConfig } from './machine.ts';
import type { TimerName, TimerPort } from './timer-port.ts';

/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8).
 *
 * ```
 *                           |Request received
 *                           |pass to TU
 *                           V
 *                     +-----------+
 *                     |           |
 *                     | Trying    |-------------+
 *                     |           |             |
 *                     +-----------+             |200-699 from TU
 *                           |                   |send response
 *                           |1xx from TU        |
 *                           |send response      |
 *                           |                   |
 *        Request            V      1xx from TU  |
 *        send response+-----------+send response|
 *            +--------|           |--------+    |
 *            |        | Proceeding|        |    |
 *            +------->|           |<-------+    |
 *     +<--------------|           |             |
 *     |Trnsprt Err    +-----------+             |
 *     |Inform TU            |                   |
 *     |                     |                   |
 *     |                     |200-699 from TU    |
 *     |                     |send response      |
 *     |  Request            V                   |
 *     |  send response+-----------+             |
 *     |      +--------|           |             |
 *     |      |        | Completed |<------------+
 *     |      +------->|           |
 *     +<--------------|           |
 *     |Trnsprt Err    +-----------+
 *     |Inform TU            |
 *     |                     |Timer J fires
 *     |                     |-
 *     |                     |
 *     |                     V
 *     |               +-----------+
 *     |               |           |
 *     +-------------->| Terminated|
 *                     |           |
 *                     +-----------+
 * ```
 */
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NonInviteServerInput<R> =
  | { readonly type: 'request' }
  | { readonly type: 'respond'; readonly status: number; readonly response: R }
  | { readonly type: 'timer'; readonly name: 'J' }
  | { readonly type: 'transportError'; readonly error: Error };

export interface NonInviteServerPorts<R> {
  sendResponse(response: R): void;
  transportFailed(error: Error): void;
  terminated(): void;
}

const MOVES: Readonly<Record<NonInviteServerState, readonly NonInviteServerState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class NonInviteServerMachine<R> extends TransactionMachine<NonInviteServerState> {
  readonly #ports: NonInviteServerPorts<R>;
  #last: R | undefined;

  constructor(ports: NonInviteServerPorts<R>, timers: TimerPort, cfg: TransactionTimerConfig) {
    super('trying', MOVES, timers, cfg);
    this.#ports = ports;
  }

  get lastResponse(): R | undefined {
    return this.#last;
  }

  onTimer(name: TimerName): void {
    this.timerFired(name);
    if (name === 'J') this.input({ type: 'timer', name });
  }

  input(i: NonInviteServerInput<R>): void {
    if (this.state === 'terminated') return;
    switch (i.type) {
      case 'request':
        // §17.2.2: "Once in the Trying state, any further request retransmissions are discarded." In Proceeding
        // and Completed, "the most recent provisional/final response MUST be passed to the transport layer".
        if (this.state !== 'trying' && this.#last !== undefined) this.#ports.sendResponse(this.#last);
        return;
      case 'respond':
        if (this.state === 'completed') {
          // §17.2.2: "Any other final responses passed by the TU to the server transaction MUST be discarded
          // while in the Completed state."
          return;
        }
        this.#last = i.response;
        if (i.status < 200) {
          // §17.2.2: "While in the Trying state, if the TU passes a provisional response to the server
          // transaction, the server transaction MUST enter the Proceeding state."
          if (this.state === 'trying') this.transition('proceeding');
          this.#ports.sendResponse(i.response);
          return;
        }
        // §17.2.2: "If the TU passes a final response (status codes 200-699) to the server while in the
        // Proceeding [or Trying] state, the transaction MUST enter the Completed state, and the response MUST be
        // passed to the transport layer for transmission. When the server transaction enters the Completed
        // state, it MUST set Timer J to fire in 64*T1 seconds for unreliable transports, and zero seconds for
        // reliable transports."
        this.transition('completed');
        this.#ports.sendResponse(i.response);
        if (this.cfg.reliable) this.#terminate();
        else this.startTimer('J', 64 * this.cfg.t1Ms);
        return;
      case 'timer':
        // §17.2.2: "The server transaction remains in this state until Timer J fires, at which point it MUST
        // transition to the Terminated state."
        if (this.state === 'completed') this.#terminate();
        return;
      case 'transportError':
        // §17.2.4: the TU is informed and the transaction ends.
        this.#terminate();
        this.#ports.transportFailed(i.error);
        return;
    }
  }

  #terminate(): void {
    this.transition('terminated');
    this.cancelAllTimers();
    this.#ports.terminated();
  }
}
