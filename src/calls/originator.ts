/**
 * The one typed function through which the API asks the call layer to originate a call. The API layer validates
 * the parameters (every Switchvox error code but 41591) and hands over this request; the call layer routes,
 * rings, bridges and records.
 */
import type { Account } from '../config/schema.ts';

export interface OriginateRequest {
  /** As given by the client, validated (digits, * and #), not yet rewritten by Call API settings. */
  readonly dialFirst: string;
  readonly dialSecond: string;
  /** The dial-as account (type sip, analog or virtual). */
  readonly account: Account;
  readonly callerIdName: string;
  /** NAME=VALUE pairs in the order given. */
  readonly variables: readonly { readonly name: string; readonly value: string }[];
  /** Seconds to ring dial_first / dial_second; 0 = no API limit (the server-wide cap still applies). */
  readonly timeout: number;
  readonly timeoutSecondCall: number;
  readonly ignoreUserApiSettings: boolean;
  readonly ignoreUserCallRules: boolean;
  readonly autoAnswer: boolean;
  /** Who asked: the admin user, or an extension user acting as itself. */
  readonly requestedBy: string;
  /** The API method that asked (switchvox.call or switchvox.users.call). */
  readonly method: string;
}

export interface IvrVariableStatus {
  readonly name: string;
  readonly status: 'exists' | 'does_not_exist';
  /** The IVR variable's id when it exists. */
  readonly id?: number;
}

export interface OriginateResult {
  /** Our id of the origination (the call record's id). */
  readonly callId: string;
  /** The numbers as dialed, after Call API settings. */
  readonly dialedFirst: string;
  readonly dialedSecond: string;
  readonly variables: readonly IvrVariableStatus[];
}

/** The call failed to connect (Switchvox 41591): no route, busy, declined, unreachable, not answered in time. */
export class OriginateFailedError extends Error {
  override readonly name = 'OriginateFailedError';
  constructor(
    readonly reason: string,
    readonly detail?: string,
  ) {
    super(`originate failed: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** No origination engine is wired into this server: nothing was placed. */
export class OriginationUnavailableError extends Error {
  override readonly name = 'OriginationUnavailableError';
  constructor() {
    super('no origination engine is available in this server');
  }
}

export interface LiveCallLeg {
  readonly leg: 'first' | 'second';
  readonly number: string;
  readonly state: 'routing' | 'ringing' | 'answered' | 'ended';
}

export interface LiveCall {
  readonly callId: string;
  readonly accountId: string;
  readonly state: string;
  readonly startedAt: Date;
  readonly legs: readonly LiveCallLeg[];
}

/** What the API layer needs from the call layer. */
export interface Originator {
  /** Resolves once dial_first answered and dial_second is being dialed; rejects with OriginateFailedError. */
  originate(request: OriginateRequest): Promise<OriginateResult>;
  listCalls(): readonly LiveCall[];
  /** Hangs up a live call; false when no such call. */
  hangUp(callId: string): Promise<boolean>;
}
