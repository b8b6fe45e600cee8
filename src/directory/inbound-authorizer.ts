/**
 * Who sent an out-of-dialog INVITE, decided before any routing (RFC 3261 §22.3 proxy-style challenge):
 * - a trunk, recognised by its source address (the trunk's `host` as an IP address): an inbound call, which may
 *   only be routed with `planInbound` (extensions and IVRs, never the outgoing call rules);
 * - else an extension's phone, which must answer a 407 challenge with its extension's SIP credentials; then it
 *   may dial out through its account's outgoing call rules (`planLeg`).
 * Anything else is challenged or refused; failures count toward the same per-source lockout as REGISTER.
 *
 * Trunks whose `host` is a name are not recognised by address (no DNS here): their INVITEs are challenged like
 * anyone's, so they fail closed.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Account, Trunk } from '../config/schema.ts';
import { DEVICE_TYPES } from '../config/schema.ts';
import type { DigestAlgorithm, DigestVerifier } from '../sip/auth/digest.ts';
import type { Endpoint } from '../sip/transport/endpoint.ts';
import type { Directory } from './directory.ts';
import { FailureThrottle } from './registrar/failure-throttle.ts';
import { RealmVerifier } from './registrar/realm-verifier.ts';

export type InboundCaller =
  /** Authenticated: may use its account's outgoing call rules. */
  | { readonly kind: 'extension'; readonly account: Account }
  /** From a trunk's address: may reach extensions and IVRs only (planInbound). */
  | { readonly kind: 'trunk'; readonly trunk: Trunk };

export type InboundDecision =
  | { readonly ok: true; readonly caller: InboundCaller }
  | { readonly ok: false; readonly status: 403 | 407; readonly reason: string; readonly headers: readonly (readonly [string, string])[] };

export interface InboundRequest {
  readonly method: string;
  /** Every Proxy-Authorization value. */
  readonly proxyAuthorizations: readonly string[];
  readonly source: Endpoint;
}

export interface InboundAuthorizerOptions {
  readonly directory: { current(): Directory };
  readonly logger: Logger;
  readonly nonceSecret?: Buffer | string;
  readonly nonceTtlMs?: number;
  /** As the registrar's: MD5 only by default for the phones that fail on other algorithms. */
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly now?: () => number;
}

export class InboundAuthorizer {
  readonly #options: InboundAuthorizerOptions;
  readonly #now: () => number;
  readonly #throttle: FailureThrottle;
  readonly #verifiers: RealmVerifier;

  constructor(options: InboundAuthorizerOptions) {
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

  authorize(request: InboundRequest): InboundDecision {
    const directory = this.#options.directory.current();
    const trunk = trunkAt(directory, request.source);
    if (trunk !== undefined) return { ok: true, caller: { kind: 'trunk', trunk } };
    const sourceKey = request.source.host;
    if (this.#throttle.isLocked(sourceKey)) return refuse('Forbidden (too many failed attempts)');
    const verifier = this.#verifiers.for(directory.realm);
    const credentials = request.proxyAuthorizations.find((a) => /realm\s*=\s*"?([^",]*)/i.exec(a)?.[1] === directory.realm);
    if (credentials === undefined) return challenge(verifier, false);
    const result = verifier.verify(credentials, request.method, (username) => {
      const account = directory.byExtension(username);
      return account === undefined ? undefined : directory.sipPassword(account.account_id);
    });
    if (!result.ok) {
      if (result.stale) return challenge(verifier, true);
      const locked = this.#throttle.recordFailure(sourceKey);
      this.#options.logger.warn({ source: request.source, reason: result.reason, lockedOut: locked }, `${request.method} authentication failed`);
      return locked ? refuse('Forbidden (too many failed attempts)') : challenge(verifier, false);
    }
    const account = directory.byExtension(result.username);
    if (account === undefined || !DEVICE_TYPES.includes(account.type)) return refuse('Forbidden');
    return { ok: true, caller: { kind: 'extension', account } };
  }

}

function trunkAt(directory: Directory, source: Endpoint): Trunk | undefined {
  return directory.trunks.find((t) => isIP(t.host) !== 0 && t.host === source.host);
}

function refuse(reason: string): InboundDecision {
  return { ok: false, status: 403, reason, headers: [] };
}

function challenge(verifier: DigestVerifier, stale: boolean): InboundDecision {
  return {
    ok: false,
    status: 407,
    reason: 'Proxy Authentication Required',
    headers: verifier.challenges(stale).map((c) => ['Proxy-Authenticate', c] as const),
  };
}
