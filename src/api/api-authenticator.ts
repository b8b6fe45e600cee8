/**
 * Who is calling the API: HTTP Digest (RFC 7616, SHA-256 and MD5, qop=auth) or Basic, as the admin user or an
 * extension user (its extension number and API password). Failures never reach a method; repeated failures from
 * one address are slowed down, then locked out.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Credentials } from '../config/credentials.ts';
import { DIAL_AS_TYPES, type Account, type ApiConfig } from '../config/schema.ts';
import type { Directory } from '../directory/directory.ts';
import { DigestVerifier, parseAuthorization } from '../sip/auth/digest.ts';
import { LoginThrottle } from './login-throttle.ts';
import type { Principal } from './methods/api-method.ts';

export type AuthOutcome =
  | { readonly ok: true; readonly principal: Principal }
  /** 401: send these WWW-Authenticate values; hold the answer back delayMs (a throttled failure). */
  | { readonly ok: false; readonly status: 401; readonly challenges: readonly string[]; readonly delayMs: number }
  /** 429: locked out; newlyLocked on the failure that caused it (log once, not per refused request). */
  | { readonly ok: false; readonly status: 429; readonly retryAfterSeconds: number; readonly newlyLocked: boolean };

export interface ApiAuthenticatorOptions {
  readonly auth: ApiConfig['auth'];
  readonly credentials: Credentials;
  /** The directory in force (reloads replace it). */
  readonly directory: { current(): Directory };
  /** Nonce key shared by every process serving this API (kept in the store). */
  readonly nonceSecret: string;
  readonly now?: () => number;
}

/** The Basic credentials a connection last got accepted with, and the password they matched. */
interface AcceptedBasic {
  readonly authorization: string;
  readonly username: string;
  readonly password: string;
}

/** Equal strings, in time that depends on their length only (the cached value is a secret of its connection). */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export class ApiAuthenticator {
  readonly #verifier: DigestVerifier;
  readonly #throttle: LoginThrottle;
  readonly #credentials: Credentials;
  readonly #directory: { current(): Directory };
  readonly #basicChallenge: string;
  readonly #lookup = (username: string): string | undefined => this.#password(username);
  /**
   * Clients repeat the same Basic header on every request of a keep-alive connection: it is decoded and compared
   * once per connection. A repeat is accepted only while the user's password is still the one it matched.
   */
  readonly #acceptedBasic = new WeakMap<object, AcceptedBasic>();

  constructor(o: ApiAuthenticatorOptions) {
    const now = o.now ?? Date.now;
    this.#verifier = new DigestVerifier({
      realm: o.auth.realm,
      nonceTtlMs: o.auth.nonce_ttl_seconds * 1000,
      secret: o.nonceSecret,
      // MD5 first: Switchvox itself offers only MD5, and clients such as Python's urllib read only the first
      // challenge and give up on SHA-256. Clients that know SHA-256 still find it offered.
      algorithms: ['MD5', 'SHA-256'],
      now,
    });
    this.#throttle = new LoginThrottle({
      maxFailures: o.auth.max_failures,
      windowMs: o.auth.window_seconds * 1000,
      lockoutMs: o.auth.lockout_seconds * 1000,
      now,
    });
    this.#credentials = o.credentials;
    this.#directory = o.directory;
    this.#basicChallenge = `Basic realm="${o.auth.realm.replace(/[\\"]/g, '\\$&')}", charset="UTF-8"`;
  }

  #userAccount(username: string): Account | undefined {
    const a = this.#directory.current().byExtension(username);
    return a !== undefined && DIAL_AS_TYPES.includes(a.type) ? a : undefined;
  }

  #password(username: string): string | undefined {
    if (username === this.#credentials.adminUsername) return this.#credentials.adminPassword();
    const a = this.#userAccount(username);
    return a === undefined ? undefined : this.#credentials.apiPassword(a.account_id);
  }

  #principal(username: string): Principal {
    if (username === this.#credentials.adminUsername) return { kind: 'admin', username };
    return { kind: 'user', account: this.#userAccount(username) as Account };
  }

  challenges(stale = false): string[] {
    return [...this.#verifier.challenges(stale), this.#basicChallenge];
  }

  /**
   * `url`: the request-target as received, which Digest credentials must name. `connection`: what identifies the
   * client's connection (its socket), for Basic credentials sent again on it.
   */
  authenticate(authorization: string | undefined, httpMethod: string, url: string, clientAddress: string, connection?: object): AuthOutcome {
    const address = throttleKey(clientAddress);
    const locked = this.#throttle.lockedFor(address);
    if (locked > 0) return { ok: false, status: 429, retryAfterSeconds: Math.ceil(locked / 1000), newlyLocked: false };
    if (authorization === undefined || authorization === '') {
      return { ok: false, status: 401, challenges: this.challenges(), delayMs: 0 };
    }
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    if (scheme === 'digest') {
      const r = this.#verifier.verify(authorization, httpMethod, this.#lookup, url);
      if (r.ok) return { ok: true, principal: this.#principal(r.username) };
      if (r.stale) return { ok: false, status: 401, challenges: this.challenges(true), delayMs: 0 };
    } else if (scheme === 'basic') {
      const username = this.#basic(authorization, connection);
      if (username !== null) return { ok: true, principal: this.#principal(username) };
    }
    const delayMs = this.#throttle.fail(address);
    const after = this.#throttle.lockedFor(address);
    if (after > 0) return { ok: false, status: 429, retryAfterSeconds: Math.ceil(after / 1000), newlyLocked: true };
    return { ok: false, status: 401, challenges: this.challenges(), delayMs };
  }

  /**
   * The principal of Basic credentials sent again on the connection that got them accepted, while the password
   * is unchanged and the address is not locked out: what authenticate() would answer, without its side effects.
   * Null for anything else, which is authenticate()'s to decide (and count).
   */
  repeatedBasic(authorization: string | undefined, clientAddress: string, connection: object): Principal | null {
    if (authorization === undefined) return null;
    const username = this.#repeated(authorization, connection);
    if (username === null || this.#throttle.lockedFor(throttleKey(clientAddress)) > 0) return null;
    return this.#principal(username);
  }

  #repeated(authorization: string, connection: object | undefined): string | null {
    const accepted = connection === undefined ? undefined : this.#acceptedBasic.get(connection);
    if (accepted === undefined || !sameString(accepted.authorization, authorization)) return null;
    return this.#password(accepted.username) === accepted.password ? accepted.username : null;
  }

  /** The user name when the Basic credentials are right. */
  #basic(authorization: string, connection: object | undefined): string | null {
    const repeated = this.#repeated(authorization, connection);
    if (repeated !== null) return repeated;
    const token = parseAuthorization(authorization)?.token68;
    if (token === undefined) return null;
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    const username = decoded.slice(0, colon);
    const expected = this.#password(username);
    if (expected === undefined) return null;
    const given = Buffer.from(decoded.slice(colon + 1), 'utf8');
    const want = Buffer.from(expected, 'utf8');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
    if (connection !== undefined) this.#acceptedBasic.set(connection, { authorization, username, password: expected });
    return username;
  }
}

/**
 * The unit failures are counted by: the IPv4 address (also when IPv4-mapped), or the IPv6 /64, since one IPv6
 * host commonly owns a whole /64 and could otherwise change address on every attempt.
 */
export function throttleKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, ''))).join(':')}::/64`;
}
