import type { Endpoint } from './endpoint.ts';

/**
 * A message could not be sent (RFC 3261 §8.1.3.1, §18.4): the socket refused it, a TCP connection could not be
 * opened or broke, or the message is larger than `max_message_bytes`. The transaction layer passes it to the TU.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly endpoint: Endpoint,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
