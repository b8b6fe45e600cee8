/**
 * The SIP message model shared by every part of `src/sip/` (RFC 3261 §7).
 *
 * Messages are parsed lazily: the start line and the header *lines* are split on arrival, but a header's value is
 * only parsed into its structure (Via, name-addr, CSeq ...) when somebody asks for it, and then cached. Building a
 * message for sending uses the same classes; `serialize()` writes it back to bytes.
 */

/**
 * A SIP or SIPS URI (RFC 3261 §19.1), a tel URI (RFC 3966) with its number in `user`, or any other absoluteURI
 * (`isbn:...`, `http://...`: RFC 3261 allows them in From/To/Contact) kept whole in `opaque` with an empty host.
 */
export interface SipUri {
  /** Lower-cased. */
  scheme: 'sip' | 'sips' | 'tel' | (string & {});
  /** Everything after `scheme:` for schemes other than sip, sips and tel. */
  opaque?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  host: string;
  port?: number | undefined;
  /** URI parameters (`;transport=tcp;lr`); a parameter without a value maps to null. Names are lower-cased. */
  params: Record<string, string | null>;
  /** URI headers (`?subject=x`). */
  headers: Record<string, string>;
}

/** `"Display" <sip:user@host>;tag=x` (RFC 3261 §20.10 / §25.1 name-addr or addr-spec). */
export interface NameAddr {
  displayName?: string | undefined;
  uri: SipUri;
  /** Header parameters after the address (tag, expires, q ...). Names are lower-cased. */
  params: Record<string, string | null>;
}

/** One Via value (RFC 3261 §20.42, RFC 3581 rport). */
export interface Via {
  /** Upper-case transport as written: UDP, TCP, TLS, WS, SCTP ... */
  transport: string;
  host: string;
  port?: number | undefined;
  branch?: string | undefined;
  received?: string | undefined;
  /** `rport` without a value is `true`; with a value, the number; absent, undefined. */
  rport?: number | true | undefined;
  params: Record<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Auth parameters of WWW-Authenticate / Authorization and their Proxy- forms (RFC 7616 §3). */
export interface AuthParams {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Header access common to requests and responses. Names are matched case-insensitively and compact forms
 * (RFC 3261 §7.3.3: i, m, e, l, c, f, s, k, t, v, o, u, a, r ...) are the same header as their long form.
 */
export interface SipHeaderAccess {
  /** The first value of a header as written (for list headers, the first line, not split). */
  get(name: string): string | undefined;
  /** Every value: repeated header lines, and comma-separated lists split for the list headers (Via, Contact, Route ...). */
  getAll(name: string): string[];
  has(name: string): boolean;
  /** Replaces every line of the header. */
  set(name: string, value: string | readonly string[]): void;
  append(name: string, value: string): void;
  /** Inserts a value before the existing ones (Via, Record-Route, Route). */
  prepend(name: string, value: string): void;
  remove(name: string): void;
}

/** Structured views of the headers every message has; parsed on first access, cached, invalidated by `set`. */
export interface SipMessageCommon extends SipHeaderAccess {
  body: Buffer;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly vias: readonly Via[];
  readonly topVia: Via;
  serialize(): Buffer;
}
