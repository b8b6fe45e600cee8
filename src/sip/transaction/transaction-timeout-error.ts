import type { TimerName } from './timer-port.ts';

/**
 * A transaction gave up (RFC 3261 §17.1.1.2 Timer B, §17.1.2.2 Timer F: no final response; §17.2.1 Timer H: no
 * ACK for a non-2xx final response; §9.1: a cancelled INVITE still without a final response 64*T1 after the
 * CANCEL). The TU treats a client timeout as a 408 (§8.1.3.1).
 */
export class TransactionTimeoutError extends Error {
  override readonly name = 'TransactionTimeoutError';
  constructor(
    readonly timer: Extract<TimerName, 'B' | 'F' | 'H' | 'Cancel'>,
    readonly method: string,
    readonly branch: string,
  ) {
    super(`${method} transaction ${branch} timed out (Timer ${timer})`);
  }
}
