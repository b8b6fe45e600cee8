/**
 * Datagram parsing (RFC 3261 §7, §18.3). The start line and header lines are split here; values are only parsed
 * for the headers every layer reads anyway (top Via, From, To, CSeq, Call-ID, Max-Forwards, Content-Length), so a
 * message that gets past `parseMessage` can be handed to the transaction layer without further checks.
 *
 * Written for speed: the datagram is decoded once (latin1, so string indices are byte offsets), lines are found
 * with single-character searches, and common header names are recognised in place without slicing them.
 */
import { isAscii } from 'node:buffer';
import { SipHeaderError, SipParseError } from './errors.ts';
import { headerKey } from './header-names.ts';
import { SipRequest, SipResponse, type HeaderTable, type SipMessage } from './message.ts';
import type { CSeq } from './types.ts';
import { TOKEN_BYTES, isToken, paramsScan } from './syntax.ts';
import { NameAddrScan, scanNameAddr, scannedTag } from './name-addr-scan.ts';
import { SPELLED_HEADER_NAMES, spelledHeaderName } from './spelled-header-name.ts';
import { SPELLED_METHODS, spelledMethod } from './spelled-method.ts';
import { parseViaIn } from './via.ts';

export const DEFAULT_MAX_BYTES = 65535;
const EMPTY = Buffer.alloc(0);
const SIP_VERSION = /^SIP\/\d+\.\d+$/i;

/** Whether data[start, headEnd + 2) is ASCII: most often the whole buffer is, which is one native check. */
export function isHeadAscii(data: Buffer, start: number, headEnd: number): boolean {
  return isAscii(data) || isAscii(data.subarray(start, headEnd + 2));
}

/** Buffer#latin1Slice: what `toString('latin1')` calls, without the encoding dispatch around it. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

export interface ParseOptions {
  /** Larger messages are rejected with 513 without being parsed. Default 65535. */
  maxBytes?: number;
}

/** What `parseHead` returns. */
export interface ParsedHead {
  message: SipMessage;
  /** Content-Length when present and well-formed; undefined when absent. */
  contentLength: number | undefined;
  /** Offset of the CRLFCRLF ending the head (or of the final CRLF of a datagram without the empty line). */
  headEnd: number;
  /** A datagram whose head runs to its end without the empty line. */
  unterminated: boolean;
}

/**
 * Parses one UDP datagram. Content-Length may be absent (the body runs to the end); a larger one than the data
 * is an error; a smaller one truncates the body (§18.3). Never throws.
 */
export function parseMessage(data: Buffer, opts?: ParseOptions): SipMessage | SipParseError {
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (data.length > maxBytes) return new SipParseError(`message larger than ${maxBytes} bytes`, maxBytes, { status: 513 });
  const text = (data as unknown as Latin1Slicer).latin1Slice(0, data.length);
  let start = 0;
  // §7.5: CRLFs before the start line are ignored.
  while (text.charCodeAt(start) === 13 && text.charCodeAt(start + 1) === 10) start += 2;
  // An ASCII datagram has its empty line found by the line loop; otherwise the head is delimited first, to be
  // decoded as UTF-8.
  const ascii = asciiCheck(data);
  let headEnd = -1;
  let unterminated = false;
  if (!ascii) {
    headEnd = text.indexOf('\r\n\r\n', start);
    if (headEnd === -1) {
      if (data.length < start + 2 || !text.endsWith('\r\n')) return noEmptyLine(data);
      headEnd = data.length - 2;
      unterminated = true;
    }
  }
  const head = parseHead(data, start, headEnd, text, ascii);
  if (head instanceof SipParseError) return head;
  const msg = head.message;
  headEnd = head.headEnd;
  if (unterminated || head.unterminated) {
    msg.body = EMPTY;
    return msg;
  }
  const bodyStart = headEnd + 4;
  const available = data.length - bodyStart;
  let bodyEnd = data.length;
  if (head.contentLength !== undefined) {
    if (head.contentLength > available) {
      return new SipParseError(
        `Content-Length ${head.contentLength} exceeds the ${available} bytes of body received`,
        data.length,
        { partial: msg.kind === 'request' ? msg : undefined },
      );
    }
    bodyEnd = bodyStart + head.contentLength;
  }
  return finish(msg, data, start, bodyStart, bodyEnd);
}

/**
 * A datagram ending right after its last header line lacks the empty line §7 requires; the datagram boundary
 * makes the intent clear, so it is accepted (without body) rather than failed on a lost CRLF. Without even that
 * final CRLF it is an error.
 */
function noEmptyLine(data: Buffer): SipParseError {
  return new SipParseError('no empty line after the headers', data.length);
}

/** Attaches the received bytes: `serialize` returns them while the message is untouched, the body is cut on read. */
export function finish(msg: SipMessage, data: Buffer, start: number, bodyStart: number, bodyEnd: number): SipMessage {
  msg.setReceivedBytes(data, start, bodyStart, bodyEnd);
  return msg;
}

// Headers parseMessage checks, by slot; their slot counts occurrences during the line loop.
const enum Slot {
  Via,
  From,
  To,
  CallId,
  CSeq,
  MaxForwards,
  ContentLength,
  ContentType,
  None,
}
const SLOT_OF: Record<string, Slot> = {
  via: Slot.Via,
  from: Slot.From,
  to: Slot.To,
  'call-id': Slot.CallId,
  cseq: Slot.CSeq,
  'max-forwards': Slot.MaxForwards,
  'content-length': Slot.ContentLength,
  'content-type': Slot.ContentType,
};
const SLOT_KEYS = ['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type'];

interface KnownName {
  key: string;
  slot: Slot;
  /** The usual spelling and `key` as character codes, compared with the received bytes. */
  spellingCodes: Uint8Array;
  keyCodes: Uint8Array;
  /** Of the name: a plain number costs less to read than a typed array's length. */
  length: number;
}

function knownName(spelling: string, key: string): KnownName {
  return {
    key,
    slot: SLOT_OF[key] ?? Slot.None,
    spellingCodes: Buffer.from(spelling, 'latin1'),
    length: spelling.length,
    keyCodes: Buffer.from(key, 'latin1'),
  };
}

// Spellings seen on nearly every message, matched in place (any letter case) so the common header names cost no
// slice and no hash lookup. Anything else goes through `headerKey`.
const SPELLED = SPELLED_HEADER_NAMES.map((spelling) => knownName(spelling, headerKey(spelling)));
const KNOWN_BY_LENGTH: KnownName[][] = [];
for (const known of SPELLED) (KNOWN_BY_LENGTH[known.spellingCodes.length] ??= []).push(known);
// What every parse reads from other modules, as constants of this one: V8 reads an imported binding through its
// module cell, checked for initialization on every read, but folds a module-local constant into the code (about
// half a nanosecond per read, some thirty reads per message).
const TOKEN = TOKEN_BYTES;
const Request = SipRequest;
const spelledName = spelledHeaderName;
const spelledMethodAt = spelledMethod;
const METHODS = SPELLED_METHODS;
const scanName = scanNameAddr;
const tagScan = scannedTag;
const viaIn = parseViaIn;
const asciiCheck = isAscii;
const viaScan = paramsScan;
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 65 && c <= 90 ? c + 32 : c;

/** Compact forms (RFC 3261 §7.3.3) by char code; names of one character are always looked up here. */
const COMPACT_BY_CODE: Array<KnownName | undefined> = [];
for (const ch of 'abcdefijklmnorstuvxy') {
  const key = headerKey(ch);
  COMPACT_BY_CODE[ch.charCodeAt(0)] = knownName(ch, key);
  COMPACT_BY_CODE[ch.toUpperCase().charCodeAt(0)] = knownName(ch.toUpperCase(), key);
}

/**
 * Returns the known header named by bytes[pos, pos+len) (ASCII) in any letter case: first as usually spelled,
 * then ignoring case.
 */
function matchKnown(bytes: Uint8Array, pos: number, len: number): KnownName | undefined {
  const candidates = KNOWN_BY_LENGTH[len];
  if (candidates === undefined) return undefined;
  const c0 = bytes[pos] as number;
  for (let n = 0; n < candidates.length; n++) {
    const known = candidates[n] as KnownName;
    const codes = known.spellingCodes;
    if (codes[0] !== c0) continue;
    let j = 1;
    while (j < len && bytes[pos + j] === codes[j]) j++;
    if (j === len) return known;
  }
  const first = LOWER[c0];
  for (let n = 0; n < candidates.length; n++) {
    const known = candidates[n] as KnownName;
    const key = known.keyCodes;
    if (key[0] !== first) continue;
    let j = 1;
    while (j < len && LOWER[bytes[pos + j] as number] === key[j]) j++;
    if (j === len) return known;
  }
  return undefined;
}

/** Where the head came from, to turn a header into the byte offset of its line. */
interface HeadSource {
  start: number;
  text: string;
  /** Index in `text` of the first byte of the message. */
  t0: number;
  ascii: boolean;
  keys: string[];
  /** `HeaderTable.lineStarts`. */
  lineStarts: number[];
  data: Buffer;
  headEnd: number;
  unterminated: boolean;
}

const COUNTS = new Int32Array(Slot.None + 1);
/**
 * Per checked header, its first line's value in `data` (trimmed), read there by `check`; -1 when that line is
 * folded or the head is not ASCII (the accessors read it then).
 */
const VALUE_START = new Int32Array(Slot.None + 1);
const VALUE_END = new Int32Array(Slot.None + 1);
/** And the index of that line. */
const VALUE_LINE = new Int32Array(Slot.None + 1);

function byteOffset(h: HeadSource, i: number): number {
  return h.start + (h.ascii ? i - h.t0 : Buffer.byteLength(h.text.slice(h.t0, i)));
}

function offsetOf(h: HeadSource, key: string): number {
  const i = h.keys.indexOf(key);
  return i === -1 ? h.start : byteOffset(h, h.lineStarts[i] as number);
}

/**
 * Parses the start line and headers in `data[start, headEnd)` (headEnd is the offset of the CRLFCRLF) and checks
 * the headers every layer relies on: top Via, From, To, Call-ID, CSeq (method matching the request's), Max-Forwards
 * and Content-Length, each present once. Lower Vias and other headers are left for when they are read.
 * `latin1` is the whole of `data` decoded as latin1, when the caller has it already; `ascii` says whether the
 * head is ASCII (`isHeadAscii`). With `latin1` and an ASCII head, `headEnd` may be -1: the head runs to the first
 * empty line (or to the end of a datagram ending with CRLF, `unterminated`).
 */
export function parseHead(
  data: Buffer,
  start: number,
  headEnd: number,
  latin1: string | undefined,
  ascii: boolean,
): ParsedHead | SipParseError {
  // ASCII: `text` is `data` decoded as latin1 from offset 0, so its indices are byte offsets and the message
  // starts at t0 = start. Otherwise: the head decoded as UTF-8, starting at t0 = 0.
  let text: string;
  let t0: number;
  if (ascii) {
    text = latin1 ?? data.toString('latin1', 0, headEnd + 2);
    t0 = start;
  } else {
    text = data.toString('utf8', start, headEnd + 2);
    t0 = 0;
  }
  // Indices into `text`: the message starts at t0 and its head ends (after the last CRLF) at `limit`, or at the
  // first empty line when the end is to be found.
  const findEnd = headEnd === -1;
  const limit = findEnd ? text.length : ascii ? headEnd + 2 : text.length;
  let unterminated = false;
  // A record of its own per parse: filled into a long-lived one, each new string and array stored into an old
  // object would pass V8's write barrier (several nanoseconds each). The counters are numbers, shared by every call.
  const h: HeadSource = { start, text, t0, ascii, keys: [], lineStarts: [], data, headEnd: 0, unterminated: false };
  // The usual request line is read in one pass over its bytes, which finds its end as well. Otherwise a
  // single-character search costs less than a two-character one; the pair is searched for when the first LF does
  // not end a CRLF.
  const plainMethod = ascii ? plainRequestLine(data, t0, limit, true) : undefined;
  let lineEnd: number;
  if (plainMethod !== undefined) {
    lineEnd = plainUriEnd + 8;
  } else {
    lineEnd = text.indexOf('\n', t0) - 1;
    if (lineEnd < t0 || text.charCodeAt(lineEnd) !== 13) lineEnd = text.indexOf('\r\n', t0);
    if (lineEnd === -1) return noEmptyLine(data);
  }
  const keys = h.keys;
  const lineStarts = h.lineStarts;
  const counts = COUNTS;
  for (let slot = 0; slot < counts.length; slot++) counts[slot] = 0;

  let pos = lineEnd + 2;
  for (;;) {
    if (pos >= limit) {
      if (findEnd) {
        // No empty line: a datagram ending with CRLF is taken as a head without body.
        if (pos !== limit) return noEmptyLine(data);
        unterminated = true;
        headEnd = limit - 2;
      }
      break;
    }
    // Bytes where they are the characters (typed-array reads cost half of charCodeAt).
    const first = ascii ? (data[pos] as number) : text.charCodeAt(pos);
    if (findEnd && first === 13 && data[pos + 1] === 10) {
      headEnd = pos - 2;
      break;
    }
    if (first === 32 || first === 9) return new SipParseError('continuation line without a header', byteOffset(h, pos));
    let lf = text.indexOf('\n', pos);
    // LWS continuation (§7.3.1): a line starting with SP/HTAB belongs to the previous header.
    let folded = false;
    for (;;) {
      if (lf === -1) return noEmptyLine(data);
      const next = ascii ? data[lf + 1] : text.charCodeAt(lf + 1);
      if (next !== 32 && next !== 9) break;
      folded = true;
      lf = text.indexOf('\n', lf + 1);
    }
    const eol = lf - 1;
    if ((ascii ? data[eol] : text.charCodeAt(eol)) !== 13) return new SipParseError('bare LF in the head', byteOffset(h, eol + 1));
    let colon: number;
    let key: string;
    let slot: Slot;
    // The usual spelling of a common name or a compact form, each right before its colon: nearly every line.
    let spelled: KnownName | undefined;
    if (ascii) {
      const index = spelledName(data, pos);
      spelled = index >= 0 ? SPELLED[index] : data[pos + 1] === 58 ? COMPACT_BY_CODE[first] : undefined;
    }
    if (spelled !== undefined) {
      colon = pos + spelled.length;
      key = spelled.key;
      slot = spelled.slot;
    } else {
      colon = text.indexOf(':', pos);
      if (colon === -1 || colon > eol) return new SipParseError('header line without a colon', byteOffset(h, pos));
      let nameEnd = colon;
      for (let c = text.charCodeAt(nameEnd - 1); nameEnd > pos && (c === 32 || c === 9); c = text.charCodeAt(nameEnd - 1)) nameEnd--;
      const nameLen = nameEnd - pos;
      let m: KnownName | undefined;
      if (nameLen === 1) {
        m = COMPACT_BY_CODE[first];
      } else if (ascii) {
        m = matchKnown(data, pos, nameLen);
      } else {
        // Offsets in a decoded UTF-8 head are not byte offsets: match the name's own bytes, once it is known to be
        // a token (so ASCII).
        const raw = text.slice(pos, nameEnd);
        if (!isToken(raw)) return new SipParseError(`invalid header name "${raw}"`, byteOffset(h, pos));
        m = matchKnown(Buffer.from(raw, 'latin1'), 0, nameLen);
      }
      if (m !== undefined) {
        key = m.key;
        slot = m.slot;
      } else {
        // The name as written is cut again from `text` when read (`HeaderTable.names`).
        const name = text.slice(pos, nameEnd);
        if (!isToken(name)) return new SipParseError(`invalid header name "${name}"`, byteOffset(h, pos));
        key = headerKey(name);
        slot = Slot.None;
      }
    }
    // Values are cut from `text` when read; the checked headers' first values are located for `check`.
    const seen = counts[slot] as number;
    counts[slot] = seen + 1;
    if (slot !== Slot.None && seen === 0) {
      if (folded || !ascii) {
        VALUE_START[slot] = -1;
      } else {
        let vs = colon + 1;
        while (vs < eol && (data[vs] === 32 || data[vs] === 9)) vs++;
        let ve = eol;
        while (ve > vs && (data[ve - 1] === 32 || data[ve - 1] === 9)) ve--;
        VALUE_START[slot] = vs;
        VALUE_LINE[slot] = keys.length;
        VALUE_END[slot] = ve;
      }
    }
    keys.push(key);
    lineStarts.push(pos);
    pos = eol + 2;
  }

  h.headEnd = headEnd;
  h.unterminated = unterminated;
  // The last line ends two before the head does (its CRLF): where a line after it would start.
  lineStarts.push(pos);
  // Line starts index `text`, which is `data` itself for ASCII heads: those lines can be copied on serialize.
  const table: HeaderTable = {
    names: undefined,
    keys,
    values: undefined,
    spans: undefined,
    lineStarts,
    text,
    source: ascii ? data : undefined,
    startLineStart: ascii ? start : -1,
    startLineEnd: ascii ? lineEnd : -1,
  };

  // Start line: Request-Line = Method SP Request-URI SP SIP-Version, single spaces (RFC 4475 lwsstart, trws).
  // A request line the first reading left (one with a bare CR or LF before its version) is read again within the
  // line's end as found.
  const plain = plainMethod ?? (ascii ? plainRequestLine(data, t0, lineEnd + 2, false) : undefined);
  if (plain !== undefined) {
    const request = new Request(plain, text.slice(t0 + plain.length + 1, plainUriEnd), table);
    return check(request, false, plainUriQuery, h, counts);
  }
  const sp1 = text.indexOf(' ', t0);
  if (sp1 === -1 || sp1 > lineEnd) return new SipParseError('malformed start line', start);
  if (isSipSlash(text, t0)) return response(text, t0, sp1, lineEnd, table, h, counts);
  // A known method as its constant string (the first space is the one after it).
  const index = ascii ? spelledMethodAt(data, t0) : -1;
  let method = index === -1 ? undefined : METHODS[index];
  if (method === undefined) {
    method = text.slice(t0, sp1);
    if (!isToken(method)) return new SipParseError(`invalid method "${method}"`, start);
  }
  const sp2 = text.indexOf(' ', sp1 + 1);
  let error: SipParseError | undefined;
  let versionError = false;
  let uri: string;
  if (sp2 === -1 || sp2 > lineEnd || text.indexOf(' ', sp2 + 1) < lineEnd) {
    const startLine = text.slice(t0, lineEnd);
    error = new SipParseError(`malformed request line "${startLine}"`, start);
    const v = startLine.lastIndexOf(' SIP/');
    uri = startLine.slice(sp1 - t0 + 1, v <= sp1 - t0 ? undefined : v).trim();
  } else {
    uri = text.slice(sp1 + 1, sp2);
    const version = text.slice(sp2 + 1, lineEnd);
    const valid = ascii ? isRequestUri(data, sp1 + 1, sp2) : isRequestUri(Buffer.from(uri), 0, sp2 - sp1 - 1);
    if (!valid) {
      error = new SipParseError(`malformed Request-URI "${uri}"`, byteOffset(h, sp1 + 1));
    } else if (version !== 'SIP/2.0') {
      if (!SIP_VERSION.test(version)) error = new SipParseError(`malformed SIP version "${version}"`, byteOffset(h, sp2 + 1));
      else versionError = version.toUpperCase() !== 'SIP/2.0';
    }
  }
  const request = new Request(method, uri, table);
  if (error !== undefined) {
    // The request line is broken, but a 400 can still be sent if the top Via is readable.
    return new SipParseError(error.message, error.offset, { partial: topViaReadable(request) ? request : undefined });
  }
  return check(request, versionError, uri.indexOf('?') !== -1, h, counts);
}

/** Where `plainRequestLine` found the end of the Request-URI, and whether the URI has a '?'. */
let plainUriEnd = 0;
let plainUriQuery = false;

/**
 * The usual request line, read in one pass over its bytes before the line's end is known: a known method, a
 * Request-URI that `isRequestUri` accepts, and SIP/2.0 then CRLF before `bound`, single spaces between. Returns the
 * method (the URI ends at `plainUriEnd`, the line 8 bytes later), or undefined for anything else, which the
 * general path reads (and reports). `open`: the line's end is not known yet, so a CR or LF in the scheme (which
 * the scheme's check lets through) leaves the line to be found with the rules of every other line.
 */
function plainRequestLine(bytes: Uint8Array, start: number, bound: number, open: boolean): string | undefined {
  const index = spelledMethodAt(bytes, start);
  if (index === -1) return undefined;
  const method = METHODS[index] as string;
  const uriStart = start + method.length + 1;
  const c0 = LOWER[bytes[uriStart] as number] as number;
  if (c0 < 97 || c0 > 122) return undefined;
  let i = uriStart + 1;
  for (; i < bound; i++) {
    const c = bytes[i] as number;
    if (c === 58) break;
    if (open && (c === 13 || c === 10)) return undefined;
    if (!((c >= 48 && c <= 57) || (LOWER[c] as number) - 97 < 26 || c === 43 || c === 45 || c === 46)) return undefined;
  }
  const afterColon = ++i;
  let query = false;
  for (; i < bound; i++) {
    const c = bytes[i] as number;
    if (URI_REST[c] === 1) continue;
    if (c === 32) break;
    if (c !== 63) return undefined;
    query = true;
  }
  // SP "SIP/2.0" CRLF.
  if (i === afterColon || i + 9 >= bound) return undefined;
  const v = i + 1;
  if (bytes[v] !== 83 || bytes[v + 1] !== 73 || bytes[v + 2] !== 80 || bytes[v + 3] !== 47) return undefined;
  if (bytes[v + 4] !== 50 || bytes[v + 5] !== 46 || bytes[v + 6] !== 48) return undefined;
  if (bytes[v + 7] !== 13 || bytes[v + 8] !== 10) return undefined;
  plainUriEnd = i;
  plainUriQuery = query;
  return method;
}

/**
 * The bytes `plainRequestLine` takes in a Request-URI after its scheme without a second look: printable ASCII
 * other than space, <, >, " and ? (the space ends the URI, a ? marks headers; the rest refuse the line).
 */
const URI_REST = new Uint8Array(256);
for (let c = 33; c < 127; c++) URI_REST[c] = c === 60 || c === 62 || c === 34 || c === 63 ? 0 : 1;

/** "SIP/" or "sip/" at text[at]: a status line. (Character compares: `startsWith` costs more here.) */
function isSipSlash(text: string, at: number): boolean {
  const c0 = text.charCodeAt(at);
  const c1 = text.charCodeAt(at + 1);
  const c2 = text.charCodeAt(at + 2);
  const upper = c0 === 83 && c1 === 73 && c2 === 80;
  return (upper || (c0 === 115 && c1 === 105 && c2 === 112)) && text.charCodeAt(at + 3) === 47;
}

function response(
  text: string,
  t0: number,
  sp1: number,
  lineEnd: number,
  table: HeaderTable,
  h: HeadSource,
  counts: Int32Array,
): ParsedHead | SipParseError {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (the reason may be empty, RFC 4475 noreason).
  const version = text.slice(t0, sp1);
  if (!SIP_VERSION.test(version)) return new SipParseError(`malformed SIP version "${version}"`, h.start);
  let status = 0;
  let i = sp1 + 1;
  for (; i < sp1 + 4; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return new SipParseError('malformed status code', byteOffset(h, sp1 + 1));
    status = status * 10 + c - 48;
  }
  if (i < lineEnd && text.charCodeAt(i) !== 32) return new SipParseError('malformed status code', byteOffset(h, sp1 + 1));
  if (status < 100 || status > 699) return new SipParseError(`status code ${status} out of range`, byteOffset(h, sp1 + 1));
  const reason = i < lineEnd ? text.slice(i + 1, lineEnd) : '';
  return check(new SipResponse(status, reason, table), version.toUpperCase() !== 'SIP/2.0', false, h, counts);
}

/**
 * The Request-URI in bytes[start, end): scheme ":" then no white space, no <, > or " and nothing outside ASCII
 * (RFC 4475 ltgtruri, lwsruri).
 */
function isRequestUri(bytes: Uint8Array, start: number, end: number): boolean {
  const c0 = LOWER[bytes[start] as number] as number;
  if (start >= end || c0 < 97 || c0 > 122) return false;
  let i = start + 1;
  for (; i < end; i++) {
    const c = bytes[i] as number;
    if (c === 58) break;
    if (!((c >= 48 && c <= 57) || (LOWER[c] as number) - 97 < 26 || c === 43 || c === 45 || c === 46)) return false;
  }
  if (i >= end - 1) return false;
  for (i++; i < end; i++) {
    const c = bytes[i] as number;
    if (c <= 32 || c === 60 || c === 62 || c === 34 || c >= 127) return false;
  }
  return true;
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

/** `uriQuery`: the Request-URI has a '?' (headers, which §19.1.5 does not allow there). */
function check(
  msg: SipMessage,
  versionError: boolean,
  uriQuery: boolean,
  h: HeadSource,
  counts: Int32Array,
): ParsedHead | SipParseError {
  const start = h.start;
  const text = h.text;
  let primed = false;
  if (counts[Slot.Via] !== 0 && (VALUE_START[Slot.Via] as number) >= 0) {
    // The top Via is read from the bytes; a list, a folded line or a failure (to get its error) goes through the
    // accessor. A line that reads as one Via has no comma outside quotes, so it is a single value.
    const vs = VALUE_START[Slot.Via] as number;
    const ve = VALUE_END[Slot.Via] as number;
    const via = viaIn(h.data, text, vs, ve);
    if (via !== null) msg.primeTopVia(via, vs, ve, viaScan.rportEnd);
    primed = via !== null;
  }
  if (counts[Slot.Via] === 0 || (!primed && !topViaReadable(msg))) {
    return new SipParseError('missing or malformed Via', offsetOf(h, 'via'), { status: versionError ? 505 : 400 });
  }
  const partial = msg.kind === 'request' ? msg : undefined;
  if (versionError) return new SipParseError('unsupported SIP version', start, { status: 505, partial });
  for (let slot = Slot.From; slot <= Slot.ContentType; slot++) {
    const n = counts[slot] as number;
    if (n === 0 && slot <= Slot.CSeq) return new SipParseError(`missing ${SLOT_KEYS[slot] as string}`, start, { partial });
    if (n > 1) return new SipParseError(`${n} ${SLOT_KEYS[slot] as string} headers`, offsetOf(h, SLOT_KEYS[slot] as string), { partial });
  }
  let contentLength: number | undefined;
  try {
    const fromTag = tagOf(msg, h, Slot.From);
    msg.primeTags(fromTag, tagOf(msg, h, Slot.To));
    const callIdStart = VALUE_START[Slot.CallId] as number;
    if (callIdStart >= 0) {
      // Every layer reads the Call-ID: cut it now that it has been located.
      if (callIdStart === VALUE_END[Slot.CallId]) throw new SipHeaderError('call-id', 'empty Call-ID');
      msg.primeCallId(text.slice(callIdStart, VALUE_END[Slot.CallId]));
    } else if (msg.callId.length === 0) {
      throw new SipHeaderError('call-id', 'empty Call-ID');
    }
    const cseq = cseqOf(msg, h);
    if (msg.kind === 'request' && cseq.method !== msg.method) {
      throw new SipHeaderError('cseq', `CSeq method ${cseq.method} does not match ${msg.method}`);
    }
    if (counts[Slot.MaxForwards] !== 0 && digitsOf(h.data, Slot.MaxForwards, 255) === -1) void msg.maxForwards;
    if (counts[Slot.ContentLength] !== 0) {
      const n = digitsOf(h.data, Slot.ContentLength, 0xffffffff);
      contentLength = n === -1 ? msg.contentLength : n;
      // Without leading zeros it is the line serialize would write for the body cut to that length.
      const vs = VALUE_START[Slot.ContentLength] as number;
      if (n !== -1) msg.primeLengthAsWritten(h.data[vs] !== 48 || VALUE_END[Slot.ContentLength] === vs + 1);
    }
    // §19.1.5: headers are not allowed in a Request-URI (RFC 4475 escruri).
    if (uriQuery && msg.kind === 'request') {
      const uri = msg.requestUriOrNull;
      if (uri !== null && Object.keys(uri.headers).length > 0) {
        throw new SipHeaderError('', `headers in the Request-URI ${msg.uri}`);
      }
    }
  } catch (err) {
    if (!(err instanceof SipHeaderError)) throw err;
    return new SipParseError(err.message, offsetOf(h, err.header), { partial });
  }
  return { message: msg, contentLength, headEnd: h.headEnd, unterminated: h.unterminated };
}

/**
 * Checks From or To and returns its tag (null: none) when the value has the common shape; otherwise parses it
 * through the accessor (which throws SipHeaderError when it is malformed) and leaves the tag to be read later.
 */
function tagOf(msg: SipMessage, h: HeadSource, slot: Slot.From | Slot.To): string | null | undefined {
  const vs = VALUE_START[slot] as number;
  if (vs >= 0 && scanName(h.data, vs, VALUE_END[slot] as number) === NameAddrScan.Valid) {
    return tagScan.start === -1 ? null : h.text.slice(tagScan.start, tagScan.end);
  }
  void (slot === Slot.From ? msg.from : msg.to);
  return undefined;
}

/** CSeq read in place (`parseCSeq` on the value), the request's own method string reused; else the accessor's. */
function cseqOf(msg: SipMessage, h: HeadSource): CSeq {
  const bytes = h.data;
  const end = VALUE_END[Slot.CSeq] as number;
  let pos = VALUE_START[Slot.CSeq] as number;
  if (pos < 0) return msg.cseq;
  const digitsStart = pos;
  let seq = 0;
  let c = 0;
  while (pos < end && (c = bytes[pos] as number) >= 48 && c <= 57) {
    seq = seq * 10 + c - 48;
    pos++;
  }
  const digitsEnd = pos;
  while (pos < end && ((c = bytes[pos] as number) === 32 || c === 9)) pos++;
  const methodStart = pos;
  while (pos < end && TOKEN[bytes[pos] as number] === 1) pos++;
  if (digitsEnd === digitsStart || digitsEnd - digitsStart > 10 || seq > 0x7fffffff) return msg.cseq;
  if (methodStart === digitsEnd || methodStart === end || pos !== end) return msg.cseq;
  // A request's own method string is reused when the CSeq's reads the same as the start of the request line.
  const own = msg.kind === 'request' ? msg.method : '';
  const lineStart = h.start;
  let same = own.length === end - methodStart;
  for (let i = 0; same && i < own.length; i++) same = bytes[methodStart + i] === bytes[lineStart + i];
  const method = same ? own : h.text.slice(methodStart, end);
  const cseq = { seq, method };
  msg.primeCSeq(cseq);
  return cseq;
}

/** `1*DIGIT` up to `max` (at most 10 digits) read in place; -1 when malformed or not located (the accessor decides). */
function digitsOf(bytes: Uint8Array, slot: Slot, max: number): number {
  const start = VALUE_START[slot] as number;
  const end = VALUE_END[slot] as number;
  if (start < 0 || end === start || end - start > 10) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n > max ? -1 : n;
}
