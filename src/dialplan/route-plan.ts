/**
 * The route plan: what the dial plan hands the call layer for one leg. The dial plan decides *where* a leg may ring
 * and in which order; the call layer decides *how* (SIP, timers, auto-answer). Nothing here knows about SIP.
 */

/** One try through a trunk: the number as sent to the trunk (after the rule's trim and prepend). */
export interface TrunkAttempt {
  readonly trunk: string;
  readonly number: string;
  /** Name of the outgoing call rule that produced this attempt. */
  readonly rule: string;
  /** A final rule's failure ends the leg; a non-final one lets the next attempt run. */
  readonly isFinal: boolean;
}

export type Destination =
  /** All registered contacts of the extension at once (forked). */
  | { readonly kind: 'phones'; readonly accountId: string; readonly extension: string }
  /** The next attempt runs only when a non-final rule's trunk fails (503/408/transport error/limit). */
  | { readonly kind: 'trunk'; readonly attempts: readonly TrunkAttempt[] }
  /** Answered by the PBX itself. */
  | { readonly kind: 'ivr'; readonly accountId: string; readonly extension: string }
  /** Answered by the PBX itself. */
  | { readonly kind: 'voicemail'; readonly accountId: string; readonly extension: string };

/** Destinations rung together; the next step starts when this one is not answered within ringSeconds. */
export interface RingStep {
  readonly destinations: readonly Destination[];
  /** null: until the leg's timeout */
  readonly ringSeconds: number | null;
}

export interface LegPlan {
  /** after Call API settings */
  readonly dialed: string;
  readonly steps: readonly RingStep[];
}

export type RouteResult = { readonly ok: true; readonly plan: LegPlan } | { readonly ok: false; readonly reason: string };
