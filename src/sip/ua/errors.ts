/** Typed failures of the user agent layer; the call layer maps them to its own outcomes. */
import type { SipResponse } from '../message/index.ts';

/** A request ended with a final non-2xx response (after the one digest retry, when there was a challenge). */
export class SipResponseError extends Error {
  override readonly name = 'SipResponseError';
  readonly status: number;
  constructor(readonly response: SipResponse) {
    super(`${response.cseq.method} failed: ${response.status} ${response.reason}`);
    this.status = response.status;
  }
}

/** The outgoing INVITE was cancelled by us before it was answered (the 487, or a 2xx that crossed the CANCEL). */
export class CallCancelledError extends Error {
  override readonly name = 'CallCancelledError';
  constructor() {
    super('the call was cancelled before it was answered');
  }
}

/** The session ended before the operation could complete (BYE, ACK timeout, 481/408 to an in-dialog request). */
export class SessionEndedError extends Error {
  override readonly name = 'SessionEndedError';
  constructor(readonly reason: string) {
    super(`the session ended: ${reason}`);
  }
}

/** Our 2xx was never acknowledged (RFC 3261 §13.3.1.4): the session was ended with a BYE. */
export class AckTimeoutError extends Error {
  override readonly name = 'AckTimeoutError';
  constructor() {
    super('no ACK for our 2xx within 64*T1: session ended with BYE');
  }
}

/** §14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another INVITE transaction is in
 * progress in either direction". */
export class InviteInProgressError extends Error {
  override readonly name = 'InviteInProgressError';
  constructor() {
    super('an INVITE transaction is already in progress in this dialog');
  }
}

/** The incoming INVITE already has its final response; it cannot be answered again. */
export class AlreadyAnsweredError extends Error {
  override readonly name = 'AlreadyAnsweredError';
  constructor() {
    super('the INVITE already has a final response');
  }
}
