/**
 * Public API of the SIP message layer (RFC 3261 §7, §18.3, §19, §20, §25).
 *
 * - Receiving: `parseMessage(datagram)` for UDP, `new StreamFramer({ onPing })` + `push(chunk)` for TCP/TLS. Both
 *   return `SipParseError` values instead of throwing; `err.partial` (when set) is enough to answer `err.status`.
 *   A message they return has a readable top Via, From, To, Call-ID and CSeq (CSeq method = request method) and
 *   well-formed Max-Forwards / Content-Length; other headers are parsed when read, and their accessors throw
 *   `SipHeaderError` when malformed.
 * - Checking a request as a UAS: `checkRequest(req)` (416, 400, 420, 415, 406).
 * - Sending: `createRequest`, `createResponse`, then `serialize()` (Content-Length always written from the body;
 *   an untouched received message serializes to its received bytes).
 * - Structured values returned by accessors are cached: treat them as read-only and edit through `set`,
 *   `setToTag`, `setTopViaParams` ...
 */
export type { AuthParams, CSeq, NameAddr, SipHeaderAccess, SipMessageCommon, SipUri, Via } from './types.ts';
export { SipHeaderError, SipParseError } from './errors.ts';
export { SipRequest, SipResponse, parseCSeq, type SipMessage } from './message.ts';
export { DEFAULT_MAX_BYTES, parseMessage, type ParseOptions } from './parse.ts';
export { StreamFramer, type StreamFramerOptions } from './stream-framer.ts';
export {
  REASON_PHRASES,
  createRequest,
  createResponse,
  reasonPhrase,
  type CreateRequestOptions,
  type CreateResponseOptions,
} from './create.ts';
export { formatUri, parseUri } from './uri.ts';
export { formatNameAddr, parseNameAddr } from './name-addr.ts';
export { formatVia, parseVia } from './via.ts';
export { newBranch, newCallId, newTag } from './ids.ts';
export { checkRequest, type CheckRequestOptions, type RequestRejection } from './check-request.ts';
export { headerKey } from './header-names.ts';
