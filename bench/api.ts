/**
 * Throughput of the Switchvox API on its hot path: a valid-but-rejected switchvox.call (dial_as_account_id of no
 * account: 77427, the full parse -> auth -> validate -> render path without placing a call) over HTTPS keep-alive
 * with Digest SHA-256, a fresh response per request (nc incremented on each connection's own nonce).
 *
 * With --basic the requests carry Basic credentials as admin (what bench:originate sends), written by the lean
 * keep-alive client of bench/https-pool.ts; with --placed the server's originator answers every call at once
 * with a result, so the answer is a call_info (the success path's rendering, no SIP).
 *
 * The server runs in a child process (one event loop: one core); this process is the load generator.
 *   npm run bench:api [-- --seconds 5 --connections 16 --workers 1 --basic --placed]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { OriginateRequest, OriginateResult, Originator } from '../src/calls/originator.ts';
import { computeDigestResponse, parseChallenge } from '../src/sip/auth/digest.ts';
import { HttpsPool } from './https-pool.ts';

const ADMIN_PASSWORD = 'bench-admin-password';
const BODY =
  '<request method="switchvox.call"><parameters><dial_first>15551112222</dial_first><dial_second>800</dial_second>' +
  '<dial_as_account_id>9999</dial_as_account_id><caller_id_name>Bench</caller_id_name>' +
  '<variables><variable>balance=300</variable></variables></parameters></request>';
/** Dials as the one account, so that the originator is reached (--placed). */
const PLACED_BODY = BODY.replace('<dial_as_account_id>9999<', '<dial_as_account_id>1101<');
const BASIC = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

/** An originator that places nothing: it answers at once, as a connected call would. */
const instantOriginator: Originator = {
  originate: (r: OriginateRequest): Promise<OriginateResult> =>
    Promise.resolve({
      callId: 'bench',
      dialedFirst: r.dialFirst,
      dialedSecond: r.dialSecond,
      variables: r.variables.map((v) => ({ name: v.name, status: 'does_not_exist' as const })),
    }),
  listCalls: () => [],
  hangUp: () => Promise.resolve(false),
};

interface ServerStats {
  rss: number;
  heapUsed: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
}

async function serve(placed: boolean): Promise<void> {
  const { pino } = await import('pino');
  const { buildApp } = await import('../src/app.ts');
  const { parseConfig } = await import('../src/config/load-config.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'originate-bench-'));
  const config = parseConfig(
    `api:\n  https: { host: 127.0.0.1, port: 0 }\n  admin: { username: admin, password: ${ADMIN_PASSWORD} }\n` +
      'accounts:\n  - { account_id: "1101", extension: "101", type: sip, api_password: x, sip_password: y }\n',
    'bench',
  );
  const app = await buildApp(config, { dataDir, logger: pino({ level: 'warn' }), originator: placed ? instantOriginator : 'none' });
  const { https } = await app.listen();
  // The load generator may die without saying stop: never outlive it.
  process.once('disconnect', () => process.exit(0));
  process.on('message', (m: string) => {
    if (m === 'stats') {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      const stats: ServerStats = { rss: mem.rss, heapUsed: mem.heapUsed, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system };
      process.send?.(stats);
    } else if (m === 'stop') {
      void app.close().then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.send?.({ port: https?.port });
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(message);
  });
}

interface Reply {
  status: number;
  body: string;
  challenge: string | undefined;
}

function post(agent: Agent, port: number, authorization: string | undefined): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/xml',
        method: 'POST',
        agent,
        headers: { 'content-length': String(Buffer.byteLength(BODY)), ...(authorization === undefined ? {} : { authorization }) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, challenge: res.headersDistinct['www-authenticate']?.find((c) => c.includes('SHA-256')) }),
        );
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

/** One client connection: its own nonce, one request in flight, nc counting up. */
async function connectionLoop(agent: Agent, port: number, until: { t: number }, counts: Counts): Promise<void> {
  let nonce = '';
  let realm = '';
  let nc = 0;
  const cnonce = Math.random().toString(36).slice(2);
  while (performance.now() < until.t) {
    let authorization: string | undefined;
    if (nonce !== '') {
      nc++;
      const ncHex = nc.toString(16).padStart(8, '0');
      const response = computeDigestResponse({ algorithm: 'SHA-256', username: 'admin', realm, password: ADMIN_PASSWORD, method: 'POST', uri: '/xml', nonce, nc: ncHex, cnonce, qop: 'auth' });
      authorization = `Digest username="admin", realm="${realm}", nonce="${nonce}", uri="/xml", algorithm=SHA-256, response="${response}", qop=auth, nc=${ncHex}, cnonce="${cnonce}"`;
    }
    const r = await post(agent, port, authorization);
    if (r.status === 401 && r.challenge !== undefined) {
      const ch = parseChallenge(r.challenge);
      nonce = ch?.params.nonce ?? '';
      realm = ch?.params.realm ?? '';
      nc = 0;
      continue;
    }
    if (r.status === 200 && r.body.includes('code="77427"')) counts.ok++;
    else counts.other++;
  }
}

/** One request in flight per pool connection, the same request bytes every time. */
async function basicLoop(pool: HttpsPool, bytes: Buffer, expect: string, until: { t: number }, counts: Counts): Promise<void> {
  while (performance.now() < until.t) {
    const r = await pool.request(bytes);
    if (r.status === 200 && r.body.includes(expect)) counts.ok++;
    else counts.other++;
  }
}

interface Counts {
  ok: number;
  other: number;
}

interface LoadOptions {
  readonly port: number;
  readonly connections: number;
  readonly ms: number;
  readonly basic: boolean;
  readonly placed: boolean;
}

/** Runs `connections` loops for `ms`; in a worker thread when asked, so the load can use more than one core. */
interface LoadResult {
  ok: number;
  other: number;
  /** Answers per second as this thread saw them (its own start-up excluded). */
  rate: number;
}

async function load({ port, connections, ms, basic, placed }: LoadOptions): Promise<LoadResult> {
  const counts: Counts = { ok: 0, other: 0 };
  const start = performance.now();
  const until = { t: start + ms };
  if (basic) {
    const pool = new HttpsPool('127.0.0.1', port, connections);
    const bytes = HttpsPool.post('/xml', { authorization: BASIC, 'content-type': 'text/xml' }, placed ? PLACED_BODY : BODY);
    const expect = placed ? '<call_info' : 'code="77427"';
    await Promise.all(Array.from({ length: connections }, () => basicLoop(pool, bytes, expect, until, counts)));
    pool.close();
  } else {
    if (placed) throw new Error('--placed needs --basic');
    const agent = new Agent({ keepAlive: true, maxSockets: connections, rejectUnauthorized: false });
    await Promise.all(Array.from({ length: connections }, () => connectionLoop(agent, port, until, counts)));
    agent.destroy();
  }
  return { ...counts, rate: counts.ok / ((performance.now() - start) / 1000) };
}

function loadInWorker(o: LoadOptions): Promise<LoadResult> {
  // Loader hooks given by --import do not reach worker threads: the worker registers tsx itself, as bin/ does.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: o });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** Warm-up and measurement spread over `workers` threads, connections divided between them. */
async function measure(o: LoadOptions, workers: number): Promise<LoadResult> {
  if (workers <= 1) return load(o);
  const share = { ...o, connections: Math.max(1, Math.floor(o.connections / workers)) };
  const parts = await Promise.all(Array.from({ length: workers }, () => loadInWorker(share)));
  return parts.reduce((a, b) => ({ ok: a.ok + b.ok, other: a.other + b.other, rate: a.rate + b.rate }), { ok: 0, other: 0, rate: 0 });
}

async function main(): Promise<void> {
  if (!isMainThread) {
    parentPort?.postMessage(await load(workerData as LoadOptions));
    return;
  }
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '16' },
      workers: { type: 'string', default: '1' },
      basic: { type: 'boolean', default: false },
      placed: { type: 'boolean', default: false },
      serve: { type: 'boolean' },
    },
  });
  const basic = values.basic === true;
  const placed = values.placed === true;
  if (values.serve === true) return serve(placed);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const workers = Number(values.workers);
  const profile = process.env.BENCH_SERVER_PROFILE;
  const child = fork(new URL(import.meta.url).pathname, ['--serve', ...(placed ? ['--placed'] : [])], {
    execArgv: ['--import', 'tsx', ...(profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profile])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));

  const answer = placed ? 'call_info' : '77427';
  const warm = await measure({ port, connections, ms: 1500, basic, placed }, workers);
  if (warm.ok === 0) throw new Error(`warm-up got no ${answer} answers (${warm.other} other replies)`);

  const before = await ask<ServerStats>(child, 'stats');
  const start = performance.now();
  const counts = await measure({ port, connections, ms: seconds * 1000, basic, placed }, workers);
  const wall = (performance.now() - start) / 1000;
  const after = await ask<ServerStats>(child, 'stats');

  const serverCpu = (after.cpuUserMicros + after.cpuSystemMicros - before.cpuUserMicros - before.cpuSystemMicros) / 1e6;
  const rps = counts.rate;
  console.log(
    `bench:api  switchvox.call -> ${answer}, HTTPS keep-alive, ${basic ? 'Basic' : 'Digest SHA-256'} per request, ${connections} connections, ` +
      `${workers} load thread(s), ${wall.toFixed(1)} s`,
  );
  console.log(`  ${Math.round(rps).toLocaleString('en-US')} requests/s  (${counts.ok} answered ${answer}, ${counts.other} other)`);
  // When the load generator cannot saturate the server (it costs more per request than the server does), this is
  // the figure that says what one server core sustains.
  console.log(
    `  server CPU ${((serverCpu / wall) * 100).toFixed(0)}% of one core -> ` +
      `${Math.round(counts.ok / serverCpu).toLocaleString('en-US')} requests per server CPU-second`,
  );
  console.log(`  server memory: rss ${(after.rss / 2 ** 20).toFixed(1)} MiB, heap used ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB`);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  await exited;
}

await main();
