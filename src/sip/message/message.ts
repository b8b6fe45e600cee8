/**
 * SipRequest and SipResponse: header lines kept as written, structured views parsed on first access and cached
 * until the header changes, and a serializer that reuses the received bytes while nothing has changed.
 */
import type { CSeq, NameAddr, SipMessageCommon, SipUri, Via } from './types.ts';
import { SipHeaderError } from './errors.ts';
import { headerKey, isListHeader } from './header-names.ts';
import { formatNameAddr, parseNameAddr } from './name-addr.ts';
import { isTokenChar, splitList } from './syntax.ts';
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
 * Header lines of a message. Parallel arrays rather than objects: a parse allocates a handful of arrays instead of
 * one object per header.
 */
export interface HeaderTable {
  /** Names as written. */
  names: string[];
  /** Names folded by `headerKey`. */
  keys: string[];
  /** Values unfolded and trimmed. */
  values: string[];
  /** Two numbers per header: its line's start and end (CRLF excluded) in `source`; -1, -1 once edited. */
  spans: number[];
  /** The received bytes the spans point into; undefined when there is nothing to copy from. */
  source: Buffer | undefined;
  /** Where the start line begins and ends (CRLF excluded) in `source`; -1 when not parsed. */
  startLineStart: number;
  startLineEnd: number;
}

export function emptyHeaderTable(): HeaderTable {
  return { names: [], keys: [], values: [], spans: [], source: undefined, startLineStart: -1, startLineEnd: -1 };
}

export abstract class SipMessageBase implements SipMessageCommon {
  protected names: string[];
  protected keys: string[];
  protected values: string[];
  protected spans: number[];
  protected source: Buffer | undefined;
  protected startLineStart: number;
  protected startLineEnd: number;
  /** The whole message as received; returned by `serialize` until an edit drops it. */
  protected raw: Buffer | undefined;
  private bodyBuf: Buffer;

  private cachedVias: Via[] | undefined;
  private cachedTopVia: Via | undefined;
  private cachedCSeq: CSeq | undefined;
  private cachedFrom: NameAddr | undefined;
  private cachedTo: NameAddr | undefined;
  private cachedContacts: NameAddr[] | '*' | undefined;
  private cachedRoutes: NameAddr[] | undefined;
  private cachedRecordRoutes: NameAddr[] | undefined;

  protected constructor(table: HeaderTable, body: Buffer, raw: Buffer | undefined) {
    this.names = table.names;
    this.keys = table.keys;
    this.values = table.values;
    this.spans = table.spans;
    this.source = table.source;
    this.startLineStart = table.startLineStart;
    this.startLineEnd = table.startLineEnd;
    this.bodyBuf = body;
    this.raw = raw;
  }

  /** The start line, without CRLF. */
  protected abstract startLine(): string;

  get body(): Buffer {
    return this.bodyBuf;
  }

  set body(body: Buffer) {
    this.bodyBuf = body;
    this.raw = undefined;
  }

  /**
   * Gives a parsed message its body and the bytes it was received as (`serialize` returns them until an edit).
   * Used by the parser and the stream framer.
   */
  setReceivedBytes(body: Buffer, raw: Buffer): void {
    this.bodyBuf = body;
    this.raw = raw;
  }

  // ---- raw header access ----

  get(name: string): string | undefined {
    return this.first(headerKey(name));
  }

  /** First value for an already folded key. */
  private first(key: string): string | undefined {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) return this.values[i];
    }
    return undefined;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== key) continue;
      const v = this.values[i] as string;
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

  /** Every header line, in order, as [name as written, value]. */
  headerLines(): Array<[string, string]> {
    return this.names.map((n, i) => [n, this.values[i] as string]);
  }

  set(name: string, value: string | readonly string[]): void {
    const key = headerKey(name);
    const at = this.keys.indexOf(key);
    if (typeof value === 'string' && at !== -1 && this.keys.indexOf(key, at + 1) === -1) {
      // The common edit (one line replaced by one value) without reshaping the arrays.
      this.names[at] = name;
      this.replaceLine(at, value.trim());
      return;
    }
    this.removeKey(key);
    const vals = typeof value === 'string' ? [value] : value;
    this.insertAt(at === -1 ? this.keys.length : at, name, key, vals);
  }

  append(name: string, value: string): void {
    const key = headerKey(name);
    this.insertAt(this.keys.length, name, key, [value]);
  }

  prepend(name: string, value: string): void {
    const key = headerKey(name);
    const at = this.keys.indexOf(key);
    this.insertAt(at === -1 ? 0 : at, name, key, [value]);
  }

  remove(name: string): void {
    const key = headerKey(name);
    this.removeKey(key);
    this.invalidate(key);
  }

  private removeKey(key: string): void {
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] === key) {
        this.names.splice(i, 1);
        this.keys.splice(i, 1);
        this.values.splice(i, 1);
        this.spans.splice(2 * i, 2);
      }
    }
  }

  private insertAt(at: number, name: string, key: string, vals: readonly string[]): void {
    for (let j = 0; j < vals.length; j++) {
      this.names.splice(at + j, 0, name);
      this.keys.splice(at + j, 0, key);
      this.values.splice(at + j, 0, (vals[j] as string).trim());
      this.spans.splice(2 * (at + j), 0, -1, -1);
    }
    this.invalidate(key);
  }

  /** Replaces the value of line `i` in place, keeping its name as written. */
  protected replaceLine(i: number, value: string): void {
    this.values[i] = value;
    this.spans[2 * i] = -1;
    this.spans[2 * i + 1] = -1;
    this.invalidate(this.keys[i] as string);
  }

  protected invalidate(key: string): void {
    this.raw = undefined;
    switch (key) {
      case 'via':
        this.cachedVias = undefined;
        this.cachedTopVia = undefined;
        break;
      case 'cseq':
        this.cachedCSeq = undefined;
        break;
      case 'from':
        this.cachedFrom = undefined;
        break;
      case 'to':
        this.cachedTo = undefined;
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
    return this.required('call-id');
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
    return this.from.params['tag'] ?? undefined;
  }

  /** Tag of To, if any. */
  get toTag(): string | undefined {
    return this.to.params['tag'] ?? undefined;
  }

  get vias(): readonly Via[] {
    if (this.cachedVias === undefined) {
      const out: Via[] = [];
      for (const v of this.getAll('via')) {
        const via = parseVia(v);
        if (via === null) throw new SipHeaderError('via', `malformed Via: ${v}`);
        out.push(via);
      }
      this.cachedVias = out;
    }
    return this.cachedVias;
  }

  /** Gives the parser's reading of the top Via (taken from the received bytes) to the accessor's cache. */
  primeTopVia(via: Via): void {
    this.cachedTopVia = via;
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
    const line = this.values[i] as string;
    let first = line;
    let rest = '';
    if (line.indexOf(',') !== -1) {
      const parts = splitList(line);
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

  /** Adds (or replaces) the To tag, keeping the rest of the To value as written. */
  setToTag(tag: string): void {
    const i = this.keys.indexOf('to');
    if (i === -1) throw new SipHeaderError('to', 'missing to');
    const current = parseNameAddr(this.values[i] as string);
    if (current !== null && current.params['tag'] === tag) return;
    if (current === null || current.params['tag'] === undefined) {
      this.replaceLine(i, `${this.values[i] as string};tag=${tag}`);
    } else {
      current.params['tag'] = tag;
      this.replaceLine(i, formatNameAddr(current));
    }
  }

  // ---- serialization ----

  serialize(): Buffer {
    if (this.raw !== undefined) return this.raw;
    return this.build(true);
  }

  /**
   * Writes the message: runs of untouched lines are copied from the received bytes in one go (keeping their
   * spelling and folding), edited lines are written from name and value. Plans the pieces first so the output is
   * allocated once.
   */
  protected build(startLineUntouched: boolean): Buffer {
    const body = this.bodyBuf;
    const src = this.source;
    const { keys, names, values, spans } = this;
    const n = keys.length;
    const lengthText = String(body.length);
    // Pieces in order: a string, or two numbers [start, end) of `src`.
    const plan: Array<string | number> = [];
    let size = 0;
    // Written strings are nearly always ASCII, and a latin1 write skips the UTF-8 encoder.
    let ascii = true;
    let runStart = -1;
    let runEnd = -1;
    if (startLineUntouched && src !== undefined && this.startLineEnd >= 0) {
      runStart = this.startLineStart;
      runEnd = this.startLineEnd + 2;
    } else {
      const line = this.startLine() + '\r\n';
      plan.push(line);
      const n = Buffer.byteLength(line);
      ascii &&= n === line.length;
      size += n;
    }
    let lengthSeen = false;
    for (let i = 0; i < n; i++) {
      let line: string | undefined;
      if (keys[i] === 'content-length') {
        // One Content-Length, always matching the body sent (a duplicate received is not carried along).
        if (lengthSeen) continue;
        lengthSeen = true;
        if (values[i] !== lengthText) line = `${names[i] as string}: ${lengthText}\r\n`;
      }
      const s = spans[2 * i] as number;
      if (line === undefined && s >= 0 && src !== undefined) {
        const e = (spans[2 * i + 1] as number) + 2;
        if (s !== runEnd) {
          if (runStart >= 0) {
            plan.push(runStart, runEnd);
            size += runEnd - runStart;
          }
          runStart = s;
        }
        runEnd = e;
        continue;
      }
      if (runStart >= 0) {
        plan.push(runStart, runEnd);
        size += runEnd - runStart;
        runStart = -1;
        runEnd = -1;
      }
      line ??= `${names[i] as string}: ${values[i] as string}\r\n`;
      plan.push(line);
      const n = Buffer.byteLength(line);
      ascii &&= n === line.length;
      size += n;
    }
    if (!lengthSeen) {
      if (runStart >= 0) {
        plan.push(runStart, runEnd);
        size += runEnd - runStart;
        runStart = -1;
        runEnd = -1;
      }
      const line = `Content-Length: ${lengthText}\r\n`;
      plan.push(line);
      size += line.length;
    }
    // The empty line and an unedited body follow the last header in the received bytes: extend the run over them.
    let bodyInRun = false;
    if (runStart >= 0 && src !== undefined && body.buffer === src.buffer && body.byteOffset - src.byteOffset === runEnd + 2) {
      runEnd += 2 + body.length;
      bodyInRun = true;
    }
    if (runStart >= 0) {
      plan.push(runStart, runEnd);
      size += runEnd - runStart;
    }
    if (!bodyInRun) size += 2 + body.length;

    const out = Buffer.allocUnsafe(size);
    let off = 0;
    for (let j = 0; j < plan.length; j++) {
      const piece = plan[j] as string | number;
      if (typeof piece === 'string') {
        off += out.write(piece, off, ascii ? 'latin1' : 'utf8');
      } else {
        const end = plan[++j] as number;
        // A plain view + set: Buffer#copy's argument handling costs more than the copy at these sizes.
        out.set(new Uint8Array((src as Buffer).buffer, (src as Buffer).byteOffset + piece, end - piece), off);
        off += end - piece;
      }
    }
    if (!bodyInRun) {
      out[off] = 13;
      out[off + 1] = 10;
      body.copy(out, off + 2);
    }
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

  constructor(method: string, uri: string, table: HeaderTable = emptyHeaderTable(), body: Buffer = EMPTY, raw?: Buffer) {
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
    if (this.raw !== undefined && untouched) return this.raw;
    return this.build(untouched);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response';
  status: number;
  reason: string;
  private readonly rawStatus: number;
  private readonly rawReason: string;

  constructor(status: number, reason: string, table: HeaderTable = emptyHeaderTable(), body: Buffer = EMPTY, raw?: Buffer) {
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
    if (this.raw !== undefined && untouched) return this.raw;
    return this.build(untouched);
  }
}

export type SipMessage = SipRequest | SipResponse;
