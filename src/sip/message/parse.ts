/**
 * Datagram parsing (RFC 3261 §7, §18.3). The start line and header lines are split here; values are only parsed
 * for the headers every layer reads anyway (Via, From, To, CSeq, Call-ID, Max-Forwards, Content-Length), so a
 * message that gets past `parseMessage` can be handed to the transaction layer without further checks.
 */
import { SipHeaderError, SipParseError } from './errors.ts';
import { headerKey } from './header-names.ts';
import { SipRequest, SipResponse, type HeaderTable, type SipMessage } from './message.ts';
import { isAscii } from 'node:buffer';
import { isToken, trimLws } from './syntax.ts';

export const DEFAULT_MAX_BYTES = 65535;
const EMPTY = Buffer.alloc(0);
const CRLFCRLF = Buffer.from('\r\n\r\n');
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
  const body = bodyStart === bodyEnd ? EMPTY : data.subarray(bodyStart, bodyEnd);
  msg.setReceivedBytes(body, start === 0 && bodyEnd === data.length ? data : data.subarray(start, bodyEnd));
  return msg;
}

function partialOf(msg: SipMessage): SipRequest | undefined {
  return msg.kind === 'request' ? msg : undefined;
}

// Spellings seen on nearly every message, matched in place so the common header names cost no slice, no
// lower-casing and no hash lookup. Anything else goes through `headerKey`.
const KNOWN: ReadonlyArray<readonly [string, string]> = [
  ['Via', 'via'],
  ['From', 'from'],
  ['To', 'to'],
  ['Call-ID', 'call-id'],
  ['Call-Id', 'call-id'],
  ['CSeq', 'cseq'],
  ['Contact', 'contact'],
  ['Max-Forwards', 'max-forwards'],
  ['Content-Type', 'content-type'],
  ['Content-Length', 'content-length'],
  ['Route', 'route'],
  ['Record-Route', 'record-route'],
  ['Allow', 'allow'],
  ['Supported', 'supported'],
  ['Require', 'require'],
  ['User-Agent', 'user-agent'],
  ['Server', 'server'],
  ['Expires', 'expires'],
  ['Accept', 'accept'],
  ['Event', 'event'],
  ['Authorization', 'authorization'],
  ['WWW-Authenticate', 'www-authenticate'],
  ['Proxy-Authorization', 'proxy-authorization'],
  ['Proxy-Authenticate', 'proxy-authenticate'],
  ['Session-Expires', 'session-expires'],
  ['Subscription-State', 'subscription-state'],
  ['Allow-Events', 'allow-events'],
  ['Date', 'date'],
  ['Subject', 'subject'],
  ['Reason', 'reason'],
  ['P-Asserted-Identity', 'p-asserted-identity'],
];
const KNOWN_BY_LENGTH: Array<Array<readonly [string, string]>> = [];
for (const entry of KNOWN) (KNOWN_BY_LENGTH[entry[0].length] ??= []).push(entry);

/** Compact forms (RFC 3261 §7.3.3) as char code -> key; names of one character are always looked up here. */
const COMPACT_BY_CODE: Array<string | undefined> = [];
for (const ch of 'abcdefijklmnorstuvxy') COMPACT_BY_CODE[ch.charCodeAt(0)] = headerKey(ch);
for (const ch of 'ABCDEFIJKLMNORSTUVXY') COMPACT_BY_CODE[ch.charCodeAt(0)] = headerKey(ch);

/**
 * Parses the start line and headers in `data[start, headEnd)` (headEnd is the offset of the CRLFCRLF) and checks
 * the headers every layer relies on: top Via, From, To, Call-ID, CSeq (method matching the request's), Max-Forwards
 * and Content-Length, each present once. Lower Vias and other headers are left for when they are read.
 */
export function parseHead(data: Buffer, start: number, headEnd: number): ParsedHead | SipParseError {
  let text = data.toString('latin1', start, headEnd + 2);
  // Whole-buffer check first: it is one native call without a subarray, and true for nearly every message.
  const ascii = isAscii(data) || isAscii(data.subarray(start, headEnd + 2));
  if (!ascii) text = data.toString('utf8', start, headEnd + 2);
  // Spans are offsets in `data` for ASCII heads (copied from on serialize), string indices otherwise.
  const base = ascii ? start : 0;

  const lineEnd = text.indexOf('\r\n');
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  const spans: number[] = [];

  let pos = lineEnd + 2;
  const len = text.length;
  while (pos < len) {
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) return lineError('continuation line without a header', start, text, ascii, pos);
    let eol = text.indexOf('\r\n', pos);
    let folded = false;
    // LWS continuation (§7.3.1): a line starting with SP/HTAB belongs to the previous header.
    for (;;) {
      const next = text.charCodeAt(eol + 2);
      if (next !== 32 && next !== 9) break;
      folded = true;
      eol = text.indexOf('\r\n', eol + 2);
    }
    const colon = text.indexOf(':', pos);
    if (colon === -1 || colon > eol) return lineError('header line without a colon', start, text, ascii, pos);
    let nameEnd = colon;
    while (nameEnd > pos && (text.charCodeAt(nameEnd - 1) === 32 || text.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
    const nameLen = nameEnd - pos;
    let name: string | undefined;
    let key: string | undefined;
    if (nameLen === 1) {
      key = COMPACT_BY_CODE[first];
      if (key !== undefined) name = text[pos] as string;
    } else {
      const candidates = KNOWN_BY_LENGTH[nameLen];
      if (candidates !== undefined) {
        for (const [spelling, k] of candidates) {
          if (text.startsWith(spelling, pos)) {
            name = spelling;
            key = k;
            break;
          }
        }
      }
    }
    if (name === undefined || key === undefined) {
      name = text.slice(pos, nameEnd);
      if (!isToken(name)) return lineError(`invalid header name "${name}"`, start, text, ascii, pos);
      key = headerKey(name);
    }
    let vs = colon + 1;
    while (vs < eol && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    let ve = eol;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    let value = text.slice(vs, ve);
    if (folded) value = trimLws(value.replace(/\r\n[ \t]+/g, ' '));
    names.push(name);
    keys.push(key);
    values.push(value);
    // Kept for non-ASCII heads too (error offsets); only copied from when `source` is set.
    spans.push(base + pos, base + eol);
    pos = eol + 2;
  }

  const table: HeaderTable = {
    names,
    keys,
    values,
    spans,
    source: ascii ? data : undefined,
    startLineStart: ascii ? start : -1,
    startLineEnd: ascii ? start + lineEnd : -1,
  };
  const startLine = text.slice(0, lineEnd);
  if (startLine.startsWith('SIP/') || startLine.startsWith('sip/')) {
    const m = /^(SIP\/\d+\.\d+) (\d{3})(?: (.*))?$/i.exec(startLine);
    if (m === null) return new SipParseError(`malformed status line "${startLine}"`, start);
    const status = Number(m[2]);
    if (status < 100 || status > 699) return new SipParseError(`status code ${status} out of range`, start);
    const response = new SipResponse(status, m[3] ?? '', table);
    return check(response, (m[1] as string).toUpperCase() !== 'SIP/2.0', { data, start, text, ascii, keys, spans });
  }
  const sp = startLine.indexOf(' ');
  const method = sp === -1 ? startLine : startLine.slice(0, sp);
  if (!isToken(method)) return new SipParseError(`invalid method "${method}"`, start);
  const parts = startLine.split(' ');
  let error: SipParseError | undefined;
  let versionError = false;
  let uri = parts[1] as string;
  const version = parts[2];
  if (parts.length !== 3 || version === undefined) {
    error = new SipParseError(`malformed request line "${startLine}"`, start);
    const v = startLine.lastIndexOf(' SIP/');
    uri = startLine.slice(sp + 1, v <= sp ? undefined : v).trim();
  } else if (!URI_SCHEME.test(uri) || /[<>"\t]/.test(uri)) {
    error = new SipParseError(`malformed Request-URI "${uri}"`, start + sp + 1);
  } else if (version !== 'SIP/2.0') {
    if (!SIP_VERSION.test(version)) error = new SipParseError(`malformed SIP version "${version}"`, start);
    else versionError = version.toUpperCase() !== 'SIP/2.0';
  }
  const request = new SipRequest(method, uri, table);
  if (error !== undefined) {
    // The request line is broken, but a 400 can still be sent if the top Via is readable.
    return new SipParseError(error.message, error.offset, { partial: topViaReadable(request) ? request : undefined });
  }
  return check(request, versionError, { data, start, text, ascii, keys, spans });
}

function topViaReadable(msg: SipMessage): boolean {
  try {
    void msg.topVia;
    return true;
  } catch (err) {
    if (err instanceof SipHeaderError) return false;
    throw err;
  }
}

/** An error at string index `i` of the decoded head, reported as a byte offset. */
function lineError(message: string, start: number, text: string, ascii: boolean, i: number): SipParseError {
  return new SipParseError(message, byteOffset(start, text, ascii, i));
}

function byteOffset(start: number, text: string, ascii: boolean, i: number): number {
  return start + (ascii ? i : Buffer.byteLength(text.slice(0, i)));
}

const MUST_HAVE = ['via', 'from', 'to', 'call-id', 'cseq'] as const;
const AT_MOST_ONE = ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type'] as const;

/** Where the head came from, to turn a header into the byte offset of its line. */
interface HeadSource {
  data: Buffer;
  start: number;
  text: string;
  ascii: boolean;
  keys: string[];
  spans: number[];
}

function offsetOf(h: HeadSource, key: string): number {
  const i = h.keys.indexOf(key);
  if (i === -1) return h.start;
  const at = h.spans[2 * i] as number;
  return h.ascii ? at : byteOffset(h.start, h.text, false, at);
}

function check(msg: SipMessage, versionError: boolean, h: HeadSource): ParsedHead | SipParseError {
  const keys = h.keys;
  const start = h.start;
  if (!topViaReadable(msg)) {
    return new SipParseError('missing or malformed Via', offsetOf(h, 'via'), { status: versionError ? 505 : 400 });
  }
  const partial = msg.kind === 'request' ? msg : undefined;
  if (versionError) return new SipParseError('unsupported SIP version', start, { status: 505, partial });
  for (const key of MUST_HAVE) {
    if (keys.indexOf(key) === -1) return new SipParseError(`missing ${key}`, start, { partial });
  }
  for (const key of AT_MOST_ONE) {
    const i = keys.indexOf(key);
    if (i !== -1 && keys.indexOf(key, i + 1) !== -1) {
      return new SipParseError(`more than one ${key} header`, offsetOf(h, key), { partial });
    }
  }
  let contentLength: number | undefined;
  try {
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
    return new SipParseError(err.message, offsetOf(h, err.header), { partial });
  }
  return { message: msg, contentLength };
}
