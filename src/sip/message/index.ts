/** Public API of the SIP message layer. */
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
