/**
 * Origination benchmark: switchvox.call over HTTPS (keep-alive) against a server process, with a sipp phone
 * (extension 101, registered) as the first party and a sipp trunk as the second. Prints originations/s,
 * API-to-bridged latency p50/p99 (from the call records: bridged_at - started_at), failures, and the memory each
 * held bridged call costs the server.
 *
 *   npm run bench:originate -- [--rate 1000] [--seconds 5] [--latency-rate 500] [--hold 20000] [--hold-rate 250]
 *                                [--hold-settle 40] [--connections 64] [--warmup 5]   (--seconds 0: only the hold phase)
 *
 * A warm-up phase (at the latency rate, not reported) comes first: a PBX runs for days, and the first thousand
 * calls of a fresh process also pay V8's compilation of the hot paths, on the same two cores.
 * BENCH_CPU_PROF=dir profiles the server; BENCH_NODE_FLAGS='--trace-deopt ...' passes flags to its node.
 *
 * The server runs in a child process (this file with --serve), so client and server do not share an event loop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { ACCOUNTS, ADMIN_PASSWORD, callXml, freeUdpPort, register, sipp, startInProcess, type RunningServer, type SippRun } from '../test/e2e/harness.ts';
import { HttpsPool } from './https-pool.ts';

interface ServerReady {
  readonly type: 'ready';
  readonly https: number;
  readonly sip: number;
  readonly trunk: number;
}
interface ServerStats {
  readonly type: 'stats';
  readonly live: number;
  readonly bridged: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  /** bridged_at - started_at of the calls started since the last `mark`, in ms. */
  readonly bridgeLatencies: number[];
  /** CPU time (user + system, all threads) the server used since the last `mark`, in ms. */
  readonly cpuMs: number;
  readonly ended: Record<string, number>;
}
type StatsDetail = 'counts' | 'records' | 'memory';
type ToServer = { type: 'stats'; detail: StatsDetail } | { type: 'loop' } | { type: 'mark' } | { type: 'snapshot'; path: string } | { type: 'hangUpAll' } | { type: 'stop' };

// ---- server side ----

async function serve(): Promise<void> {
  // Every call holds an RTP port while its second leg rings: a wide range, as in a real deployment.
  const server = await startInProcess({ maxRingSeconds: 60, rtpPorts: 9998 });
  const engine = server.engine!;
  let markAt = Date.now();
  let cpuAtMark = process.cpuUsage();
  let loopAtMark = performance.eventLoopUtilization();
  const send = (m: ServerReady | ServerStats | { type: 'snapshot' }): void => void process.send!(m);
  /**
   * Live counts; with 'records', also the records of the calls since the last mark; with 'memory', also memory
   * after full collections. Only the hold phase collects: a forced full collection between phases, with the
   * server idle, drops optimized code that embeds objects of the finished phase (V8 "weak" code dependencies),
   * and the next phase would spend its first seconds recompiling a few hundred functions.
   * ArrayBuffers are freed by a sweeper after the collection that finds them dead: a second collection a moment
   * later counts only what is really held.
   */
  const stats = async (detail: StatsDetail): Promise<void> => {
    // Before the collections below, which are the benchmark's and not the calls'.
    const cpu = process.cpuUsage(cpuAtMark);
    if (detail === 'memory') {
      global.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 200));
      global.gc?.();
    }
    const mem = process.memoryUsage();
    const calls = engine.originator.listCalls();
    const recent = detail !== 'counts' ? engine.records.recent(1_000_000).filter((r) => r.startedAt >= markAt) : [];
    const bridgeLatencies: number[] = [];
    const ended: Record<string, number> = {};
    for (const r of recent) {
      const rec = engine.records.get(r.callId);
      if (rec?.state.bridgedAt) bridgeLatencies.push(rec.state.bridgedAt - rec.state.createdAt);
      if (r.endReason) ended[r.endReason] = (ended[r.endReason] ?? 0) + 1;
    }
    send({
      type: 'stats',
      live: calls.length,
      bridged: calls.filter((c) => c.state === 'bridged').length,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      // `external` already counts ArrayBuffers (Buffers included): `arrayBuffers` is a part of it, not an addition.
      external: mem.external,
      bridgeLatencies,
      cpuMs: (cpu.user + cpu.system) / 1000,
      ended,
    });
  };

  process.on('message', (m: ToServer) => {
    switch (m.type) {
      case 'mark':
        markAt = Date.now();
        cpuAtMark = process.cpuUsage();
        loopAtMark = performance.eventLoopUtilization();
        return;
      case 'loop':
        // How busy the event loop was since the mark: asked right after the last API answer of a phase.
        process.send!({ type: 'loop', busy: performance.eventLoopUtilization(loopAtMark).utilization });
        return;
      case 'stats': {
        void stats(m.detail);
        return;
      }
      case 'snapshot':
        // A heap snapshot of the held calls, to see what each one keeps alive.
        writeHeapSnapshot(m.path);
        send({ type: 'snapshot' });
        return;
      case 'hangUpAll':
        engine.originator.hangUpAll('bench_done');
        return;
      case 'stop':
        void server.stop().then(() => process.exit(0));
        return;
    }
  });
  send({ type: 'ready', https: server.ports.https, sip: server.ports.sip, trunk: server.ports.trunk });
}

// ---- client side ----

class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly ready: ServerReady,
    readonly client: HttpsPool,
  ) {}

  /** The server runs with the young generation `originate serve` gets (bin/originate.js). */
  static async start(connections: number): Promise<ServerProcess> {
    const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=4096', '--max-semi-space-size=64', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const [ready] = (await once(child, 'message')) as [ServerReady];
    return new ServerProcess(child, ready, new HttpsPool('127.0.0.1', ready.https, connections));
  }

  /** See the server side's `stats`. */
  async stats(detail: StatsDetail = 'counts'): Promise<ServerStats> {
    const reply = once(this.child, 'message') as Promise<[ServerStats]>;
    this.child.send({ type: 'stats', detail } satisfies ToServer);
    return (await reply)[0];
  }

  /** The share of time the server's event loop was busy since the last mark. */
  async loopBusy(): Promise<number> {
    const reply = once(this.child, 'message') as Promise<[{ busy: number }]>;
    this.child.send({ type: 'loop' } satisfies ToServer);
    return (await reply)[0].busy;
  }

  send(m: ToServer): void {
    this.child.send(m);
  }

  get asRunning(): RunningServer {
    return { ports: { https: this.ready.https, sip: this.ready.sip, trunk: this.ready.trunk, trunk2: 0, rtpMin: 0 }, dir: '', output: () => '', stop: async () => {} };
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const REQUEST = HttpsPool.post(
  '/xml',
  { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'content-type': 'text/xml' },
  callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101', caller_id_name: 'Bench' }),
);

/** Sends `count` originations at `rate`/s on an absolute schedule; resolves when every API answer is in. */
async function drive(client: HttpsPool, rate: number, count: number): Promise<{ failures: number; apiMs: number[]; seconds: number; clientCpuMs: number }> {
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const apiMs: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    pending.push(
      client.request(REQUEST).then(
        (a) => {
          apiMs.push(performance.now() - t0);
          if (!a.body.includes('<call_info')) failures++;
        },
        () => {
          failures++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpuAtStart);
  return { failures, apiMs, seconds: (performance.now() - started) / 1000, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * sipp plays a thousand phones at once: it reads all it can per loop, and gets the socket buffer our server has
 * (`sip.udp_receive_buffer_bytes`). With sipp's 64 KiB default a burst overflows it while sipp waits for the CPU,
 * and a lost ACK makes its scenario abort the call on the re-INVITE that follows: a failure of the load generator,
 * not of the server.
 */
const SIPP_LOAD_ARGS = ['-max_recv_loops', '100000', '-max_sched_loops', '100000', '-buff_size', String(4 * 1024 * 1024)];

/**
 * Every phase's phone registers from the same port: the same contact replaces its binding. A new port per phase
 * would leave the last phase's binding (its sipp gone) in the location service, and every origination would fork
 * to it too, retransmitting into the void until Timer B.
 */
let phonePort: number | undefined;

async function peers(server: ServerProcess, calls: number, talkMs: number, timeoutS: number): Promise<{ phone: SippRun; trunk: SippRun }> {
  const running = server.asRunning;
  phonePort ??= await freeUdpPort();
  const phone = await sipp({
    scenario: 'bench-first.xml',
    port: phonePort,
    service: '101',
    timeoutS,
    calls,
    args: ['-l', String(calls), '-d', String(talkMs), ...SIPP_LOAD_ARGS],
    trace: false,
  });
  await register(running, ACCOUNTS[0]!, phone.port);
  const trunk = await sipp({
    scenario: 'second-answer-wait-bye.xml',
    port: server.ready.trunk,
    service: 'carrier',
    timeoutS,
    calls,
    args: ['-l', String(calls), ...SIPP_LOAD_ARGS],
    trace: false,
  });
  return { phone, trunk };
}

async function phase(server: ServerProcess, label: string, rate: number, seconds: number, quiet = false): Promise<void> {
  const count = Math.round(rate * seconds);
  const { phone, trunk } = await peers(server, count, 200, seconds + 60);
  let result: Awaited<ReturnType<typeof drive>>;
  let loopBusy: number;
  let stats: ServerStats;
  try {
    server.send({ type: 'mark' });
    result = await drive(server.client, rate, count);
    loopBusy = await server.loopBusy();
    await waitFor('calls to end', async () => (await server.stats()).live === 0, 60_000);
    stats = await server.stats('records');
  } finally {
    phone.kill();
    trunk.kill();
    // The next phase's trunk binds the same port: wait until this one has let go of it.
    await Promise.all([phone.done, trunk.done]);
  }
  if (quiet) return;
  const apiSorted = [...result.apiMs].sort((a, b) => a - b);
  const bridged = [...stats.bridgeLatencies].sort((a, b) => a - b);
  const failedCalls = Object.entries(stats.ended).filter(([reason]) => !/hung_up$/.test(reason));
  console.log(
    `${label}: ${count} originations at ${rate}/s in ${result.seconds.toFixed(2)} s = ${(count / result.seconds).toFixed(0)}/s; ` +
      `API failures ${result.failures}; calls not ended by a party hanging up ${failedCalls.reduce((n, [, c]) => n + c, 0)} ${JSON.stringify(Object.fromEntries(failedCalls))}`,
  );
  console.log(
    `  API answer (leg 1 answered) p50 ${percentile(apiSorted, 50).toFixed(1)} ms p99 ${percentile(apiSorted, 99).toFixed(1)} ms; ` +
      `API-to-bridged p50 ${percentile(bridged, 50).toFixed(1)} ms p99 ${percentile(bridged, 99).toFixed(1)} ms (${bridged.length} bridged)`,
  );
  console.log(
    `  server CPU ${(stats.cpuMs / count).toFixed(2)} ms per origination (API request to both BYEs, all threads); ` +
      `load generator's HTTPS client ${(result.clientCpuMs / count).toFixed(2)} ms; server event loop busy ${(loopBusy * 100).toFixed(0)}% of the phase`,
  );
}

async function hold(server: ServerProcess, calls: number, rate: number, settleS: number): Promise<void> {
  const before = await server.stats('memory');
  const { phone, trunk } = await peers(server, calls, 3_600_000, calls / rate + 600);
  try {
    server.send({ type: 'mark' });
    const result = await drive(server.client, rate, calls);
    // Every call bridged, or no progress for 5 s: what did bridge is what is measured.
    let last = -1;
    let still = 0;
    await waitFor(
      'bridging to settle',
      async () => {
        const { bridged } = await server.stats();
        still = bridged === last ? still + 1 : 0;
        last = bridged;
        return bridged >= calls - result.failures || still >= 50;
      },
      300_000,
    );
    // Completed INVITE transactions linger 64*T1 (RFC 6026 Timer M): measure the calls as they are held, after that.
    await new Promise((resolve) => setTimeout(resolve, settleS * 1000));
    const during = await server.stats('memory');
    const perCall = (b: number, a: number) => ((a - b) / during.bridged / 1024).toFixed(2);
    console.log(
      `hold: ${during.bridged} of ${calls} calls held bridged at once (API failures ${result.failures}); per call: ` +
        `heap ${perCall(before.heapUsed, during.heapUsed)} KiB, heap+external ${perCall(before.heapUsed + before.external, during.heapUsed + during.external)} KiB, ` +
        `rss ${perCall(before.rss, during.rss)} KiB (rss ${(during.rss / 2 ** 20).toFixed(0)} MiB)`,
    );
    if (process.env.BENCH_HEAP_SNAPSHOT) {
      const done = once(server.child, 'message');
      server.send({ type: 'snapshot', path: process.env.BENCH_HEAP_SNAPSHOT });
      await done;
    }
    server.send({ type: 'hangUpAll' });
    await waitFor('calls to end', async () => (await server.stats()).live === 0, 120_000);
  } finally {
    phone.kill();
    trunk.kill();
    await Promise.all([phone.done, trunk.done]);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean' },
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '5' },
      'latency-rate': { type: 'string', default: '500' },
      hold: { type: 'string', default: '20000' },
      // The ramp toward the held calls: slow enough that every call bridges on a 2-core machine shared with sipp.
      'hold-rate': { type: 'string', default: '250' },
      'hold-settle': { type: 'string', default: '40' },
      connections: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '5' },
    },
  });
  if (values.serve) return serve();
  // A CRM's fixed pool of keep-alive connections; requests beyond it wait their turn on the client.
  const server = await ServerProcess.start(Number(values.connections));
  try {
    if (Number(values.seconds) > 0) {
      if (Number(values.warmup) > 0) await phase(server, 'warm-up', Number(values['latency-rate']), Number(values.warmup), true);
      await phase(server, 'throughput', Number(values.rate), Number(values.seconds));
      await phase(server, 'latency', Number(values['latency-rate']), Number(values.seconds));
      // The phases' completed transactions live on for 64*T1: let them go before the hold's baseline.
      if (Number(values.hold) > 0) await new Promise((resolve) => setTimeout(resolve, Number(values['hold-settle']) * 1000));
    }
    if (Number(values.hold) > 0) await hold(server, Number(values.hold), Number(values['hold-rate']), Number(values['hold-settle']));
  } finally {
    server.client.close();
    server.send({ type: 'stop' });
    await once(server.child, 'exit');
  }
}

await main();
