// node --import tsx bench/records.ts [--rate=1000] [--seconds=5] [--store=path/to/call-record-store.ts]
//
// What call records cost the server's main thread per origination. Calls are saved through the real
// CallRecordStore into a real SQLite file (openDatabase: WAL, synchronous=NORMAL, the real migrations) the way the
// runtime saves them: five state changes within ~10 ms (ringing, ringback, second leg, re-INVITE, bridged, most of
// them collapsing in the write-behind window), the end ~200 ms later. The same driver first runs against a store
// that keeps nothing; its CPU is the driver's own and is subtracted. Main-thread CPU is read from
// /proc/thread-self/schedstat (ns on CPU of this thread alone), all threads' from process.cpuUsage().
// On a loaded machine that difference is noisy, so the store's main-thread time is also taken directly: the time
// spent in save(), plus the CPU of every callback the store caused (its write-behind timers, anything they
// started, such as a worker's messages), followed through async_hooks.
// --store loads another implementation of the same class (e.g. a copy of an older one) to compare.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHook } from 'node:async_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import type { CallState, ForkState } from '../src/calls/call-state.ts';
import type { CallRecord, CallRecords } from '../src/calls/ports.ts';
import { createCall } from '../src/calls/origination-machine.ts';
import { DATABASE_FILE, openDatabase } from '../src/store/open-database.ts';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? ''];
  }),
);
const RATE = Number(args.get('rate') ?? 1000);
const SECONDS = Number(args.get('seconds') ?? 5);
// Long enough for the writer thread to have started (tsx loads its modules) before anything is measured.
const WARMUP_SECONDS = 2;
const TICK_MS = 2;
/** When each state of a call is saved, in ms after its start; the last one ends it. */
const STEPS_MS = [0, 2, 4, 7, 9, 200];

interface Flushable extends CallRecords {
  flush(): void;
}
type StoreClass = new (db: BetterSqlite3.Database) => Flushable;

const SDP = [
  'v=0',
  'o=- 3970912345 3970912345 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

function dialog(callId: string, port: number, cseq: number): ForkState['dialog'] {
  return {
    callId,
    localTag: '07f001109b5d648f',
    remoteTag: '10493SIPpTag011',
    local: '"Bench" <sip:915551234567@127.0.0.1>;tag=07f001109b5d648f',
    remote: '<sip:101@127.0.0.1>;tag=10493SIPpTag011',
    remoteTarget: `sip:101@127.0.0.1:${port}`,
    routeSet: [],
    localCseq: cseq,
    transport: 'udp',
    peer: { transport: 'udp', host: '127.0.0.1', port },
  };
}

function invite(callId: string, uri: string, port: number): ForkState['invite'] {
  return {
    uri,
    via: `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK${callId.slice(0, 16)};rport`,
    from: '"Bench" <sip:915551234567@127.0.0.1>;tag=07f001109b5d648f',
    to: `<${uri}>`,
    callId,
    cseq: 1,
    routes: [],
    peer: { transport: 'udp', host: '127.0.0.1', port },
  };
}

/** The states one origination goes through, shaped as the machine makes them (a real bridged one: 2.3 KB of JSON). */
function statesOf(id: string, at: number): CallState[] {
  const sip1 = `${id.slice(0, 8)}c659124dec94dd94b91dba3d`;
  const sip2 = `${id.slice(0, 8)}5d55a85fec1c62f1d8326db3c5`;
  const fork1: ForkState = {
    id: `${id}.1`,
    leg: 'first',
    step: 0,
    target: { kind: 'phone', accountId: '1101', extension: '101', contact: 'sip:101@127.0.0.1:58013', sendTo: { transport: 'udp', host: '127.0.0.1', port: 58013 } },
    fallbacks: [],
    status: 'ringing',
    sipStatus: null,
    dialog: null,
    invite: invite(sip1, 'sip:101@127.0.0.1:58013', 58013),
    offer: null,
  };
  const fork2: ForkState = {
    id: `${id}.2`,
    leg: 'second',
    step: 0,
    target: { kind: 'trunk', attempt: { trunk: 'carrier', number: '15551234567', rule: 'long-distance', isFinal: true } },
    fallbacks: [],
    status: 'ringing',
    sipStatus: null,
    dialog: null,
    invite: invite(sip2, 'sip:15551234567@127.0.0.1:46645', 46645),
    offer: null,
  };
  // The machine's own initial state, then what its first steps put in it.
  const created = createCall({
    id,
    at,
    first: { plan: { dialed: '101', steps: [] }, callerId: { name: 'Bench', number: '915551234567', external: '15551234567' }, autoAnswer: false, timeoutMs: 30000 },
    second: { plan: { dialed: '915551234567', steps: [] }, callerId: { name: 'User 101', number: '1555000101', external: '555000101' }, timeoutMs: 30000 },
    maxCallMs: 0,
    variables: [],
  });
  const ringing: CallState = {
    ...created,
    legs: { ...created.legs, first: { ...created.legs.first, ringAt: at } },
    forks: [fork1],
    nextFork: 2,
    timers: { ring_first: at + 30000 },
  };
  const answered1 = { ...fork1, status: 'answered' as const, sipStatus: 200, dialog: dialog(sip1, 58013, 1), offer: SDP };
  const first = { ...ringing.legs.first, answerAt: at + 2, winner: fork1.id, sipStatus: 200, outcome: 'answered' as const };
  const ringback: CallState = { ...ringing, phase: 'preparing_ringback', legs: { ...ringing.legs, first }, forks: [answered1], timers: {}, ringbackSdp: SDP };
  const second = { ...ringing.legs.second, ringAt: at + 4 };
  const ringingSecond: CallState = {
    ...ringback,
    phase: 'ringing_second',
    legs: { first, second },
    forks: [{ ...answered1, status: 'confirmed' }, fork2],
    nextFork: 3,
    timers: { ring_second: at + 30004 },
    replied: true,
  };
  const answered2 = { ...fork2, status: 'answered' as const, sipStatus: 200, dialog: dialog(sip2, 46645, 1), offer: SDP, invite: null };
  const secondAnswered = { ...second, answerAt: at + 7, winner: fork2.id, sipStatus: 200, outcome: 'answered' as const };
  const bridging: CallState = {
    ...ringingSecond,
    phase: 'bridging',
    legs: { first, second: secondAnswered },
    forks: [{ ...answered1, status: 'confirmed', dialog: dialog(sip1, 58013, 2), invite: null }, answered2],
    timers: {},
  };
  const bridged: CallState = {
    ...bridging,
    phase: 'bridged',
    forks: bridging.forks.map((f) => ({ ...f, status: 'confirmed', offer: null })),
    ringbackSdp: null,
    bridgedAt: at + 9,
  };
  const end = at + STEPS_MS.at(-1)!;
  const ended: CallState = {
    ...bridged,
    phase: 'ended',
    legs: { first: { ...first, endAt: end }, second: { ...secondAnswered, endAt: end } },
    forks: bridged.forks.map((f) => ({ ...f, status: 'ended' })),
    endedAt: end,
    endReason: 'first_hung_up',
  };
  return [ringing, ringback, ringingSecond, bridging, bridged, ended];
}

function recordBase(n: number): Omit<CallRecord, 'state'> {
  return {
    callId: `${n.toString(16).padStart(8, '0')}-efed-41ec-8d1b-a40f9126bd62`,
    accountId: '1101',
    requestedBy: 'admin',
    method: 'switchvox.call',
    request: {
      dialFirst: '101',
      dialSecond: '15551234567',
      callerIdName: 'Bench',
      timeout: 30,
      timeoutSecondCall: 30,
      ignoreUserApiSettings: false,
      ignoreUserCallRules: false,
      autoAnswer: false,
      variables: [],
    },
  };
}

/** ns this thread has spent on a CPU (Linux; the first field of schedstat). */
function threadCpuNs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
}

/** The store's own main-thread time: save() calls, and callbacks of async resources made inside the store. */
class StoreClock {
  #inside = false;
  #enteredAt = 0;
  #us = 0;
  readonly #ours = new Set<number>();
  readonly #hook = createHook({
    init: (asyncId) => {
      if (this.#inside) this.#ours.add(asyncId);
    },
    before: (asyncId) => {
      if (this.#ours.has(asyncId)) this.#enter();
    },
    after: (asyncId) => {
      if (this.#ours.has(asyncId)) this.#leave();
    },
    destroy: (asyncId) => {
      this.#ours.delete(asyncId);
    },
  });

  wrap(store: Flushable): Flushable {
    return {
      save: (record) => {
        // A save is a few hundred ns: a monotonic clock read costs less than a schedstat read.
        const t = performance.now();
        this.#inside = true;
        store.save(record);
        this.#inside = false;
        this.#us += (performance.now() - t) * 1000;
      },
      listOpen: () => store.listOpen(),
      get: (id) => store.get(id),
      flush: () => {
        this.#enter();
        store.flush();
        this.#leave();
      },
    };
  }

  start(): void {
    this.#us = 0;
    this.#hook.enable();
  }

  stop(): number {
    this.#hook.disable();
    return this.#us;
  }

  #enter(): void {
    this.#inside = true;
    this.#enteredAt = threadCpuNs();
  }

  #leave(): void {
    this.#us += (threadCpuNs() - this.#enteredAt) / 1000;
    this.#inside = false;
  }
}

interface Run {
  calls: number;
  mainUs: number;
  /** The store's main-thread time, taken directly (StoreClock); 0 for the store that keeps nothing. */
  storeUs: number;
  allUs: number;
  maxLoopDelayMs: number;
}

/** Starts RATE calls a second for warm-up + SECONDS, every call saving its states on schedule; measures after warm-up. */
function drive(store: Flushable, firstCall: number, clock?: StoreClock): Promise<Run> {
  return new Promise((done) => {
    const buckets = new Map<number, (() => void)[]>();
    const at = (tick: number, fn: () => void): void => {
      const b = buckets.get(tick);
      if (b) b.push(fn);
      else buckets.set(tick, [fn]);
    };
    const startAt = performance.now();
    const totalCalls = RATE * (WARMUP_SECONDS + SECONDS);
    const warmCalls = RATE * WARMUP_SECONDS;
    let started = 0;
    let ended = 0;
    let tick = 0;
    let mark: { main: number; all: NodeJS.CpuUsage } | null = null;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const timer = setInterval(() => {
      const nowTick = Math.floor((performance.now() - startAt) / TICK_MS);
      for (; tick <= nowTick; tick++) {
        const due = buckets.get(tick);
        if (due) {
          buckets.delete(tick);
          for (const fn of due) fn();
        }
      }
      const want = Math.min(totalCalls, Math.floor(((performance.now() - startAt) / 1000) * RATE));
      for (; started < want; started++) {
        if (started === warmCalls) {
          loop.enable();
          mark = { main: threadCpuNs(), all: process.cpuUsage() };
          clock?.start();
        }
        const base = recordBase(firstCall + started);
        const states = statesOf(base.callId, Date.now());
        states.forEach((state, i) => {
          const save = (): void => {
            store.save({ ...base, state });
            if (state.phase === 'ended' && ++ended === totalCalls) finish();
          };
          if (STEPS_MS[i] === 0) save();
          else at(nowTick + STEPS_MS[i]! / TICK_MS, save);
        });
      }
    }, TICK_MS);
    const finish = (): void => {
      clearInterval(timer);
      store.flush();
      loop.disable();
      const all = process.cpuUsage(mark!.all);
      done({
        calls: totalCalls - warmCalls,
        mainUs: (threadCpuNs() - mark!.main) / 1000,
        storeUs: clock?.stop() ?? 0,
        allUs: all.user + all.system,
        maxLoopDelayMs: loop.max / 1e6,
      });
    };
  });
}

const noStore: Flushable = { save: () => {}, listOpen: () => [], get: () => undefined, flush: () => {} };

const storeModule = args.get('store');
const { CallRecordStore } = (await import(
  storeModule ? pathToFileURL(resolve(storeModule)).href : '../src/store/call-record-store.ts'
)) as { CallRecordStore: StoreClass };

const dir = mkdtempSync(join(tmpdir(), 'bench-records-'));
try {
  const idle = await drive(noStore, 0);
  const db = openDatabase(dir);
  const clock = new StoreClock();
  const run = await drive(clock.wrap(new CallRecordStore(db)), 1_000_000, clock);
  const rows = new BetterSqlite3(join(dir, DATABASE_FILE), { readonly: true })
    .prepare('SELECT count(*) AS n, sum(live) AS live FROM call_records')
    .get() as { n: number; live: number };
  const expected = RATE * (WARMUP_SECONDS + SECONDS);
  if (rows.n !== expected || rows.live !== 0) throw new Error(`${rows.n} rows (${rows.live} live), expected ${expected} ended`);
  db.close();
  const per = (us: number): string => (us / run.calls).toFixed(1);
  console.log(`call records: ${run.calls} calls at ${RATE}/s (${rows.n} rows written, all ended)`);
  console.log(`  driver alone:      main thread ${per(idle.mainUs)} us/call, all threads ${per(idle.allUs)} us/call`);
  console.log(`  with the store:    main thread ${per(run.mainUs)} us/call, all threads ${per(run.allUs)} us/call`);
  console.log(
    `  the store's share: main thread ${per(run.mainUs - idle.mainUs)} us/call, all threads ${per(run.allUs - idle.allUs)} us/call;` +
      ` max event-loop delay ${run.maxLoopDelayMs.toFixed(1)} ms (driver alone ${idle.maxLoopDelayMs.toFixed(1)} ms)`,
  );
  console.log(`  the store's main-thread time, taken directly: ${per(run.storeUs)} us/call`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
