/**
 * Runs origination machines: routes both legs, feeds each call's inputs (port events, timer firings, API
 * hang-ups) through `transition()`, persists the resulting state, and carries out the named effects through the
 * ports. All call knowledge lives in the machine state; this class only holds the live ones and their timers.
 */
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { CallsConfig } from '../config/schema.ts';
import type { CallState, LegState, TimerName } from './call-state.ts';
import { createCall, transition, type CallEffect, type CallInput } from './origination-machine.ts';
import {
  OriginateFailedError,
  type IvrVariableStatus,
  type LiveCall,
  type LiveCallLeg,
  type OriginateRequest,
  type OriginateResult,
  type Originator,
} from './originator.ts';
import type {
  CallerId,
  CallRecord,
  CallRecords,
  Clock,
  DialogSnapshot,
  ForkEvents,
  InviteSnapshot,
  IvrVariables,
  LegSignalling,
  PlannedLeg,
  Ringback,
  Router,
  TimerHandle,
} from './ports.ts';

/** Calls closed together at start-up. */
const RECOVERY_BATCH = 200;

export interface OriginationRuntimeDeps {
  readonly signalling: LegSignalling;
  readonly ringback: Ringback;
  readonly router: Router;
  readonly records: CallRecords;
  readonly ivrVariables: IvrVariables;
  readonly clock: Clock;
  readonly calls: CallsConfig;
  readonly logger: Logger;
  readonly newCallId?: () => string;
}

/** One running timer per name at most: a fixed-shape record rather than a Map, looked up on every start and cancel. */
type EntryTimers = Record<TimerName, TimerHandle | null>;

/**
 * A live call. Its fork events, timers and ringback hold the entry itself, so their reports reach it without a
 * lookup by call id; `ended` tells them the call has left the runtime.
 */
interface LiveEntry {
  readonly callId: string;
  state: CallState;
  readonly base: Omit<CallRecord, 'state'>;
  readonly timers: EntryTimers;
  /** The state last given to the store. */
  saved: CallState | null;
  /** Inputs reported while a transition's effects run; created on the first one. */
  queue: CallInput[] | null;
  running: boolean;
  ended: boolean;
  pending: { resolve(r: OriginateResult): void; reject(e: Error): void; result: OriginateResult } | null;
}

/** The record as saved: written out field by field, which costs less than spreading the base per save. */
function recordOf(base: Omit<CallRecord, 'state'>, state: CallState): CallRecord {
  return {
    callId: base.callId,
    accountId: base.accountId,
    requestedBy: base.requestedBy,
    method: base.method,
    request: base.request,
    state,
  };
}

/**
 * The caller ID the first party sees: the API's name, and the number about to be dialed second. A phone gets
 * it as the PBX user dials it (its redial goes back through the outgoing rules); a carrier gets it as a carrier
 * receives it, after the outgoing rule's trim and prepend (the outside-line 9 means nothing out there). A second
 * leg that stays inside the PBX (an extension, an IVR) keeps its extension number either way.
 */
function firstCallerId(request: OriginateRequest, second: PlannedLeg): CallerId {
  const trunk = second.steps[0]?.targets.find((target) => target.kind === 'trunk');
  const external = trunk?.attempts[0]?.number ?? second.dialed;
  return { name: request.callerIdName || 'PBX', number: second.dialed, external };
}

function secondCallerId(request: OriginateRequest): CallerId {
  const account = request.account;
  return {
    name: account.caller_id.name || account.display_name,
    number: account.caller_id.number || account.extension,
    external: account.caller_id.number,
  };
}

/** A leg without a route still has its number, for the record. */
function unrouted(leg: PlannedLeg | null, number: string): PlannedLeg {
  return leg ?? { dialed: number, steps: [] };
}

/** Milliseconds between two instants of a leg, null when either did not happen. */
function span(from: number | null, to: number | null): number | null {
  return from === null || to === null ? null : to - from;
}

/**
 * The one info line per origination: enough for an operator to see what happened without reading the store
 * (who was dialed, how far it got, why it ended, how long each part took).
 */
function outcome(state: CallState, accountId: string): Record<string, unknown> {
  const { first, second } = state.legs;
  const end = state.endedAt;
  return {
    callId: state.id,
    accountId,
    dialedFirst: first.dialed,
    dialedSecond: second.dialed,
    result: state.bridgedAt !== null ? 'bridged' : first.answerAt !== null ? 'first_answered' : 'not_answered',
    endReason: state.endReason,
    first: { outcome: first.outcome, sipStatus: first.sipStatus, ringMs: span(first.ringAt, first.answerAt ?? first.endAt) },
    second: { outcome: second.outcome, sipStatus: second.sipStatus, ringMs: span(second.ringAt, second.answerAt ?? second.endAt) },
    bridgedMs: span(state.bridgedAt, end),
    totalMs: span(state.createdAt, end),
  };
}

function liveLeg(leg: LegState): LiveCallLeg {
  const state = leg.endAt !== null ? 'ended' : leg.answerAt !== null ? 'answered' : leg.ringAt !== null ? 'ringing' : 'routing';
  return { leg: leg.name, number: leg.dialed, state };
}

/**
 * One fork's reports, as prototype methods: an object literal of arrow functions would cost every fork nine
 * closures, and the TS toolchain names each of them (a property dictionary per closure), some 5 KiB per bridged
 * call held for the whole call.
 */
class RuntimeForkEvents implements ForkEvents {
  constructor(
    private readonly runtime: OriginationRuntime,
    private readonly entry: LiveEntry,
    private readonly forkId: string,
  ) {}

  sent(invite: InviteSnapshot): void {
    this.runtime.report(this.entry, { type: 'fork.sent', at: this.runtime.now(), forkId: this.forkId, invite });
  }

  progress(status: number): void {
    this.runtime.report(this.entry, { type: 'fork.progress', at: this.runtime.now(), forkId: this.forkId, status });
  }

  answered(sdp: string, dialog: DialogSnapshot | null): void {
    this.runtime.report(this.entry, { type: 'fork.answered', at: this.runtime.now(), forkId: this.forkId, sdp, dialog });
  }

  failed(status: number, reason: string): void {
    this.runtime.report(this.entry, { type: 'fork.failed', at: this.runtime.now(), forkId: this.forkId, status, reason });
  }

  ended(): void {
    this.runtime.report(this.entry, { type: 'fork.ended', at: this.runtime.now(), forkId: this.forkId });
  }

  reinviteAnswered(sdp: string): void {
    this.runtime.report(this.entry, { type: 'reinvite.answered', at: this.runtime.now(), forkId: this.forkId, sdp });
  }

  reinviteFailed(status: number): void {
    this.runtime.report(this.entry, { type: 'reinvite.failed', at: this.runtime.now(), forkId: this.forkId, status });
  }

  dialogChanged(dialog: DialogSnapshot): void {
    this.runtime.report(this.entry, { type: 'fork.dialog', at: this.runtime.now(), forkId: this.forkId, dialog });
  }
}

/** Told after a live call's state changed (its last call has the ended state, after the call left `listCalls`). */
export type CallWatcher = (callId: string, state: CallState) => void;

export class OriginationRuntime implements Originator {
  private readonly live = new Map<string, LiveEntry>();
  private readonly watchers = new Set<CallWatcher>();
  private readonly newCallId: () => string;

  constructor(private readonly deps: OriginationRuntimeDeps) {
    this.newCallId = deps.newCallId ?? randomUUID;
  }

  /** Ring limit of a leg: the API's seconds under the server-wide cap; 0 means the cap alone. */
  private ringLimitMs(seconds: number): number {
    const cap = this.deps.calls.max_ring_seconds;
    return (seconds === 0 ? cap : Math.min(seconds, cap)) * 1000;
  }

  originate(request: OriginateRequest): Promise<OriginateResult> {
    const variables: IvrVariableStatus[] = request.variables.map(({ name }) => {
      const id = this.deps.ivrVariables.lookup(name);
      return id === undefined ? { name, status: 'does_not_exist' } : { name, status: 'exists', id };
    });
    const callId = this.newCallId();
    const at = this.deps.clock.now();
    const base: Omit<CallRecord, 'state'> = {
      callId,
      accountId: request.account.account_id,
      requestedBy: request.requestedBy,
      method: request.method,
      request: {
        dialFirst: request.dialFirst,
        dialSecond: request.dialSecond,
        callerIdName: request.callerIdName,
        timeout: request.timeout,
        timeoutSecondCall: request.timeoutSecondCall,
        ignoreUserApiSettings: request.ignoreUserApiSettings,
        ignoreUserCallRules: request.ignoreUserCallRules,
        autoAnswer: request.autoAnswer,
        variables: request.variables,
      },
    };
    // Both legs are routed before anything rings: a leg without a route fails the call with nobody rung.
    const first = this.deps.router.plan({
      number: request.dialFirst,
      account: request.account,
      ignoreApiSettings: request.ignoreUserApiSettings,
      followCallRules: !request.ignoreUserCallRules,
    });
    const second = this.deps.router.plan({
      number: request.dialSecond,
      account: request.account,
      ignoreApiSettings: request.ignoreUserApiSettings,
      followCallRules: true,
    });
    const state = createCall({
      id: callId,
      at,
      first: {
        plan: unrouted(first.ok ? first.leg : null, request.dialFirst),
        callerId: firstCallerId(request, unrouted(second.ok ? second.leg : null, request.dialSecond)),
        autoAnswer: request.autoAnswer,
        timeoutMs: this.ringLimitMs(request.timeout),
      },
      second: {
        plan: unrouted(second.ok ? second.leg : null, request.dialSecond),
        callerId: secondCallerId(request),
        timeoutMs: this.ringLimitMs(request.timeoutSecondCall),
      },
      maxCallMs: this.deps.calls.max_call_seconds * 1000,
      variables: request.variables,
    });
    if (!first.ok || !second.ok) {
      const leg = !first.ok ? 'first' : 'second';
      const detail = !first.ok ? first.reason : !second.ok ? second.reason : '';
      const ended: CallState = { ...state, phase: 'ended', replied: true, endedAt: at, endReason: `${leg}_no_route` };
      this.deps.records.save(recordOf(base, ended));
      this.deps.logger.info({ ...outcome(ended, base.accountId), detail }, 'call ended');
      return Promise.reject(new OriginateFailedError('no_route', `${leg} leg: ${detail}`));
    }
    const result: OriginateResult = {
      callId,
      dialedFirst: first.leg.dialed,
      dialedSecond: second.leg.dialed,
      variables,
    };
    return new Promise<OriginateResult>((resolve, reject) => {
      const entry: LiveEntry = {
        callId,
        state,
        base,
        timers: { ring_first: null, ring_second: null, step: null, glare: null, max_call: null },
        saved: null,
        queue: null,
        running: false,
        ended: false,
        pending: { resolve, reject, result },
      };
      this.live.set(callId, entry);
      // The routed state is saved with what `start` makes of it: see dispatch().
      this.dispatch(entry, { type: 'start', at });
    });
  }

  listCalls(): readonly LiveCall[] {
    const calls: LiveCall[] = [];
    for (const [callId, { state, base }] of this.live) {
      calls.push({
        callId,
        accountId: base.accountId,
        state: state.phase,
        startedAt: new Date(state.createdAt),
        legs: [liveLeg(state.legs.first), liveLeg(state.legs.second)],
      });
    }
    return calls;
  }

  /** Follows every state change of the live calls (tooling, tests); returns the function that stops it. */
  watch(watcher: CallWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** The machine state of a live call (for diagnostics and tests). */
  getState(callId: string): CallState | undefined {
    return this.live.get(callId)?.state;
  }

  hangUp(callId: string): Promise<boolean> {
    const entry = this.live.get(callId);
    if (!entry) return Promise.resolve(false);
    this.dispatch(entry, { type: 'hangup', at: this.deps.clock.now(), reason: 'api_hangup' });
    return Promise.resolve(true);
  }

  /** Ends every live call (shutdown): their peers get CANCEL or BYE. */
  hangUpAll(reason: string): void {
    for (const entry of [...this.live.values()]) this.dispatch(entry, { type: 'hangup', at: this.deps.clock.now(), reason });
  }

  /**
   * Closes calls a previous process left open: BYE where a dialog was established (the record keeps its
   * Call-ID, tags, target, route set and CSeq), CANCEL where an INVITE still rang (the record keeps what
   * RFC 3261 §9.1 needs), then the record says why it ended. Returns how many were closed.
   */
  async recover(reason = 'server_restart'): Promise<number> {
    const open = this.deps.records.listOpen().filter((r) => !this.live.has(r.callId));
    // In batches, so a restart after thousands of calls does not send every BYE in the same instant.
    for (let i = 0; i < open.length; i += RECOVERY_BATCH) {
      await Promise.all(open.slice(i, i + RECOVERY_BATCH).map((record) => this.close(record, reason)));
    }
    return open.length;
  }

  private async close(record: CallRecord, reason: string): Promise<void> {
    const dialogs = record.state.forks.filter((f) => (f.status === 'confirmed' || f.status === 'answered') && f.dialog);
    const ringing = record.state.forks.filter((f) => f.status === 'ringing' && f.invite);
    await Promise.all([
      ...dialogs.map((fork) =>
        this.deps.signalling.byeDialog(fork.dialog!).catch((err: unknown) => {
          this.deps.logger.warn({ err, callId: record.callId, sipCallId: fork.dialog!.callId }, 'BYE after restart failed');
        }),
      ),
      ...ringing.map((fork) =>
        this.deps.signalling.cancelInvite(fork.invite!).catch((err: unknown) => {
          this.deps.logger.warn({ err, callId: record.callId, sipCallId: fork.invite!.callId }, 'CANCEL after restart failed');
        }),
      ),
    ]);
    const at = this.deps.clock.now();
    const end = (leg: LegState): LegState =>
      leg.ringAt !== null && leg.endAt === null ? { ...leg, endAt: at, outcome: leg.outcome ?? 'cancelled' } : leg;
    const state: CallState = {
      ...record.state,
      phase: 'ended',
      timers: {},
      forks: record.state.forks.map((f) =>
        f.status === 'ringing' ? { ...f, status: 'cancelled' } : f.status === 'answered' || f.status === 'confirmed' ? { ...f, status: 'ended' } : f,
      ),
      legs: { first: end(record.state.legs.first), second: end(record.state.legs.second) },
      replied: true,
      endedAt: at,
      endReason: reason,
    };
    this.deps.records.save({ ...record, state });
  }

  private dispatch(entry: LiveEntry, input: CallInput): void {
    if (entry.ended) {
      // An answer for a call already gone (e.g. the 2xx crossed our CANCEL): ACK and BYE it all the same.
      if (input.type === 'fork.answered') this.deps.signalling.discard(input.forkId);
      return;
    }
    // Ports may report synchronously from inside an effect; those inputs wait for the current one to finish.
    if (entry.running) {
      (entry.queue ??= []).push(input);
      return;
    }
    entry.running = true;
    try {
      let next: CallInput | undefined = input;
      while (next !== undefined && !this.step(entry, next)) next = entry.queue?.shift();
    } finally {
      entry.running = false;
      // One save per turn, whatever the inputs it took (an INVITE is dialed and reported sent within one turn):
      // the store keeps only a call's newest state until its next window, which cannot come within a turn. Inputs
      // that change nothing (provisional responses, stale timers) cost no write.
      if (entry.state !== entry.saved) {
        entry.saved = entry.state;
        this.deps.records.save(recordOf(entry.base, entry.state));
      }
    }
    if (this.watchers.size > 0) for (const watcher of this.watchers) watcher(entry.callId, entry.state);
  }

  /** One input through the machine and its effects; true once the call has ended. */
  private step(entry: LiveEntry, input: CallInput): boolean {
    const { state, effects } = transition(entry.state, input);
    entry.state = state;
    for (let i = 0; i < effects.length; i++) this.run(entry, effects[i]!);
    if (state.phase !== 'ended') return false;
    entry.ended = true;
    const { timers } = entry;
    for (const name in timers) {
      const handle = timers[name as TimerName];
      if (handle !== null) this.deps.clock.clearTimer(handle);
    }
    this.live.delete(entry.callId);
    this.deps.logger.info(outcome(state, entry.base.accountId), 'call ended');
    return true;
  }

  /** Feeds one port report into its call (used by RuntimeForkEvents). */
  report(entry: LiveEntry, input: CallInput): void {
    this.dispatch(entry, input);
  }

  now(): number {
    return this.deps.clock.now();
  }

  private run(entry: LiveEntry, effect: CallEffect): void {
    const { signalling, ringback, clock, logger } = this.deps;
    const callId = entry.callId;
    switch (effect.type) {
      case 'dial': {
        const events = new RuntimeForkEvents(this, entry, effect.request.forkId);
        try {
          signalling.dial(effect.request, events);
        } catch (err) {
          logger.warn({ err, callId, forkId: effect.request.forkId }, 'dial failed');
          events.failed(0, err instanceof Error ? err.message : String(err));
        }
        return;
      }
      case 'cancel':
        return signalling.cancel(effect.forkId);
      case 'ack':
        return signalling.ack(effect.forkId, effect.sdp);
      case 'discard':
        return signalling.discard(effect.forkId);
      case 'reinvite':
        return signalling.reinvite(effect.forkId, effect.sdp);
      case 'bye':
        return signalling.bye(effect.forkId);
      case 'relay':
        return signalling.relay(effect.first, effect.second);
      case 'startRingback':
        ringback.start(callId, effect.offerSdp).then(
          (sdp) => this.dispatch(entry, { type: 'ringback.ready', at: clock.now(), sdp }),
          (err: unknown) => {
            logger.warn({ err, callId }, 'ringback could not start');
            this.dispatch(entry, { type: 'ringback.failed', at: clock.now(), reason: err instanceof Error ? err.message : String(err) });
          },
        );
        return;
      case 'stopRingback':
        return ringback.stop(callId);
      case 'startTimer': {
        const timer = effect.timer;
        const old = entry.timers[timer];
        if (old !== null) clock.clearTimer(old);
        entry.timers[timer] = clock.setTimer(effect.ms, () => {
          entry.timers[timer] = null;
          this.dispatch(entry, { type: 'timer', at: clock.now(), timer });
        });
        return;
      }
      case 'cancelTimer': {
        const handle = entry.timers[effect.timer];
        if (handle !== null) clock.clearTimer(handle);
        entry.timers[effect.timer] = null;
        return;
      }
      case 'replyAnswered':
        entry.pending?.resolve(entry.pending.result);
        entry.pending = null;
        return;
      case 'replyFailed':
        entry.pending?.reject(new OriginateFailedError(effect.reason));
        entry.pending = null;
        return;
    }
  }
}
