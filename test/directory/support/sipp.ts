/** Runs one bounded sipp scenario on loopback and reports its exit code and output. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SCENARIOS = new URL('../../scenarios/', import.meta.url).pathname;

export interface SippRun {
  readonly code: number | null;
  /** stdout, stderr and sipp's error log: what a failing assertion should show. */
  readonly output: string;
}

export interface SippOptions {
  readonly scenario: string;
  /** Where the scenario sends (a client scenario) ... */
  readonly remotePort?: number;
  readonly service?: string;
  readonly authUser?: string;
  readonly authPass?: string;
  /** ... or the port it listens on (a server scenario). */
  readonly localPort?: number;
  /** Calls to run before exiting. */
  readonly calls?: number;
  readonly timeoutSeconds?: number;
  readonly transport?: 'udp' | 'tcp';
  readonly extra?: readonly string[];
}

export function runSipp(options: SippOptions): Promise<SippRun> {
  const cwd = mkdtempSync(join(tmpdir(), 'originate-sipp-'));
  const timeout = options.timeoutSeconds ?? 10;
  const args = ['-sf', join(SCENARIOS, options.scenario), '-i', '127.0.0.1', '-t', options.transport === 'tcp' ? 't1' : 'u1', '-m', String(options.calls ?? 1)];
  args.push('-timeout', `${timeout}s`, '-timeout_error', '-nostdin', '-trace_err', '-max_recv_loops', '100');
  if (options.localPort !== undefined) args.push('-p', String(options.localPort));
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.authUser !== undefined) args.push('-au', options.authUser);
  if (options.authPass !== undefined) args.push('-ap', options.authPass);
  args.push(...(options.extra ?? []));
  if (options.remotePort !== undefined) args.push(`127.0.0.1:${options.remotePort}`);
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // sipp's own -timeout ends it; this guard only catches a sipp that hangs anyway.
    const guard = setTimeout(() => child.kill('SIGKILL'), (timeout + 5) * 1000);
    child.on('error', (err) => {
      clearTimeout(guard);
      rmSync(cwd, { recursive: true, force: true });
      reject(err);
    });
    child.on('exit', (code) => {
      clearTimeout(guard);
      for (const f of readdirSync(cwd)) if (f.endsWith('_errors.log')) output += readFileSync(join(cwd, f), 'utf8');
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code, output: `sipp ${args.join(' ')}\n${output}` });
    });
  });
}
