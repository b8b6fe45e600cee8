/**
 * Datagram parsing (RFC 3261 §7, §18.3). The start line and header lines are split here; values are only parsed
 * for the headers every layer reads anyway (Via, From, To, CSeq, Call-ID, Max-Forwards, Content-Length), so a
 * message that gets past `parseMessage` can be handed to the transaction layer without further checks.
 */
import { SipHeaderError, SipParseError } from './errors.ts';
import { headerKey } from './header-names.ts';
import { SipRequest, SipResponse, type SipMessage } from './message.ts';
import { isToken, trimLws } from './syntax.ts';

export const DEFAULT_MAX_BYTES = 65535;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const HIGH_BYTE = /[\x80-\xff]/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*:/;
const SIP_VERSION = /^SIP\/\d+\.\d+$/i;

export interface ParseOptions {
  /** Larger messages are rejected with 513 without being parsed. Default 65535. */
  maxBytes?: number;
}

export interface ParsedHead {
  message: SipMessage;
  /** Content-Length when present and well-formed; undefined when absent. */
  contentLength: number | undefined;
}

/**
 * Parses one UDP datagram. Content-Length may be absent (the body runs to the end); a larger one than the data
 * is an error; a smaller one truncates the body (§18.3). Never throws.
 */
export function parseMessage(data: Buffer, opts?: ParseOptions): SipMessage | SipParseError {
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (data.length > maxBytes) return new SipParseError(`message larger than ${maxBytes} bytes`, maxBytes, { status: 513 });
  let start = 0;
  // §7.5: CRLFs before the start line are ignored.
  while (start + 1 < data.length && data[start] === 13 && data[start + 1] === 10) start += 2;
  let headEnd = data.indexOf(CRLFCRLF, start);
  // A datagram ending right after its last header line lacks the empty line §7 requires; the datagram boundary
  // makes the intent clear, so accept it (without body) rather than fail on a lost CRLF.
  const unterminated = headEnd === -1;
  if (unterminated) {
    if (data.length < start + 2 || data[data.length - 2] !== 13 || data[data.length - 1] !== 10) {
      return new SipParseError('no empty line after the headers', data.length);
    }
    headEnd = data.length - 2;
  }
  const head = parseHead(data, start, headEnd);
  if (head instanceof SipParseError) return head;
  if (unterminated) {
    head.message.body = Buffer.alloc(0);
    return head.message;
  }
  const bodyStart = headEnd + 4;
  const available = data.length - bodyStart;
  const msg = head.message;
  let bodyEnd = data.length;
  if (head.contentLength !== undefined) {
    if (head.contentLength > available) {
      return new SipParseError(
        `Content-Length ${head.contentLength} exceeds the ${available} bytes of body received`,
        data.length,
        { partial: partialOf(msg) },
      );
    }
    bodyEnd = bodyStart + head.contentLength;
  }
  return finish(msg, data, start, bodyStart, bodyEnd);
}

/** Attaches the body and the received bytes (reused by `serialize` while the message is untouched). */
export function finish(msg: SipMessage, data: Buffer, start: number, bodyStart: number, bodyEnd: number): SipMessage {
  msg.setReceivedBytes(data.subarray(bodyStart, bodyEnd), data.subarray(start, bodyEnd));
  return msg;
}

function partialOf(msg: SipMessage): SipRequest | undefined {
  return msg.kind === 'request' ? msg : undefined;
}

/**
 * Parses the start line and headers in `data[start, headEnd)` (headEnd is the offset of the CRLFCRLF) and checks
 * the headers every layer relies on.
 */
export function parseHead(data: Buffer, start: number, headEnd: number): ParsedHead | SipParseError {
  let text = data.toString('latin1', start, headEnd + 2);
  const utf8 = HIGH_BYTE.test(text);
  if (utf8) text = data.toString('utf8', start, headEnd + 2);
  const offsetOf = (i: number): number => start + (utf8 ? Buffer.byteLength(text.slice(0, i)) : i);

  const lineEnd = text.indexOf('\r\n');
  const startLine = text.slice(0, lineEnd);
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  const raws: Array<string | undefined> = [];
  const lineOffsets: number[] = [];

  let pos = lineEnd + 2;
  const len = text.length;
  while (pos < len) {
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) return new SipParseError('continuation line without a header', offsetOf(pos));
    let eol = text.indexOf('\r\n', pos);
    let folded = false;
    // LWS continuation (§7.3.1): a line starting with SP/HTAB belongs to the previous header.
    while (eol + 2 < len) {
      const next = text.charCodeAt(eol + 2);
      if (next !== 32 && next !== 9) break;
      folded = true;
      eol = text.indexOf('\r\n', eol + 2);
    }
    const colon = text.indexOf(':', pos);
    if (colon === -1 || colon > eol) return new SipParseError('header line without a colon', offsetOf(pos));
    let nameEnd = colon;
    while (nameEnd > pos && (text.charCodeAt(nameEnd - 1) === 32 || text.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
    const name = text.slice(pos, nameEnd);
    if (!isToken(name)) return new SipParseError(`invalid header name "${name}"`, offsetOf(pos));
    let value = text.slice(colon + 1, eol);
    if (folded) value = value.replace(/\r\n[ \t]+/g, ' ');
    names.push(name);
    lineOffsets.push(pos);
    keys.push(headerKey(name));
    values.push(trimLws(value));
    raws.push(text.slice(pos, eol));
    pos = eol + 2;
  }

  const raw = data.subarray(start, headEnd + 4);
  let message: SipMessage;
  let versionError = false;
  if (startLine.startsWith('SIP/') || startLine.startsWith('sip/')) {
    const m = /^(SIP\/\d+\.\d+) (\d{3})(?: (.*))?$/i.exec(startLine);
    if (m === null) return new SipParseError(`malformed status line "${startLine}"`, start);
    const status = Number(m[2]);
    if (status < 100 || status > 699) return new SipParseError(`status code ${status} out of range`, start);
    message = new SipResponse(status, m[3] ?? '', names, keys, values, raws, undefined, raw);
    versionError = (m[1] as string).toUpperCase() !== 'SIP/2.0';
  } else {
    const sp = startLine.indexOf(' ');
    const method = sp === -1 ? startLine : startLine.slice(0, sp);
    if (!isToken(method)) return new SipParseError(`invalid method "${method}"`, start);
    const parts = startLine.split(' ');
    let lineError: SipParseError | undefined;
    let uri = parts[1] as string;
    const version = parts[2];
    if (parts.length !== 3 || version === undefined) {
      lineError = new SipParseError(`malformed request line "${startLine}"`, start);
      const v = startLine.lastIndexOf(' SIP/');
      uri = startLine.slice(sp + 1, v <= sp ? undefined : v).trim();
    } else if (!URI_SCHEME.test(uri) || /[<>"\t]/.test(uri)) {
      lineError = new SipParseError(`malformed Request-URI "${uri}"`, start + sp + 1);
    } else if (version !== 'SIP/2.0') {
      if (!SIP_VERSION.test(version)) lineError = new SipParseError(`malformed SIP version "${version}"`, start);
      else versionError = version.toUpperCase() !== 'SIP/2.0';
    }
    message = new SipRequest(method, uri, names, keys, values, raws, undefined, raw);
    if (lineError !== undefined) {
      // The request line is broken but a 400 can still be sent if the Via (and ideally the rest) is readable.
      let partial: SipRequest | undefined;
      try {
        void message.topVia;
        partial = message;
      } catch (err) {
        if (!(err instanceof SipHeaderError)) throw err;
      }
      return new SipParseError(lineError.message, lineError.offset, { partial });
    }
  }
  return check(message, versionError, (key) => {
    const i = keys.indexOf(key);
    return offsetOf(i === -1 ? 0 : (lineOffsets[i] as number));
  });
}

const SINGLE = ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type'] as const;

/** `at(key)` is the byte offset of the header's first line (of the start line when absent). */
function check(msg: SipMessage, versionError: boolean, at: (key: string) => number): ParsedHead | SipParseError {
  let partial: SipRequest | undefined;
  try {
    void msg.topVia;
    partial = partialOf(msg);
  } catch (err) {
    if (!(err instanceof SipHeaderError)) throw err;
    return new SipParseError(err.message, at('via'), { status: versionError ? 505 : 400 });
  }
  if (versionError) return new SipParseError('unsupported SIP version', at(''), { status: 505, partial });
  for (const key of SINGLE) {
    const n = msg.count(key);
    if (n > 1) return new SipParseError(`${n} ${key} headers`, at(key), { partial });
    if (n === 0 && key !== 'max-forwards' && key !== 'content-length' && key !== 'content-type') {
      return new SipParseError(`missing ${key}`, at(''), { partial });
    }
  }
  let contentLength: number | undefined;
  try {
    void msg.vias;
    void msg.from;
    void msg.to;
    if (msg.callId.length === 0) throw new SipHeaderError('call-id', 'empty Call-ID');
    const cseq = msg.cseq;
    if (msg.kind === 'request' && cseq.method !== msg.method) {
      throw new SipHeaderError('cseq', `CSeq method ${cseq.method} does not match ${msg.method}`);
    }
    void msg.maxForwards;
    contentLength = msg.contentLength;
    // §19.1.5: headers are not allowed in a Request-URI (RFC 4475 escruri).
    if (msg.kind === 'request' && msg.uri.indexOf('?') !== -1) {
      const uri = msg.requestUriOrNull;
      if (uri !== null && Object.keys(uri.headers).length > 0) {
        throw new SipHeaderError('', `headers in the Request-URI ${msg.uri}`);
      }
    }
  } catch (err) {
    if (!(err instanceof SipHeaderError)) throw err;
    return new SipParseError(err.message, at(err.header), { partial });
  }
  return { message: msg, contentLength };
}
