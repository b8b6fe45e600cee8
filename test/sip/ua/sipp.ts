import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freeSippMediaPort } from '../../helpers/free-port.ts';
import { freePort } from '../transaction/sipp.ts';
import { TransportLayer } from '../../../src/sip/transport/transport-layer.ts';
import type { Endpoint, TransportProtocol } from '../../../src/sip/transport/endpoint.ts';
import type { SendErrorHandler, SipTransport, TransportReceiver } from '../../../src/sip/transport/transport.ts';
import { parseMessage, SipParseError, type SipMessage, type SipRequest, type SipResponse } from '../../../src/sip/message/index.ts';
import { UserAgent, type UserAgentOptions } from '../../../src/sip/ua/user-agent.ts';

export const SCENARIOS = fileURLToPath(new URL('../../scenarios/dialog/', import.meta.url));

export interface Sipp {
  readonly port: number;
  /** Exit code 0 means every call of the run succeeded. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): void;
}

/** Whether something listens on (tcp) / is bound to (udp) 127.0.0.1:port, read from /proc without touching it. */
async function bound(transport: TransportProtocol, port: number): Promise<boolean> {
  const table = await readFile(`/proc/net/${transport}`, 'utf8');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table
    .split('\n')
    .slice(1)
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1] === local && (transport === 'udp' || cols[3] === '0A');
    });
}

/**
 * Starts sipp on 127.0.0.1 with a scenario of test/scenarios/dialog, bounded by -m 1 and -timeout, and resolves
 * once its sockets are bound (so a TCP connect or the first UDP datagram finds it). The ports are free when picked
 * but another test may take one before sipp binds it: then sipp is started again on new ports.
 */
export async function startSipp(
  scenario: string,
  transport: TransportProtocol,
  opts: { target?: string; timeoutSeconds?: number; extra?: readonly string[] } = {},
): Promise<Sipp> {
  for (let attempt = 1; ; attempt++) {
    const started = await launch(scenario, transport, opts);
    if (started !== 'ports-taken') return started;
    if (attempt === 3) throw new Error('sipp found its ports taken three times');
  }
}

async function launch(
  scenario: string,
  transport: TransportProtocol,
  opts: { target?: string; timeoutSeconds?: number; extra?: readonly string[] },
): Promise<Sipp | 'ports-taken'> {
  const timeoutSeconds = opts.timeoutSeconds ?? 15;
  const port = await freePort();
  const mediaPort = await freeSippMediaPort(port);
  const args = [
    '-sf', SCENARIOS + scenario,
    '-i', '127.0.0.1',
    '-p', String(port),
    '-mp', String(mediaPort),
    '-t', transport === 'udp' ? 'u1' : 't1',
    '-m', '1',
    '-timeout', `${timeoutSeconds}s`,
    '-timeout_error',
    '-nostdin',
    ...(opts.extra ?? []),
    ...(opts.target === undefined ? [] : [opts.target]),
  ];
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutSeconds + 10) * 1000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  // sipp binds its RTP socket at start-up in every mode; a UAS-side sipp must also be listening before we send.
  const ready = async (): Promise<boolean> =>
    (await bound('udp', mediaPort)) && (opts.target !== undefined || (await bound(transport, port)));
  const deadline = Date.now() + 5000;
  let exited = false;
  void done.then(() => (exited = true));
  while (!(await ready())) {
    if (exited) {
      if (/Address already in use/.test(stderr)) return 'ports-taken';
      throw new Error(`sipp exited before binding ${transport} port ${port}: ${stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`sipp did not bind ${transport} port ${port} in 5 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { port, done, stop: () => child.kill('SIGKILL') };
}

/** Sees every message the user agent sends ('out') and receives ('in'), without changing them. */
export class TapTransport extends EventEmitter<{ in: [SipMessage]; out: [SipMessage] }> implements SipTransport {
  constructor(readonly inner: TransportLayer) {
    super();
  }

  setReceiver(receiver: TransportReceiver): void {
    this.inner.setReceiver({
      receiveRequest: (req: SipRequest, source: Endpoint, local: Endpoint) => {
        this.emit('in', req);
        receiver.receiveRequest(req, source, local);
      },
      receiveResponse: (res: SipResponse, source: Endpoint, local: Endpoint) => {
        this.emit('in', res);
        receiver.receiveResponse(res, source, local);
      },
    });
  }

  send(msg: SipMessage, to: Endpoint, onError?: SendErrorHandler): void {
    this.emit('out', msg);
    this.inner.send(msg, to, onError);
  }

  sendResponse(res: SipResponse, source: Endpoint, onError?: SendErrorHandler): void {
    this.emit('out', res);
    this.inner.sendResponse(res, source, onError);
  }

  sendResponseBytes(data: Buffer, to: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void {
    const msg = parseMessage(data);
    if (msg instanceof SipParseError) throw msg;
    this.emit('out', msg);
    this.inner.sendResponseBytes(data, to, onError, local);
  }

  localEndpoint(transport: TransportProtocol): Endpoint {
    return this.inner.localEndpoint(transport);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A user agent on real UDP and TCP listeners on 127.0.0.1, ephemeral ports. */
export async function startUa(opts: Partial<Omit<UserAgentOptions, 'transport'>> = {}): Promise<{
  ua: UserAgent;
  tap: TapTransport;
  port(t: TransportProtocol): number;
  close(): Promise<void>;
}> {
  const layer = await TransportLayer.listen({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ],
    publicHost: '127.0.0.1',
  });
  const tap = new TapTransport(layer);
  const ua = new UserAgent({ transport: tap, t1Ms: 500, t2Ms: 4000, t4Ms: 5000, ...opts });
  return {
    ua,
    tap,
    port: (t) => layer.localEndpoint(t).port,
    close: async () => {
      ua.close();
      await layer.close();
    },
  };
}

/** Waits for `promise`, failing instead when sipp exits first (so a broken scenario fails the test, never hangs it). */
export function beforeSippEnds<T>(sipp: Sipp, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    sipp.done.then((r) => {
      throw new Error(`sipp exited (${r.code}) first:\n${r.stdout.slice(-2000)}\n${r.stderr}`);
    }),
  ]);
}
