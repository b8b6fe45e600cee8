/** Public API of the user agent layer. */
export { UserAgent, uriDestination, type RequestHandlerFn, type RequestOptions, type UserAgentOptions } from './user-agent.ts';
export { OutgoingCall, type Answer, type InviteOptions, type OutgoingCallError, type OutgoingCallEvents } from './outgoing-call.ts';
export { IncomingCall, type Acknowledged, type IncomingCallEvents, type ResponseOptions } from './incoming-call.ts';
export { Session, type SessionEndReason, type SessionEvents } from './session.ts';
export {
  RegistrationClient,
  type RegistrationEvents,
  type RegistrationHost,
  type RegistrationOptions,
  type RegistrationState,
} from './registration-client.ts';
export { AuthChallengeError, authorizeRequest, credentialHeaders, type Credentials } from './client-auth.ts';
export { requireAuth, type RequireAuthResult } from './require-auth.ts';
export { sendRequest, type SendOptions, type SendResult } from './send-request.ts';
export {
  AckTimeoutError,
  AlreadyAnsweredError,
  CallCancelledError,
  InviteInProgressError,
  SessionEndedError,
  SipResponseError,
} from './errors.ts';
