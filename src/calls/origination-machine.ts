/**
 * The origination machine: RFC 3725 third-party call control (flow I, late offer on both legs) as a pure,
 * synchronous function. `transition(state, input)` returns the next state and the named effects the runtime
 * carries out through the ports; the diagram is on `CallPhase` in `call-state.ts`.
 */
import type { CallPhase, CallState, ForkState, LegName, LegOutcome, LegState, TimerName } from './call-state.ts';
import type { CallerId, DialogSnapshot, DialRequest, InviteSnapshot, PlannedLeg, PlannedTarget } from './ports.ts';

export type CallInput =
  | { readonly type: 'start'; readonly at: number }
  | { readonly type: 'fork.sent'; readonly at: number; readonly forkId: string; readonly invite: InviteSnapshot }
  | { readonly type: 'fork.progress'; readonly at: number; readonly forkId: string; readonly status: number }
  | {
      readonly type: 'fork.answered';
      readonly at: number;
      readonly forkId: string;
      readonly sdp: string;
      readonly dialog: DialogSnapshot | null;
    }
  | { readonly type: 'fork.failed'; readonly at: number; readonly forkId: string; readonly status: number; readonly reason: string }
  | { readonly type: 'fork.ended'; readonly at: number; readonly forkId: string }
  | { readonly type: 'reinvite.answered'; readonly at: number; readonly forkId: string; readonly sdp: string }
  | { readonly type: 'fork.dialog'; readonly at: number; readonly forkId: string; readonly dialog: DialogSnapshot }
  | { readonly type: 'reinvite.failed'; readonly at: number; readonly forkId: string; readonly status: number }
  | { readonly type: 'ringback.ready'; readonly at: number; readonly sdp: string }
  | { readonly type: 'ringback.failed'; readonly at: number; readonly reason: string }
  | { readonly type: 'timer'; readonly at: number; readonly timer: TimerName }
  | { readonly type: 'hangup'; readonly at: number; readonly reason: string };

export type CallEffect =
  | { readonly type: 'dial'; readonly request: DialRequest }
  | { readonly type: 'cancel'; readonly forkId: string }
  | { readonly type: 'ack'; readonly forkId: string; readonly sdp: string }
  | { readonly type: 'discard'; readonly forkId: string }
  | { readonly type: 'reinvite'; readonly forkId: string; readonly sdp: string }
  | { readonly type: 'bye'; readonly forkId: string }
  /** Both dialogs are confirmed: from now on a re-INVITE from either party is relayed to the other. */
  | { readonly type: 'relay'; readonly first: string; readonly second: string }
  | { readonly type: 'startRingback'; readonly offerSdp: string }
  | { readonly type: 'stopRingback' }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'cancelTimer'; readonly timer: TimerName }
  /** dial_first answered and dial_second is being dialed: the API may answer with call_info. */
  | { readonly type: 'replyAnswered' }
  | { readonly type: 'replyFailed'; readonly reason: string };

export interface Transition {
  readonly state: CallState;
  readonly effects: readonly CallEffect[];
}

export class IllegalCallTransitionError extends Error {
  override readonly name = 'IllegalCallTransitionError';
  constructor(
    readonly from: CallPhase,
    readonly to: CallPhase,
    readonly input: CallInput['type'],
  ) {
    super(`illegal call transition ${from} -> ${to} on ${input}`);
  }
}

const ALLOWED: Readonly<Record<CallPhase, readonly CallPhase[]>> = {
  ringing_first: ['ringing_first', 'preparing_ringback', 'ended'],
  preparing_ringback: ['preparing_ringback', 'ringing_second', 'ended'],
  ringing_second: ['ringing_second', 'bridging', 'ended'],
  bridging: ['bridging', 'bridged', 'ended'],
  bridged: ['bridged', 'ended'],
  ended: ['ended'],
};

/** Re-INVITE glare (491) retries before the bridge is given up. */
const MAX_GLARE_RETRIES = 3;

/** Trunk failures after which the next non-final attempt is tried (route-plan contract; 0 = transport error). */
const TRUNK_FALLBACK_STATUSES: ReadonlySet<number> = new Set([0, 408, 503]);

export interface NewCall {
  readonly id: string;
  readonly at: number;
  readonly first: { readonly plan: PlannedLeg; readonly callerId: CallerId; readonly autoAnswer: boolean; readonly timeoutMs: number };
  readonly second: { readonly plan: PlannedLeg; readonly callerId: CallerId; readonly timeoutMs: number };
  readonly maxCallMs: number;
  readonly variables: readonly { readonly name: string; readonly value: string }[];
}

function newLeg(name: LegName, plan: PlannedLeg, callerId: CallerId, autoAnswer: boolean, timeoutMs: number): LegState {
  return {
    name,
    dialed: plan.dialed,
    plan,
    callerId,
    autoAnswer,
    timeoutMs,
    step: 0,
    ringAt: null,
    answerAt: null,
    endAt: null,
    winner: null,
    sipStatus: null,
    outcome: null,
  };
}

/** The state of a routed call, before its `start` input. */
export function createCall(call: NewCall): CallState {
  return {
    id: call.id,
    phase: 'ringing_first',
    createdAt: call.at,
    legs: {
      first: newLeg('first', call.first.plan, call.first.callerId, call.first.autoAnswer, call.first.timeoutMs),
      second: newLeg('second', call.second.plan, call.second.callerId, false, call.second.timeoutMs),
    },
    forks: [],
    nextFork: 1,
    timers: {},
    ringbackSdp: null,
    glareAttempts: 0,
    maxCallMs: call.maxCallMs,
    variables: call.variables,
    replied: false,
    bridgedAt: null,
    endedAt: null,
    endReason: null,
  };
}

type Draft<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The working copy of one transition, copied on first write: the caller's state is never touched, and each part
 * (the state, its legs, its forks array, one fork, its timers) is copied at most once per transition however many
 * changes it takes. A part is ours when it is not the very object of the state we started from.
 */
class Work implements Transition {
  state: CallState;
  readonly effects: CallEffect[] = [];

  constructor(
    readonly from: CallState,
    readonly at: number,
  ) {
    this.state = from;
  }
}

function copyState(s: CallState): Draft<CallState> {
  return {
    id: s.id,
    phase: s.phase,
    createdAt: s.createdAt,
    legs: s.legs,
    forks: s.forks,
    nextFork: s.nextFork,
    timers: s.timers,
    ringbackSdp: s.ringbackSdp,
    glareAttempts: s.glareAttempts,
    maxCallMs: s.maxCallMs,
    variables: s.variables,
    replied: s.replied,
    bridgedAt: s.bridgedAt,
    endedAt: s.endedAt,
    endReason: s.endReason,
  };
}

function copyLeg(l: LegState): Draft<LegState> {
  return {
    name: l.name,
    dialed: l.dialed,
    plan: l.plan,
    callerId: l.callerId,
    autoAnswer: l.autoAnswer,
    timeoutMs: l.timeoutMs,
    step: l.step,
    ringAt: l.ringAt,
    answerAt: l.answerAt,
    endAt: l.endAt,
    winner: l.winner,
    sipStatus: l.sipStatus,
    outcome: l.outcome,
  };
}

function copyFork(f: ForkState): Draft<ForkState> {
  return {
    id: f.id,
    leg: f.leg,
    step: f.step,
    target: f.target,
    fallbacks: f.fallbacks,
    status: f.status,
    sipStatus: f.sipStatus,
    dialog: f.dialog,
    invite: f.invite,
    offer: f.offer,
  };
}

/** The state, writable for the rest of the transition. */
function own(w: Work): Draft<CallState> {
  if (w.state === w.from) w.state = copyState(w.from);
  return w.state as Draft<CallState>;
}

function ownForks(w: Work): ForkState[] {
  const s = own(w);
  if (s.forks === w.from.forks) s.forks = w.from.forks.slice();
  return s.forks as ForkState[];
}

/** The fork with this id, writable for the rest of the transition (it must exist). */
function fork(w: Work, id: string): Draft<ForkState> {
  const forks = ownForks(w);
  let i = 0;
  while (forks[i]!.id !== id) i++;
  let f = forks[i]!;
  if (f === w.from.forks[i]) forks[i] = f = copyFork(f);
  return f as Draft<ForkState>;
}

function legOf(w: Work, name: LegName): Draft<LegState> {
  const s = own(w);
  if (s.legs === w.from.legs) s.legs = { first: s.legs.first, second: s.legs.second };
  const legs = s.legs as Draft<CallState['legs']>;
  let l = legs[name];
  if (l === w.from.legs[name]) legs[name] = l = copyLeg(l);
  return l as Draft<LegState>;
}

function setTimerAt(w: Work, timer: TimerName, at: number | undefined): void {
  const s = own(w);
  // A new object without the key rather than `delete`, which would turn the timers into a slow dictionary.
  const timers: Partial<Record<TimerName, number>> = {};
  for (const name in s.timers) {
    if (name !== timer) timers[name as TimerName] = s.timers[name as TimerName]!;
  }
  if (at !== undefined) timers[timer] = at;
  s.timers = timers;
}

function startTimer(w: Work, timer: TimerName, ms: number): void {
  setTimerAt(w, timer, w.at + ms);
  w.effects.push({ type: 'startTimer', timer, ms });
}

function cancelTimer(w: Work, timer: TimerName): void {
  if (w.state.timers[timer] === undefined) return;
  setTimerAt(w, timer, undefined);
  w.effects.push({ type: 'cancelTimer', timer });
}

function forgetTimer(w: Work, timer: TimerName): void {
  setTimerAt(w, timer, undefined);
}

function dialFork(w: Work, leg: LegState, step: number, target: PlannedTarget): void {
  const s = own(w);
  const id = `${s.id}.${s.nextFork}`;
  const fork: ForkState =
    target.kind === 'trunk'
      ? {
          id,
          leg: leg.name,
          step,
          target: { kind: 'trunk', attempt: target.attempts[0]! },
          fallbacks: target.attempts.slice(1),
          status: 'ringing',
          sipStatus: null,
          dialog: null,
          invite: null,
          offer: null,
        }
      : { id, leg: leg.name, step, target, fallbacks: [], status: 'ringing', sipStatus: null, dialog: null, invite: null, offer: null };
  ownForks(w).push(fork);
  s.nextFork += 1;
  w.effects.push({
    type: 'dial',
    request: {
      forkId: id,
      callId: s.id,
      target: fork.target,
      callerId: leg.callerId,
      // Auto-answer is for the dialing party's own phones, never toward a trunk or the PBX's own apps.
      autoAnswer: leg.autoAnswer && fork.target.kind === 'phone',
      variables: s.variables,
    },
  });
}

/**
 * Rings the first step at or after `from` that has something to ring. False when the plan is exhausted.
 * Destinations of one step ring in parallel (RFC 3261 §16.7 forking done by the PBX as a B2BUA).
 */
function ringStep(w: Work, legName: LegName, from: number): boolean {
  const steps = w.state.legs[legName].plan.steps;
  let index = from;
  while (index < steps.length && steps[index]!.targets.every((t) => t.kind === 'trunk' && t.attempts.length === 0)) index++;
  const step = steps[index];
  if (!step) return false;
  const leg = legOf(w, legName);
  leg.step = index;
  leg.ringAt ??= w.at;
  for (const target of step.targets) {
    if (target.kind === 'trunk' && target.attempts.length === 0) continue;
    dialFork(w, leg, index, target);
  }
  if (step.ringSeconds !== null) startTimer(w, 'step', step.ringSeconds * 1000);
  else cancelTimer(w, 'step');
  return true;
}

function outcomeOf(status: number): LegOutcome {
  if (status === 486 || status === 600) return 'busy';
  if (status === 603 || status === 403) return 'declined';
  return 'unreachable';
}

/** The failure that best explains the leg (RFC 3261 §16.7 step 6 in spirit: busy and declines speak loudest). */
function legFailure(s: CallState, leg: LegName): { outcome: LegOutcome; status: number } {
  const statuses = s.forks.filter((f) => f.leg === leg && f.status === 'failed').map((f) => f.sipStatus ?? 0);
  for (const wanted of ['busy', 'declined'] as const) {
    const status = statuses.find((st) => outcomeOf(st) === wanted);
    if (status !== undefined) return { outcome: wanted, status };
  }
  return { outcome: 'unreachable', status: statuses[0] ?? 0 };
}

/** Ends the call: cancels what rings, discards unconfirmed 2xx, BYEs confirmed dialogs (RFC 3261 §15). */
function endCall(w: Work, reason: string, failedLeg?: { leg: LegName; outcome: LegOutcome; status: number | null }): void {
  const before = w.state.phase;
  for (const f of w.state.forks) {
    if (f.status === 'ringing') {
      fork(w, f.id).status = 'cancelled';
      w.effects.push({ type: 'cancel', forkId: f.id });
    } else if (f.status === 'answered') {
      fork(w, f.id).status = 'ended';
      w.effects.push({ type: 'discard', forkId: f.id });
    } else if (f.status === 'confirmed') {
      fork(w, f.id).status = 'ended';
      w.effects.push({ type: 'bye', forkId: f.id });
    }
  }
  const s = own(w);
  for (const timer in s.timers) w.effects.push({ type: 'cancelTimer', timer: timer as TimerName });
  s.timers = {};
  if (before === 'preparing_ringback' || before === 'ringing_second') w.effects.push({ type: 'stopRingback' });
  for (const name of LEG_NAMES) {
    if (s.legs[name].ringAt === null) continue;
    const leg = legOf(w, name);
    if (failedLeg?.leg === name) {
      leg.outcome = failedLeg.outcome;
      leg.sipStatus = failedLeg.status;
    } else leg.outcome ??= 'cancelled';
    leg.endAt = w.at;
  }
  if (!s.replied) {
    w.effects.push({ type: 'replyFailed', reason: failedLeg?.leg === 'first' ? failedLeg.outcome : reason });
  }
  s.phase = 'ended';
  s.replied = true;
  s.endedAt = w.at;
  s.endReason = reason;
}

function legFailed(w: Work, leg: LegName, outcome: LegOutcome, status: number | null): void {
  endCall(w, `${leg}_${outcome}`, { leg, outcome, status });
}

const RINGING_PHASE: Readonly<Record<LegName, CallPhase>> = { first: 'ringing_first', second: 'ringing_second' };
const LEG_NAMES: readonly LegName[] = ['first', 'second'];

function onAnswered(w: Work, answered: ForkState, sdp: string, dialog: DialogSnapshot | null): void {
  const legName = answered.leg;
  if (answered.status !== 'ringing' || w.state.phase !== RINGING_PHASE[legName] || w.state.legs[legName].winner !== null) {
    // RFC 3261 §13.2.2.4: a 2xx from another fork (or after CANCEL crossed it) must still be ACKed, then BYEd.
    const f = fork(w, answered.id);
    f.status = 'ended';
    f.sipStatus = 200;
    f.dialog = dialog;
    w.effects.push({ type: 'discard', forkId: answered.id });
    return;
  }
  // The INVITE snapshot served a CANCEL, the plan the ringing: an answered leg keeps neither for its whole call.
  const f = fork(w, answered.id);
  f.status = 'answered';
  f.sipStatus = 200;
  f.dialog = dialog;
  f.offer = sdp;
  f.invite = null;
  const leg = legOf(w, legName);
  leg.winner = answered.id;
  leg.answerAt = w.at;
  leg.sipStatus = 200;
  leg.outcome = 'answered';
  leg.plan = { dialed: leg.plan.dialed, steps: [] };
  // First 2xx wins; the other forks are cancelled (RFC 3261 §16.7 step 10 / §9.1).
  for (const other of w.state.forks) {
    if (other.leg === legName && other.status === 'ringing') {
      fork(w, other.id).status = 'cancelled';
      w.effects.push({ type: 'cancel', forkId: other.id });
    }
  }
  cancelTimer(w, legName === 'first' ? 'ring_first' : 'ring_second');
  cancelTimer(w, 'step');
  const s = own(w);
  if (legName === 'first') {
    s.phase = 'preparing_ringback';
    w.effects.push({ type: 'startRingback', offerSdp: sdp });
    return;
  }
  // RFC 3725 §5 flow I: offer2 goes to the first party in a re-INVITE; its answer will be ACKed to leg 2.
  w.effects.push({ type: 'stopRingback' });
  s.phase = 'bridging';
  w.effects.push({ type: 'reinvite', forkId: s.legs.first.winner!, sdp });
}

function onFailed(w: Work, failed: ForkState, status: number): void {
  const f = fork(w, failed.id);
  f.sipStatus = status;
  // The 487 to our CANCEL, or a failure after the call ended: only the record changes.
  if (failed.status !== 'ringing') return;
  f.status = 'failed';
  if (w.state.phase !== RINGING_PHASE[failed.leg]) return;
  const leg = w.state.legs[failed.leg];
  const next = failed.fallbacks[0];
  if (failed.target.kind === 'trunk' && next && !failed.target.attempt.isFinal && TRUNK_FALLBACK_STATUSES.has(status)) {
    dialFork(w, leg, failed.step, { kind: 'trunk', attempts: failed.fallbacks });
    return;
  }
  const stillRinging = w.state.forks.some((o) => o.leg === failed.leg && o.step === leg.step && o.status === 'ringing');
  if (stillRinging) return;
  if (ringStep(w, failed.leg, leg.step + 1)) return;
  const failure = legFailure(w.state, failed.leg);
  legFailed(w, failed.leg, failure.outcome, failure.status);
}

function onEnded(w: Work, gone: ForkState): void {
  const wasWinner = w.state.legs[gone.leg].winner === gone.id;
  fork(w, gone.id).status = 'ended';
  if (!wasWinner || w.state.phase === 'ended') return;
  endCall(w, `${gone.leg}_hung_up`);
}

function onTimer(w: Work, timer: TimerName): void {
  if (w.state.timers[timer] === undefined) return;
  forgetTimer(w, timer);
  const phase = w.state.phase;
  switch (timer) {
    case 'ring_first':
    case 'ring_second': {
      const leg: LegName = timer === 'ring_first' ? 'first' : 'second';
      if (phase === RINGING_PHASE[leg]) legFailed(w, leg, 'no_answer', null);
      return;
    }
    case 'step': {
      const leg: LegName | null = phase === 'ringing_first' ? 'first' : phase === 'ringing_second' ? 'second' : null;
      if (!leg) return;
      const current = w.state.legs[leg].step;
      for (const f of w.state.forks) {
        if (f.leg === leg && f.step === current && f.status === 'ringing') {
          fork(w, f.id).status = 'cancelled';
          w.effects.push({ type: 'cancel', forkId: f.id });
        }
      }
      if (!ringStep(w, leg, current + 1)) legFailed(w, leg, 'no_answer', null);
      return;
    }
    case 'glare': {
      // RFC 3261 §14.1: after a 491 the owner of the Call-ID retries once its random 2.1-4 s wait is over.
      const second = w.state.forks.find((f) => f.id === w.state.legs.second.winner);
      if (phase === 'bridging' && second?.offer) {
        w.effects.push({ type: 'reinvite', forkId: w.state.legs.first.winner!, sdp: second.offer });
      }
      return;
    }
    case 'max_call':
      if (phase === 'bridged') endCall(w, 'max_call_duration');
      return;
  }
}

function apply(w: Work, input: CallInput): void {
  const phase = w.state.phase;
  switch (input.type) {
    case 'start':
      if (phase !== 'ringing_first' || w.state.forks.length > 0) return;
      startTimer(w, 'ring_first', w.state.legs.first.timeoutMs);
      if (!ringStep(w, 'first', 0)) legFailed(w, 'first', 'unreachable', null);
      return;
    case 'fork.sent':
      // Stored so that a restarted process can CANCEL the fork (RFC 3261 §9.1) if this one dies while it rings.
      if (w.state.forks.some((f) => f.id === input.forkId && f.status === 'ringing')) fork(w, input.forkId).invite = input.invite;
      return;
    case 'fork.progress':
      return;
    case 'fork.dialog':
      if (w.state.forks.some((f) => f.id === input.forkId && (f.status === 'answered' || f.status === 'confirmed'))) {
        fork(w, input.forkId).dialog = input.dialog;
      }
      return;
    case 'fork.answered': {
      const answered = findFork(w.state, input.forkId);
      if (answered) onAnswered(w, answered, input.sdp, input.dialog);
      else w.effects.push({ type: 'discard', forkId: input.forkId });
      return;
    }
    case 'fork.failed': {
      const failed = findFork(w.state, input.forkId);
      if (failed) onFailed(w, failed, input.status);
      return;
    }
    case 'fork.ended': {
      const gone = findFork(w.state, input.forkId);
      if (gone) onEnded(w, gone);
      return;
    }
    case 'ringback.ready': {
      if (phase !== 'preparing_ringback') {
        // The call ended while the tone was being set up.
        w.effects.push({ type: 'stopRingback' });
        return;
      }
      const winner = w.state.legs.first.winner!;
      // Leg 1's late offer is answered by the PBX's tone: the phone hears ringback from our RTP port.
      w.effects.push({ type: 'ack', forkId: winner, sdp: input.sdp });
      fork(w, winner).status = 'confirmed';
      const s = own(w);
      s.phase = 'ringing_second';
      s.ringbackSdp = input.sdp;
      startTimer(w, 'ring_second', s.legs.second.timeoutMs);
      if (!ringStep(w, 'second', 0)) {
        legFailed(w, 'second', 'unreachable', null);
        return;
      }
      own(w).replied = true;
      w.effects.push({ type: 'replyAnswered' });
      return;
    }
    case 'ringback.failed':
      if (phase === 'preparing_ringback') endCall(w, 'media_unavailable');
      return;
    case 'reinvite.answered': {
      if (phase !== 'bridging' || input.forkId !== w.state.legs.first.winner) return;
      const second = w.state.legs.second.winner!;
      // RFC 3725 §5: the first party's answer completes leg 2's late offer; media now flows end to end.
      w.effects.push({ type: 'ack', forkId: second, sdp: input.sdp });
      fork(w, second).status = 'confirmed';
      // Media now flows end to end; the SDPs served their purpose and a held call should not carry them.
      for (const f of w.state.forks) if (f.offer !== null) fork(w, f.id).offer = null;
      const s = own(w);
      s.phase = 'bridged';
      s.ringbackSdp = null;
      s.bridgedAt = input.at;
      // RFC 3725 §5: after the bridge the controller stays in the signalling path, so hold and codec changes
      // from one party must reach the other rather than be answered with our stale SDP.
      w.effects.push({ type: 'relay', first: input.forkId, second });
      if (w.state.maxCallMs > 0) startTimer(w, 'max_call', w.state.maxCallMs);
      return;
    }
    case 'reinvite.failed':
      if (phase !== 'bridging' || input.forkId !== w.state.legs.first.winner) return;
      if (input.status === 491 && w.state.glareAttempts < MAX_GLARE_RETRIES) {
        const attempts = w.state.glareAttempts + 1;
        own(w).glareAttempts = attempts;
        startTimer(w, 'glare', 2100 + ((attempts * 733) % 1900));
        return;
      }
      endCall(w, 'bridge_failed');
      return;
    case 'timer':
      onTimer(w, input.timer);
      return;
    case 'hangup':
      if (phase !== 'ended') endCall(w, input.reason);
      return;
  }
}

function findFork(s: CallState, id: string): ForkState | undefined {
  for (const f of s.forks) if (f.id === id) return f;
  return undefined;
}

export function transition(state: CallState, input: CallInput): Transition {
  // The working copy is itself the transition returned: one object less per input.
  const w = new Work(state, input.at);
  apply(w, input);
  if (!ALLOWED[state.phase].includes(w.state.phase)) throw new IllegalCallTransitionError(state.phase, w.state.phase, input.type);
  return w;
}
