/** Typed errors of the message layer. */
import type { SipRequest } from './message.ts';

/**
 * A message that could not be parsed. Returned (never thrown) by `parseMessage` and `StreamFramer`.
 *
 * `status` is what a UAS should answer when it can answer at all: 400, 505 for an unsupported SIP version
 * (RFC 3261 §21.5.6, RFC 4475 badvers), 513 for an oversized message (§21.5.7). `partial` is the request as far
 * as it was readable when its request line or top Via was: enough for `createResponse(partial, err.status)`.
 */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /** Byte offset in the datagram or stream chunk where the problem was found. */
  readonly offset: number;
  readonly status: 400 | 505 | 513;
  readonly partial: SipRequest | undefined;
  /**
   * Stream framing is lost (StreamFramer only): the next message boundary is unknown, so the transport should
   * answer if it can and close the connection.
   */
  readonly fatal: boolean;

  constructor(
    message: string,
    offset: number,
    opts: { status?: 400 | 505 | 513; partial?: SipRequest | undefined; fatal?: boolean } = {},
  ) {
    super(message);
    this.offset = offset;
    this.status = opts.status ?? 400;
    this.partial = opts.partial;
    this.fatal = opts.fatal ?? false;
  }

  get versionNotSupported(): boolean {
    return this.status === 505;
  }
}

/** A header that is missing or malformed was read through a structured accessor (`msg.from`, `msg.cseq` ...). */
export class SipHeaderError extends Error {
  override readonly name = 'SipHeaderError';
  readonly header: string;

  constructor(header: string, message: string) {
    super(message);
    this.header = header;
  }
}
