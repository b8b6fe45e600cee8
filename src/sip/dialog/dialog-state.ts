/**
 * Dialog state (RFC 3261 §12) as plain immutable values built by pure functions from the request and response that
 * create or update a dialog, after SIP.js `core/dialogs/dialog.ts`. No I/O and no timers: the UA keeps one value per
 * dialog and replaces it with what these functions return.
 */
import type { SipRequest, SipResponse } from '../message/message.ts';
import { formatNameAddr, isFormattedNameAddr, isFormattedUri, parseNameAddr } from '../message/name-addr.ts';
import type { NameAddr, SipUri } from '../message/types.ts';
import { formatUri, parseUri } from '../message/uri.ts';

/** Call-ID, local tag and remote tag (§12): what an in-dialog message is matched by. */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

export interface DialogState {
  readonly id: DialogId;
  /** Created by a 1xx with a To tag and not yet confirmed by a 2xx (§12.1). */
  readonly early: boolean;
  /** We sent the request that created the dialog (the Call-ID is ours: §14.1 glare back-off depends on it). */
  readonly isUac: boolean;
  /** Last CSeq number we used; a new in-dialog request takes the next one. */
  readonly localSeq: number;
  /** Highest CSeq number received from the peer; null until the peer sends its first request (§12.1.1). */
  readonly remoteSeq: number | null;
  /**
   * From of our requests (local URI with local tag) and their To (remote URI with remote tag), as written in them.
   * Dialog values are kept as text and parsed when a request is built: a dialog lives as long as its call, and a
   * parsed URI costs several objects where its text costs one string.
   */
  readonly local: string;
  readonly remote: string;
  /** Contact URI of the peer: the Request-URI of our in-dialog requests. */
  readonly remoteTarget: string;
  /** Route set (name-addr values) in the order our requests carry it as Route headers. */
  readonly routeSet: readonly string[];
  /** §12.1.1: the dialog was created by a request with a sips Request-URI over TLS. */
  readonly secure: boolean;
}

/** Why a message cannot create or update a dialog; the UA answers 400 or drops it. */
export class DialogStateError extends Error {
  override readonly name = 'DialogStateError';
}

/** Map key of a dialog id. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

/** The dialog id an incoming request belongs to (our tag is in To, the peer's in From); null without a To tag. */
export function dialogIdOfRequest(request: SipRequest): DialogId | null {
  const localTag = request.toTag;
  const remoteTag = request.fromTag;
  if (localTag === undefined || remoteTag === undefined) return null;
  return { callId: request.callId, localTag, remoteTag };
}

/** The dialog id a response to our request belongs to; null without a To tag. */
export function dialogIdOfResponse(response: SipResponse): DialogId | null {
  const localTag = response.fromTag;
  const remoteTag = response.toTag;
  if (localTag === undefined || remoteTag === undefined) return null;
  return { callId: response.callId, localTag, remoteTag };
}

/**
 * A copy of a string that shares no storage with the message it was parsed from. Header values are slices of the
 * whole received datagram, and V8 keeps a slice's parent alive: a dialog that kept a tag or a host as a slice would
 * keep every message that created or refreshed it for as long as the call lasts.
 */
function own(s: string): string {
  // V8 copies slices shorter than 13 characters (SlicedString::kMinLength): those already stand alone.
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** A name-addr as our requests write it, standing alone. */
function nameAddrText(na: NameAddr): string {
  return own(formatNameAddr(na));
}

/**
 * The From or To of a message as our requests write it, standing alone. Most are written as formatNameAddr writes
 * them already (ours always are): those are kept as they are instead of parsed and formatted again.
 */
function headerNameAddrText(message: SipRequest | SipResponse, header: 'from' | 'to'): string {
  const text = message.get(header);
  if (text !== undefined && isFormattedNameAddr(text)) return own(text);
  return nameAddrText(header === 'from' ? message.from : message.to);
}

/** §12.1.1 / §12.1.2: a dialog is secure when its request went to a sips Request-URI (over TLS). */
function isSipsRequest(request: SipRequest): boolean {
  // A Request-URI written as formatUri writes it (ours always are) is read, scheme included, without a parse.
  const uri = request.uri;
  return isFormattedUri(uri) ? uri.startsWith('sips:') : request.requestUri.scheme === 'sips';
}

function ownId(id: DialogId): DialogId {
  return { callId: own(id.callId), localTag: own(id.localTag), remoteTag: own(id.remoteTag) };
}

function remoteTargetOf(message: SipRequest | SipResponse): string | undefined {
  const text = message.get('contact');
  if (text !== undefined && text.indexOf(',') === -1 && message.count('contact') === 1 && isFormattedNameAddr(text)) {
    // One Contact written as formatNameAddr writes it: its URI's text is formatUri's, and neither the URI nor the
    // parameters after it hold an angle bracket (a display name may).
    return own(text.slice(text.lastIndexOf('<') + 1, text.lastIndexOf('>')));
  }
  const contacts = message.contacts;
  if (contacts === '*' || contacts.length === 0) return undefined;
  return own(formatUri((contacts[0] as NameAddr).uri));
}

function routeSetOf(routes: readonly NameAddr[], reversed: boolean): string[] {
  const out = routes.map(nameAddrText);
  return reversed ? out.reverse() : out;
}

/**
 * §12.1.2: the UAC's dialog from its request and a 1xx (with To tag) or 2xx response. "The route set MUST be set
 * to the list of URIs in the Record-Route header field from the response, taken in reverse order"; "The remote
 * target MUST be set to the URI from the Contact header field of the response."
 */
export function uacDialogState(request: SipRequest, response: SipResponse): DialogState {
  const id = dialogIdOfResponse(response);
  if (id === null) throw new DialogStateError('a response without a To tag creates no dialog');
  const remoteTarget = remoteTargetOf(response);
  // §12.1.2 requires a Contact; many gateways omit it on 18x, so an early dialog falls back to the Request-URI
  // until the 2xx brings the real target.
  if (remoteTarget === undefined && response.status >= 200) {
    throw new DialogStateError('a 2xx creating a dialog must carry a Contact');
  }
  return {
    id: ownId(id),
    early: response.status < 200,
    isUac: true,
    localSeq: request.cseq.seq,
    remoteSeq: null,
    local: headerNameAddrText(request, 'from'),
    remote: headerNameAddrText(response, 'to'),
    remoteTarget: remoteTarget ?? own(formatUri(request.requestUri)),
    routeSet: routeSetOf(response.recordRoutes, true),
    secure: isSipsRequest(request),
  };
}

/**
 * §12.1.1: the UAS's dialog from the request and the To tag we put in our response. "The route set MUST be set
 * to the list of URIs in the Record-Route header field from the request, taken in order"; "The remote target MUST
 * be set to the URI from the Contact header field of the request"; the remote sequence number is the request's.
 */
export function uasDialogState(request: SipRequest, localTag: string, early: boolean): DialogState {
  const remoteTag = request.fromTag;
  if (remoteTag === undefined) throw new DialogStateError('a request without a From tag creates no dialog');
  const remoteTarget = remoteTargetOf(request);
  if (remoteTarget === undefined) throw new DialogStateError('a dialog-creating request must carry a Contact');
  return {
    id: ownId({ callId: request.callId, localTag, remoteTag }),
    early,
    isUac: false,
    // §12.1.1 leaves the local sequence number empty; our first request then uses 1.
    localSeq: 0,
    remoteSeq: request.cseq.seq,
    local: nameAddrText({ ...request.to, params: { ...request.to.params, tag: localTag } }),
    remote: headerNameAddrText(request, 'from'),
    remoteTarget,
    routeSet: routeSetOf(request.recordRoutes, false),
    secure: isSipsRequest(request),
  };
}

/**
 * §13.2.2.4: a 2xx for an early dialog confirms it, "and the route set for the dialog MUST be recomputed based on
 * the 2xx response using the procedures of Section 12.2.1.2"; the 2xx's Contact becomes the remote target.
 */
export function confirmUacDialog(state: DialogState, response: SipResponse): DialogState {
  const target = remoteTargetOf(response);
  return {
    ...state,
    early: false,
    remote: headerNameAddrText(response, 'to'),
    remoteTarget: target ?? state.remoteTarget,
    routeSet: state.early ? routeSetOf(response.recordRoutes, true) : state.routeSet,
  };
}

/** The UAS sent its 2xx: the dialog is confirmed (§12.1.1 "confirmed" once a 2xx is sent). */
export function confirmUasDialog(state: DialogState): DialogState {
  return state.early ? { ...state, early: false } : state;
}

/** Takes the next local CSeq for a new in-dialog request (§12.2.1.1: "incremented by one"). */
export function nextLocalSeq(state: DialogState): { state: DialogState; seq: number } {
  const seq = state.localSeq + 1;
  return { state: { ...state, localSeq: seq }, seq };
}

const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export type RemoteRequestVerdict =
  | { readonly ok: true; readonly state: DialogState }
  /** §12.2.2: an out-of-order request is answered 500. */
  | { readonly ok: false; readonly status: 500; readonly reason: string };

/**
 * §12.2.2 for a request received in the dialog: CSeq ordering and remote target refresh. ACK and CANCEL carry the
 * CSeq number of the INVITE they belong to, so they neither fail the check nor move the number on.
 */
export function receiveRequest(state: DialogState, request: SipRequest): RemoteRequestVerdict {
  const { method } = request;
  if (method === 'ACK' || method === 'CANCEL') return { ok: true, state };
  const seq = request.cseq.seq;
  // "If the remote sequence number was not empty, but the sequence number of the request is lower than the remote
  // sequence number, the request is out of order and MUST be rejected with a 500 (Server Internal Error)." An equal
  // number is a retransmission, which the transaction layer absorbs before it gets here, or a reused number: 500.
  if (state.remoteSeq !== null && seq <= state.remoteSeq) {
    return { ok: false, status: 500, reason: 'CSeq out of order' };
  }
  let next: DialogState = { ...state, remoteSeq: seq };
  // "When a UAS receives a target refresh request, it MUST replace the dialog's remote target URI with the URI from
  // the Contact header field in that request, if present."
  if (TARGET_REFRESH.has(method)) {
    const target = remoteTargetOf(request);
    if (target !== undefined) next = { ...next, remoteTarget: target };
  }
  return { ok: true, state: next };
}

/**
 * §12.2.1.2: "When a UAC receives a 2xx response to a target refresh request, it MUST replace the dialog's remote
 * target URI with the URI from the Contact header field in that response, if present."
 */
export function receiveTargetRefreshResponse(state: DialogState, method: string, response: SipResponse): DialogState {
  if (response.status < 200 || response.status >= 300 || !TARGET_REFRESH.has(method)) return state;
  const target = remoteTargetOf(response);
  return target === undefined ? state : { ...state, remoteTarget: target };
}

/** Where an in-dialog request goes and what it carries (§12.2.1.1). */
export interface InDialogRouting {
  readonly requestUri: SipUri;
  /** Route header values in order. */
  readonly routes: readonly NameAddr[];
  /** The URI whose host/port/transport the request is sent to (§8.1.2: first Route, else Request-URI). */
  readonly nextHop: SipUri;
}

/**
 * §12.2.1.1: "If the route set is not empty, and the first URI in the route set contains the lr parameter ... the
 * UAC MUST place the remote target URI into the Request-URI and MUST include a Route header field containing the
 * route set values in order". With a strict router first, "the UAC MUST place the first URI from the route set
 * into the Request-URI, stripping any parameters that are not allowed in a Request-URI ... [and] MUST add the
 * remote target URI as the last value in the Route header field."
 */
export function inDialogRouting(state: DialogState): InDialogRouting {
  const target = parseUri(state.remoteTarget);
  if (target === null) throw new DialogStateError(`unreadable remote target ${state.remoteTarget}`);
  const routeSet = state.routeSet.map((text) => {
    const route = parseNameAddr(text);
    if (route === null) throw new DialogStateError(`unreadable route ${text}`);
    return route;
  });
  const first = routeSet[0];
  if (first === undefined) return { requestUri: target, routes: [], nextHop: target };
  if ('lr' in first.uri.params) return { requestUri: target, routes: routeSet, nextHop: first.uri };
  // §19.1.1 Table 1: `method` and URI headers are the parts a Request-URI may not carry.
  const { method: _method, ...kept } = first.uri.params;
  const requestUri: SipUri = { ...first.uri, params: kept, headers: {} };
  return {
    requestUri,
    routes: [...routeSet.slice(1), { uri: target, params: {} }],
    nextHop: first.uri,
  };
}
