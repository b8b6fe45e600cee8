/**
 * The registrar (RFC 3261 §10.3) as a function of one parsed REGISTER: it authenticates the phone with Digest
 * against its extension's SIP password, applies the Contact changes to the location store and says what to
 * answer. It knows nothing of sockets or message syntax: `register-handler.ts` turns a SIP request into a
 * `RegisterRequest` and the `RegisterAnswer` into a response.
 *
 * Decisions where the RFC leaves a choice:
 * - Digest user name = the extension, and it must be the To user: a phone registers only itself (403 otherwise).
 * - Extension types other than sip and analog have no devices: 403 before any challenge.
 * - Wrong credentials are challenged again (401), so a phone with a mistyped password stops by its own retry rule;
 *   the failure counts toward the source's lockout, during which every REGISTER from it gets 403.
 * - A request out of order for an existing binding (same Call-ID, CSeq not higher: step 7) fails with 500 and
 *   changes nothing, also for the bindings it does not touch.
 * - Expires above max_expires is shortened (step 7 allows it); below min_expires, 423 with Min-Expires (step 7).
 */
import type { Logger } from 'pino';
import type { Account } from '../../config/schema.ts';
import { DEVICE_TYPES } from '../../config/schema.ts';
import type { DigestAlgorithm, DigestVerifier } from '../../sip/auth/digest.ts';
import type { Endpoint } from '../../sip/transport/endpoint.ts';
import type { RegistrationStore, StoredBinding } from '../../store/registration-store.ts';
import type { Directory } from '../directory.ts';
import { contactKey } from './binding.ts';
import { FailureThrottle } from './failure-throttle.ts';
import { RealmVerifier } from './realm-verifier.ts';

export interface RegisterContact {
  /** The URI inside the Contact, as written. */
  readonly uri: string;
  /** The Contact's expires parameter, when it has a valid one. */
  readonly expires?: number;
  readonly q?: number;
}

export interface RegisterRequest {
  /** User part of the To URI: the extension being registered. */
  readonly toUser: string;
  readonly callId: string;
  readonly cseq: number;
  /** `'*'` for `Contact: *`; an empty list asks for the current bindings. */
  readonly contacts: readonly RegisterContact[] | '*';
  /** The Expires header, when present. */
  readonly expires?: number;
  /** Every Authorization header value. */
  readonly authorizations: readonly string[];
  readonly source: Endpoint;
  readonly userAgent?: string;
}

export interface RegisterAnswer {
  readonly status: number;
  readonly reason: string;
  /** Header name and value, in order; a name may repeat (Contact, WWW-Authenticate). */
  readonly headers: readonly (readonly [string, string])[];
}

export interface RegistrarOptions {
  readonly directory: { current(): Directory };
  readonly store: RegistrationStore;
  readonly logger: Logger;
  /** Shared with other processes that must accept our nonces; random when absent. */
  readonly nonceSecret?: Buffer | string;
  readonly nonceTtlMs?: number;
  readonly now?: () => number;
  /** Bindings one extension may hold; more are refused with 403 so one phone cannot fill the store. */
  readonly maxContactsPerExtension?: number;
  /**
   * Challenges offered, in this order. MD5 only by default: deployed phones often fail the whole REGISTER when one
   * of several challenges has an algorithm they lack (baresip 1.0 / libre answers ENOSYS to a SHA-256 one next to
   * MD5; sipp answers the first challenge whatever it is). Offer SHA-256 where every phone is known to speak it.
   */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** Told after a REGISTER changed an account's bindings (added, refreshed or removed). */
  readonly onChange?: (accountId: string) => void;
}

const DEFAULT_MAX_CONTACTS = 16;

export class Registrar {
  readonly #options: RegistrarOptions;
  readonly #now: () => number;
  readonly #throttle: FailureThrottle;
  readonly #verifiers: RealmVerifier;

  constructor(options: RegistrarOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#verifiers = new RealmVerifier({
      now: this.#now,
      ...(options.nonceSecret === undefined ? {} : { nonceSecret: options.nonceSecret }),
      ...(options.nonceTtlMs === undefined ? {} : { nonceTtlMs: options.nonceTtlMs }),
      ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
    });
    this.#throttle = new FailureThrottle(() => options.directory.current().registrar, this.#now);
  }

  handle(request: RegisterRequest): RegisterAnswer {
    const directory = this.#options.directory.current();
    const log = this.#options.logger.child({ callId: request.callId, extension: request.toUser });
    const sourceKey = request.source.host;
    if (this.#throttle.isLocked(sourceKey)) {
      log.debug({ source: request.source }, 'REGISTER from a locked-out source');
      return answer(403, 'Forbidden (too many failed attempts)');
    }
    const target = directory.byExtension(request.toUser);
    if (target !== undefined && !DEVICE_TYPES.includes(target.type)) {
      return answer(403, `Forbidden (${target.type} extensions have no devices)`);
    }
    const verifier = this.#verifiers.for(directory.realm);
    const authorization = request.authorizations.find((a) => /realm\s*=\s*"?([^",]*)/i.exec(a)?.[1] === directory.realm);
    if (authorization === undefined) return challenge(verifier, false);
    const result = verifier.verify(authorization, 'REGISTER', (username) => this.#passwordOf(directory, username));
    if (!result.ok) {
      if (result.stale) return challenge(verifier, true);
      const locked = this.#throttle.recordFailure(sourceKey);
      log.warn({ source: request.source, reason: result.reason, lockedOut: locked }, 'REGISTER authentication failed');
      return locked ? answer(403, 'Forbidden (too many failed attempts)') : challenge(verifier, false);
    }
    if (target === undefined || result.username !== target.extension) {
      log.warn({ source: request.source, username: result.username }, 'REGISTER for another extension refused');
      return answer(403, 'Forbidden (a phone may only register its own extension)');
    }
    return this.#applyContacts(target, directory.registrar, request, log);
  }

  #passwordOf(directory: Directory, username: string): string | undefined {
    const account = directory.byExtension(username);
    return account === undefined ? undefined : directory.sipPassword(account.account_id);
  }

  /** RFC 3261 §10.3 steps 6-8. */
  #applyContacts(account: Account, limits: Directory['registrar'], request: RegisterRequest, log: Logger): RegisterAnswer {
    const { store } = this.#options;
    const now = this.#now();
    const existing = new Map(store.list(account.account_id, now).map((b) => [b.contactKey, b]));
    const outOfOrder = (b: StoredBinding | undefined) => b !== undefined && b.callId === request.callId && request.cseq <= b.cseq;

    if (request.contacts === '*') {
      // Step 6: `*` only with Expires: 0.
      if (request.expires !== 0) return answer(400, 'Bad Request (Contact: * needs Expires: 0)');
      if ([...existing.values()].some(outOfOrder)) return answer(500, 'Server Internal Error (out of order CSeq)');
      store.removeAccount(account.account_id);
      log.info({ removed: existing.size }, 'all bindings removed');
      this.#options.onChange?.(account.account_id);
      return this.#bindingsAnswer(account.account_id);
    }

    type Change = { readonly key: string; readonly contact: RegisterContact; readonly expires: number };
    const changes: Change[] = [];
    for (const contact of request.contacts) {
      const expires = contact.expires ?? request.expires ?? limits.default_expires;
      if (expires > 0 && expires < limits.min_expires) {
        return { status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(limits.min_expires)]] };
      }
      const key = contactKey(contact.uri);
      if (outOfOrder(existing.get(key))) return answer(500, 'Server Internal Error (out of order CSeq)');
      changes.push({ key, contact, expires: Math.min(expires, limits.max_expires) });
    }
    const after = new Set(existing.keys());
    for (const c of changes) {
      if (c.expires === 0) after.delete(c.key);
      else after.add(c.key);
    }
    const max = this.#options.maxContactsPerExtension ?? DEFAULT_MAX_CONTACTS;
    if (after.size > max) return answer(403, `Forbidden (at most ${max} contacts per extension)`);

    for (const c of changes) {
      if (c.expires === 0) {
        if (existing.has(c.key)) log.info({ contact: c.contact.uri }, 'binding removed');
        store.remove(account.account_id, c.key);
        continue;
      }
      store.put({
        accountId: account.account_id,
        contactKey: c.key,
        contact: c.contact.uri,
        callId: request.callId,
        cseq: request.cseq,
        expiresAt: now + c.expires * 1000,
        registeredAt: existing.get(c.key)?.registeredAt ?? now,
        source: request.source,
        q: c.contact.q ?? null,
        userAgent: request.userAgent ?? null,
      });
      if (!existing.has(c.key)) log.info({ contact: c.contact.uri, source: request.source, expires: c.expires }, 'binding added');
    }
    if (changes.length > 0) this.#options.onChange?.(account.account_id);
    return this.#bindingsAnswer(account.account_id);
  }

  /** Step 8: 200 listing every current binding with the seconds it has left. */
  #bindingsAnswer(accountId: string): RegisterAnswer {
    const now = this.#now();
    const headers: [string, string][] = this.#options.store
      .list(accountId, now)
      .map((b) => ['Contact', `<${b.contact}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`]);
    headers.push(['Date', new Date(now).toUTCString()]);
    return { status: 200, reason: 'OK', headers };
  }
}

function answer(status: number, reason: string): RegisterAnswer {
  return { status, reason, headers: [] };
}

function challenge(verifier: DigestVerifier, stale: boolean): RegisterAnswer {
  return { status: 401, reason: 'Unauthorized', headers: verifier.challenges(stale).map((c) => ['WWW-Authenticate', c] as const) };
}
