/**
 * Every error code the Switchvox-compatible API can answer with. Codes from the switchvox.call page keep their
 * numbers and messages; the 10001-10019 block is ours (codes the Switchvox pages do not use) for envelope,
 * authentication and server conditions. docs/api.md lists the same table: keep them together.
 */
export interface ApiError {
  readonly code: number;
  readonly message: string;
}

export const ApiErrors = {
  // Switchvox (seed page and contract)
  missingParameter: (name: string): ApiError => ({ code: 10011, message: `Missing required parameter (${name})` }),
  invalidNumber: (param: string): ApiError => ({
    code: 54222,
    message: `Invalid phone number or extension for parameter ${param}. Number must only contain digits,*,or #.`,
  }),
  invalidAccountId: (value: string): ApiError => ({
    code: 10014,
    message: `Invalid account_id (${value}). Account_ids may only contain digits.`,
  }),
  invalidDialAs: (): ApiError => ({
    code: 77427,
    message:
      'Invalid dial as extension. That extension does not exist in the system or is an invalid type. Please choose a valid SIP,Analog,or Virtual extension.',
  }),
  invalidCallerIdName: (): ApiError => ({
    code: 35561,
    message: 'Invalid caller id name. Caller id name may only contain alphanumeric characters,spaces,_,or &.',
  }),
  invalidVariable: (value: string): ApiError => ({
    code: 84904,
    message: `Invalid variable format for parameter (${value}). Variable format must be VARIABLE_NAME=VARIABLE_VALUE.`,
  }),
  invalidTimeout: (): ApiError => ({ code: 75233, message: 'Invalid timeout. Must be a number between 0 and 999.' }),
  invalidFlag: (param: string): ApiError => ({ code: 17769, message: `Invalid ${param}. Value must be either a 1 or a 0.` }),
  originateFailed: (): ApiError => ({
    code: 41591,
    message:
      "Your call failed to connect (Originate failed). This fault is usually caused by entering an invalid extension or phone number that can't be reached.",
  }),
  // Ours
  malformed: (why: string): ApiError => ({ code: 10001, message: `Malformed request: ${why}.` }),
  bodyTooLarge: (max: number): ApiError => ({ code: 10002, message: `Request body too large (more than ${max} bytes).` }),
  doctype: (): ApiError => ({
    code: 10003,
    message: 'XML with a DOCTYPE or entity declarations is not accepted.',
  }),
  missingMethod: (): ApiError => ({ code: 10004, message: 'Missing method: the request names no method.' }),
  unknownMethod: (method: string): ApiError => ({ code: 10005, message: `Unknown method (${method}).` }),
  permissionDenied: (method: string): ApiError => ({
    code: 10006,
    message: `Permission denied (${method}). An extension user may only call switchvox.users.* methods.`,
  }),
  notOwnAccount: (value: string): ApiError => ({
    code: 10007,
    message: `Invalid account_id (${value}). An extension user may only act as its own account.`,
  }),
  originationUnavailable: (): ApiError => ({
    code: 10008,
    message: 'No origination engine is available on this server. No call was placed.',
  }),
  authenticationRequired: (): ApiError => ({
    code: 10009,
    message: 'Authentication required: send Digest or Basic credentials of the admin or an extension user.',
  }),
  lockedOut: (seconds: number): ApiError => ({
    code: 10010,
    message: `Too many failed logins from this address. Try again in ${seconds} seconds.`,
  }),
  invalidCurrentCallId: (value: string): ApiError => ({
    code: 10012,
    message: `Invalid current_call_id (${value}). No such call.`,
  }),
  noSuchExtension: (value: string): ApiError => ({ code: 10013, message: `Invalid extension (${value}). No such extension.` }),
  noSuchAccount: (value: string): ApiError => ({ code: 10015, message: `Invalid account_id (${value}). No such account.` }),
  notFound: (path: string): ApiError => ({ code: 10016, message: `No such endpoint (${path}). POST to /xml or /json.` }),
  internal: (): ApiError => ({ code: 10017, message: 'Internal error. The request may not have been carried out.' }),
} as const;
