import type { SipRequest, SipResponse } from '../message/message.ts';

/** RFC 3261 §8.1.1.7: branches that start with the magic cookie were built by an RFC 3261 element. */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * §17.1.3: a response matches the client transaction whose request had its top Via branch and CSeq method. The
 * branch of a request we send is unique to its transaction, but for the CANCEL that shares its INVITE's (§8.1.1.7,
 * §9.1): a client transaction is indexed by its branch alone, a CANCEL's with its method, and the layer compares
 * the method of what it finds. A branch alone needs no string built (and hashed) per response.
 */
export function clientKey(branch: string, method: string): string {
  return method === 'CANCEL' ? `${branch}\nCANCEL` : branch;
}

export function responseKey(res: SipResponse): string | undefined {
  const branch = res.topVia.branch;
  return branch === undefined ? undefined : clientKey(branch, res.cseq.method);
}

/**
 * §17.2.3: the server transaction of a request is found by the top Via branch (with the magic cookie), its
 * sent-by, and the method, where ACK belongs to the INVITE transaction. Without the cookie (RFC 2543 peers) the
 * fallback compares Request-URI, From tag, Call-ID, CSeq number and top Via; the To tag is left out so that the
 * ACK of a non-2xx response (which carries the tag the INVITE did not) still finds its INVITE.
 */
export function serverKey(req: SipRequest, method: string = req.method === 'ACK' ? 'INVITE' : req.method): string {
  const via = req.topVia;
  const branch = via.branch;
  const sentBy = via.port === undefined ? via.host : `${via.host}:${via.port}`;
  if (branch !== undefined && branch.startsWith(MAGIC_COOKIE)) return `${branch}\n${sentBy}\n${method}`;
  return `2543\n${req.uri}\n${req.fromTag ?? ''}\n${req.callId}\n${req.cseq.seq}\n${sentBy}\n${branch ?? ''}\n${method}`;
}
