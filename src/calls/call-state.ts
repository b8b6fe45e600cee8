/**
 * The state of one origination: a plain, JSON-serialisable object, so that a call record alone is enough to
 * resume or clean up a call in another process.
 */
import type { CallerId, DialogSnapshot, DialTarget, InviteSnapshot, PlannedLeg, TrunkDial } from './ports.ts';

/**
 * ```
 *                  start
 *                    |
 *                    v
 *             +---------------+  every fork failed / timeout / hangup
 *             | ringing_first |------------------------------------------+
 *             +---------------+                                          |
 *                    | first 2xx (offer1): CANCEL other forks,           |
 *                    v          start ringback toward offer1             |
 *             +---------------+                                          |
 *             | preparing_rbt |---- ringback failed / hangup ------------+
 *             +---------------+                                          |
 *                    | ringback ready: ACK leg 1 with the tone's answer, |
 *                    v               reply to the API, dial leg 2        |
 *             +----------------+                                         |
 *             | ringing_second |---- leg 2 failed / leg 1 BYE / hangup --+
 *             +----------------+                                         |
 *                    | leg 2 2xx (offer2): stop ringback,                |
 *                    v                   re-INVITE leg 1 with offer2     |
 *             +----------------+   491: wait, retry                      |
 *             |    bridging    |<--+                                     |
 *             +----------------+---+--- re-INVITE failed / BYE / hangup -+
 *                    | 2xx (answer1): ACK leg 2 with answer1             |
 *                    v                                                   |
 *             +----------------+                                         |
 *             |    bridged     |---- BYE from either / hangup / max -----+
 *             +----------------+                                         |
 *                                                                        v
 *                                                                  +-----------+
 *                                                                  |   ended   |
 *                                                                  +-----------+
 * ```
 */
export type CallPhase = 'ringing_first' | 'preparing_ringback' | 'ringing_second' | 'bridging' | 'bridged' | 'ended';

export type LegName = 'first' | 'second';

export type TimerName = 'ring_first' | 'ring_second' | 'step' | 'glare' | 'max_call';

export type ForkStatus = 'ringing' | 'answered' | 'confirmed' | 'cancelled' | 'failed' | 'ended';

export interface ForkState {
  readonly id: string;
  readonly leg: LegName;
  readonly step: number;
  readonly target: DialTarget;
  /** For a trunk fork: the attempts still to try after this one, in order. */
  readonly fallbacks: readonly TrunkDial[];
  readonly status: ForkStatus;
  /** Final SIP status (0: transport error or timeout); 200 once answered. */
  readonly sipStatus: number | null;
  readonly dialog: DialogSnapshot | null;
  /** The INVITE as sent, so that another process can CANCEL it while it rings. */
  readonly invite: InviteSnapshot | null;
  /** The offer carried by its 2xx (late offer). */
  readonly offer: string | null;
}

export type LegOutcome = 'answered' | 'busy' | 'declined' | 'unreachable' | 'no_answer' | 'cancelled' | 'no_route';

export interface LegState {
  readonly name: LegName;
  readonly dialed: string;
  readonly plan: PlannedLeg;
  readonly callerId: CallerId;
  readonly autoAnswer: boolean;
  /** Ring limit of the whole leg. */
  readonly timeoutMs: number;
  readonly step: number;
  readonly ringAt: number | null;
  readonly answerAt: number | null;
  readonly endAt: number | null;
  /** The fork that answered. */
  readonly winner: string | null;
  /** Final SIP status that decided the leg (200 when answered). */
  readonly sipStatus: number | null;
  readonly outcome: LegOutcome | null;
}

export interface CallState {
  readonly id: string;
  readonly phase: CallPhase;
  readonly createdAt: number;
  readonly legs: { readonly first: LegState; readonly second: LegState };
  readonly forks: readonly ForkState[];
  readonly nextFork: number;
  /** Absolute deadlines (epoch ms) of the running timers, so another process can re-arm them. */
  readonly timers: Partial<Record<TimerName, number>>;
  /** Our answer toward leg 1 while it hears ringback (SDPs are dropped once bridged: a held call keeps none). */
  readonly ringbackSdp: string | null;
  readonly glareAttempts: number;
  readonly maxCallMs: number;
  readonly variables: readonly { readonly name: string; readonly value: string }[];
  /** The API has been answered (success or failure). */
  readonly replied: boolean;
  readonly bridgedAt: number | null;
  readonly endedAt: number | null;
  readonly endReason: string | null;
}
