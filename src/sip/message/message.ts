/**
 * SipRequest and SipResponse: header lines kept as written, structured views parsed on first access and cached
 * until the header changes, and a serializer that reuses the received bytes while nothing has changed.
 */
import type { CSeq, NameAddr, SipMessageCommon, SipUri, Via } from './types.ts';
import { SipHeaderError } from './errors.ts';
import { headerKey, isListHeader } from './header-names.ts';
import { formatNameAddr, parseNameAddr } from './name-addr.ts';
import { splitList } from './syntax.ts';
import { parseUri } from './uri.ts';
import { formatVia, parseVia } from './via.ts';

const EMPTY = Buffer.alloc(0);

/** Parses a CSeq value: `1*DIGIT LWS Method`, the number below 2**31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): CSeq | null {
  const m = /^(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value);
  if (m === null) return null;
  const seq = Number(m[1]);
  if (seq > 0x7fffffff) return null;
  return { seq, method: m[2] as string };
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

export abstract class SipMessageBase implements SipMessageCommon {
  /** Header names as written, their folded keys (see `headerKey`), values (unfolded, trimmed), raw lines. */
  protected names: string[];
  protected keys: string[];
  protected values: string[];
  /** The line as received (with any folding), reused by `serialize`; undefined once a line is edited. */
  protected raws: Array<string | undefined>;
  /** The whole message as received; dropped on any edit. */
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

  protected constructor(
    names: string[],
    keys: string[],
    values: string[],
    raws: Array<string | undefined>,
    body: Buffer,
    raw: Buffer | undefined,
  ) {
    this.names = names;
    this.keys = keys;
    this.values = values;
    this.raws = raws;
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
    const key = headerKey(name);
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
        this.raws.splice(i, 1);
      }
    }
  }

  private insertAt(at: number, name: string, key: string, vals: readonly string[]): void {
    for (let j = 0; j < vals.length; j++) {
      this.names.splice(at + j, 0, name);
      this.keys.splice(at + j, 0, key);
      this.values.splice(at + j, 0, (vals[j] as string).trim());
      this.raws.splice(at + j, 0, undefined);
    }
    this.invalidate(key);
  }

  /** Replaces the value of line `i` in place, keeping its name as written. */
  protected replaceLine(i: number, value: string): void {
    this.values[i] = value;
    this.raws[i] = undefined;
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
    const v = this.get(key);
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
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!/^\d{1,10}$/.test(v) || Number(v) > max) throw new SipHeaderError(key, `malformed ${key}: ${v}`);
    return Number(v);
  }

  // ---- mutators the transport, transaction and dialog layers need ----

  /** Sets received / rport on the top Via (RFC 3261 §18.2.1, RFC 3581 §4). */
  setTopViaParams(p: { received?: string; rport?: number }): void {
    const i = this.keys.indexOf('via');
    if (i === -1) throw new SipHeaderError('via', 'missing via');
    const via = { ...this.topVia, params: { ...this.topVia.params } };
    if (p.received !== undefined) via.received = p.received;
    if (p.rport !== undefined) via.rport = p.rport;
    const line = this.values[i] as string;
    const formatted = formatVia(via);
    this.replaceLine(i, line.indexOf(',') === -1 ? formatted : [formatted, ...splitList(line).slice(1)].join(', '));
    this.cachedTopVia = via;
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
    const body = this.bodyBuf;
    let head = this.startLine() + '\r\n';
    let sawLength = false;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] === 'content-length') {
        // One Content-Length, always matching the body we send (a parsed duplicate is not carried along).
        if (sawLength) continue;
        sawLength = true;
        if (this.values[i] !== String(body.length)) {
          head += `${this.names[i] as string}: ${body.length}\r\n`;
          continue;
        }
      }
      const raw = this.raws[i];
      head += raw === undefined ? `${this.names[i] as string}: ${this.values[i] as string}\r\n` : raw + '\r\n';
    }
    if (!sawLength) head += `Content-Length: ${body.length}\r\n`;
    head += '\r\n';
    const headLen = Buffer.byteLength(head);
    const out = Buffer.allocUnsafe(headLen + body.length);
    out.write(head, 0, headLen, 'utf8');
    body.copy(out, headLen);
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
  private rawMethod: string | undefined;
  private rawUri: string | undefined;

  constructor(
    method: string,
    uri: string,
    names: string[],
    keys: string[],
    values: string[],
    raws: Array<string | undefined>,
    body: Buffer = EMPTY,
    raw?: Buffer,
  ) {
    super(names, keys, values, raws, body, raw);
    this.method = method;
    this.uri = uri;
    if (raw !== undefined) {
      this.rawMethod = method;
      this.rawUri = uri;
    }
  }

  /** The parsed Request-URI, or null when its scheme is not sip/sips/tel (a UAS answers 416, see checkRequest). */
  get requestUriOrNull(): SipUri | null {
    if (this.cachedUriText !== this.uri) {
      this.cachedUri = parseUri(this.uri);
      this.cachedUriText = this.uri;
    }
    return this.cachedUri ?? null;
  }

  /** The parsed Request-URI; throws SipHeaderError when it is not a sip/sips/tel URI. */
  get requestUri(): SipUri {
    const uri = this.requestUriOrNull;
    if (uri === null) throw new SipHeaderError('request-uri', `unsupported Request-URI: ${this.uri}`);
    return uri;
  }

  protected startLine(): string {
    return `${this.method} ${this.uri} SIP/2.0`;
  }

  override serialize(): Buffer {
    // method and uri are plain fields, so an edit to them cannot drop the cached bytes eagerly: check here.
    if (this.raw !== undefined && (this.method !== this.rawMethod || this.uri !== this.rawUri)) this.raw = undefined;
    return super.serialize();
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response';
  status: number;
  reason: string;
  private rawStatus: number | undefined;
  private rawReason: string | undefined;

  constructor(
    status: number,
    reason: string,
    names: string[],
    keys: string[],
    values: string[],
    raws: Array<string | undefined>,
    body: Buffer = EMPTY,
    raw?: Buffer,
  ) {
    super(names, keys, values, raws, body, raw);
    this.status = status;
    this.reason = reason;
    if (raw !== undefined) {
      this.rawStatus = status;
      this.rawReason = reason;
    }
  }

  protected startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }

  override serialize(): Buffer {
    if (this.raw !== undefined && (this.status !== this.rawStatus || this.reason !== this.rawReason)) this.raw = undefined;
    return super.serialize();
  }
}

export type SipMessage = SipRequest | SipResponse;
