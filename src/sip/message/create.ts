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

/** The header table of a message we create, line by line: every line edited (no span), nothing received. */
class CreatedTable {
  readonly names: string[] = [];
  readonly keys: string[] = [];
  readonly values: string[] = [];
  readonly spans: number[] = [];

  /** A line whose folded name (`headerKey`) is known already. */
  add(name: string, key: string, value: string): void {
    this.names.push(name);
    this.keys.push(key);
    this.values.push(value.trim());
    this.spans.push(-1, -1);
  }

  /** Lines as given: indexed reads rather than a destructuring for-of, this runs for every message we send. */
  addAll(headers: ReadonlyArray<readonly [string, string]>): void {
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i] as readonly [string, string];
      this.add(header[0], headerKey(header[0]), header[1]);
    }
  }

  table(): HeaderTable {
    const { names, keys, values, spans } = this;
    return { names, keys, values, spans, lineStarts: undefined, text: undefined, source: undefined, startLineStart: -1, startLineEnd: -1 };
  }
}

function table(headers: ReadonlyArray<readonly [string, string]>): HeaderTable {
  const t = new CreatedTable();
  t.addAll(headers);
  return t.table();
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

/** The single-value headers of COPIED, one bit each: which of them a response has copied already. */
const SINGLE_VALUE_BITS: Readonly<Record<string, number>> = { from: 1, to: 2, 'call-id': 4, cseq: 8 };

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
  const t = new CreatedTable();
  const copyRecordRoute = status < 300 && status > 100 && DIALOG_CREATING.has(req.method);
  // Copied under their long names: compact forms are legal but some peers' parsers (and sipp's header
  // matching) only know the long ones. Read by folded name, as parsed: the names as written are not needed.
  let seen = 0;
  for (let i = 0; i < req.lineCount; i++) {
    const key = req.lineKey(i);
    const long = COPIED[key];
    if (long === undefined || (key === 'record-route' && !copyRecordRoute)) continue;
    if (key !== 'via' && key !== 'record-route') {
      // A 400 to a request with repeated single-value headers (RFC 4475 multi01) carries the first of each.
      const bit = SINGLE_VALUE_BITS[key] as number;
      if ((seen & bit) !== 0) continue;
      seen |= bit;
    }
    t.add(long, key, req.lineValue(i));
  }
  if (opts.headers !== undefined) t.addAll(opts.headers);
  if (opts.contentType !== undefined) t.add('Content-Type', 'content-type', opts.contentType);
  const res = new SipResponse(status, reason ?? reasonPhrase(status), t.table(), toBuffer(opts.body));
  const to = res.get('to');
  let toCopied = true;
  if (opts.toTag !== undefined && to !== undefined) {
    const na = parseNameAddr(to);
    const hasTag = na === null ? /;\s*tag\s*=/i.test(to) : na.params['tag'] !== undefined;
    if (!hasTag) {
      res.setToTag(opts.toTag);
      toCopied = false;
    }
  }
  res.primeCopiedReadings(req, toCopied);
  return res;
}
