/** Building requests and responses to send (RFC 3261 §8.1.1, §8.2.6). */
import { headerKey } from './header-names.ts';
import { SipRequest, SipResponse, type HeaderTable } from './message.ts';
import { parseNameAddr } from './name-addr.ts';

/** Default reason phrases (RFC 3261 §21 and the extensions we meet). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  417: 'Unknown Resource-Priority',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  428: 'Use Identity Header',
  429: 'Provide Referrer Identity',
  433: 'Anonymity Disallowed',
  436: 'Bad Identity-Info',
  437: 'Unsupported Certificate',
  438: 'Invalid Identity Header',
  439: 'First Hop Lacks Outbound Support',
  440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package',
  470: 'Consent Needed',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  555: 'Push Notification Service Not Supported',
  580: 'Precondition Failure',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  608: 'Rejected',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? REASON_PHRASES[Math.floor(status / 100) * 100] ?? 'Unknown';
}

function toBuffer(body: Buffer | string | undefined): Buffer | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** The header table of a message we create: every line edited (no span), nothing received. */
function table(headers: ReadonlyArray<readonly [string, string]>): HeaderTable {
  // Indexed reads rather than destructuring for-of, and the table's own arrays rather than emptyHeaderTable's
  // replaced: this runs for every message we send.
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  const spans: number[] = [];
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i] as readonly [string, string];
    const name = header[0];
    names.push(name);
    keys.push(headerKey(name));
    values.push(header[1].trim());
    spans.push(-1, -1);
  }
  return {
    names,
    keys,
    values,
    spans,
    lineStarts: undefined,
    text: undefined,
    source: undefined,
    startLineStart: -1,
    startLineEnd: -1,
  };
}

export interface CreateRequestOptions {
  method: string;
  /** Request-URI as it is to be written. */
  uri: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
}

/** Content-Length is written by `serialize()` from the body; one given in `headers` is corrected. */
export function createRequest(opts: CreateRequestOptions): SipRequest {
  return new SipRequest(opts.method, opts.uri, table(opts.headers), toBuffer(opts.body));
}

export interface CreateResponseOptions {
  /** Added to To when it has no tag yet (§8.2.6.2: every response but 100 to a request without To tag). */
  toTag?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
}

const COPIED: Readonly<Record<string, string>> = {
  via: 'Via',
  from: 'From',
  to: 'To',
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'record-route': 'Record-Route',
};

/** Methods whose 1xx/2xx responses establish a dialog, and so carry Record-Route back (§12.1.1). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

/**
 * A response to `req` per §8.2.6.2: Via (every value, in order), From, To, Call-ID and CSeq copied, the To tag
 * added; Record-Route copied for 1xx/2xx to dialog-creating requests (§12.1.1). Works on the `partial` request
 * of a SipParseError: headers it lacks are simply not copied.
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts: CreateResponseOptions = {},
): SipResponse {
  const copied: Array<[string, string]> = [];
  const copyRecordRoute = status < 300 && status > 100 && DIALOG_CREATING.has(req.method);
  // Copied under their long names: compact forms are legal but some peers' parsers (and sipp's header
  // matching) only know the long ones.
  const seen = new Set<string>();
  for (const [name, value] of req.headerLines()) {
    const key = headerKey(name);
    const long = COPIED[key];
    if (long === undefined || (key === 'record-route' && !copyRecordRoute)) continue;
    if (key !== 'via' && key !== 'record-route') {
      // A 400 to a request with repeated single-value headers (RFC 4475 multi01) carries the first of each.
      if (seen.has(key)) continue;
      seen.add(key);
    }
    copied.push([long, value]);
  }
  if (opts.headers !== undefined) for (const [n, v] of opts.headers) copied.push([n, v]);
  if (opts.contentType !== undefined) copied.push(['Content-Type', opts.contentType]);
  const res = new SipResponse(status, reason ?? reasonPhrase(status), table(copied), toBuffer(opts.body));
  const to = res.get('to');
  if (opts.toTag !== undefined && to !== undefined) {
    const na = parseNameAddr(to);
    const hasTag = na === null ? /;\s*tag\s*=/i.test(to) : na.params['tag'] !== undefined;
    if (!hasTag) res.setToTag(opts.toTag);
  }
  return res;
}
