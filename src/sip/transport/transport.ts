import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import type { Endpoint, TransportProtocol } from './endpoint.ts';
import type { TransportError } from './transport-error.ts';

/**
 * What the transport hands up (RFC 3261 §18.1.2, §18.2.1): every message that parsed, with the address it came
 * from and the local listener it arrived on. Requests already carry `received`/`rport` on their top Via.
 */
export interface TransportReceiver {
  receiveRequest(req: SipRequest, source: Endpoint, local: Endpoint): void;
  receiveResponse(res: SipResponse, source: Endpoint, local: Endpoint): void;
}

/** Called at most once, never synchronously from `send`: the failure of one send. */
export type SendErrorHandler = (err: TransportError) => void;

/** The narrow interface the transaction layer (and tests) see; `TransportLayer` and `MemoryTransport` implement it. */
export interface SipTransport {
  setReceiver(receiver: TransportReceiver): void;
  /**
   * Sends a request (or a response to an explicit address). Over TCP an open connection to `to` (by remote
   * address or by Via alias) is reused, else one is opened.
   */
  send(msg: SipMessage, to: Endpoint, onError?: SendErrorHandler): void;
  /**
   * Sends a response to a request that arrived from `source`, per RFC 3261 §18.2.2 / RFC 3581 §4: over the
   * connection the request came on if it is still open, else to `received` (or the Via host) and, on UDP, the
   * `rport` value or the Via port. UDP responses leave from `local`, the listener the request arrived on.
   */
  sendResponse(res: SipResponse, source: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void;
  /**
   * Sends the bytes of a response serialized earlier to `to`, the address `sendResponse` chose for it over UDP:
   * a server transaction's retransmissions, which keep only the bytes (RFC 3261 §17.2: Timers G and J).
   */
  sendResponseBytes(data: Buffer, to: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void;
  /** The address to write into Via and Contact for this transport (`public_host` for a wildcard bind). */
  localEndpoint(transport: TransportProtocol): Endpoint;
  close(): Promise<void>;
}
