/**
 * Client side of SIP Digest (RFC 3261 §22.2, §22.3): the request that answers a 401/407. It is the same request
 * with the next CSeq, a new branch, the same Call-ID and From tag (§22.2: "a new request with the same Call-ID,
 * From and To ... but with a CSeq value one greater"), and the credentials from the shared digest code.
 */
import { answerChallenge } from '../auth/digest.ts';
import { createRequest, headerKey, newBranch, type SipRequest, type SipResponse } from '../message/index.ts';
import { formatVia } from '../message/via.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The challenge was not one we can answer (no Digest with MD5/SHA-256 and qop=auth or none). */
export class AuthChallengeError extends Error {
  override readonly name = 'AuthChallengeError';
}

/** Authorization headers of a request, to copy onto the ACK for a 2xx (§22.1). */
export function credentialHeaders(request: SipRequest): Array<[string, string]> {
  return request
    .headerLines()
    .filter(([name]) => {
      const key = headerKey(name);
      return key === 'authorization' || key === 'proxy-authorization';
    })
    .map(([name, value]) => [name, value]);
}

/**
 * The copy of `request` answering the 401 or 407 `challenge`, with CSeq number `seq` (the caller owns the CSeq
 * space: for an in-dialog request it is the dialog's next number). Credentials a previous attempt carried are
 * replaced.
 */
export function authorizeRequest(
  request: SipRequest,
  challenge: SipResponse,
  credentials: Credentials,
  seq: number,
): SipRequest {
  const proxy = challenge.status === 407;
  const challenges = challenge.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate');
  if (challenges.length === 0) throw new AuthChallengeError(`${challenge.status} without a challenge`);
  let answer: string;
  try {
    answer = answerChallenge({
      challenge: challenges,
      method: request.method,
      uri: request.uri,
      username: credentials.username,
      password: credentials.password,
    });
  } catch (err) {
    throw new AuthChallengeError(`cannot answer the challenge: ${(err as Error).message}`, { cause: err });
  }
  const credentialKey = proxy ? 'proxy-authorization' : 'authorization';
  const headers: Array<[string, string]> = [];
  let viaDone = false;
  for (const [name, value] of request.headerLines()) {
    const key = headerKey(name);
    if (key === credentialKey) continue;
    if (key === 'via' && !viaDone) {
      viaDone = true;
      headers.push([name, formatVia({ ...request.topVia, branch: newBranch() })]);
    } else if (key === 'cseq') {
      headers.push([name, `${seq} ${request.method}`]);
    } else {
      headers.push([name, value]);
    }
  }
  headers.push([proxy ? 'Proxy-Authorization' : 'Authorization', answer]);
  return createRequest({ method: request.method, uri: request.uri, headers, body: request.body });
}
