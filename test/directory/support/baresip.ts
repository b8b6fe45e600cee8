/** A headless baresip phone with its own temporary config folder: no audio devices, no UI, one account. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Baresip {
  /** What baresip printed so far, for assertion messages. */
  output(): string;
  stop(): Promise<void>;
}

/** `account` is one line of baresip's accounts file: `<sip:102@127.0.0.1:PORT>;auth_pass=...;regint=...`. */
export function startBaresip(account: string, maxSeconds = 20): Baresip {
  const dir = mkdtempSync(join(tmpdir(), 'originate-baresip-'));
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      'sip_listen 127.0.0.1:0',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module_tmp uuid.so',
      'module_tmp account.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), `${account}\n`);
  // -t bounds the phone's life even if the test never stops it.
  const child: ChildProcess = spawn('baresip', ['-f', dir, '-t', String(maxSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  return {
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
