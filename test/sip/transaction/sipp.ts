import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { freeSippMediaPort } from '../../helpers/free-port.ts';

/** A port free on 127.0.0.1 for both UDP and TCP right now (sipp needs a number, it cannot report port 0). */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs sipp to completion on 127.0.0.1 with its own free signalling and media ports. `args` must bound the run
 * (-m and -timeout); `killAfterMs` is a last resort so a wedged sipp cannot hang the suite.
 */
export async function runSipp(args: string[], killAfterMs = 30_000): Promise<SippResult & { port: number }> {
  const { port, done } = await startSipp(args, killAfterMs);
  return { ...(await done), port };
}

/** Starts sipp (e.g. as a UAS) and returns its port and a promise of its result. */
export async function startSipp(args: string[], killAfterMs = 30_000): Promise<{ port: number; done: Promise<SippResult> }> {
  const port = await freePort();
  const mediaPort = await freeSippMediaPort(port);
  const child = spawn('sipp', ['-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-nostdin', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<SippResult>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { port, done };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (sipp binds a moment after it starts). */
export async function waitForTcpListener(port: number, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (connected) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on tcp port ${port}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}
