/**
 * The INVITE usage of a dialog (RFC 3261 §13-§15, RFC 5057): a synchronous state machine that decides when the
 * 2xx is retransmitted, when a session missing its ACK is torn down, how an INVITE arriving while another is in
 * progress is answered, and when a re-INVITE that met glare is retried. It does no I/O: every input yields the next
 * state and named effects, which `InviteSession` runs through injected ports (timers included), so tests drive it
 * with fake timers.
 *
 * ```
 *   +-------+          UAC: 2xx received                 +-----------+
 *   | early | -----------------------------------------> | confirmed |
 *   +-------+                                            +-----------+
 *     |   |  UAS: 2xx sent   +------------+     ACK        ^    |  |
 *     |   +----------------> | waitingAck | ---------------+    |  |
 *     |                      +------------+ <--------------------+  |
 *     |                         |   64*T1 without ACK: BYE;  2xx sent to a re-INVITE
 *     | failure, BYE            |   BYE                             | BYE
 *     v                         v                                   |
 *   +----------------------------------------------------------+    |
 *   |                       terminated                         | <--+
 *   +----------------------------------------------------------+
 * ```
 * Re-INVITEs in either direction are tracked by two flags beside the state (`outgoingInvite`, `incomingInvite`)
 * because they overlap the confirmed/waitingAck states rather than replace them.
 */

export type InviteSessionStateName = 'early' | 'waitingAck' | 'confirmed' | 'terminated';

export type SessionTimer = 'retransmit2xx' | 'ackTimeout' | 'glareRetry';

export interface InviteSessionState {
  readonly name: InviteSessionStateName;
  /** CSeq of the INVITE whose 2xx we retransmit while waiting for its ACK. */
  readonly ackCSeq: number | null;
  /** Current 2xx retransmission interval (§13.3.1.4: starts at T1, doubles up to T2). */
  readonly retransmitMs: number;
  /** CSeq of the re-INVITE we sent that has no final response yet. */
  readonly outgoingInvite: number | null;
  /** CSeq of the INVITE we received that has no final response from us yet. */
  readonly incomingInvite: number | null;
  /** A re-INVITE refused with 491 waits for the glare timer before it is sent again. */
  readonly glareRetryPending: boolean;
}

export type TerminationReason = 'bye-sent' | 'bye-received' | 'ack-timeout' | 'failed';

export type InviteSessionInput =
  /** UAC: the 2xx to our initial INVITE arrived (the ACK is the UA's business, not a retransmission concern). */
  | { readonly type: 'answered' }
  /** UAS: we sent a 2xx to an INVITE (initial or re-INVITE). */
  | { readonly type: '2xxSent'; readonly cseq: number }
  | { readonly type: 'ackReceived'; readonly cseq: number }
  /** An INVITE arrived inside the dialog; the machine answers it 491/500 or lets it through. */
  | { readonly type: 'inviteReceived'; readonly cseq: number }
  /** We sent a non-2xx final response to the received INVITE. */
  | { readonly type: 'inviteRejected'; readonly cseq: number }
  | { readonly type: 'inviteSent'; readonly cseq: number }
  | { readonly type: 'inviteResponse'; readonly cseq: number; readonly status: number }
  | { readonly type: 'byeSent' }
  | { readonly type: 'byeReceived' }
  /** The early dialog ended without a session (non-2xx final, CANCEL), or a 481/408 killed the dialog (§12.2.1.2). */
  | { readonly type: 'failed' }
  | { readonly type: 'timer'; readonly timer: SessionTimer };

export type InviteSessionEffect =
  | { readonly type: 'setTimer'; readonly timer: SessionTimer; readonly ms: number }
  | { readonly type: 'clearTimer'; readonly timer: SessionTimer }
  | { readonly type: 'retransmit2xx' }
  | { readonly type: 'sendBye' }
  /** Answer the INVITE just received with this status (and a Retry-After in seconds for 500). */
  | { readonly type: 'rejectInvite'; readonly status: 491 | 500; readonly retryAfter?: number }
  | { readonly type: 'retryInvite' }
  | { readonly type: 'terminated'; readonly reason: TerminationReason };

export interface InviteSessionContext {
  readonly t1Ms: number;
  readonly t2Ms: number;
  /** §14.1: the owner of the Call-ID (it generated it) backs off longer than the other side. */
  readonly callIdOwner: boolean;
  /** In [0, 1); injected so tests can pin the back-off. */
  readonly random: () => number;
}

export interface InviteSessionStep {
  readonly state: InviteSessionState;
  readonly effects: readonly InviteSessionEffect[];
}

export class InviteSessionTransitionError extends Error {
  override readonly name = 'InviteSessionTransitionError';
  constructor(
    readonly from: InviteSessionStateName,
    readonly to: InviteSessionStateName,
  ) {
    super(`invite session: no move from ${from} to ${to}`);
  }
}

const ALLOWED_MOVES: Readonly<Record<InviteSessionStateName, readonly InviteSessionStateName[]>> = {
  early: ['waitingAck', 'confirmed', 'terminated'],
  waitingAck: ['confirmed', 'terminated'],
  confirmed: ['waitingAck', 'terminated'],
  terminated: [],
};

export function initialInviteSessionState(): InviteSessionState {
  return {
    name: 'early',
    ackCSeq: null,
    retransmitMs: 0,
    outgoingInvite: null,
    incomingInvite: null,
    glareRetryPending: false,
  };
}

/**
 * Moves `state` to `to` when the table allows it; staying put is always allowed. The fields are written one by one
 * (the patch's over the state's) rather than spread: every session goes through here a few times per call, and
 * spreading a patch whose shape differs with each caller takes V8's generic path.
 */
function move(state: InviteSessionState, to: InviteSessionStateName, patch?: Partial<InviteSessionState>): InviteSessionState {
  if (state.name !== to && !ALLOWED_MOVES[state.name].includes(to)) throw new InviteSessionTransitionError(state.name, to);
  if (patch === undefined) {
    return {
      name: to,
      ackCSeq: state.ackCSeq,
      retransmitMs: state.retransmitMs,
      outgoingInvite: state.outgoingInvite,
      incomingInvite: state.incomingInvite,
      glareRetryPending: state.glareRetryPending,
    };
  }
  return {
    name: to,
    ackCSeq: 'ackCSeq' in patch ? (patch.ackCSeq as number | null) : state.ackCSeq,
    retransmitMs: 'retransmitMs' in patch ? (patch.retransmitMs as number) : state.retransmitMs,
    outgoingInvite: 'outgoingInvite' in patch ? (patch.outgoingInvite as number | null) : state.outgoingInvite,
    incomingInvite: 'incomingInvite' in patch ? (patch.incomingInvite as number | null) : state.incomingInvite,
    glareRetryPending: 'glareRetryPending' in patch ? (patch.glareRetryPending as boolean) : state.glareRetryPending,
  };
}

/** §14.1 glare back-off in milliseconds, in units of 10 ms. */
export function glareBackoffMs(callIdOwner: boolean, random: () => number): number {
  const [low, high] = callIdOwner ? [2100, 4000] : [0, 2000];
  return low + Math.floor((random() * (high - low)) / 10) * 10;
}

const STOP_ALL: readonly InviteSessionEffect[] = [
  { type: 'clearTimer', timer: 'retransmit2xx' },
  { type: 'clearTimer', timer: 'ackTimeout' },
  { type: 'clearTimer', timer: 'glareRetry' },
];

export function transition(state: InviteSessionState, input: InviteSessionInput, ctx: InviteSessionContext): InviteSessionStep {
  if (state.name === 'terminated') {
    // Whatever still arrives for an ended session (a late ACK, a stale timer) changes nothing.
    return { state, effects: [] };
  }
  switch (input.type) {
    case 'answered':
      return { state: move(state, 'confirmed'), effects: [] };

    case '2xxSent':
      // §13.3.1.4: "the 2xx response is passed to the transport with an interval that starts at T1 seconds and
      // doubles for each retransmission until it reaches T2 seconds ... If the server retransmits the 2xx response
      // for 64*T1 seconds without receiving an ACK, the dialog is confirmed, but the session SHOULD be terminated."
      return {
        state: move(state, 'waitingAck', {
          ackCSeq: input.cseq,
          retransmitMs: ctx.t1Ms,
          incomingInvite: state.incomingInvite === input.cseq ? null : state.incomingInvite,
        }),
        effects: [
          { type: 'setTimer', timer: 'retransmit2xx', ms: ctx.t1Ms },
          { type: 'setTimer', timer: 'ackTimeout', ms: 64 * ctx.t1Ms },
        ],
      };

    case 'ackReceived':
      // §13.3.1.4: retransmissions cease when the ACK for that 2xx arrives; an ACK for another CSeq is stale.
      if (state.name !== 'waitingAck' || state.ackCSeq !== input.cseq) return { state, effects: [] };
      return {
        state: move(state, 'confirmed', { ackCSeq: null, retransmitMs: 0 }),
        effects: [
          { type: 'clearTimer', timer: 'retransmit2xx' },
          { type: 'clearTimer', timer: 'ackTimeout' },
        ],
      };

    case 'inviteReceived':
      // §14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress
      // MUST return a 491 (Request Pending) response to the received INVITE."
      if (state.outgoingInvite !== null) return { state, effects: [{ type: 'rejectInvite', status: 491 }] };
      // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a
      // lower CSeq sequence number on the same dialog MUST return a 500 ... and MUST include a Retry-After header
      // field with a randomly chosen value of between 0 and 10 seconds." A 2xx still waiting for its ACK counts:
      // its transaction is not over for the peer either.
      if (state.incomingInvite !== null || state.name === 'waitingAck' || state.name === 'early') {
        return { state, effects: [{ type: 'rejectInvite', status: 500, retryAfter: Math.floor(ctx.random() * 11) }] };
      }
      return { state: { ...state, incomingInvite: input.cseq }, effects: [] };

    case 'inviteRejected':
      if (state.incomingInvite !== input.cseq) return { state, effects: [] };
      return { state: { ...state, incomingInvite: null }, effects: [] };

    case 'inviteSent':
      return { state: { ...state, outgoingInvite: input.cseq, glareRetryPending: false }, effects: [] };

    case 'inviteResponse': {
      if (state.outgoingInvite !== input.cseq || input.status < 200) return { state, effects: [] };
      const next = { ...state, outgoingInvite: null };
      if (input.status !== 491) return { state: next, effects: [] };
      // §14.1: "If a UAC receives a 491 response to a re-INVITE, it SHOULD start a timer with a value T chosen as
      // follows ... When the timer fires, the UAC SHOULD attempt the re-INVITE once more, if it still desires for
      // that session modification to take place."
      return {
        state: { ...next, glareRetryPending: true },
        effects: [{ type: 'setTimer', timer: 'glareRetry', ms: glareBackoffMs(ctx.callIdOwner, ctx.random) }],
      };
    }

    case 'byeSent':
      return { state: move(state, 'terminated'), effects: [...STOP_ALL, { type: 'terminated', reason: 'bye-sent' }] };

    case 'byeReceived':
      return { state: move(state, 'terminated'), effects: [...STOP_ALL, { type: 'terminated', reason: 'bye-received' }] };

    case 'failed':
      return { state: move(state, 'terminated'), effects: [...STOP_ALL, { type: 'terminated', reason: 'failed' }] };

    case 'timer':
      return onTimer(state, input.timer, ctx);
  }
}

function onTimer(state: InviteSessionState, timer: SessionTimer, ctx: InviteSessionContext): InviteSessionStep {
  switch (timer) {
    case 'retransmit2xx': {
      if (state.name !== 'waitingAck') return { state, effects: [] };
      const nextMs = Math.min(state.retransmitMs * 2, ctx.t2Ms);
      return {
        state: { ...state, retransmitMs: nextMs },
        effects: [{ type: 'retransmit2xx' }, { type: 'setTimer', timer: 'retransmit2xx', ms: nextMs }],
      };
    }
    case 'ackTimeout':
      if (state.name !== 'waitingAck') return { state, effects: [] };
      // §13.3.1.4: the session "SHOULD be terminated. This is accomplished with a BYE".
      return {
        state: move(state, 'terminated', { ackCSeq: null }),
        effects: [...STOP_ALL, { type: 'sendBye' }, { type: 'terminated', reason: 'ack-timeout' }],
      };
    case 'glareRetry':
      if (!state.glareRetryPending) return { state, effects: [] };
      return { state: { ...state, glareRetryPending: false }, effects: [{ type: 'retryInvite' }] };
  }
}

/** The I/O the session's effects need; the UA implements them on top of the dialog and transaction layer. */
export interface InviteSessionPorts {
  retransmit2xx(): void;
  sendBye(): void;
  rejectInvite(status: 491 | 500, retryAfter?: number): void;
  retryInvite(): void;
  terminated(reason: TerminationReason): void;
}

export interface SessionTimerPort {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: SessionTimerPort = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Holds one session's state and runs the effects of each transition through the ports. */
export class InviteSession {
  #state: InviteSessionState = initialInviteSessionState();
  /** Made on the first timer: a confirmed UAC session, the common held call, never sets one. */
  #timers: Map<SessionTimer, unknown> | undefined;

  constructor(
    private readonly ctx: InviteSessionContext,
    private readonly ports: InviteSessionPorts,
    private readonly clock: SessionTimerPort = realTimers,
  ) {}

  get state(): InviteSessionState {
    return this.#state;
  }

  /** Applies one input and returns the effects it ran (the UA checks them for a `rejectInvite`). */
  handle(input: InviteSessionInput): readonly InviteSessionEffect[] {
    const step = transition(this.#state, input, this.ctx);
    this.#state = step.state;
    for (const effect of step.effects) this.#run(effect);
    return step.effects;
  }

  /** Releases the timers without a transition: the UA is shutting down and sends nothing more. */
  dispose(): void {
    if (this.#timers === undefined) return;
    for (const timer of [...this.#timers.keys()]) this.#clear(timer);
  }

  #run(effect: InviteSessionEffect): void {
    switch (effect.type) {
      case 'setTimer': {
        this.#clear(effect.timer);
        const handle = this.clock.setTimeout(() => {
          this.#timers?.delete(effect.timer);
          this.handle({ type: 'timer', timer: effect.timer });
        }, effect.ms);
        (this.#timers ??= new Map()).set(effect.timer, handle);
        return;
      }
      case 'clearTimer':
        this.#clear(effect.timer);
        return;
      case 'retransmit2xx':
        this.ports.retransmit2xx();
        return;
      case 'sendBye':
        this.ports.sendBye();
        return;
      case 'rejectInvite':
        this.ports.rejectInvite(effect.status, effect.retryAfter);
        return;
      case 'retryInvite':
        this.ports.retryInvite();
        return;
      case 'terminated':
        this.ports.terminated(effect.reason);
        return;
    }
  }

  #clear(timer: SessionTimer): void {
    const handle = this.#timers?.get(timer);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.#timers?.delete(timer);
  }
}
