import { createRequest } from '../message/create.ts';
import type { SipRequest } from '../message/message.ts';

/**
 * A CANCEL for a pending request (RFC 3261 §9.1): "The Request-URI, Call-ID, To, the numeric part of CSeq, and
 * From header fields in the CANCEL request MUST be identical to those in the request being cancelled, including
 * tags. A CANCEL constructed by a client MUST have only a single Via header field value matching the top Via value
 * in the request being cancelled", and the same Route header field values.
 */
export function createCancel(req: SipRequest): SipRequest {
  const headers: Array<[string, string]> = [['Via', req.getAll('via')[0] as string]];
  for (const route of req.getAll('route')) headers.push(['Route', route]);
  headers.push(
    ['Max-Forwards', '70'],
    ['From', req.get('from') as string],
    ['To', req.get('to') as string],
    ['Call-ID', req.callId],
    ['CSeq', `${req.cseq.seq} CANCEL`],
  );
  return createRequest({ method: 'CANCEL', uri: req.uri, headers });
}
