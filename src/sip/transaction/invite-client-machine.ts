import { TransactionMachine, type TransactionTimerConfig } from './machine.ts';
import type { TimerName, TimerPort } from './timer-port.ts';

/**
 * INVITE client transaction, RFC 3261 §17.1.1 with the RFC 6026 Accepted state (Figure 5 of RFC 6026).
 *
 * ```
 *                    |INVITE from TU
 *  Timer A fires     |INVITE sent            Timer B fires
 *  Reset A,          V                       or Transport Err.
 *  INVITE sent +-----------+                 inform TU
 *    +---------|           |---------------------------+
 *    |         |  Calling  |                           |
 *    +-------->|           |-----------+               |
 *              +-----------+ 2xx       |               |
 *                 |  |       2xx to TU |               |
 *                 |  |1xx              |               |
 * 300-699 +-------+  |1xx to TU        |               |
 * ACK sent|          |                 |               |
 * resp to TU|  1xx   V                 |               |
 *         |  1xx to TU -----------+    |               |
 *         |  +---------|          |    |               |
 *         |  |         |Proceeding|----+ 2xx to TU     |
 *         |  +-------->|          |    |               |
 *         |            +----------+    V               |
 *         | 300-699       |      +----------+          |
 *         | ACK sent,     |      |          | 2xx to TU|
 *         | resp to TU    |      | Accepted |<--+      |
 *         +-------+-------+      |          |---+      |
 *   300-699       V              +----------+          |
 *   ACK sent +-----------+            |Timer M fires   |
 *   +--------|           |            |-               |
 *   |        | Completed |            |                |
 *   +------->|           |            |                |
 *            +-----------+            |                |
 *              |Timer D fires         |                |
 *              |or Transport Err.     |                |
 *              V inform TU            V                |
 *            +---------------------------+             |
 *            |        Terminated         |<------------+
 *            +---------------------------+
 * ```
 */
export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export type InviteClientInput<R> =
  | { readonly type: 'response'; readonly status: number; readonly response: R }
  | { readonly type: 'timer'; readonly name: 'A' | 'B' | 'D' | 'M' | 'Cancel' }
  /** A CANCEL for this INVITE went out (§9.1). */
  | { readonly type: 'cancelSent' }
  /** The TU no longer follows the transaction (its session ended): in Accepted there is nothing left to do. */
  | { readonly type: 'released' }
  | { readonly type: 'transportError'; readonly error: Error };

export interface InviteClientPorts<R> {
  /** Transmits (or retransmits) the INVITE. */
  sendRequest(): void;
  /** §17.1.1.3: sends the ACK built for this non-2xx final response (same for every retransmission of it). */
  sendAck(response: R): void;
  passResponse(response: R): void;
  timedOut(timer: 'B' | 'Cancel'): void;
  transportFailed(error: Error): void;
  terminated(): void;
}

const MOVES: Readonly<Record<InviteClientState, readonly InviteClientState[]>> = {
  calling: ['proceeding', 'completed', 'accepted', 'terminated'],
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

export class InviteClientMachine<R> extends TransactionMachine<InviteClientState> {
  readonly #ports: InviteClientPorts<R>;
  #timerAMs: number;

  constructor(ports: InviteClientPorts<R>, timers: TimerPort, cfg: TransactionTimerConfig) {
    super('calling', MOVES, timers, cfg);
    this.#ports = ports;
    this.#timerAMs = cfg.t1Ms;
  }

  /** §17.1.1.2: the INVITE is passed to the transport, Timer A (unreliable only) and Timer B are started. */
  start(): void {
    this.#ports.sendRequest();
    if (!this.cfg.reliable) this.startTimer('A', this.#timerAMs);
    this.startTimer('B', 64 * this.cfg.t1Ms);
  }

  /**
   * Takes over an INVITE another process sent and got a provisional response for (recovery after a restart): the
   * machine starts in Proceeding, sends nothing and runs no timer until a CANCEL or a final response.
   */
  adopt(): void {
    this.transition('proceeding');
  }

  onTimer(name: TimerName): void {
    this.timerFired(name);
    if (name === 'A' || name === 'B' || name === 'D' || name === 'M' || name === 'Cancel') this.input({ type: 'timer', name });
  }

  input(i: InviteClientInput<R>): void {
    switch (this.state) {
      case 'calling':
        if (i.type === 'timer' && i.name === 'A') {
          // §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request ... and reset the
          // timer with a value of 2*T1."
          this.#timerAMs *= 2;
          this.startTimer('A', this.#timerAMs);
          this.#ports.sendRequest();
          return;
        }
        if (i.type === 'timer' && i.name === 'B') {
          // §17.1.1.2: "If the client transaction is still in the Calling state when timer B fires, the client
          // transaction SHOULD inform the TU that a timeout has occurred."
          this.#terminate();
          this.#ports.timedOut('B');
          return;
        }
        this.#proceedingOrCalling(i);
        return;
      case 'proceeding':
        this.#proceedingOrCalling(i);
        return;
      case 'completed':
        if (i.type === 'response' && i.status >= 300) {
          // §17.1.1.2: "Any retransmissions of the final response that are received while in the Completed state
          // MUST cause the ACK to be re-passed to the transport layer for retransmission, but the newly received
          // response MUST NOT be passed up to the TU."
          this.#ports.sendAck(i.response);
        } else if (i.type === 'timer' && i.name === 'D') {
          // §17.1.1.2: "If timer D fires while the client transaction is in the Completed state, the client
          // transaction MUST move to the terminated state."
          this.#terminate();
        } else if (i.type === 'transportError') {
          this.#terminate();
          this.#ports.transportFailed(i.error);
        }
        return;
      case 'accepted':
        if (i.type === 'response' && i.status >= 200 && i.status < 300) {
          // RFC 6026 §8.4: "any 2xx responses that match this client transaction ... MUST be passed up to the TU"
          // so the TU acknowledges each 2xx retransmission (and each fork).
          this.#ports.passResponse(i.response);
        } else if (i.type === 'timer' && i.name === 'M') {
          // RFC 6026 §8.4: "If Timer M fires while the client transaction is in the Accepted state, the client
          // transaction MUST move to the Terminated state."
          this.#terminate();
        } else if (i.type === 'released') {
          // Accepted only passes 2xx up to the TU. With the TU gone, a 2xx that matches no transaction takes the
          // same way (the layer's stray handling, where the dialog re-ACKs it) and anything else is dropped
          // either way: waiting out Timer M would only keep this transaction in memory for 32 s after every call.
          this.#terminate();
        }
        return;
      case 'terminated':
        return;
    }
  }

  #proceedingOrCalling(i: InviteClientInput<R>): void {
    if (i.type === 'cancelSent') {
      // §9.1: "If there is no final response for the original request in 64*T1 seconds ... the client SHOULD then
      // consider the original transaction cancelled and SHOULD destroy the client transaction handling the
      // original request." (A CANCEL is only sent after a provisional response, so Timer B is not running.)
      this.startTimer('Cancel', 64 * this.cfg.t1Ms);
      return;
    }
    if (i.type === 'timer' && i.name === 'Cancel') {
      this.#terminate();
      this.#ports.timedOut('Cancel');
      return;
    }
    if (i.type === 'transportError') {
      // §17.1.1.2 / §8.1.3.1: a transport failure is reported to the TU and the transaction ends.
      this.#terminate();
      this.#ports.transportFailed(i.error);
      return;
    }
    if (i.type !== 'response') return;
    if (i.status < 200) {
      // §17.1.1.2: "If the client transaction receives a provisional response while in the Calling state, it
      // transitions to the Proceeding state. In the Proceeding state, the client transaction SHOULD NOT retransmit
      // the request any longer. Furthermore, the provisional response MUST be passed to the TU."
      if (this.state === 'calling') {
        this.transition('proceeding');
        this.cancelTimer('A');
        this.cancelTimer('B');
      }
      this.#ports.passResponse(i.response);
    } else if (i.status < 300) {
      // RFC 6026 §8.4: "When in either the Calling or Proceeding states, reception of a 2xx response MUST cause the
      // client transaction to enter the Accepted state, and Timer M MUST be started with a value of 64*T1."
      this.transition('accepted');
      this.cancelTimer('A');
      this.cancelTimer('B');
      this.cancelTimer('Cancel');
      this.startTimer('M', 64 * this.cfg.t1Ms);
      this.#ports.passResponse(i.response);
    } else {
      // §17.1.1.2: "When in either the Calling or Proceeding states, reception of a response with status code from
      // 300-699 MUST cause the client transaction to transition to Completed. The client transaction MUST pass
      // the received response up to the TU, and the client transaction MUST generate an ACK request ... Timer D
      // MUST be set to fire in a time greater than or equal to 32 seconds for unreliable transports, and a time of
      // zero seconds for reliable transports."
      this.transition('completed');
      this.cancelTimer('A');
      this.cancelTimer('B');
      this.cancelTimer('Cancel');
      this.#ports.sendAck(i.response);
      this.#ports.passResponse(i.response);
      if (this.cfg.reliable) this.#terminate();
      // 64*T1 is the 32 s of Table 4 with the default T1, and shrinks with it in tests.
      else this.startTimer('D', 64 * this.cfg.t1Ms);
    }
  }

  #terminate(): void {
    this.transition('terminated');
    this.cancelAllTimers();
    this.#ports.terminated();
  }
}
