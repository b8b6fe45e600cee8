import { TransactionMachine, type TransactionTimerConfig } from './machine.ts';
import type { TimerName, TimerPort } from './timer-port.ts';

/**
 * INVITE server transaction, RFC 3261 §17.2.1 with the RFC 6026 Accepted state (Figure 7 of RFC 6026).
 *
 * ```
 *                                |INVITE
 *                                |pass INV to TU
 *             INVITE             V send 100 if TU won't in 200 ms
 *             send response+------------+
 *                 +--------|            |--------+ 101-199 from TU
 *                 |        |            |        | send response
 *                 +------->|            |<-------+
 *                          | Proceeding |
 *                          |            |-------------------------+
 *                          |            |  Transport Err.         |
 *                          +------------+  Inform TU              |
 *             300-699 from TU |      |2xx from TU                 |
 *             send response   |      |send response               |
 *              +--------------+      +--------------+             |
 *              |                                    |             |
 * INVITE       V          Timer G fires             |             |
 * send response+-----------+ send response          V             |
 *     +--------|           |--------+     2xx from TU +----------+ |
 *     |        | Completed |        |   send response|          | |
 *     +------->|           |<-------+   +-----------|          | |
 *              +-----------+             |          | Accepted | |
 *                 |     |                +--------->|          | |
 *      ACK        |     | Timer H fires   INVITE: - |          | |
 *      -          |     | or Transport Err.         +----------+ |
 *                 V     | Inform TU      Transport Err.:   |     |
 *              +-----------+             Inform TU         |     |
 *     ACK: -   |           |                               |     |
 *     +--------| Confirmed |                  Timer L fires|     |
 *     +------->|           |                  -            |     |
 *              +-----------+                               |     |
 *                 |Timer I fires                           |     |
 *                 V -                                      V     |
 *              +-------------------------------------------------+
 *              |                  Terminated                     |
 *              +-------------------------------------------------+
 * ```
 */
export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export type InviteServerInput<Q, R> =
  /** A retransmission of the INVITE matched this transaction. */
  | { readonly type: 'request' }
  | { readonly type: 'ack'; readonly request: Q }
  /** The TU passes a response down. */
  | { readonly type: 'respond'; readonly status: number; readonly response: R }
  | { readonly type: 'timer'; readonly name: 'G' | 'H' | 'I' | 'L' | 'Trying' }
  | { readonly type: 'transportError'; readonly error: Error };

export interface InviteServerPorts<Q, R> {
  sendResponse(response: R): void;
  /** Builds the 100 (Trying) the transaction sends on its own when the TU is slow (§17.2.1). */
  makeTrying(): R;
  /** An ACK matching the transaction while Accepted (RFC 2543 peers reuse the branch): the TU owns 2xx ACKs. */
  passAck(ack: Q): void;
  timedOut(timer: 'H'): void;
  transportFailed(error: Error): void;
  terminated(): void;
}

const MOVES: Readonly<Record<InviteServerState, readonly InviteServerState[]>> = {
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

/** §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it knows that the TU will
 * generate a provisional or final response within 200 ms". */
const TRYING_DELAY_MS = 200;

export class InviteServerMachine<Q, R> extends TransactionMachine<InviteServerState> {
  readonly #ports: InviteServerPorts<Q, R>;
  #timerGMs: number;
  #last: R | undefined;

  constructor(ports: InviteServerPorts<Q, R>, timers: TimerPort, cfg: TransactionTimerConfig) {
    super('proceeding', MOVES, timers, cfg);
    this.#ports = ports;
    this.#timerGMs = cfg.t1Ms;
  }

  /** Arms the 100 (Trying) timer unless the TU already answered. */
  start(): void {
    if (this.state === 'proceeding' && this.#last === undefined) this.startTimer('Trying', TRYING_DELAY_MS);
  }

  /** The response a retransmitted INVITE is answered with (undefined before the TU or Timer Trying answered). */
  get lastResponse(): R | undefined {
    return this.#last;
  }

  onTimer(name: TimerName): void {
    this.timerFired(name);
    if (name === 'G' || name === 'H' || name === 'I' || name === 'L' || name === 'Trying') this.input({ type: 'timer', name });
  }

  input(i: InviteServerInput<Q, R>): void {
    switch (this.state) {
      case 'proceeding':
        this.#proceeding(i);
        return;
      case 'completed':
        this.#completed(i);
        return;
      case 'confirmed':
        // §17.2.1: "The purpose of the Confirmed state is to absorb any additional ACK messages that arrive,
        // triggered from retransmissions of the final response. When this state is entered, timer I is set to fire
        // in T4 seconds for unreliable transports, and zero seconds for reliable transports."
        if (i.type === 'timer' && i.name === 'I') this.#terminate();
        return;
      case 'accepted':
        this.#accepted(i);
        return;
      case 'terminated':
        return;
    }
  }

  #proceeding(i: InviteServerInput<Q, R>): void {
    switch (i.type) {
      case 'request':
        // §17.2.1: "If a request retransmission is received while in the Proceeding state, the most recent
        // provisional response that was received from the TU MUST be passed to the transport layer for
        // retransmission."
        if (this.#last !== undefined) this.#ports.sendResponse(this.#last);
        return;
      case 'timer':
        if (i.name === 'Trying' && this.#last === undefined) {
          this.#last = this.#ports.makeTrying();
          this.#ports.sendResponse(this.#last);
        }
        return;
      case 'transportError':
        // §17.2.4 and Figure 7: a transport failure is reported to the TU and ends the transaction.
        this.#terminate();
        this.#ports.transportFailed(i.error);
        return;
      case 'ack':
        return;
      case 'respond':
        this.cancelTimer('Trying');
        if (i.status < 200) {
          // §17.2.1: "The TU passes any number of provisional responses to the server transaction. So long as the
          // server transaction is in the Proceeding state, each of these MUST be passed to the transport layer."
          this.#last = i.response;
          this.#ports.sendResponse(i.response);
        } else if (i.status < 300) {
          // RFC 6026 §8.5: "If, while in the Proceeding state, the TU passes a 2xx response to the server
          // transaction, the server transaction MUST pass this response to the transport layer for transmission.
          // It is not retransmitted by the server transaction; retransmissions of 2xx responses are handled by the
          // TU. The server transaction MUST then transition to the Accepted state." and start Timer L = 64*T1.
          this.#last = undefined;
          this.transition('accepted');
          this.startTimer('L', 64 * this.cfg.t1Ms);
          this.#ports.sendResponse(i.response);
        } else {
          // §17.2.1: "While in the Proceeding state, if the TU passes a response with status code from 300 to 699
          // to the server transaction, the response MUST be passed to the transport layer for transmission, and
          // the state machine MUST enter the Completed state. For unreliable transports, timer G is set to fire
          // in T1 seconds ... timer H MUST be set to fire in 64*T1 seconds for all transports."
          this.#last = i.response;
          this.transition('completed');
          if (!this.cfg.reliable) this.startTimer('G', this.#timerGMs);
          this.startTimer('H', 64 * this.cfg.t1Ms);
          this.#ports.sendResponse(i.response);
        }
        return;
    }
  }

  #completed(i: InviteServerInput<Q, R>): void {
    switch (i.type) {
      case 'request':
        // §17.2.1: "If a request retransmission is received while in the Completed state, the server SHOULD pass
        // the response to the transport for retransmission."
        if (this.#last !== undefined) this.#ports.sendResponse(this.#last);
        return;
      case 'ack':
        // §17.2.1: "If an ACK is received while the server transaction is in the Completed state, the server
        // transaction MUST transition to the Confirmed state. As Timer G is ignored in this state, any
        // retransmissions of the response will cease."
        this.transition('confirmed');
        this.cancelTimer('G');
        this.cancelTimer('H');
        if (this.cfg.reliable) this.#terminate();
        else this.startTimer('I', this.cfg.t4Ms);
        return;
      case 'timer':
        if (i.name === 'G') {
          // §17.2.1: "If timer G fires, the response is passed to the transport layer once more for
          // retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when timer G fires,
          // the response is passed to the transport again for transmission, and timer G is reset with a value
          // that doubles, unless that value exceeds T2, in which case it is reset with the value of T2."
          this.#timerGMs = Math.min(2 * this.#timerGMs, this.cfg.t2Ms);
          this.startTimer('G', this.#timerGMs);
          if (this.#last !== undefined) this.#ports.sendResponse(this.#last);
        } else if (i.name === 'H') {
          // §17.2.1: "If timer H fires while in the Completed state, it implies that the ACK was never received.
          // In this case, the server transaction MUST transition to the Terminated state, and MUST indicate to
          // the TU that a transaction failure has occurred."
          this.#terminate();
          this.#ports.timedOut('H');
        }
        return;
      case 'transportError':
        this.#terminate();
        this.#ports.transportFailed(i.error);
        return;
      case 'respond':
        return;
    }
  }

  #accepted(i: InviteServerInput<Q, R>): void {
    switch (i.type) {
      case 'request':
        // RFC 6026 §8.6: "Any retransmissions of the INVITE received while in the Accepted state MUST NOT be
        // passed on to the TU" (the TU's own 2xx retransmissions cover them).
        return;
      case 'respond':
        // RFC 6026 §8.7: "While in the Accepted state, if the TU passes a 2xx response, the server transaction
        // MUST pass the response to the transport layer for transmission."
        if (i.status >= 200 && i.status < 300) this.#ports.sendResponse(i.response);
        return;
      case 'ack':
        // RFC 6026 §8.7: "The server transaction MUST NOT match ... ACKs for 2xx": one that does anyway is the
        // TU's to handle.
        this.#ports.passAck(i.request);
        return;
      case 'timer':
        // RFC 6026 §8.7: "If Timer L fires while the INVITE server transaction is in the Accepted state, the
        // transaction MUST transition to the Terminated state."
        if (i.name === 'L') this.#terminate();
        return;
      case 'transportError':
        // RFC 6026 Figure 7: a transport error in Accepted is reported to the TU; the state does not change.
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
