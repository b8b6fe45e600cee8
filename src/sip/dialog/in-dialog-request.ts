/**
 * Building the requests a dialog sends (RFC 3261 §12.2.1.1): a new request with the next CSeq, and the ACK for a
 * 2xx (§13.2.2.4), which the UAC dialog builds itself because no transaction carries it. They leave Via out: the
 * transaction layer adds it for the transport the request leaves on.
 */
import { createRequest, formatNameAddr, formatUri, type SipRequest } from '../message/index.ts';
import { inDialogRouting, nextLocalSeq, type DialogState } from './dialog-state.ts';

export interface InDialogRequestOptions {
  readonly method: string;
  /** Our Contact URI: required on target refresh requests (INVITE, UPDATE) so the peer can refresh its target. */
  readonly contact?: string;
  readonly body?: Buffer | string;
  readonly contentType?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

function build(
  state: DialogState,
  method: string,
  seq: number,
  opts: Omit<InDialogRequestOptions, 'method'>,
): SipRequest {
  const headers: Array<readonly [string, string]> = [
    ['Max-Forwards', '70'],
    ['From', state.local],
    ['To', state.remote],
    ['Call-ID', state.id.callId],
    ['CSeq', `${seq} ${method}`],
  ];
  let uri: string;
  if (state.routeSet.length === 0) {
    // No route set: the Request-URI is the remote target (§12.2.1.1), which the dialog keeps as formatUri wrote it
    // (dialog-state.ts), so its text is what parsing and formatting it again would give, without doing either.
    uri = state.remoteTarget;
  } else {
    const routing = inDialogRouting(state);
    for (const route of routing.routes) headers.push(['Route', formatNameAddr(route)]);
    uri = formatUri(routing.requestUri);
  }
  if (opts.contact !== undefined) headers.push(['Contact', `<${opts.contact}>`]);
  if (opts.headers !== undefined) headers.push(...opts.headers);
  if (opts.body !== undefined && opts.contentType !== undefined) headers.push(['Content-Type', opts.contentType]);
  return createRequest({
    method,
    uri,
    headers,
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
}

/** A new in-dialog request: takes the next local CSeq (§12.2.1.1), so the caller must keep the returned state. */
export function createInDialogRequest(
  state: DialogState,
  opts: InDialogRequestOptions,
): { state: DialogState; request: SipRequest } {
  const next = nextLocalSeq(state);
  return { state: next.state, request: build(next.state, opts.method, next.seq, opts) };
}

/**
 * §13.2.2.4: "The header fields of the ACK are constructed in the same way as for any request sent within a dialog
 * ... with the exception of the CSeq and the header fields related to authentication. The sequence number of the
 * CSeq header field MUST be the same as the INVITE being acknowledged, but the CSeq method MUST be ACK." The
 * credentials of the INVITE go in `headers` (§22.1: an ACK for a 2xx carries the INVITE's).
 */
export function createAckFor2xx(
  state: DialogState,
  inviteSeq: number,
  opts: Omit<InDialogRequestOptions, 'method' | 'contact'>,
): SipRequest {
  return build(state, 'ACK', inviteSeq, opts);
}
