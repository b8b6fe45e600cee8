/**
 * HTTP Digest (RFC 7616, also RFC 3261 §22.4 for SIP): one implementation shared by the HTTP API, the SIP
 * registrar and the SIP client. Transport-agnostic: callers pass header values and get header values back.
 *
 * Nonces are stateless (`<issued-at>.<HMAC(secret, issued-at:realm)>`) so several processes sharing the secret
 * accept each other's nonces; only the nonce-count replay check keeps state, in a bounded map.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  /** Eight hex digits as sent on the wire (`00000001`); required with qop. */
  readonly nc?: string;
  readonly cnonce?: string;
  readonly qop?: 'auth';
}

export interface AuthHeader {
  /** As written, e.g. `Digest` or `Basic`; compare case-insensitively. */
  readonly scheme: string;
  /** Parameter names lower-cased, values unquoted and unescaped. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Basic dXNlcjpwYXNz`), when the credentials are not name=value pairs. */
  readonly token68?: string;
}

/** A challenge or credentials the caller cannot use (unsupported algorithm, no qop we speak, missing nonce). */
export class DigestError extends Error {
  override readonly name = 'DigestError';
}

function hash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(data, 'utf8')
    .digest('hex');
}

/** RFC 7616 §3.4.1 (qop=auth) and RFC 2069 compatibility when qop is absent. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const { algorithm } = input;
  const ha1 = hash(algorithm, `${input.username}:${input.realm}:${input.password}`);
  const ha2 = hash(algorithm, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return hash(algorithm, `${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined) {
    throw new DigestError('qop=auth needs nc and cnonce');
  }
  return hash(algorithm, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

// RFC 7230 tchar; a charCode lookup keeps the scanner free of per-call regex work.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
const isTchar = (code: number): boolean => code < 128 && TCHAR[code] === 1;
const isSpace = (code: number): boolean => code === 0x20 || code === 0x09;

interface Cursor {
  readonly s: string;
  i: number;
}

function skipSpaces(c: Cursor): void {
  while (c.i < c.s.length && isSpace(c.s.charCodeAt(c.i))) c.i++;
}

function readToken(c: Cursor): string {
  const start = c.i;
  while (c.i < c.s.length && isTchar(c.s.charCodeAt(c.i))) c.i++;
  return c.s.slice(start, c.i);
}

/** RFC 7230 quoted-string with quoted-pair escapes; the cursor sits on the opening quote. Null if unterminated. */
function readQuoted(c: Cursor): string | null {
  c.i++;
  let out = '';
  let chunkStart = c.i;
  while (c.i < c.s.length) {
    const code = c.s.charCodeAt(c.i);
    if (code === 0x22) {
      out += c.s.slice(chunkStart, c.i);
      c.i++;
      return out;
    }
    if (code === 0x5c) {
      out += c.s.slice(chunkStart, c.i);
      if (c.i + 1 >= c.s.length) return null;
      out += c.s[c.i + 1];
      c.i += 2;
      chunkStart = c.i;
      continue;
    }
    c.i++;
  }
  return null;
}

/**
 * Parses a list of challenges (or one set of credentials): `scheme [token68 | name=value, ...]`, challenges
 * separated by commas. A comma followed by `token SP` that is not `token =` starts the next challenge.
 */
export function parseAuthHeaderList(value: string): AuthHeader[] | null {
  const c: Cursor = { s: value, i: 0 };
  const out: AuthHeader[] = [];
  for (;;) {
    skipSpaces(c);
    while (c.i < c.s.length && (c.s[c.i] === ',' || isSpace(c.s.charCodeAt(c.i)))) c.i++;
    if (c.i >= c.s.length) break;
    const scheme = readToken(c);
    if (scheme === '') return null;
    const params: Record<string, string> = {};
    let token68: string | undefined;
    const afterScheme = c.i;
    skipSpaces(c);
    if (c.i < c.s.length && c.i === afterScheme && c.s[c.i] !== ',') return null;
    // token68 (Basic): one word, optionally '='-padded, alone up to the next comma or the end.
    const t68Start = c.i;
    const word = readT68(c);
    skipSpaces(c);
    if (word !== '' && (c.i >= c.s.length || c.s[c.i] === ',') && !isParamStart(value, t68Start)) {
      token68 = word;
    } else {
      c.i = t68Start;
      for (;;) {
        skipSpaces(c);
        const nameStart = c.i;
        const name = readToken(c);
        if (name === '') break;
        skipSpaces(c);
        if (c.s[c.i] !== '=') {
          // Not a parameter: the next challenge's scheme.
          c.i = nameStart;
          break;
        }
        c.i++;
        skipSpaces(c);
        let v: string | null;
        if (c.s[c.i] === '"') v = readQuoted(c);
        else {
          v = readToken(c);
          if (v === '') return null;
        }
        if (v === null) return null;
        params[name.toLowerCase()] = v;
        skipSpaces(c);
        if (c.i >= c.s.length) break;
        if (c.s[c.i] !== ',') return null;
        c.i++;
      }
    }
    out.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
  }
  return out;
}

function readT68(c: Cursor): string {
  const start = c.i;
  while (c.i < c.s.length) {
    const code = c.s.charCodeAt(c.i);
    if (isTchar(code) || code === 0x2f) c.i++;
    else break;
  }
  while (c.i < c.s.length && c.s[c.i] === '=') c.i++;
  return c.s.slice(start, c.i);
}

/** True when `name=` (a parameter) starts at i, as opposed to a token68 ending in padding. */
function isParamStart(s: string, i: number): boolean {
  const c: Cursor = { s, i };
  const name = readToken(c);
  if (name === '') return false;
  skipSpaces(c);
  if (s[c.i] !== '=') return false;
  c.i++;
  while (c.i < s.length && s[c.i] === '=') c.i++;
  skipSpaces(c);
  return c.i < s.length && s[c.i] !== ',';
}

/** Parses an Authorization / Proxy-Authorization value. */
export function parseAuthorization(headerValue: string): AuthHeader | null {
  const list = parseAuthHeaderList(headerValue);
  return list !== null && list.length === 1 ? (list[0] ?? null) : null;
}

/** Parses a WWW-Authenticate / Proxy-Authenticate value; with several challenges in one value, the first. */
export function parseChallenge(headerValue: string): AuthHeader | null {
  const list = parseAuthHeaderList(headerValue);
  return list?.[0] ?? null;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function toAlgorithm(value: string | undefined): DigestAlgorithm | null {
  if (value === undefined) return 'MD5';
  const upper = value.toUpperCase();
  if (upper === 'MD5') return 'MD5';
  if (upper === 'SHA-256') return 'SHA-256';
  return null;
}

export interface AnswerChallengeInput {
  /** One WWW-Authenticate / Proxy-Authenticate value (it may carry several challenges). */
  readonly challenge: string | readonly string[];
  readonly method: string;
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  readonly cnonce?: string;
  /** Nonce count for this nonce, starting at 1. */
  readonly nc?: number;
}

/**
 * The Authorization / Proxy-Authorization value answering a Digest challenge. Among several challenges it takes
 * SHA-256 over MD5; it uses qop=auth when offered, and the RFC 2069 form when the challenge has no qop.
 */
export function answerChallenge(input: AnswerChallengeInput): string {
  const values = typeof input.challenge === 'string' ? [input.challenge] : input.challenge;
  let chosen: { header: AuthHeader; algorithm: DigestAlgorithm } | undefined;
  for (const value of values) {
    for (const header of parseAuthHeaderList(value) ?? []) {
      if (header.scheme.toLowerCase() !== 'digest') continue;
      const algorithm = toAlgorithm(header.params.algorithm);
      if (algorithm === null || header.params.nonce === undefined) continue;
      if (chosen === undefined || (algorithm === 'SHA-256' && chosen.algorithm === 'MD5')) {
        chosen = { header, algorithm };
      }
    }
  }
  if (chosen === undefined) throw new DigestError('no Digest challenge with MD5 or SHA-256 and a nonce');
  const { params } = chosen.header;
  const nonce = params.nonce as string;
  const realm = params.realm ?? '';
  const qopOffered = params.qop;
  let qop: 'auth' | undefined;
  if (qopOffered !== undefined) {
    if (!qopOffered.split(',').some((q) => q.trim().toLowerCase() === 'auth')) {
      throw new DigestError(`challenge offers qop "${qopOffered}" only; auth is supported`);
    }
    qop = 'auth';
  }
  const nc = (input.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = input.cnonce ?? randomBytes(12).toString('hex');
  const response = computeDigestResponse({
    algorithm: chosen.algorithm,
    username: input.username,
    realm,
    password: input.password,
    method: input.method,
    uri: input.uri,
    nonce,
    ...(qop === undefined ? {} : { qop, nc, cnonce }),
  });
  let out =
    `Digest username=${quote(input.username)}, realm=${quote(realm)}, nonce=${quote(nonce)}, ` +
    `uri=${quote(input.uri)}, algorithm=${chosen.algorithm}, response="${response}"`;
  if (qop !== undefined) out += `, qop=auth, nc=${nc}, cnonce=${quote(cnonce)}`;
  if (params.opaque !== undefined) out += `, opaque=${quote(params.opaque)}`;
  return out;
}

export interface DigestVerifierOptions {
  readonly realm: string;
  readonly nonceTtlMs: number;
  /** Shared by processes that must accept each other's nonces; random per verifier when absent. */
  readonly secret?: Buffer | string;
  /** Offered in this order (default SHA-256, then MD5). */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** Nonces whose counts are remembered; older ones are asked to re-authenticate (stale). Default 10,000. */
  readonly maxTrackedNonces?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

export type DigestVerifyResult =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly stale: boolean; readonly reason: string };

const HEX8 = /^[0-9a-fA-F]{8}$/;

/** Server side: issues challenges and checks credentials against them. */
export class DigestVerifier {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  private readonly nonceTtlMs: number;
  private readonly secret: Buffer;
  private readonly now: () => number;
  private readonly maxTracked: number;
  /** nonce -> highest nc seen and issue time (so a tracked nonce needs no MAC check again). */
  private readonly counts = new Map<string, { nc: number; issuedAt: number }>();
  /** Nonces issued at or before this time may have been evicted from `counts`: they are stale. */
  private forgottenBefore = -1;

  constructor(options: DigestVerifierOptions) {
    this.realm = options.realm;
    this.nonceTtlMs = options.nonceTtlMs;
    this.secret =
      options.secret === undefined
        ? randomBytes(32)
        : typeof options.secret === 'string'
          ? Buffer.from(options.secret, 'utf8')
          : options.secret;
    this.algorithms = options.algorithms ?? DIGEST_ALGORITHMS;
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTrackedNonces ?? 10_000;
  }

  /**
   * A fresh nonce: issue time (base 36), a random salt, and their MAC. The salt keeps nonces issued in the same
   * millisecond apart, since each nonce has its own nonce-count sequence.
   */
  nonce(): string {
    const stamp = `${this.now().toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${stamp}.${this.mac(stamp)}`;
  }

  private mac(stamp: string): string {
    return createHmac('sha256', this.secret).update(`${stamp}:${this.realm}`).digest('base64url');
  }

  /** One header value per algorithm, all with the same fresh nonce. */
  challenges(stale = false): string[] {
    const nonce = this.nonce();
    const realm = quote(this.realm);
    return this.algorithms.map(
      (a) => `Digest realm=${realm}, qop="auth", algorithm=${a}, nonce="${nonce}"${stale ? ', stale=true' : ''}`,
    );
  }

  /** Issue time of a nonce we made, or null when forged or malformed. */
  private nonceIssuedAt(nonce: string): number | null {
    const dot = nonce.lastIndexOf('.');
    const first = nonce.indexOf('.');
    if (first <= 0 || dot === first) return null;
    const stamp = nonce.slice(0, dot);
    const given = Buffer.from(nonce.slice(dot + 1), 'utf8');
    const expected = Buffer.from(this.mac(stamp), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const at = parseInt(nonce.slice(0, first), 36);
    return Number.isFinite(at) ? at : null;
  }

  /**
   * `requestUri`, when given, must equal the credentials' uri (RFC 7616 §3.4.6: credentials computed for another
   * resource are refused). SIP callers whose Request-URI may be rewritten in transit can leave it out.
   */
  verify(
    authorization: string,
    method: string,
    lookupPassword: (username: string) => string | undefined,
    requestUri?: string,
  ): DigestVerifyResult {
    const parsed = parseAuthorization(authorization);
    if (parsed === null) return fail('malformed credentials');
    if (parsed.scheme.toLowerCase() !== 'digest') return fail('not Digest credentials');
    const p = parsed.params;
    const { username, nonce, uri, response } = p;
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return fail('missing username, nonce, uri or response');
    }
    if (p.realm !== this.realm) return fail('wrong realm');
    if (requestUri !== undefined && uri !== requestUri) return fail('uri does not match the request');
    const algorithm = toAlgorithm(p.algorithm);
    if (algorithm === null || !this.algorithms.includes(algorithm)) return fail('unsupported algorithm');
    let qop: 'auth' | undefined;
    if (p.qop !== undefined) {
      if (p.qop.toLowerCase() !== 'auth') return fail('unsupported qop');
      if (p.nc === undefined || !HEX8.test(p.nc) || p.cnonce === undefined) return fail('qop without nc/cnonce');
      qop = 'auth';
    }
    const password = lookupPassword(username);
    if (password === undefined) return fail('unknown user');
    const expected = computeDigestResponse({
      algorithm,
      username,
      realm: this.realm,
      password,
      method,
      uri,
      nonce,
      ...(qop === undefined ? {} : { qop, nc: p.nc, cnonce: p.cnonce }),
    });
    const given = Buffer.from(response.toLowerCase(), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected, 'utf8'))) {
      return fail('wrong response');
    }
    const tracked = this.counts.get(nonce);
    const issuedAt = tracked?.issuedAt ?? this.nonceIssuedAt(nonce);
    if (issuedAt === null) return fail('nonce not issued here');
    const now = this.now();
    if (now - issuedAt > this.nonceTtlMs || issuedAt > now + 1000) return { ok: false, stale: true, reason: 'nonce expired' };
    if (qop === undefined) return { ok: true, username };
    const nc = parseInt(p.nc as string, 16);
    if (tracked === undefined) {
      if (issuedAt <= this.forgottenBefore) return { ok: false, stale: true, reason: 'nonce no longer tracked' };
      this.track(nonce, nc, issuedAt);
    } else {
      if (nc <= tracked.nc) return fail('nonce count replayed');
      tracked.nc = nc;
    }
    return { ok: true, username };
  }

  private track(nonce: string, nc: number, issuedAt: number): void {
    if (this.counts.size >= this.maxTracked) {
      const oldest = this.counts.entries().next();
      if (!oldest.done) {
        this.counts.delete(oldest.value[0]);
        // Every evicted nonce was issued at or before forgottenBefore, so none of them comes back with a reset count.
        this.forgottenBefore = Math.max(this.forgottenBefore, oldest.value[1].issuedAt);
      }
    }
    this.counts.set(nonce, { nc, issuedAt });
  }
}

function fail(reason: string): DigestVerifyResult {
  return { ok: false, stale: false, reason };
}
