/**
 * The stateless UAS checks of RFC 3261 §8.2 that come after parsing, in the RFC's order: header inspection
 * (§8.2.2: malformed headers 400, Request-URI scheme 416, Require 420), content processing (§8.2.3: 415) and,
 * for requests answered with a body, Accept (§8.2.2 / RFC 4475 sdp01: 406).
 *
 * Not here, because they need state or a policy: method support (405/501, the UA knows its methods), merged
 * requests (482, the transaction layer), Max-Forwards 0 (483 is a proxy's answer; an endpoint processes it),
 * To/From URI schemes (the registrar rejects a non-SIP address of record).
 */
import type { SipRequest } from './message.ts';
import { SipHeaderError } from './errors.ts';
import { isFormattedNameAddr, isFormattedUri } from './name-addr.ts';

export interface CheckRequestOptions {
  /** Option tags this UA supports (for Require). Default: none. */
  supported?: readonly string[];
  /** Body types this UA understands. Default: application/sdp, multipart/mixed. */
  acceptTypes?: readonly string[];
  /** Type of the body this UA answers INVITE and OPTIONS with, checked against Accept. Default application/sdp. */
  answerType?: string;
}

export interface RequestRejection {
  status: number;
  reason: string;
  /** Headers the response must carry (Unsupported for 420, Accept / Accept-Encoding for 415). */
  headers?: Array<[string, string]>;
}

const DEFAULT_ACCEPT = ['application/sdp', 'multipart/mixed'];
const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'] as const;

export function checkRequest(req: SipRequest, opts: CheckRequestOptions = {}): RequestRejection | null {
  // A Request-URI written as formatUri writes it is a well-formed sip or sips URI (the usual case), known without
  // parsing it.
  if (!isFormattedUri(req.uri)) {
    const uri = req.requestUriOrNull;
    if (uri === null) return { status: 400, reason: 'Bad Request-URI' };
    if (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel') {
      return { status: 416, reason: 'Unsupported URI Scheme' };
    }
  }
  for (const h of MANDATORY) {
    if (!req.has(h)) return { status: 400, reason: `Missing ${h} header` };
  }
  try {
    void req.vias;
    // A From or To written as formatNameAddr writes it is well-formed, known by a scan without parsing it (an
    // in-dialog request's tags are read by the parser already; nothing else of them may be needed).
    if (!isFormattedNameAddr(req.get('from') ?? '')) void req.from;
    if (!isFormattedNameAddr(req.get('to') ?? '')) void req.to;
    void req.cseq;
    void req.maxForwards;
    void req.contacts;
    void req.expires;
    void req.routes;
    void req.recordRoutes;
  } catch (err) {
    if (err instanceof SipHeaderError) return { status: 400, reason: `Malformed ${err.header} header` };
    throw err;
  }
  if (req.cseq.method !== req.method) return { status: 400, reason: 'CSeq method does not match' };

  // Most requests require nothing: the supported set is made only for one that does.
  const required = req.getAll('require');
  if (required.length > 0) {
    const supported = new Set((opts.supported ?? []).map((t) => t.toLowerCase()));
    const unsupported = required.filter((t) => t !== '' && !supported.has(t.toLowerCase()));
    if (unsupported.length > 0 && req.method !== 'CANCEL' && req.method !== 'ACK') {
      return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unsupported.join(', ')]] };
    }
  }

  const accept = opts.acceptTypes ?? DEFAULT_ACCEPT;
  if (req.body.length > 0) {
    const type = req.contentType;
    if (type === undefined || !accept.includes(type)) {
      return { status: 415, reason: 'Unsupported Media Type', headers: [['Accept', accept.join(', ')]] };
    }
    const encodings = req.getAll('content-encoding').filter((e) => e.toLowerCase() !== 'identity');
    if (encodings.length > 0) {
      return { status: 415, reason: 'Unsupported Media Type', headers: [['Accept-Encoding', 'identity']] };
    }
  }

  if ((req.method === 'INVITE' || req.method === 'OPTIONS') && req.has('accept')) {
    const answerType = (opts.answerType ?? 'application/sdp').toLowerCase();
    const slash = answerType.indexOf('/');
    const wildcards = ['*/*', `${answerType.slice(0, slash)}/*`, answerType];
    const accepted = req.getAll('accept').map((a) => (a.split(';')[0] ?? '').trim().toLowerCase());
    // An empty Accept means "no body wanted", which an answer without SDP satisfies only for OPTIONS.
    const ok = accepted.some((a) => wildcards.includes(a)) || (req.method === 'OPTIONS' && accepted.every((a) => a === ''));
    if (!ok) return { status: 406, reason: 'Not Acceptable', headers: [['Accept', answerType]] };
  }
  return null;
}
