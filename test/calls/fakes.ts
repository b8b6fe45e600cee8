/** In-memory ports for unit tests of the origination runtime: they record what they were asked and let the test answer. */
import pino from 'pino';
import type { Account } from '../../src/config/schema.ts';
import { OriginationRuntime } from '../../src/calls/origination-runtime.ts';
import type {
  CallRecord,
  CallRecords,
  Clock,
  DialogSnapshot,
  InviteSnapshot,
  DialRequest,
  ForkEvents,
  LegSignalling,
  PlanResult,
  Ringback,
  Router,
  TimerHandle,
} from '../../src/calls/ports.ts';

export class ManualClock implements Clock {
  t = 1_000_000;
  private seq = 0;
  readonly timers = new Map<number, { at: number; fire: () => void }>();
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fire: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fire });
    return id as unknown as TimerHandle;
  }
  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }
  /** Moves time forward, firing due timers in deadline order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fire();
    }
    this.t = end;
  }
}

export class FakeSignalling implements LegSignalling {
  readonly log: string[] = [];
  readonly forks = new Map<string, { request: DialRequest; events: ForkEvents }>();
  readonly byes: DialogSnapshot[] = [];
  readonly cancels: InviteSnapshot[] = [];
  dial(request: DialRequest, events: ForkEvents): void {
    this.log.push(`dial ${request.forkId}`);
    this.forks.set(request.forkId, { request, events });
  }
  cancel(forkId: string): void {
    this.log.push(`cancel ${forkId}`);
  }
  ack(forkId: string, sdp: string): void {
    this.log.push(`ack ${forkId} ${sdp}`);
  }
  discard(forkId: string): void {
    this.log.push(`discard ${forkId}`);
  }
  reinvite(forkId: string, sdp: string): void {
    this.log.push(`reinvite ${forkId} ${sdp}`);
  }
  bye(forkId: string): void {
    this.log.push(`bye ${forkId}`);
  }
  relay(first: string, second: string): void {
    this.log.push(`relay ${first} ${second}`);
  }
  byeDialog(dialog: DialogSnapshot): Promise<void> {
    this.byes.push(dialog);
    return Promise.resolve();
  }
  cancelInvite(invite: InviteSnapshot): Promise<void> {
    this.cancels.push(invite);
    return Promise.resolve();
  }
  events(forkId: string): ForkEvents {
    const fork = this.forks.get(forkId);
    if (!fork) throw new Error(`no fork ${forkId}`);
    return fork.events;
  }
}

export class FakeRingback implements Ringback {
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  fail = false;
  start(callId: string, offerSdp: string): Promise<string> {
    this.started.push(`${callId} ${offerSdp}`);
    return this.fail ? Promise.reject(new Error('no RTP port')) : Promise.resolve(`rbt-answer-to-${offerSdp}`);
  }
  stop(callId: string): void {
    this.stopped.push(callId);
  }
}

export class MemoryRecords implements CallRecords {
  readonly records = new Map<string, CallRecord>();
  saves = 0;
  save(record: CallRecord): void {
    this.saves++;
    this.records.set(record.callId, JSON.parse(JSON.stringify(record)) as CallRecord);
  }
  listOpen(): CallRecord[] {
    return [...this.records.values()].filter((r) => r.state.phase !== 'ended');
  }
  get(callId: string): CallRecord | undefined {
    return this.records.get(callId);
  }
}

/** Extensions 1xx ring one phone each; numbers of 7+ digits go to the trunk; anything else has no route. */
export const fakeRouter: Router = {
  plan({ number }): PlanResult {
    if (/^1\d\d$/.test(number)) {
      return {
        ok: true,
        leg: { dialed: number, steps: [{ targets: [{ kind: 'phone', accountId: `1${number}`, extension: number, contact: `sip:${number}@127.0.0.1:5999`, sendTo: { transport: 'udp', host: '127.0.0.1', port: 5999 } }], ringSeconds: null }] },
      };
    }
    if (/^\d{7,}$/.test(number)) {
      return {
        ok: true,
        leg: { dialed: `9${number}`, steps: [{ targets: [{ kind: 'trunk', attempts: [{ trunk: 'carrier', number, rule: 'out', isFinal: true }] }], ringSeconds: null }] },
      };
    }
    return { ok: false, reason: `nothing matches ${number}` };
  },
};

export const account: Account = {
  account_id: '1101',
  extension: '101',
  type: 'sip',
  display_name: 'Alice Anders',
  caller_id: { name: 'Alice Anders', number: '15550000101' },
  call_api_settings: { rewrites: [] },
  outgoing_rules_allow: [],
  outgoing_rules_deny: [],
  call_rules: [],
  ivr_variables: [],
};

export function fakeRuntime(overrides: { maxRing?: number; maxCall?: number; logger?: pino.Logger } = {}) {
  const clock = new ManualClock();
  const signalling = new FakeSignalling();
  const ringback = new FakeRingback();
  const records = new MemoryRecords();
  let n = 0;
  const runtime = new OriginationRuntime({
    signalling,
    ringback,
    router: fakeRouter,
    records,
    ivrVariables: { lookup: (name) => (name === 'balance' ? 3 : undefined) },
    clock,
    calls: { max_ring_seconds: overrides.maxRing ?? 120, max_call_seconds: overrides.maxCall ?? 0 },
    logger: overrides.logger ?? pino({ level: 'silent' }),
    newCallId: () => `call${++n}`,
  });
  return { runtime, clock, signalling, ringback, records };
}
