/**
 * The call and media layers' cost per origination, without HTTP or SIP: the real OriginationRuntime and machine,
 * the real adapters (PbxAppSignalling over SipLegSignalling, MediaRingback on a real MediaEngine with UDP sockets,
 * the dial-plan router on a real Directory), and below the SIP adapter a user agent that answers at once. Each
 * origination is the bench:originate flow: phone 180 + 200 (offer), ringback answer in its ACK, trunk 180 + 200
 * (offer), re-INVITE of the phone with the trunk's offer, ACK of the trunk with the phone's answer, BYE from the
 * phone passed on to the trunk, every state change saved.
 *
 *   node --import tsx bench/calls.ts [--calls 20000] [--warmup 3000] [--concurrency 64] [--ring-ms 0] [--store]
 *                                     [--profile] [--allocations]
 *
 * Prints CPU µs (user + system) and bytes allocated on the JS heap per origination. Allocation is counted from
 * V8's GC profiler: heap used at the end, minus at the start, plus what every collection in between freed.
 * --store saves records to the real CallRecordStore (SQLite in memory) instead of keeping the last one;
 * --profile prints where the measured phase's CPU went, by file and by function (self time), from the
 * inspector's sampling profiler; --allocations the same for bytes allocated, from its sampling heap profiler.
 * The figures include the fake user agent's own work and pino serializing the one log line per call; the CPU
 * figure moves with the machine's load (run it more than once), the bytes hardly at all.
 */
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { Session as InspectorSession } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { createDialPlanRouter, directoryIvrVariables, type ContactLookup } from '../src/calls/adapters/dial-plan-router.ts';
import { MediaRingback } from '../src/calls/adapters/media-ringback.ts';
import { PbxAppSignalling } from '../src/calls/adapters/pbx-app-signalling.ts';
import { SipLegSignalling, type InviteSender } from '../src/calls/adapters/sip-leg-signalling.ts';
import { systemClock } from '../src/calls/create-originator.ts';
import { OriginationRuntime } from '../src/calls/origination-runtime.ts';
import type { OriginateRequest } from '../src/calls/originator.ts';
import type { CallRecord, CallRecords } from '../src/calls/ports.ts';
import { parseConfig } from '../src/config/load-config.ts';
import { Directory } from '../src/directory/directory.ts';
import type { Location } from '../src/directory/registrar/binding.ts';
import { createMediaEngine } from '../src/media/media-engine.ts';
import type { DialogState } from '../src/sip/dialog/dialog-state.ts';
import { createRequest, type SipRequest } from '../src/sip/message/index.ts';
import type { TransactionLayer } from '../src/sip/transaction/transaction-layer.ts';
import type { Answer, InviteOptions, OutgoingCall } from '../src/sip/ua/outgoing-call.ts';
import type { Session } from '../src/sip/ua/session.ts';
import { CallRecordStore } from '../src/store/call-record-store.ts';
import { migrate } from '../src/store/migrate.ts';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '64' },
    'ring-ms': { type: 'string', default: '0' },
    store: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    allocations: { type: 'boolean', default: false },
  },
});
const CALLS = Number(args.calls);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const RING_MS = Number(args['ring-ms']);
const HOST = '127.0.0.1';

// Where the ringback goes: a socket that only counts, so the tone's packets really leave.
const sink = createSocket('udp4');
await new Promise<void>((resolve) => sink.bind(0, HOST, resolve));
const sinkPort = sink.address().port;
let rtpPackets = 0;
sink.on('message', () => {
  rtpPackets += 1;
});

function offer(origin: string, version: number, port: number): string {
  return (
    `v=0\r\no=${origin} 4711 ${version} IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n`
  );
}
// The bench-first.xml phone and the trunk's answers, as sipp sends them.
const PHONE_OFFER = offer('sipp', 1, sinkPort);
const PHONE_ANSWER = `v=0\r\no=sipp 4711 2 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${sinkPort} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;
const TRUNK_OFFER = offer('trunk', 1, sinkPort + 2);

/** One INVITE as the user agent would have sent it: the adapter reads its CANCEL snapshot from it. */
const INVITE: SipRequest = createRequest({
  method: 'INVITE',
  uri: `sip:101@${HOST}:5062`,
  headers: [
    ['Via', `SIP/2.0/UDP ${HOST}:5060;branch=z9hG4bK-bench;rport`],
    ['Max-Forwards', '70'],
    ['From', `"Bench" <sip:915551234567@${HOST}>;tag=ours`],
    ['To', `<sip:101@${HOST}>`],
    ['Call-ID', `bench@${HOST}`],
    ['CSeq', '1 INVITE'],
  ],
});
const DIALOG: DialogState = {
  id: { callId: `bench@${HOST}`, localTag: 'ours', remoteTag: 'theirs' },
  early: false,
  isUac: true,
  localSeq: 1,
  remoteSeq: null,
  local: `"Bench" <sip:915551234567@${HOST}>;tag=ours`,
  remote: `<sip:101@${HOST}>;tag=theirs`,
  remoteTarget: `sip:101@${HOST}:5062`,
  routeSet: [],
  secure: false,
};
const RINGING = { status: 180 };

/** The peer's side of a confirmed dialog: answers re-INVITEs, hangs up after the bridge when it is the phone. */
class BenchSession extends EventEmitter {
  localSdp: string | undefined;
  onReinvite: unknown;
  readonly dialog = DIALOG;

  constructor(private readonly hangsUp: boolean) {
    super();
  }

  reinvite(sdp: string): Promise<string | undefined> {
    this.localSdp = sdp;
    // bench-first.xml: the phone's BYE follows the ACK of its bridge re-INVITE.
    if (this.hangsUp) setImmediate(() => this.emit('ended'));
    return Promise.resolve(PHONE_ANSWER);
  }

  bye(): Promise<void> {
    return Promise.resolve();
  }
}

class BenchAnswer implements Answer {
  constructor(
    readonly sdp: string,
    readonly session: Session,
  ) {}

  ack(localSdp?: string): void {
    if (localSdp !== undefined) (this.session as unknown as BenchSession).localSdp = localSdp;
  }
}

/** An INVITE the far end answers on later turns of the loop: 180, then 200 with its offer (late offer). */
class BenchCall extends EventEmitter {
  request: SipRequest | undefined = INVITE;

  constructor(private readonly isPhone: boolean) {
    super();
    setImmediate(() => this.ring());
  }

  private ring(): void {
    this.emit('progress', RINGING);
    if (!this.isPhone && RING_MS > 0) setTimeout(() => this.answer(), RING_MS);
    else setImmediate(() => this.answer());
  }

  private answer(): void {
    this.request = undefined;
    const session = new BenchSession(this.isPhone) as unknown as Session;
    this.emit('answered', new BenchAnswer(this.isPhone ? PHONE_OFFER : TRUNK_OFFER, session));
  }

  cancel(): void {
    this.emit('failed', new Error('cancelled'));
  }
}

// The fake stands in for the user agent's OutgoingCall, whose private fields no other class can have.
const ua: InviteSender = {
  invite: (opts: InviteOptions) => new BenchCall(opts.to?.startsWith('sip:101@') === true) as unknown as OutgoingCall,
};

const config = parseConfig(
  `api: { https: null, http: { host: 127.0.0.1, port: 0 }, admin: { username: admin, password: pw } }
trunks: [ { name: carrier, host: 127.0.0.1, port: 5070, transport: udp, register: false, default_caller_id: "15550000000" } ]
outgoing_call_rules:
  - { name: long-distance, pattern_begin: "91", pattern_min: 12, pattern_max: 12, pattern_trim: 1, trunk: carrier, is_final: true }
accounts:
  - { account_id: "1101", extension: "101", type: sip, display_name: "User 101", sip_password: a, api_password: b,
      caller_id: { name: "Main Line", number: "15550000101" }, call_api_settings: { rewrites: [ { lengths: [11], prepend: "9" } ] } }
`,
  'bench.yaml',
);
const directory = new Directory(config);
const phone: Location = { accountId: '1101', contact: `sip:101@${HOST}:5062`, sendTo: { transport: 'udp', host: HOST, port: 5062 }, expiresAt: Infinity };
const locations: ContactLookup = {
  hasContacts: (accountId) => accountId === '1101',
  lookup: (accountId) => (accountId === '1101' ? [phone] : []),
};

// A port range beside the kernel's choice, as bench/media.ts does: no hard-coded ports.
const rtpBase = Math.min(sinkPort + 4 - (sinkPort % 2), 65535 - 4 * CONCURRENCY - 8);
const media = createMediaEngine({ rtp_host: HOST, rtp_port_min: rtpBase, rtp_port_max: rtpBase + 4 * CONCURRENCY + 6 });

// The server logs at info: the one line per call is part of what a call costs, but not the stream that writes it.
const logger = pino({ level: 'info' }, { write: () => undefined });
const layer = {} as TransactionLayer;
const signalling = new PbxAppSignalling(new SipLegSignalling({ ua, layer, directory: () => directory, host: HOST, logger }), {
  media,
  directory: () => directory,
  logger,
});
const ringback = new MediaRingback(media);

let ended = 0;
/** Records given to the store, over every call. */
let saves = 0;
let onEnded: () => void = () => undefined;
/** How the calls ended: every one should be bridged, then hung up by the phone. */
const reasons = new Map<string, number>();
function count(record: CallRecord): void {
  const reason = `${record.state.bridgedAt === null ? 'unbridged' : 'bridged'} ${record.state.endReason ?? ''}`;
  reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  ended += 1;
  onEnded();
}
/** Keeps each call's newest record, as the store does until its write-behind flush. */
class LatestRecords implements CallRecords {
  readonly latest = new Map<string, CallRecord>();
  save(record: CallRecord): void {
    saves += 1;
    if (record.state.phase === 'ended') {
      this.latest.delete(record.callId);
      count(record);
    } else this.latest.set(record.callId, record);
  }
  listOpen(): CallRecord[] {
    return [];
  }
  get(callId: string): CallRecord | undefined {
    return this.latest.get(callId);
  }
}

class CountedStore implements CallRecords {
  constructor(private readonly store: CallRecordStore) {}
  save(record: CallRecord): void {
    saves += 1;
    this.store.save(record);
    if (record.state.phase === 'ended') count(record);
  }
  listOpen(): CallRecord[] {
    return this.store.listOpen();
  }
  get(callId: string): CallRecord | undefined {
    return this.store.get(callId);
  }
}

function memoryStore(): CallRecordStore {
  const db = new Database(':memory:');
  migrate(db);
  return new CallRecordStore(db);
}
const records: CallRecords = args.store ? new CountedStore(memoryStore()) : new LatestRecords();
const runtime = new OriginationRuntime({
  signalling,
  ringback,
  router: createDialPlanRouter(() => directory, locations),
  records,
  ivrVariables: directoryIvrVariables(() => directory),
  clock: systemClock,
  calls: { max_ring_seconds: 60, max_call_seconds: 0 },
  logger,
});

const request: OriginateRequest = {
  dialFirst: '101',
  dialSecond: '15551234567',
  account: directory.account('1101')!,
  callerIdName: 'Bench',
  variables: [],
  timeout: 30,
  timeoutSecondCall: 30,
  ignoreUserApiSettings: false,
  ignoreUserCallRules: false,
  autoAnswer: true,
  requestedBy: 'admin',
  method: 'switchvox.call',
};

let failures = 0;
const failed = (): void => {
  failures += 1;
};

/** Runs `count` originations, `CONCURRENCY` at a time; resolves when the last one's record says ended. */
function run(count: number): Promise<void> {
  const target = ended + count;
  let started = 0;
  if (count <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const next = (): void => {
      if (started >= count) return;
      started += 1;
      runtime.originate(request).then(undefined, failed);
    };
    // On a later turn: a call that fails at once ends inside originate().
    onEnded = () => {
      if (ended >= target) resolve();
      else setImmediate(next);
    };
    for (let i = 0; i < Math.min(CONCURRENCY, count); i++) next();
  });
}

await run(WARMUP);

interface Profile {
  readonly nodes: readonly { id: number; callFrame: { url: string; functionName: string; lineNumber: number } }[];
  readonly samples: readonly number[];
}

/** Self time by file: src/ paths, packages by name, V8's own buckets (GC, program) by name. */
function bucket(url: string, fn: string): string {
  if (url === '') return `(${fn.replace(/[()]/g, '')})`;
  const src = url.indexOf('/src/');
  if (src >= 0 && !url.includes('node_modules')) return url.slice(src + 1);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  return url.startsWith('node:') ? 'node internals' : url;
}

const inspector = args.profile || args.allocations ? new InspectorSession() : null;
if (inspector) inspector.connect();
if (inspector && args.allocations) {
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
if (inspector && args.profile) {
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
  await inspector.post('Profiler.start');
}
global.gc?.();
const gc = new GCProfiler();
gc.start();
const heapBefore = getHeapStatistics().used_heap_size;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
const packetsBefore = rtpPackets;
const savesBefore = saves;
await run(CALLS);
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - wallBefore;
const heapAfter = getHeapStatistics().used_heap_size;
const gcs = gc.stop()?.statistics ?? [];
const freed = gcs.reduce((sum, s) => sum + s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize, 0);
const gcMs = gcs.reduce((sum, s) => sum + s.cost, 0) / 1000;

const cpuUs = (cpu.user + cpu.system) / CALLS;
console.log(`originations:           ${CALLS} (warm-up ${WARMUP}, ${CONCURRENCY} at a time, trunk rings ${RING_MS} ms)${args.store ? ', SQLite store' : ''}`);
console.log(`CPU per origination:    ${cpuUs.toFixed(1)} µs (${((CALLS / wallMs) * 1000).toFixed(0)}/s on one loop)`);
console.log(`allocated per orig.:    ${((heapAfter - heapBefore + freed) / CALLS / 1024).toFixed(2)} KiB (JS heap)`);
console.log(`GC:                     ${gcs.length} collections, ${((gcMs * 1000) / CALLS).toFixed(1)} µs per origination`);
console.log(`record saves per orig.: ${((saves - savesBefore) / CALLS).toFixed(2)}`);
console.log(`ringback RTP packets:   ${((rtpPackets - packetsBefore) / CALLS).toFixed(2)} per origination; failures ${failures}`);
console.log(`ended:                  ${[...reasons].map(([reason, n]) => `${reason} ${n}`).join(', ')}`);

interface AllocationNode {
  readonly callFrame: { url: string; functionName: string; lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly AllocationNode[];
}

if (inspector && args.allocations) {
  const { profile } = (await inspector.post('HeapProfiler.stopSampling')) as { profile: { head: AllocationNode } };
  const bytes = new Map<string, number>();
  const byFile = new Map<string, number>();
  const walk = (node: AllocationNode): void => {
    const file = bucket(node.callFrame.url, node.callFrame.functionName);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
    bytes.set(name, (bytes.get(name) ?? 0) + node.selfSize);
    byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  console.log('\nallocated, by file (sampled; builtins count where they were called from, when V8 knows):');
  for (const [file, n] of [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${(n / CALLS).toFixed(0).padStart(6)} B  ${file}`);
  }
  console.log('\nallocated, by function (sampled):');
  for (const [name, n] of [...bytes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`  ${(n / CALLS).toFixed(0).padStart(6)} B  ${name}`);
  }
}

if (inspector && args.profile) {
  const { profile } = (await inspector.post('Profiler.stop')) as { profile: Profile };
  const byId = new Map(profile.nodes.map((n) => [n.id, bucket(n.callFrame.url, n.callFrame.functionName)]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const name = byId.get(id) ?? '?';
    self.set(name, (self.get(name) ?? 0) + 1);
  }
  const total = profile.samples.length;
  const rows = [...self.entries()].filter(([name]) => name !== '(idle)').sort((a, b) => b[1] - a[1]);
  const busy = rows.reduce((sum, [, n]) => sum + n, 0);
  const share = (prefix: string): number => rows.filter(([n]) => n.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0);
  console.log(`\nself time (${total} samples, ${busy} busy):`);
  for (const [name, n] of rows.slice(0, 25)) console.log(`  ${((n / busy) * 100).toFixed(1).padStart(5)}%  ${name}`);
  for (const prefix of ['src/calls/', 'src/media/', 'sdp-transform', 'src/sip/', 'pino']) {
    console.log(`  ${prefix.padEnd(14)} ${((share(prefix) / busy) * 100).toFixed(1)}% of busy time`);
  }
  const fns = new Map<string, number>();
  const nameOf = new Map(
    profile.nodes.map((n) => [n.id, `${n.callFrame.functionName || '(anonymous)'} ${bucket(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`]),
  );
  for (const id of profile.samples) {
    const name = nameOf.get(id) ?? '?';
    if (!name.startsWith('(idle)')) fns.set(name, (fns.get(name) ?? 0) + 1);
  }
  console.log('\nself time by function:');
  for (const [name, n] of [...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`  ${((n / busy) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
}
inspector?.disconnect();

await ringback.close();
sink.close();
