/**
 * SipRequest and SipResponse: header lines kept as written, structured views parsed on first access and cached
 * until the header changes, and a serializer that reuses the received bytes while nothing has changed.
 */
import type { CSeq, NameAddr, SipMessageCommon, SipUri, Via } from './types.ts';
import { SipHeaderError } from './errors.ts';
import { headerKey, isListHeader } from './header-names.ts';
import { formatNameAddr, parseNameAddr } from './name-addr.ts';
import { isTokenChar, splitList, trimLws } from './syntax.ts';
import { parseUri } from './uri.ts';
import { parseVia } from './via.ts';

const EMPTY = Buffer.alloc(0);

const RPORT = /;\s*rport\b(\s*=\s*[^;,\s]*)?/i;
const RECEIVED = /;\s*received\s*=\s*[^;,\s]*/i;

function replaceParam(text: string, re: RegExp, replacement: string): string {
  const m = re.exec(text);
  if (m === null) return text + replacement;
  return text.slice(0, m.index) + replacement + text.slice(m.index + m[0].length);
}

/** Parses a CSeq value: `1*DIGIT LWS Method`, the number below 2**31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): CSeq | null {
  const len = value.length;
  let pos = 0;
  let seq = 0;
  while (pos < len) {
    const c = value.charCodeAt(pos);
    if (c < 48 || c > 57) break;
    seq = seq * 10 + c - 48;
    pos++;
  }
  if (pos === 0 || pos > 10 || seq > 0x7fffffff) return null;
  const digitsEnd = pos;
  while (pos < len && (value.charCodeAt(pos) === 32 || value.charCodeAt(pos) === 9)) pos++;
  if (pos === digitsEnd || pos === len) return null;
  const method = value.slice(pos);
  for (let i = 0; i < method.length; i++) if (!isTokenChar(method.charCodeAt(i))) return null;
  return { seq, method };
}

/** 1*DIGIT up to `max` (at most 10 digits), or null. */
function parseDigits(value: string, max: number): number | null {
  const len = value.length;
  if (len === 0 || len > 10) return null;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    n = n * 10 + c - 48;
  }
  return n > max ? null : n;
}

function parseNameAddrList(key: string, values: string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of values) {
    const na = parseNameAddr(v);
    if (na === null) throw new SipHeaderError(key, `malformed ${key}: ${v}`);
    out.push(na);
  }
  return out;
}

/**
 * `arr.splice(at, 0, value)` without the array of removed elements splice returns: every request we send gets its
 * Via this way (a line or two moved, where splice costs an allocation and a generic call).
 */
function insertInto<T>(arr: T[], at: number, value: T): void {
  let k = arr.length;
  if (at >= k) {
    arr.push(value);
    return;
  }
  arr.push(arr[k - 1] as T);
  for (k--; k > at; k--) arr[k] = arr[k - 1] as T;
  arr[at] = value;
}

/**
 * Header lines of a message. Parallel arrays rather than objects: a parse allocates a handful of arrays instead of
 * one object per header.
 */
export interface HeaderTable {
  /**
   * Names as written. A parse leaves them unset (undefined: no array yet): a received line's name is the text
   * before its colon, cut when read, and the array is made before the first edit of the lines.
   */
  names: string[] | undefined;
  /** Names folded by `headerKey`. */
  keys: string[];
  /**
   * Values unfolded and trimmed. A parse leaves them unset (undefined: no array yet), each is cut from `text` when
   * first read.
   */
  values: Array<string | undefined> | undefined;
  /**
   * Two numbers per header: its line's start and end (CRLF excluded) in `text`; -1, -1 once edited. A parse leaves
   * it unset and gives `lineStarts` instead; the spans are made from those before the first edit of the lines.
   */
  spans: number[] | undefined;
  /**
   * Where each received line starts in `text`, then where a line after the last would: the lines of a head follow
   * one another, so a line ends (before its CRLF) two before the next starts. Half the numbers of `spans`.
   */
  lineStarts: number[] | undefined;
  /** The received head the spans index (decoded); undefined when no line was received. */
  text: string | undefined;
  /** The received bytes, when their offsets are `text`'s indices (an ASCII head): lines are copied from there. */
  source: Buffer | undefined;
  /** Where the start line begins and ends (CRLF excluded) in `source`; -1 when not parsed. */
  startLineStart: number;
  startLineEnd: number;
}

export function emptyHeaderTable(): HeaderTable {
  return {
    names: [],
    keys: [],
    values: [],
    spans: [],
    lineStarts: undefined,
    text: undefined,
    source: undefined,
    startLineStart: -1,
    startLineEnd: -1,
  };
}

/**
 * Replacements inside one received line, as offsets in `source`, so that `serialize` writes them between copies of
 * the received bytes instead of building the line: what `setTopViaParams` leaves. One or two, in order, disjoint.
 */
interface LinePatch {
  line: number;
  from1: number;
  to1: number;
  /**
   * A replacement is a constant lead and a value (`;received=` 192.0.2.1, `=` 5060): nothing is concatenated
   * unless the line is read. A number is written as its digits.
   */
  lead1: Lead;
  value1: string | number;
  /** -1 when there is one replacement only. */
  from2: number;
  to2: number;
  lead2: Lead;
  value2: string | number;
}

/** A constant text, with its bytes for writing it out. */
interface Lead {
  text: string;
  bytes: Uint8Array;
}

function lead(text: string): Lead {
  return { text, bytes: Buffer.from(text, 'latin1') };
}

const RPORT_LEAD = lead(';rport=');
const RPORT_VALUE_LEAD = lead('=');
const RECEIVED_LEAD = lead(';received=');

/** Digits of a non-negative integer: compares rather than a division per digit (a port number each stamp). */
function digitCount(n: number): number {
  if (n < 100000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  let count = 6;
  while (n >= 1000000) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/** Writes a lead and a value at `at`; returns the offset after them, or -1 for a value that is not ASCII. */
function writeReplacement(out: Buffer, at: number, lead: Lead, value: string | number): number {
  const bytes = lead.bytes;
  for (let k = 0; k < bytes.length; k++) out[at + k] = bytes[k] as number;
  at += bytes.length;
  if (typeof value === 'number') {
    const end = at + digitCount(value);
    // Integer division while the value fits 31 bits (every port does), which a division of doubles costs more than.
    let n = value;
    for (let k = end - 1; k >= at; k--) {
      const rest = n <= 0x7fffffff ? (n / 10) | 0 : Math.floor(n / 10);
      out[k] = 48 + n - 10 * rest;
      n = rest;
    }
    return end;
  }
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c > 127) return -1;
    out[at + k] = c;
  }
  return at + value.length;
}

function replacementLength(lead: Lead, value: string | number): number {
  return lead.bytes.length + (typeof value === 'number' ? digitCount(value) : value.length);
}

/** Length of `s` when it is all ASCII (one byte per character), else -1. */
function asciiLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return -1;
  return s.length;
}

const CONTENT_LENGTH_NAME = 'Content-Length';

/**
 * Writes `s` at `at` one byte per character; returns the offset after it, or -1 at a character outside ASCII (the
 * caller then falls back to a path that encodes UTF-8). A loop: header strings are short, and `write` costs more.
 */
function writeAscii(out: Buffer, at: number, s: string): number {
  const len = s.length;
  for (let k = 0; k < len; k++) {
    const c = s.charCodeAt(k);
    if (c > 127) return -1;
    out[at + k] = c;
  }
  return at + len;
}

function writeCrlf(out: Buffer, at: number): number {
  out[at] = 13;
  out[at + 1] = 10;
  return at + 2;
}

/**
 * The pieces of a message being serialized, in output order: runs of received bytes and strings, each with its
 * place in the output. One instance serves every `build` (synchronous, never re-entered), its arrays only grow.
 */
class Plan {
  /** Three numbers per run: start and end in the received bytes, offset in the output. */
  runs: number[] = [];
  runCount = 0;
  strings: string[] = [];
  /** Offset in the output of each string; -1 - offset for one to be written as UTF-8. */
  spots: number[] = [];
  stringCount = 0;
  size = 0;
  /** The run being extended: consecutive received lines are copied as one. */
  runStart = -1;
  runEnd = -1;
  /** Whether every run lands at or right of where it was received (see `build`). */
  shiftable = true;

  reset(shiftable: boolean): void {
    this.runCount = 0;
    this.stringCount = 0;
    this.size = 0;
    this.runStart = -1;
    this.runEnd = -1;
    this.shiftable = shiftable;
  }

  /** Extends the current run to received[start, end), or starts a new one if it does not follow on. */
  copy(start: number, end: number): void {
    if (start !== this.runEnd) {
      this.flush();
      this.runStart = start;
    }
    this.runEnd = end;
  }

  flush(): void {
    const start = this.runStart;
    if (start < 0) return;
    const i = 3 * this.runCount++;
    if (this.size < start) this.shiftable = false;
    this.runs[i] = start;
    this.runs[i + 1] = this.runEnd;
    this.runs[i + 2] = this.size;
    this.size += this.runEnd - start;
    this.runStart = -1;
    this.runEnd = -1;
  }

  /** A string known to be ASCII (the patches' leads and numbers). */
  putAscii(s: string): void {
    this.flush();
    const j = this.stringCount++;
    this.spots[j] = this.size;
    this.strings[j] = s;
    this.size += s.length;
  }

  put(s: string): void {
    this.flush();
    let bytes = asciiLength(s);
    const j = this.stringCount++;
    if (bytes === -1) {
      bytes = Buffer.byteLength(s);
      this.spots[j] = -1 - this.size;
    } else {
      this.spots[j] = this.size;
    }
    this.strings[j] = s;
    this.size += bytes;
  }
}

const plan = new Plan();

/** Output buffers are cut from slabs: `Buffer.allocUnsafe`'s per-call checks cost more than the copy itself. */
const SLAB_SIZE = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabUsed = 0;

function allocate(size: number): Buffer {
  if (size > SLAB_SIZE >>> 2) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  // Keep the next buffer 8-byte aligned, as Node's own pool does.
  slabUsed = (slabUsed + size + 7) & ~7;
  return out;
}

export abstract class SipMessageBase implements SipMessageCommon {
  private declare names: string[] | undefined;
  protected declare keys: string[];
  private declare values: Array<string | undefined> | undefined;
  private declare spans: number[] | undefined;
  private declare lineStarts: number[] | undefined;
  protected declare text: string | undefined;
  protected declare source: Buffer | undefined;
  protected declare startLineStart: number;
  protected declare startLineEnd: number;
  /** The buffer the message was received in, and where the message and its body lie in it. */
  private declare received: Buffer | undefined;
  private declare receivedStart: number;
  private declare receivedEnd: number;
  private declare bodyStart: number;
  /** Whether `serialize` may return the received bytes as they are: cleared by any edit. */
  protected declare intact: boolean;
  /** Cut from the received bytes on first read. */
  private declare bodyBuf: Buffer | undefined;
  private declare patch: LinePatch | undefined;
  /** The received message with only `patch` applied: `serialize` then copies around the patch and nothing else. */
  protected declare patchedIntact: boolean;
  /** See `primeLengthAsWritten`. */
  private declare lengthAsWritten: boolean;
  /** Where the value of the top Via that the parser read lies in `source`; -1 when unknown or edited since. */
  private declare topViaStart: number;
  private declare topViaEnd: number;
  /** Where its first ";rport" ends: -1 none, -2 not known (see `paramsScan`). */
  private declare topViaRportEnd: number;

  private declare cachedVias: Via[] | undefined;
  private declare cachedTopVia: Via | undefined;
  private declare cachedCSeq: CSeq | undefined;
  private declare cachedCallId: string | undefined;
  private declare cachedFrom: NameAddr | undefined;
  private declare cachedTo: NameAddr | undefined;
  /** undefined: not read yet; null: no tag. */
  private declare cachedFromTag: string | null | undefined;
  private declare cachedToTag: string | null | undefined;
  private declare cachedContacts: NameAddr[] | '*' | undefined;
  private declare cachedRoutes: NameAddr[] | undefined;
  private declare cachedRecordRoutes: NameAddr[] | undefined;

  protected constructor(table: HeaderTable, body: Buffer | undefined, raw: Buffer | undefined) {
    // Every field is set here, in one order, instead of by field initializers: a constructor's plain stores cost
    // less than defining the fields one by one, and this runs for every message parsed. (The subclasses keep their
    // few field initializers: the same change there kept the parser from being optimised under tsx.)
    this.names = table.names;
    this.keys = table.keys;
    this.values = table.values;
    this.spans = table.spans;
    this.lineStarts = table.lineStarts;
    this.text = table.text;
    this.source = table.source;
    this.startLineStart = table.startLineStart;
    this.startLineEnd = table.startLineEnd;
    this.received = raw;
    this.receivedStart = 0;
    this.receivedEnd = raw === undefined ? 0 : raw.length;
    this.bodyStart = 0;
    this.intact = raw !== undefined;
    this.bodyBuf = body ?? EMPTY;
    this.patch = undefined;
    this.patchedIntact = false;
    this.lengthAsWritten = false;
    this.topViaStart = -1;
    this.topViaEnd = -1;
    this.topViaRportEnd = -2;
    this.cachedVias = undefined;
    this.cachedTopVia = undefined;
    this.cachedCSeq = undefined;
    this.cachedCallId = undefined;
    this.cachedFrom = undefined;
    this.cachedTo = undefined;
    this.cachedFromTag = undefined;
    this.cachedToTag = undefined;
    this.cachedContacts = undefined;
    this.cachedRoutes = undefined;
    this.cachedRecordRoutes = undefined;
  }

  /** The start line, without CRLF. */
  protected abstract startLine(): string;

  get body(): Buffer {
    if (this.bodyBuf === undefined) {
      const r = this.received as Buffer;
      this.bodyBuf = this.bodyStart === this.receivedEnd ? EMPTY : r.subarray(this.bodyStart, this.receivedEnd);
    }
    return this.bodyBuf;
  }

  set body(body: Buffer) {
    this.bodyBuf = body;
    this.intact = false;
    this.patchedIntact = false;
  }

  /**
   * Gives a parsed message the buffer it was received in: the message is `data[start, end)` and its body
   * `data[bodyStart, end)`. `serialize` returns those bytes until an edit. Used by the parser and the stream framer.
   */
  setReceivedBytes(data: Buffer, start: number, bodyStart: number, end: number): void {
    this.received = data;
    this.receivedStart = start;
    this.bodyStart = bodyStart;
    this.receivedEnd = end;
    this.bodyBuf = undefined;
    this.intact = true;
  }

  /** The received bytes, for `serialize` while the message is intact. */
  protected receivedBytes(): Buffer {
    const r = this.received as Buffer;
    return this.receivedStart === 0 && this.receivedEnd === r.length ? r : r.subarray(this.receivedStart, this.receivedEnd);
  }

  // ---- raw header access ----

  get(name: string): string | undefined {
    return this.first(headerKey(name));
  }

  /** First value for an already folded key. */
  private first(key: string): string | undefined {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) return this.valueAt(i);
    }
    return undefined;
  }

  /** The value of line `i`, cut from the received text on first read. */
  protected valueAt(i: number): string {
    const values = (this.values ??= new Array<string | undefined>(this.keys.length));
    let v = values[i];
    if (v === undefined) {
      v = this.receivedValue(i);
      values[i] = v;
    }
    return v;
  }

  /** The values array, made (empty: every value still to be cut) on first need. */
  private valueArray(): Array<string | undefined> {
    return (this.values ??= new Array<string | undefined>(this.keys.length));
  }

  /** The name of line `i` as written. */
  private nameAt(i: number): string {
    return this.names === undefined ? this.receivedName(i) : (this.names[i] as string);
  }

  /** The names array, made from the received lines before the first edit that moves lines or drops a span. */
  private nameArray(): string[] {
    if (this.names === undefined) {
      const names = new Array<string>(this.keys.length);
      for (let i = 0; i < names.length; i++) names[i] = this.receivedName(i);
      this.names = names;
    }
    return this.names;
  }

  /** Where line `i` starts in `text`; -1 once edited. */
  private spanStart(i: number): number {
    const spans = this.spans;
    return spans === undefined ? ((this.lineStarts as number[])[i] as number) : (spans[2 * i] as number);
  }

  /** Where line `i` ends in `text`, before its CRLF; -1 once edited. */
  private spanEnd(i: number): number {
    const spans = this.spans;
    return spans === undefined ? ((this.lineStarts as number[])[i + 1] as number) - 2 : (spans[2 * i + 1] as number);
  }

  /** The spans array, made from `lineStarts` before the first edit of the lines. */
  private spanArray(): number[] {
    if (this.spans === undefined) {
      const n = this.keys.length;
      const spans = new Array<number>(2 * n);
      for (let i = 0; i < n; i++) {
        spans[2 * i] = this.spanStart(i);
        spans[2 * i + 1] = this.spanEnd(i);
      }
      this.spans = spans;
    }
    return this.spans;
  }

  /** Name of a received line: up to its colon, without the SP / HTAB allowed before it (§7.3.1). */
  private receivedName(i: number): string {
    const text = this.text as string;
    const s = this.spanStart(i);
    let e = text.indexOf(':', s);
    while (e > s && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9)) e--;
    return text.slice(s, e);
  }

  /** Value of a received line: after the colon, SP and HTAB trimmed, folded lines joined with one space (§7.3.1). */
  private receivedValue(i: number): string {
    const text = this.text as string;
    const s = this.spanStart(i);
    const e = this.spanEnd(i);
    let vs = text.indexOf(':', s) + 1;
    while (vs < e && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    let ve = e;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    const p = this.patch;
    if (p !== undefined && p.line === i) {
      let v = text.slice(vs, p.from1) + p.lead1.text + String(p.value1);
      if (p.from2 === -1) return v + text.slice(p.to1, ve);
      v += text.slice(p.to1, p.from2) + p.lead2.text + String(p.value2);
      return v + text.slice(p.to2, ve);
    }
    const value = text.slice(vs, ve);
    const lf = text.indexOf('\n', vs);
    return lf === -1 || lf >= ve ? value : trimLws(value.replace(/\r\n[ \t]+/g, ' '));
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== key) continue;
      const v = this.valueAt(i);
      if (list) {
        for (const item of splitList(v)) out.push(item);
      } else {
        out.push(v);
      }
    }
    return out;
  }

  has(name: string): boolean {
    return this.keys.indexOf(headerKey(name)) !== -1;
  }

  /** How many header lines carry this header (a single-value header must have exactly one). */
  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const k of this.keys) if (k === key) n++;
    return n;
  }

  /** How many header lines the message has: `lineKey` and `lineValue` read them by index (createResponse). */
  get lineCount(): number {
    return this.keys.length;
  }

  /** The folded name (`headerKey`) of line `i`, as the parser found it: no name is cut from the line to fold it. */
  lineKey(i: number): string {
    return this.keys[i] as string;
  }

  /** The value of line `i`, as `headerLines` gives it. */
  lineValue(i: number): string {
    return this.valueAt(i);
  }

  /** Every header line, in order, as [name as written, value]. */
  headerLines(): Array<[string, string]> {
    return this.keys.map((_, i) => [this.nameAt(i), this.valueAt(i)]);
  }

  set(name: string, value: string | readonly string[]): void {
    this.dropPatch();
    const key = headerKey(name);
    const at = this.keys.indexOf(key);
    if (typeof value === 'string' && at !== -1 && this.keys.indexOf(key, at + 1) === -1) {
      // The common edit (one line replaced by one value) without reshaping the arrays.
      this.nameArray()[at] = name;
      this.replaceLine(at, value.trim());
      return;
    }
    this.removeKey(key);
    const vals = typeof value === 'string' ? [value] : value;
    this.insertAt(at === -1 ? this.keys.length : at, name, key, vals);
  }

  append(name: string, value: string): void {
    this.dropPatch();
    const key = headerKey(name);
    this.insertAt(this.keys.length, name, key, [value]);
  }

  prepend(name: string, value: string): void {
    this.dropPatch();
    const key = headerKey(name);
    const at = this.keys.indexOf(key);
    this.insertAt(at === -1 ? 0 : at, name, key, [value]);
  }

  /**
   * Adds a top Via we formatted, with what it reads as: the transaction layer keys the request's transaction by the
   * branch it has just written there, and reading it back would parse the value it made from that very Via.
   */
  prependVia(value: string, via: Via): void {
    this.prepend('Via', value);
    this.cachedTopVia = via;
  }

  remove(name: string): void {
    this.dropPatch();
    const key = headerKey(name);
    this.removeKey(key);
    this.invalidate(key);
  }

  /** Turns a patched line into an edited one, before an edit that may move lines or rewrite that one. */
  private dropPatch(): void {
    const p = this.patch;
    if (p === undefined) return;
    this.valueArray()[p.line] = this.valueAt(p.line);
    this.nameArray();
    const spans = this.spanArray();
    spans[2 * p.line] = -1;
    spans[2 * p.line + 1] = -1;
    this.patch = undefined;
    this.patchedIntact = false;
  }

  private removeKey(key: string): void {
    // The per-line arrays are made from the received lines before any line moves.
    const names = this.nameArray();
    const values = this.valueArray();
    const spans = this.spanArray();
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] === key) {
        names.splice(i, 1);
        this.keys.splice(i, 1);
        values.splice(i, 1);
        spans.splice(2 * i, 2);
      }
    }
  }

  private insertAt(at: number, name: string, key: string, vals: readonly string[]): void {
    const names = this.nameArray();
    const values = this.valueArray();
    const spans = this.spanArray();
    for (let j = 0; j < vals.length; j++) {
      insertInto(names, at + j, name);
      insertInto(this.keys, at + j, key);
      insertInto(values, at + j, (vals[j] as string).trim());
      insertInto(spans, 2 * (at + j), -1);
      insertInto(spans, 2 * (at + j), -1);
    }
    this.invalidate(key);
  }

  /** Replaces the value of line `i` in place, keeping its name as written. */
  protected replaceLine(i: number, value: string): void {
    this.dropPatch();
    this.valueArray()[i] = value;
    this.nameArray();
    const spans = this.spanArray();
    spans[2 * i] = -1;
    spans[2 * i + 1] = -1;
    this.invalidate(this.keys[i] as string);
  }

  protected invalidate(key: string): void {
    this.intact = false;
    this.patchedIntact = false;
    switch (key) {
      case 'via':
        this.cachedVias = undefined;
        this.cachedTopVia = undefined;
        this.topViaStart = -1;
        break;
      case 'cseq':
        this.cachedCSeq = undefined;
        break;
      case 'call-id':
        this.cachedCallId = undefined;
        break;
      case 'from':
        this.cachedFrom = undefined;
        this.cachedFromTag = undefined;
        break;
      case 'to':
        this.cachedTo = undefined;
        this.cachedToTag = undefined;
        break;
      case 'contact':
        this.cachedContacts = undefined;
        break;
      case 'route':
        this.cachedRoutes = undefined;
        break;
      case 'record-route':
        this.cachedRecordRoutes = undefined;
        break;
    }
  }

  private required(key: string): string {
    const v = this.first(key);
    if (v === undefined) throw new SipHeaderError(key, `missing ${key}`);
    return v;
  }

  // ---- structured views (throw SipHeaderError when missing or malformed) ----

  get callId(): string {
    this.cachedCallId ??= this.required('call-id');
    return this.cachedCallId;
  }

  get cseq(): CSeq {
    if (this.cachedCSeq === undefined) {
      const v = this.required('cseq');
      const cseq = parseCSeq(v);
      if (cseq === null) throw new SipHeaderError('cseq', `malformed CSeq: ${v}`);
      this.cachedCSeq = cseq;
    }
    return this.cachedCSeq;
  }

  get from(): NameAddr {
    if (this.cachedFrom === undefined) {
      const v = this.required('from');
      const na = parseNameAddr(v);
      if (na === null) throw new SipHeaderError('from', `malformed From: ${v}`);
      this.cachedFrom = na;
    }
    return this.cachedFrom;
  }

  get to(): NameAddr {
    if (this.cachedTo === undefined) {
      const v = this.required('to');
      const na = parseNameAddr(v);
      if (na === null) throw new SipHeaderError('to', `malformed To: ${v}`);
      this.cachedTo = na;
    }
    return this.cachedTo;
  }

  /** Tag of From, if any. */
  get fromTag(): string | undefined {
    if (this.cachedFromTag === undefined) this.cachedFromTag = this.from.params['tag'] ?? null;
    return this.cachedFromTag ?? undefined;
  }

  /** Tag of To, if any. */
  get toTag(): string | undefined {
    if (this.cachedToTag === undefined) this.cachedToTag = this.to.params['tag'] ?? null;
    return this.cachedToTag ?? undefined;
  }

  /**
   * Gives the parser's readings to the accessors' caches: the From and To tags (null: none) found while checking
   * those headers, and the CSeq. The full From and To are still parsed only when read.
   */
  primeTags(fromTag: string | null | undefined, toTag: string | null | undefined): void {
    this.cachedFromTag = fromTag;
    this.cachedToTag = toTag;
  }

  /**
   * Gives a response made from `req` the readings `req` has already of the lines the response copied as they are:
   * its top Via, and its From and To tags (the To tag only if the response's To is still `req`'s). Their values
   * are the same text, so they read the same: the server transaction reads both when it sends the response, and
   * would parse them again.
   */
  primeCopiedReadings(req: SipMessageBase, toCopied: boolean): void {
    if (req.cachedTopVia !== undefined && this.cachedTopVia === undefined) this.cachedTopVia = req.cachedTopVia;
    if (this.cachedFromTag === undefined) this.cachedFromTag = req.cachedFromTag;
    if (toCopied && this.cachedToTag === undefined) this.cachedToTag = req.cachedToTag;
  }

  primeCSeq(cseq: CSeq): void {
    this.cachedCSeq = cseq;
  }

  /** Gives the Call-ID the parser cut (every layer reads it) to the accessor. */
  primeCallId(callId: string): void {
    this.cachedCallId = callId;
  }

  /** Whether the received Content-Length line reads exactly as `serialize` would write it for the body. */
  primeLengthAsWritten(asWritten: boolean): void {
    this.lengthAsWritten = asWritten;
  }

  get vias(): readonly Via[] {
    if (this.cachedVias === undefined) {
      const out: Via[] = [];
      // The top Via is usually read already (the parser reads it from the bytes): it is the first value's reading.
      const top = this.cachedTopVia;
      for (const v of this.getAll('via')) {
        if (top !== undefined && out.length === 0) {
          out.push(top);
          continue;
        }
        const via = parseVia(v);
        if (via === null) throw new SipHeaderError('via', `malformed Via: ${v}`);
        out.push(via);
      }
      this.cachedVias = out;
    }
    return this.cachedVias;
  }

  /**
   * Gives the parser's reading of the top Via to the accessor's cache, with where its value lies in the received
   * bytes (it was read there) and where its first ";rport" ends (`paramsScan`).
   */
  primeTopVia(via: Via, start: number, end: number, rportEnd: number): void {
    this.cachedTopVia = via;
    this.topViaStart = start;
    this.topViaEnd = end;
    this.topViaRportEnd = rportEnd;
  }

  get topVia(): Via {
    if (this.cachedTopVia === undefined) {
      const line = this.required('via');
      const first = line.indexOf(',') === -1 ? line : (splitList(line)[0] as string);
      const via = parseVia(first);
      if (via === null) throw new SipHeaderError('via', `malformed Via: ${first}`);
      this.cachedTopVia = via;
    }
    return this.cachedTopVia;
  }

  /** Contact values, or '*' (REGISTER removing every binding, RFC 3261 §10.2.2); [] when absent. */
  get contacts(): NameAddr[] | '*' {
    if (this.cachedContacts === undefined) {
      const all = this.getAll('contact');
      this.cachedContacts = all.length === 1 && all[0] === '*' ? '*' : parseNameAddrList('contact', all);
    }
    return this.cachedContacts;
  }

  get routes(): NameAddr[] {
    this.cachedRoutes ??= parseNameAddrList('route', this.getAll('route'));
    return this.cachedRoutes;
  }

  get recordRoutes(): NameAddr[] {
    this.cachedRecordRoutes ??= parseNameAddrList('record-route', this.getAll('record-route'));
    return this.cachedRecordRoutes;
  }

  /** Expires header as delta-seconds; undefined when absent. */
  get expires(): number | undefined {
    return this.numeric('expires', 0xffffffff);
  }

  get maxForwards(): number | undefined {
    return this.numeric('max-forwards', 255);
  }

  get contentLength(): number | undefined {
    return this.numeric('content-length', 0xffffffff);
  }

  /** Media type without parameters, lower-cased (`application/sdp`); undefined when absent. */
  get contentType(): string | undefined {
    const v = this.get('content-type');
    if (v === undefined) return undefined;
    const semi = v.indexOf(';');
    return (semi === -1 ? v : v.slice(0, semi)).trim().toLowerCase();
  }

  private numeric(key: string, max: number): number | undefined {
    const v = this.first(key);
    if (v === undefined) return undefined;
    const n = parseDigits(v, max);
    if (n === null) throw new SipHeaderError(key, `malformed ${key}: ${v}`);
    return n;
  }

  // ---- mutators the transport, transaction and dialog layers need ----

  /**
   * Sets received / rport on the top Via (RFC 3261 §18.2.1, RFC 3581 §4), editing its text in place so the rest
   * of the value stays as written.
   */
  setTopViaParams(p: { received?: string; rport?: number }): void {
    const i = this.keys.indexOf('via');
    if (i === -1) throw new SipHeaderError('via', 'missing via');
    const top = this.topVia;
    this.dropPatch();
    if (this.patchTopVia(i, top, p)) return;
    const line = this.valueAt(i);
    let first = line;
    let rest = '';
    const parts = splitList(line);
    if (parts.length > 1) {
      first = parts[0] as string;
      rest = ', ' + parts.slice(1).join(', ');
    }
    if (p.rport !== undefined) {
      // Clients send a bare ";rport" (RFC 3581 §3): fill it in without a regular expression.
      const bare = first.indexOf(';rport');
      const after = bare === -1 ? -1 : first.charCodeAt(bare + 6);
      if (top.rport === true && bare !== -1 && (Number.isNaN(after) || after === 59 || after === 32)) {
        first = `${first.slice(0, bare)};rport=${p.rport}${first.slice(bare + 6)}`;
      } else {
        first = top.rport === undefined ? `${first};rport=${p.rport}` : replaceParam(first, RPORT, `;rport=${p.rport}`);
      }
    }
    if (p.received !== undefined) {
      first =
        top.received === undefined ? `${first};received=${p.received}` : replaceParam(first, RECEIVED, `;received=${p.received}`);
    }
    // The cached Via is dropped with the line, and parsed again only if read.
    this.replaceLine(i, first + rest);
  }

  /**
   * The common case of `setTopViaParams`, a received top Via read by the parser with a bare rport or none and no
   * received: the additions are kept as a patch over the received bytes (written out by `serialize`, the value
   * built only if read). Returns false for anything else.
   */
  private patchTopVia(i: number, top: Via, p: { received?: string; rport?: number }): boolean {
    const vs = this.topViaStart;
    const ve = this.topViaEnd;
    if (vs < 0 || this.spanStart(i) > vs || this.spanEnd(i) < ve) return false;
    if (p.received !== undefined && top.received !== undefined) return false;
    if (p.rport !== undefined && !(Number.isInteger(p.rport) && p.rport >= 0)) return false;
    const text = this.text as string;
    // Each addition inserts a lead and a value at a point of the line.
    let rAt = -1;
    let rLead = RPORT_LEAD;
    if (p.rport !== undefined) {
      if (top.rport === undefined) {
        rAt = ve;
        rLead = RPORT_LEAD;
      } else {
        const known = this.topViaRportEnd;
        const bare = top.rport !== true ? -1 : known === -2 ? text.indexOf(';rport', vs) : known - 6;
        const after = bare + 6;
        if (bare < 0 || after > ve) return false;
        const c = text.charCodeAt(after);
        if (after < ve && c !== 59 && c !== 32) return false;
        rAt = after;
        rLead = RPORT_VALUE_LEAD;
      }
    }
    const cAt = p.received === undefined ? -1 : ve;
    if (rAt === -1 && cAt === -1) return true;
    const rValue = p.rport ?? 0;
    const cValue = p.received ?? '';
    this.patch =
      rAt === -1
        ? { line: i, from1: cAt, to1: cAt, lead1: RECEIVED_LEAD, value1: cValue, from2: -1, to2: -1, lead2: RECEIVED_LEAD, value2: '' }
        : { line: i, from1: rAt, to1: rAt, lead1: rLead, value1: rValue, from2: cAt, to2: cAt, lead2: RECEIVED_LEAD, value2: cValue };
    if (this.values !== undefined) this.values[i] = undefined;
    const intact = this.intact;
    // The cached Via is dropped with the line, and parsed again only if read.
    this.invalidate('via');
    this.patchedIntact = intact;
    return true;
  }

  /** Adds (or replaces) the To tag, keeping the rest of the To value as written. */
  setToTag(tag: string): void {
    const i = this.keys.indexOf('to');
    if (i === -1) throw new SipHeaderError('to', 'missing to');
    const value = this.valueAt(i);
    const current = parseNameAddr(value);
    if (current !== null && current.params['tag'] === tag) return;
    if (current === null || current.params['tag'] === undefined) {
      this.replaceLine(i, `${value};tag=${tag}`);
    } else {
      current.params['tag'] = tag;
      this.replaceLine(i, formatNameAddr(current));
    }
  }

  // ---- serialization ----

  serialize(): Buffer {
    if (this.intact) return this.receivedBytes();
    if (this.patchedIntact) return this.writePatched() ?? this.build(true);
    return this.build(true);
  }

  /**
   * The received bytes with the patch's insertions (what a proxy or UAS transport does to every request: stamp
   * the top Via) written in one pass, or undefined when the general `build` must decide (a Content-Length to
   * correct, a message that is not alone in its buffer).
   */
  protected writePatched(): Buffer | undefined {
    const p = this.patch as LinePatch;
    const r = this.received as Buffer;
    const end = this.receivedEnd;
    if (this.receivedStart !== 0 || end !== r.length || p.to1 !== p.from1 || p.to2 !== p.from2) return undefined;
    if (!this.lengthAsWritten) return undefined;
    const d1 = replacementLength(p.lead1, p.value1);
    const d2 = p.from2 === -1 ? 0 : replacementLength(p.lead2, p.value2);
    const out = allocate(end + d1 + d2);
    // Copy everything, then move what follows each insertion point right, the last one first.
    out.set(r);
    const at1 = p.from1;
    if (p.from2 === -1) {
      out.copyWithin(at1 + d1, at1, end);
    } else {
      out.copyWithin(p.from2 + d1 + d2, p.from2, end);
      if (p.from2 !== at1) out.copyWithin(at1 + d1, at1, p.from2);
      if (writeReplacement(out, p.from2 + d1, p.lead2, p.value2) === -1) return undefined;
    }
    // A received address outside ASCII (a host name, say) is left to build, which encodes it.
    return writeReplacement(out, at1, p.lead1, p.value1) === -1 ? undefined : out;
  }

  /**
   * Writes the message: runs of untouched lines are copied from the received bytes in one go (keeping their
   * spelling and folding), edited lines are written from name and value, a patched line as its bytes around the
   * replacements. Plans the pieces first so the output is allocated once.
   */
  protected build(startLineUntouched: boolean): Buffer {
    if (this.text === undefined) {
      const out = this.buildCreated();
      if (out !== undefined) return out;
    }
    const src = this.source;
    const keys = this.keys;
    const n = keys.length;
    const bodyBuf = this.bodyBuf;
    const lengthText = String(bodyBuf === undefined ? this.receivedEnd - this.bodyStart : bodyBuf.length);
    const patch = this.patch;
    const p = plan;
    p.reset(src !== undefined);
    if (startLineUntouched && src !== undefined && this.startLineEnd >= 0) {
      p.copy(this.startLineStart, this.startLineEnd + 2);
    } else {
      p.put(this.startLine() + '\r\n');
    }
    let lengthSeen = false;
    for (let i = 0; i < n; i++) {
      let line: string | undefined;
      if (keys[i] === 'content-length') {
        // One Content-Length, always matching the body sent (a duplicate received is not carried along).
        if (lengthSeen) continue;
        lengthSeen = true;
        if (this.valueAt(i) !== lengthText) line = `${this.nameAt(i)}: ${lengthText}\r\n`;
      }
      const s = this.spanStart(i);
      if (line === undefined && s >= 0 && src !== undefined) {
        const e = this.spanEnd(i) + 2;
        if (patch !== undefined && patch.line === i) {
          p.copy(s, patch.from1);
          p.putAscii(patch.lead1.text);
          p.put(String(patch.value1));
          if (patch.from2 !== -1) {
            p.copy(patch.to1, patch.from2);
            p.putAscii(patch.lead2.text);
            p.put(String(patch.value2));
            p.copy(patch.to2, e);
          } else {
            p.copy(patch.to1, e);
          }
        } else {
          p.copy(s, e);
        }
        continue;
      }
      p.put(line ?? `${this.nameAt(i)}: ${this.valueAt(i)}\r\n`);
    }
    if (!lengthSeen) p.put(`Content-Length: ${lengthText}\r\n`);
    // The empty line and an unedited body follow the last header in the received bytes: extend the run over them.
    let body: Buffer | undefined;
    if (p.runStart >= 0 && bodyBuf === undefined && src === this.received && this.bodyStart === p.runEnd + 2) {
      p.runEnd = this.receivedEnd;
    } else {
      body = this.body;
      p.put('\r\n');
    }
    p.flush();
    const bodyAt = p.size;
    const out = allocate(body === undefined ? p.size : p.size + body.length);
    const runs = p.runs;
    if (src !== undefined && p.runCount > 0) {
      if (p.shiftable && src.length <= out.length) {
        // Every run lands at or right of its received offset: copy the whole received buffer once, then move the
        // runs right to left (so none is overwritten before it has moved). Cheaper than a view per run.
        out.set(src);
        for (let r = 3 * (p.runCount - 1); r >= 0; r -= 3) {
          const from = runs[r] as number;
          const to = runs[r + 2] as number;
          if (to !== from) out.copyWithin(to, from, runs[r + 1] as number);
        }
      } else {
        for (let r = 0; r < 3 * p.runCount; r += 3) {
          const from = runs[r] as number;
          // A plain view + set: Buffer#copy's argument handling costs more than the copy at these sizes.
          out.set(new Uint8Array(src.buffer, src.byteOffset + from, (runs[r + 1] as number) - from), runs[r + 2] as number);
        }
      }
    }
    for (let j = 0; j < p.stringCount; j++) {
      const s = p.strings[j] as string;
      const at = p.spots[j] as number;
      if (at < 0) {
        out.write(s, -1 - at, 'utf8');
      } else if (s.length > 32) {
        out.write(s, at, 'latin1');
      } else {
        for (let k = 0; k < s.length; k++) out[at + k] = s.charCodeAt(k);
      }
    }
    if (body !== undefined) out.set(body, bodyAt);
    return out;
  }

  /**
   * `build` for a message we created (no line received), the messages we send most: every line is written from its
   * name and value straight into the output, sized once from the strings' lengths, where `build` would concatenate
   * each line into a string and scan it before writing it. Same bytes as `build`, or undefined for a message with
   * text outside ASCII (its length in bytes is not its length in characters), which `build` encodes as UTF-8.
   */
  private buildCreated(): Buffer | undefined {
    const keys = this.keys;
    const names = this.names as string[];
    const values = this.values as string[];
    const n = keys.length;
    const body = this.body;
    const lengthText = String(body.length);
    const start = this.startLine();
    // Size: a line is its name, ": ", its value and CRLF; only the first Content-Length is written, with the body's.
    let size = start.length + 2;
    let lengthAt = -1;
    for (let i = 0; i < n; i++) {
      if (keys[i] === 'content-length') {
        if (lengthAt !== -1) continue;
        lengthAt = i;
        size += (names[i] as string).length + 4 + lengthText.length;
      } else {
        size += (names[i] as string).length + 4 + (values[i] as string).length;
      }
    }
    if (lengthAt === -1) size += CONTENT_LENGTH_NAME.length + 4 + lengthText.length;
    size += 2;
    const out = allocate(size + body.length);
    let at = writeAscii(out, 0, start);
    if (at !== -1) at = writeCrlf(out, at);
    for (let i = 0; i < n && at !== -1; i++) {
      const isLength = keys[i] === 'content-length';
      if (isLength && i !== lengthAt) continue;
      at = writeAscii(out, at, names[i] as string);
      if (at === -1) break;
      out[at] = 58;
      out[at + 1] = 32;
      at = writeAscii(out, at + 2, isLength ? lengthText : (values[i] as string));
      if (at !== -1) at = writeCrlf(out, at);
    }
    if (at === -1) return undefined;
    if (lengthAt === -1) {
      at = writeAscii(out, at, CONTENT_LENGTH_NAME);
      out[at] = 58;
      out[at + 1] = 32;
      at = writeCrlf(out, writeAscii(out, at + 2, lengthText));
    }
    at = writeCrlf(out, at);
    if (body.length > 0) out.set(body, at);
    return out;
  }

  toString(): string {
    return this.serialize().toString('utf8');
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request';
  method: string;
  /** The Request-URI as written. */
  uri: string;
  private cachedUri: SipUri | null | undefined;
  private cachedUriText: string | undefined;
  /** The start line as constructed: an edit of `method` or `uri` is noticed by comparing with these. */
  private readonly rawMethod: string;
  private readonly rawUri: string;

  constructor(method: string, uri: string, table: HeaderTable = emptyHeaderTable(), body?: Buffer, raw?: Buffer) {
    super(table, body, raw);
    this.method = method;
    this.uri = uri;
    this.rawMethod = method;
    this.rawUri = uri;
  }

  /**
   * The parsed Request-URI, or null when it is malformed. Schemes other than sip, sips and tel parse as opaque
   * (a UAS answers those 416, see checkRequest).
   */
  get requestUriOrNull(): SipUri | null {
    if (this.cachedUriText !== this.uri) {
      this.cachedUri = parseUri(this.uri);
      this.cachedUriText = this.uri;
    }
    return this.cachedUri ?? null;
  }

  /** The parsed Request-URI; throws SipHeaderError when it is malformed. */
  get requestUri(): SipUri {
    const uri = this.requestUriOrNull;
    if (uri === null) throw new SipHeaderError('request-uri', `unsupported Request-URI: ${this.uri}`);
    return uri;
  }

  protected startLine(): string {
    return `${this.method} ${this.uri} SIP/2.0`;
  }

  // method and uri are plain fields, so an edit to them cannot drop the received bytes eagerly: compare here.
  override serialize(): Buffer {
    const untouched = this.method === this.rawMethod && this.uri === this.rawUri;
    if (this.intact && untouched) return this.receivedBytes();
    if (this.patchedIntact && untouched) return this.writePatched() ?? this.build(true);
    return this.build(untouched);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response';
  status: number;
  reason: string;
  private readonly rawStatus: number;
  private readonly rawReason: string;

  constructor(status: number, reason: string, table: HeaderTable = emptyHeaderTable(), body?: Buffer, raw?: Buffer) {
    super(table, body, raw);
    this.status = status;
    this.reason = reason;
    this.rawStatus = status;
    this.rawReason = reason;
  }

  protected startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }

  override serialize(): Buffer {
    const untouched = this.status === this.rawStatus && this.reason === this.rawReason;
    if (this.intact && untouched) return this.receivedBytes();
    if (this.patchedIntact && untouched) return this.writePatched() ?? this.build(true);
    return this.build(untouched);
  }
}

export type SipMessage = SipRequest | SipResponse;
