/**
 * Server side of SIP Digest for a UAS (RFC 3261 §22.3, §8.2.6): checks the Authorization of a request with the
 * shared DigestVerifier and, when it is missing, wrong or stale, answers 401 with fresh challenges.
 */
import type { DigestVerifier } from '../auth/digest.ts';
import { createResponse, newTag, type SipRequest } from '../message/index.ts';
import type { ServerTransaction } from '../transaction/server-transaction.ts';

export type RequireAuthResult =
  | { readonly ok: true; readonly username: string }
  /** A 401 was sent; `reason` says why (for logs and failure counting). */
  | { readonly ok: false; readonly reason: string };

/**
 * True (with the authenticated user name) when one Authorization value verifies; otherwise the request has been
 * answered 401 with `stale=true` when only the nonce had expired (§22.4 / RFC 7616 §3.3: retry without asking
 * the user).
 */
export function requireAuth(
  verifier: DigestVerifier,
  req: SipRequest,
  tx: ServerTransaction,
  lookupPassword: (username: string) => string | undefined,
): RequireAuthResult {
  const values = req.getAll('authorization');
  let stale = false;
  let reason = 'no credentials';
  for (const value of values) {
    const result = verifier.verify(value, req.method, lookupPassword);
    if (result.ok) return { ok: true, username: result.username };
    stale ||= result.stale;
    reason = result.reason;
  }
  const challenges = verifier.challenges(stale);
  tx.respond(
    createResponse(req, 401, undefined, {
      toTag: newTag(),
      headers: challenges.map((c) => ['WWW-Authenticate', c] as const),
    }),
  );
  return { ok: false, reason };
}
