/**
 * Message framing on stream transports (RFC 3261 §18.3): Content-Length is mandatory and delimits the body;
 * CRLF keep-alives between messages are skipped, and a CRLFCRLF ping is reported so the transport can answer
 * with a CRLF pong (RFC 5626 §3.5.1).
 */
import { SipParseError } from './errors.ts';
import type { SipMessage, SipRequest } from './message.ts';
import { DEFAULT_MAX_BYTES, finish, isHeadAscii, parseHead, type ParsedHead } from './parse.ts';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

export interface StreamFramerOptions {
  /** A message (headers + body) larger than this is an error that loses the framing. Default 65535. */
  maxBytes?: number;
  /** Called once per CRLFCRLF keep-alive ping received between messages; answer it with a single CRLF. */
  onPing?: () => void;
}

export class StreamFramer {
  private buf: Buffer = EMPTY;
  /** Bytes consumed from the start of the stream, for error offsets. */
  private consumed = 0;
  /** Head of a message whose body has not fully arrived yet, so it is not parsed twice. */
  private pending: { message: SipMessage; bodyStart: number; length: number } | undefined;
  /** CRLFs seen since the last message: two in a row make a ping. */
  private crlfRun = 0;
  private readonly maxBytes: number;
  private readonly onPing: (() => void) | undefined;
  private broken = false;

  constructor(opts: StreamFramerOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.onPing = opts.onPing;
  }

  /**
   * Feeds received bytes; returns the messages (and errors) completed by them, in order. After an error with
   * `fatal` set the framer ignores further input: the connection should be closed.
   */
  push(chunk: Buffer): Array<SipMessage | SipParseError> {
    if (this.broken) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Array<SipMessage | SipParseError> = [];
    for (;;) {
      const item = this.next();
      if (item === undefined) break;
      out.push(item);
      if (item instanceof SipParseError && item.fatal) {
        this.broken = true;
        this.buf = EMPTY;
        break;
      }
    }
    return out;
  }

  private next(): SipMessage | SipParseError | undefined {
    if (this.pending === undefined) {
      this.skipKeepAlives();
      if (this.buf.length === 0) return undefined;
      const headEnd = this.buf.indexOf(CRLFCRLF);
      if (headEnd === -1) {
        if (this.buf.length > this.maxBytes) return this.fatal(`no end of headers within ${this.maxBytes} bytes`, 513);
        return undefined;
      }
      const head = parseHead(this.buf, 0, headEnd, undefined, isHeadAscii(this.buf, 0, headEnd));
      if (head instanceof SipParseError) {
        // The head was delimited but its Content-Length is unknown, so the next message's start is unknown too.
        return this.fatal(head.message, head.status, head.offset, head.partial);
      }
      if (head.contentLength === undefined) {
        return this.fatal('Content-Length is mandatory on stream transports', 400, headEnd, partialOf(head));
      }
      const length = headEnd + 4 + head.contentLength;
      if (length > this.maxBytes) return this.fatal(`message of ${length} bytes exceeds ${this.maxBytes}`, 513);
      this.pending = { message: head.message, bodyStart: headEnd + 4, length };
    }
    const { message, bodyStart, length } = this.pending;
    if (this.buf.length < length) return undefined;
    const msg = finish(message, this.buf, 0, bodyStart, length);
    this.pending = undefined;
    this.crlfRun = 0;
    this.consume(length);
    return msg;
  }

  private skipKeepAlives(): void {
    let i = 0;
    const buf = this.buf;
    while (i + 1 < buf.length && buf[i] === 13 && buf[i + 1] === 10) {
      i += 2;
      this.crlfRun++;
      if (this.crlfRun === 2) {
        this.crlfRun = 0;
        this.onPing?.();
      }
    }
    if (i > 0) this.consume(i);
  }

  private consume(n: number): void {
    this.consumed += n;
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
  }

  private fatal(
    message: string,
    status: 400 | 505 | 513,
    offset = this.buf.length,
    partial?: SipRequest,
  ): SipParseError {
    return new SipParseError(message, this.consumed + offset, { status, partial, fatal: true });
  }
}

function partialOf(head: ParsedHead): SipRequest | undefined {
  return head.message.kind === 'request' ? head.message : undefined;
}
