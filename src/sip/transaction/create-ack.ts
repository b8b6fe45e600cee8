import { createRequest } from '../message/create.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';

/**
 * The ACK a client transaction sends for a non-2xx final response to its INVITE (RFC 3261 §17.1.1.3): same
 * Request-URI, Call-ID, From, CSeq number and top Via (so it matches the server transaction) as the INVITE; To
 * from the response (it carries the tag); the INVITE's Route headers.
 */
export function createAckForNon2xx(invite: SipRequest, res: SipResponse): SipRequest {
  const headers: Array<[string, string]> = [['Via', invite.getAll('via')[0] as string]];
  for (const route of invite.getAll('route')) headers.push(['Route', route]);
  headers.push(
    ['Max-Forwards', '70'],
    ['From', invite.get('from') as string],
    ['To', res.get('to') as string],
    ['Call-ID', invite.callId],
    ['CSeq', `${invite.cseq.seq} ACK`],
  );
  return createRequest({ method: 'ACK', uri: invite.uri, headers });
}
