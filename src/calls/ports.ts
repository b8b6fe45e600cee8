/**
 * The ports through which the origination machine's effects reach the outside world, and through which the
 * outside world's answers come back as machine inputs. The machine never calls these: the runtime
 * (`origination-runtime.ts`) executes the machine's named effects against them. Adapters to the real user
 * agent, media, dial plan and store live in `src/calls/adapters/`; the unit tests use fakes.
 */
import type { Account } from '../config/schema.ts';
import type { Endpoint } from '../sip/transport/endpoint.ts';
import type { CallState } from './call-state.ts';

/** One attempt through a trunk (mirrors the dial plan's TrunkAttempt, kept here so the machine stays independent). */
export interface TrunkDial {
  readonly trunk: string;
  readonly number: string;
  readonly rule: string;
  readonly isFinal: boolean;
}

/** One registered contact of an extension: the Request-URI, and where the registrar says requests for it go. */
export interface PhoneTarget {
  readonly kind: 'phone';
  readonly accountId: string;
  readonly extension: string;
  readonly contact: string;
  readonly sendTo: Endpoint;
}

/**
 * Where one fork of a leg rings. Registered phones are expanded to their contacts when the call is routed, so
 * that every contact is a fork the machine can cancel on its own when another one answers.
 */
export type DialTarget =
  | PhoneTarget
  | { readonly kind: 'trunk'; readonly attempt: TrunkDial }
  | { readonly kind: 'pbx'; readonly app: 'ivr' | 'voicemail'; readonly accountId: string; readonly extension: string };

/** What a step rings: trunk destinations carry their ordered fallbacks, tried one after another. */
export type PlannedTarget =
  | PhoneTarget
  | { readonly kind: 'trunk'; readonly attempts: readonly TrunkDial[] }
  | { readonly kind: 'pbx'; readonly app: 'ivr' | 'voicemail'; readonly accountId: string; readonly extension: string };

export interface PlannedStep {
  readonly targets: readonly PlannedTarget[];
  /** null: until the leg's timeout. */
  readonly ringSeconds: number | null;
}

export interface PlannedLeg {
  /** The number after Call API settings: what the API reports as dialed_first / dialed_second. */
  readonly dialed: string;
  readonly steps: readonly PlannedStep[];
}

export type PlanResult = { readonly ok: true; readonly leg: PlannedLeg } | { readonly ok: false; readonly reason: string };

/** Wraps the dial plan (planLeg) and the registrar's bindings. Synchronous: routing rings nobody. */
export interface Router {
  plan(input: {
    readonly number: string;
    readonly account: Account;
    readonly ignoreApiSettings: boolean;
    readonly followCallRules: boolean;
  }): PlanResult;
}

export interface CallerId {
  readonly name: string;
  readonly number: string;
  /** The number presented toward a trunk; empty: the trunk's default caller ID. */
  readonly external: string;
}

/**
 * What is needed to send an in-dialog request (BYE) without the user agent's memory of the dialog, e.g. after a
 * restart (RFC 3261 §12.2.1.1: remote target, route set, CSeq, tags, Call-ID).
 */
export interface DialogSnapshot {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From and the peer's To, as name-addr text (tags included). */
  readonly local: string;
  readonly remote: string;
  readonly remoteTarget: string;
  /** Route header values in the order our requests carry them. */
  readonly routeSet: readonly string[];
  readonly localCseq: number;
  readonly transport: 'udp' | 'tcp';
  /** Where in-dialog requests went (the delivery endpoint: NAT and TCP connections make it differ from the target). */
  readonly peer: Endpoint;
}

/**
 * What a CANCEL of an INVITE needs when the process that sent the INVITE is gone (RFC 3261 §9.1: the same
 * Request-URI, Call-ID, To, From, CSeq number and Route set, and the INVITE's top Via with its branch, sent
 * where the INVITE went).
 */
export interface InviteSnapshot {
  readonly uri: string;
  readonly via: string;
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  readonly routes: readonly string[];
  readonly peer: Endpoint;
}

/** What the signalling adapter reports about one fork. Every callback may be called at most once, except progress. */
export interface ForkEvents {
  /** The INVITE went out (again, when it was re-sent with credentials): what a later CANCEL needs. */
  sent(invite: InviteSnapshot): void;
  progress(status: number): void;
  /** A 2xx with the peer's offer (the INVITE had no body: RFC 3261 §13.2.1 late offer). */
  answered(offerSdp: string, dialog: DialogSnapshot | null): void;
  /** A final non-2xx, or 0 for a transport error or a transaction timeout. */
  failed(status: number, reason: string): void;
  /** The peer ended the confirmed dialog (BYE received). */
  ended(): void;
  reinviteAnswered(answerSdp: string): void;
  reinviteFailed(status: number): void;
  /**
   * The confirmed dialog moved on (our CSeq after a re-INVITE, the peer's target after its own): a BYE sent by
   * another process after a restart must carry a higher CSeq than any request this one sent (RFC 3261 §12.2.2).
   */
  dialogChanged(dialog: DialogSnapshot): void;
}

export interface DialRequest {
  readonly forkId: string;
  /** Our origination id, for logs and for the PBX apps. */
  readonly callId: string;
  readonly target: DialTarget;
  readonly callerId: CallerId;
  /** Auto-answer headers (Call-Info answer-after=0, Alert-Info ...); the machine sets it only toward phones. */
  readonly autoAnswer: boolean;
  /** IVR variables, for a target answered by the PBX itself. */
  readonly variables: readonly { readonly name: string; readonly value: string }[];
}

/** Leg signalling: every INVITE is sent without SDP so that the peer's 2xx carries the offer (RFC 3725 flow I). */
export interface LegSignalling {
  dial(request: DialRequest, events: ForkEvents): void;
  cancel(forkId: string): void;
  /** Confirms the 2xx with our answer. */
  ack(forkId: string, answerSdp: string): void;
  /**
   * A 2xx nobody wants (a second fork answered, or the call ended meanwhile): ACK it with every stream rejected,
   * then BYE (RFC 3261 §13.2.2.4).
   */
  discard(forkId: string): void;
  /** Re-INVITE the confirmed dialog with a new offer; the answer or failure comes back through the fork's events. */
  reinvite(forkId: string, offerSdp: string): void;
  bye(forkId: string): void;
  /**
   * Both forks' dialogs are confirmed and bridged: a re-INVITE from either peer is passed on to the other
   * (RFC 3725 §5), the other's answer or failure going back as the response.
   */
  relay(firstForkId: string, secondForkId: string): void;
  /** BYE within a dialog rebuilt from a call record, when the process that placed the call is gone. */
  byeDialog(dialog: DialogSnapshot): Promise<void>;
  /** CANCEL of an INVITE sent by a process that is gone; resolves with the CANCEL's final response. */
  cancelInvite(invite: InviteSnapshot): Promise<void>;
}

/** Ringback toward the first party: G.711 tone from the PBX's own RTP port, in the codec the phone offered. */
export interface Ringback {
  /** Resolves with our answer SDP (pointing at our RTP port); the tone starts flowing at once. */
  start(callId: string, offerSdp: string): Promise<string>;
  stop(callId: string): void;
}

/** The persisted form of an origination: the request and the machine state (everything to resume or clean up). */
export interface CallRecord {
  readonly callId: string;
  readonly accountId: string;
  readonly requestedBy: string;
  readonly method: string;
  readonly request: {
    readonly dialFirst: string;
    readonly dialSecond: string;
    readonly callerIdName: string;
    readonly timeout: number;
    readonly timeoutSecondCall: number;
    readonly ignoreUserApiSettings: boolean;
    readonly ignoreUserCallRules: boolean;
    readonly autoAnswer: boolean;
    readonly variables: readonly { readonly name: string; readonly value: string }[];
  };
  readonly state: CallState;
}

export interface CallRecords {
  /** Writes the record's current state; may be written behind, but in order. */
  save(record: CallRecord): void;
  /** Records not yet ended: at start-up, calls a previous process left open. */
  listOpen(): CallRecord[];
  get(callId: string): CallRecord | undefined;
}

export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface Clock {
  now(): number;
  setTimer(ms: number, fire: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The directory's IVR variable lookup: the id of the IVR variable with this name, if any IVR defines one. */
export interface IvrVariables {
  lookup(name: string): number | undefined;
}
