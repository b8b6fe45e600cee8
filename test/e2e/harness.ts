/**
 * End-to-end harness: a real server process started from a real config file, sipp processes as phones and trunk,
 * and an HTTPS client for the Switchvox API. Every port is taken fresh from the OS; every sipp run is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request as httpsRequest, Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import BetterSqlite3 from 'better-sqlite3';
import { buildApp } from '../../src/app.ts';
import type { OriginationEngine } from '../../src/calls/create-originator.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { freeSippMediaPort, freeTcpPort, freeUdpPort } from '../helpers/free-port.ts';
import type { DirectoryServices } from '../../src/directory/directory-services.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCENARIOS = join(ROOT, 'test/scenarios/e2e');

export { freeTcpPort, freeUdpPort } from '../helpers/free-port.ts';

export interface E2eAccount {
  readonly id: string;
  readonly ext: string;
  readonly sipPassword: string;
  readonly apiPassword: string;
}

export const ADMIN_PASSWORD = 'e2e-admin-pw';
export const ACCOUNTS: readonly E2eAccount[] = [
  { id: '1101', ext: '101', sipPassword: 'sip-101-pw', apiPassword: 'api-101-pw' },
  { id: '1102', ext: '102', sipPassword: 'sip-102-pw', apiPassword: 'api-102-pw' },
  { id: '1103', ext: '103', sipPassword: 'sip-103-pw', apiPassword: 'api-103-pw' },
];

export interface ServerPorts {
  readonly https: number;
  readonly sip: number;
  readonly trunk: number;
  /** A second trunk, so an outside-to-outside call has two distinct far ends. */
  readonly trunk2: number;
  readonly rtpMin: number;
}

export function configYaml(p: ServerPorts, extra: { maxRingSeconds?: number; rtpPorts?: number } = {}): string {
  const accounts = ACCOUNTS.map(
    (a) =>
      `  - { account_id: "${a.id}", extension: "${a.ext}", type: sip, display_name: "User ${a.ext}", sip_password: "${a.sipPassword}", api_password: "${a.apiPassword}", caller_id: { name: "User ${a.ext}", number: "1555000${a.ext}" }, <<: *api_settings }`,
  ).join('\n');
  return `api:
  https: { host: 127.0.0.1, port: ${p.https} }
  admin: { username: admin, password: ${ADMIN_PASSWORD} }
sip:
  listen:
    - { transport: udp, host: 127.0.0.1, port: ${p.sip} }
  public_host: 127.0.0.1
  realm: e2e.local
media:
  rtp_host: 127.0.0.1
  rtp_port_min: ${p.rtpMin}
  rtp_port_max: ${p.rtpMin + (extra.rtpPorts ?? 400)}
calls:
  max_ring_seconds: ${extra.maxRingSeconds ?? 60}
  max_call_seconds: 0
trunks:
  - { name: carrier, host: 127.0.0.1, port: ${p.trunk}, transport: udp, register: false, default_caller_id: "15550000000" }
  - { name: carrier2, host: 127.0.0.1, port: ${p.trunk2}, transport: udp, register: false, default_caller_id: "15550000000" }
outgoing_call_rules:
  - { name: long-distance, pattern_begin: "91", pattern_min: 12, pattern_max: 12, pattern_trim: 1, trunk: carrier, is_final: true }
  - { name: seven-digit, pattern_begin: "7", pattern_min: 7, pattern_max: 7, trunk: carrier2, is_final: true }
x-defaults: &api_settings
  call_api_settings:
    rewrites:
      - { lengths: [10, 11], prepend: "9" }
accounts:
${accounts}
  - { account_id: "1800", extension: "800", type: ivr, display_name: "Balance", ivr_variables: [ { id: 3, name: balance, default_value: "0" } ] }
`;
}

export interface RunningServer {
  readonly ports: ServerPorts;
  readonly dir: string;
  readonly output: () => string;
  /** In-process servers only: the engine, for looking at call records. */
  readonly engine?: OriginationEngine;
  /** In-process servers only: resolves once the account has a registered phone (the registrar tells), bounded. */
  readonly untilRegistered?: (accountId: string, ms: number) => Promise<void>;
  /** Spawned servers only: SIGKILL, leaving calls open in the store and the folder in place. */
  crash?(): Promise<void>;
  stop(): Promise<void>;
}

/** `RunningServer.untilRegistered` for a server in this process: the registrar's change events, no polling. */
export function untilRegisteredOn(directory: DirectoryServices): (accountId: string, ms: number) => Promise<void> {
  return (accountId, ms) => {
    const registered = (): boolean => directory.locations.hasContacts(accountId);
    if (registered()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stop = directory.onRegistrationChange((changed) => {
        if (changed !== accountId || !registered()) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`account ${accountId} has no registered phone after ${ms} ms`));
      }, ms);
    });
  };
}

/**
 * The real server (buildApp: API, store, SIP transport, user agent, registrar, media, origination engine) in this
 * process, from a config file written in the real format; gives the tests the engine to look at call records.
 */
export async function startInProcess(extra: { maxRingSeconds?: number; rtpPorts?: number } = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'originate-e2e-'));
  const trunk = await freeUdpPort();
  const trunk2 = await freeUdpPort();
  const rtpMin = extra.rtpPorts ? 20000 : 30000 + Math.floor(Math.random() * 60) * 500;
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, configYaml({ https: 0, sip: 0, trunk, trunk2, rtpMin }, extra));
  const logger = pino({ level: process.env.E2E_LOG_LEVEL ?? 'silent' });
  const app = await buildApp(loadConfig(configPath), { dataDir: join(dir, 'data'), logger });
  const sip = app.sip!;
  const addresses = await app.listen();
  return {
    ports: { https: addresses.https!.port, sip: sip.transport.localEndpoint('udp').port, trunk, trunk2, rtpMin },
    dir,
    output: () => '',
    engine: sip.engine,
    untilRegistered: untilRegisteredOn(sip.directory),
    async stop() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `node bin/originate.js serve` on fresh ports; resolves once it logged that it listens. */
export async function startServer(extra: { maxRingSeconds?: number; again?: RunningServer } = {}): Promise<RunningServer> {
  const dir = extra.again?.dir ?? mkdtempSync(join(tmpdir(), 'originate-e2e-'));
  const ports: ServerPorts = extra.again?.ports ?? {
    https: await freeTcpPort(),
    sip: await freeUdpPort(),
    trunk: await freeUdpPort(),
    trunk2: await freeUdpPort(),
    rtpMin: 30000 + Math.floor(Math.random() * 60) * 500,
  };
  const configPath = join(dir, 'config.yaml');
  if (!extra.again) writeFileSync(configPath, configYaml(ports, extra));
  const child = spawn(process.execPath, [join(ROOT, 'bin/originate.js'), 'serve', '--config', configPath, '--data', join(dir, 'data')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 15 s:\n${out}`)), 15_000);
    const check = (): void => {
      if (out.includes('originate listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    ports,
    dir,
    output: () => out,
    async crash() {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const exited = once(child, 'exit');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SippResult {
  readonly code: number | null;
  readonly output: string;
  /** Every message sipp sent and received (-trace_msg). */
  readonly messages: string;
}

export interface SippRun {
  readonly port: number;
  readonly done: Promise<SippResult>;
  kill(): void;
}

let sippSeq = 0;

/**
 * Runs one sipp process bounded by -m 1 and -timeout. As a server (no `remote`) it listens on `port`; resolves
 * once the process ended. Server mode waits until its port is bound before returning.
 */
export async function sipp(opts: {
  readonly scenario: string;
  readonly port?: number;
  readonly remote?: string;
  readonly service?: string;
  readonly timeoutS?: number;
  readonly args?: readonly string[];
  /** Calls before sipp exits (-m); 1 by default. */
  readonly calls?: number;
  /** Keep every message in a trace file (off for benchmarks). */
  readonly trace?: boolean;
}): Promise<SippRun> {
  const port = opts.port ?? (await freeUdpPort());
  const mediaPort = await freeSippMediaPort(port);
  const traceDir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const traceFile = join(traceDir, `msg-${++sippSeq}.log`);
  const args = [
    ...(opts.remote ? [opts.remote] : []),
    '-sf',
    join(SCENARIOS, opts.scenario),
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-mp',
    String(mediaPort),
    '-m',
    String(opts.calls ?? 1),
    '-timeout',
    `${opts.timeoutS ?? 30}s`,
    '-timeout_error',
    '-nostdin',
    ...(opts.trace === false ? [] : ['-trace_msg', '-message_file', traceFile]),
    '-trace_err',
    '-error_file',
    join(traceDir, 'err.log'),
    ...(opts.service ? ['-s', opts.service] : []),
    ...(opts.args ?? []),
  ];
  const child: ChildProcess = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<SippResult>((resolve) => {
    child.once('exit', (code) => {
      const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
      const result = { code, output: output + read(join(traceDir, 'err.log')), messages: read(traceFile) };
      rmSync(traceDir, { recursive: true, force: true });
      resolve(result);
    });
  });
  if (!opts.remote) await waitUdpBound(port, child, () => output);
  return { port, done, kill: () => child.kill('SIGKILL') };
}

/** Whether some socket is bound to this UDP port, read from /proc so that probing never steals the port. */
function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex.trim()) === true);
}

/** Waits until the sipp process holds its UDP port, at most 5 s. */
async function waitUdpBound(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sipp exited before listening on ${port}: ${output()}`);
    if (udpPortBound(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`sipp did not bind ${port} within 5 s`);
}

/** Registers extension `account` with its contact pointing at `contactPort` (a running sipp UAS); expires 0 removes it. */
export async function register(server: RunningServer, account: E2eAccount, contactPort: number, expires = 300): Promise<void> {
  const run = await sipp({
    scenario: 'register.xml',
    remote: `127.0.0.1:${server.ports.sip}`,
    service: account.ext,
    timeoutS: 10,
    args: ['-au', account.ext, '-ap', account.sipPassword, '-key', 'contact_port', String(contactPort), '-key', 'expires', String(expires)],
  });
  const result = await run.done;
  if (result.code !== 0) throw new Error(`REGISTER of ${account.ext} failed (${result.code}):\n${result.output}\n${result.messages}`);
}

const agent = new Agent({ keepAlive: true, rejectUnauthorized: false });

/**
 * Bounds the HTTPS connections `api` keeps (default: unbounded). A load generator wants a fixed pool, as an
 * application server has: unbounded, every latency blip opens new connections, and their TLS handshakes load
 * the server just when it is behind.
 */
export function limitApiConnections(max: number): void {
  agent.maxSockets = max;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
}

/** POSTs one request envelope to /xml or /json with Basic auth. */
export function api(server: RunningServer, format: 'xml' | 'json', body: string, user = 'admin', password = ADMIN_PASSWORD): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: server.ports.https,
        path: `/${format}`,
        method: 'POST',
        agent,
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
          'content-type': format === 'xml' ? 'text/xml' : 'application/json',
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function callXml(params: Record<string, string | readonly string[]>, method = 'switchvox.call'): string {
  const inner = Object.entries(params)
    .map(([k, v]) =>
      typeof v === 'string' ? `<${k}>${v}</${k}>` : `<${k}>${v.map((x) => `<variable>${x}</variable>`).join('')}</${k}>`,
    )
    .join('');
  return `<request method="${method}"><parameters>${inner}</parameters></request>`;
}

export function callJson(params: Record<string, unknown>, method = 'switchvox.call'): string {
  return JSON.stringify({ request: { method, parameters: params } });
}

/** The messages sipp received of one method (or response status), from its -trace_msg log. */
export function received(messages: string, startLine: RegExp): string[] {
  return messages
    .split(/^-{20,}.*$/m)
    .filter((block) => /message received/.test(block))
    .map((block) => block.replace(/^\s*\S+ message received[^\n]*\n\s*/, ''))
    .filter((msg) => startLine.test(msg.split(/\r?\n/)[0] ?? ''));
}

export interface StoredCall {
  readonly call_id: string;
  readonly phase: string;
  readonly live: number;
  readonly end_reason: string | null;
}

/** A call record as the server stored it, read from its SQLite file (the server may be another process). */
export function storedCall(server: RunningServer, callId: string): StoredCall | undefined {
  const db = new BetterSqlite3(join(server.dir, 'data', 'originate.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT call_id, phase, live, end_reason FROM call_records WHERE call_id = ?').get(callId) as StoredCall | undefined;
  } finally {
    db.close();
  }
}

/** The calls the server reports through switchvox.currentCalls.getList. */
export async function currentCalls(server: RunningServer): Promise<{ id: string; state: string }[]> {
  const list = await api(server, 'xml', '<request method="switchvox.currentCalls.getList"><parameters/></request>');
  return [...list.body.matchAll(/<current_call id="([^"]+)"[^>]* state="([^"]+)"/g)].map((m) => ({ id: m[1]!, state: m[2]! }));
}
