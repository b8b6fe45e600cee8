import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { type ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { Directory } from '../../src/directory/directory.ts';
import { DirectoryHolder } from '../../src/directory/directory-holder.ts';
import { startReloader, type Reloader } from '../../src/directory/reloader.ts';

const config = (accounts: string) => `
sip:
  realm: test.local
accounts:
${accounts}
`;
const alice = '  - { account_id: "1101", extension: "101", type: sip, display_name: "Alice", sip_password: "s1" }';
const bob = '  - { account_id: "1102", extension: "102", type: sip, display_name: "Bob", sip_password: "bob-device-secret" }';

/** Rejects when the event does not come within `ms`: a watch that never fires fails the test instead of hanging it. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return Promise.race([
    promise,
    once(signal, 'abort').then(() => {
      throw new Error(`no event within ${ms} ms`);
    }),
  ]);
}

describe('configuration reloader', () => {
  let dir: string;
  let path: string;
  let holder: DirectoryHolder;
  let reloader: Reloader;
  const logs: { msg: string; problems?: { path: string; message: string }[] }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'originate-reload-'));
    path = join(dir, 'originate.yaml');
    writeFileSync(path, config(alice));
    holder = new DirectoryHolder(new Directory(loadConfig(path)));
    logs.length = 0;
  });

  afterEach(() => {
    reloader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a good edit of the file without a restart', async () => {
    reloader = startReloader(path, holder, logger, { debounceMs: 20, sighup: false });
    assert.equal(holder.current().byExtension('102'), undefined);
    const changed = once(reloader, 'reloaded');
    writeFileSync(path, config(`${alice}\n${bob}`));
    await within(5000, changed);
    assert.equal(holder.current().byExtension('102')?.account_id, '1102');
    assert.equal(holder.current().sipPassword('1102'), 'bob-device-secret');
  });

  it('refuses a broken edit, keeps the running directory and logs which key is wrong', async () => {
    reloader = startReloader(path, holder, logger, { debounceMs: 20, sighup: false });
    const before = holder.current();
    const refused = once(reloader, 'refused');
    writeFileSync(path, config(`${alice}\n  - { account_id: "11x2", extension: "102", type: phone }`));
    const [error] = (await within(5000, refused)) as [ConfigError];
    assert.equal(holder.current(), before);
    const paths = error.problems.map((p) => p.path);
    assert.ok(paths.includes('accounts[1].type') && paths.includes('accounts[1].account_id'), paths.join(', '));
    const logged = logs.find((l) => l.msg.startsWith('configuration reload refused'));
    assert.ok(logged, 'the refusal is logged');
    assert.match(logged.msg, /accounts\[1\]\.type: must be one of/);
    assert.ok(logged.problems?.some((p) => p.path === 'accounts[1].account_id'));
  });

  it('reloads on SIGHUP', async () => {
    reloader = startReloader(path, holder, logger, { debounceMs: 60_000, sighup: true });
    writeFileSync(path, config(`${alice}\n${bob}`));
    const changed = once(reloader, 'reloaded');
    process.kill(process.pid, 'SIGHUP');
    await within(5000, changed);
    assert.equal(holder.current().account('1102')?.extension, '102');
  });

  it('applies the directory and names the sections that wait for a restart', async () => {
    reloader = startReloader(path, holder, logger, { debounceMs: 60_000, sighup: false, running: loadConfig(path) });
    writeFileSync(path, `media: { rtp_port_min: 40000, rtp_port_max: 40999 }\nsip: { realm: other.local, t1_ms: 250 }\naccounts:\n${alice}\n${bob}\n`);
    const result = reloader.reload();
    assert.ok(result.ok);
    assert.equal(holder.current().account('1102')?.extension, '102');
    const warned = logs.find((l) => l.msg.startsWith('configuration changes that take effect only after a restart'));
    assert.ok(warned, 'the restart-only changes are logged');
    assert.match(warned.msg, /sip \(except realm and registrar\), media$/);
    logs.length = 0;
    writeFileSync(path, config(alice));
    assert.ok(reloader.reload().ok);
    assert.equal(logs.find((l) => l.msg.startsWith('configuration changes that take effect only after a restart')), undefined);
  });

  it('does not log passwords', async () => {
    reloader = startReloader(path, holder, logger, { debounceMs: 20, sighup: false });
    const changed = once(reloader, 'reloaded');
    writeFileSync(path, config(`${alice}\n${bob}`));
    await within(5000, changed);
    assert.ok(logs.length > 0);
    assert.ok(!JSON.stringify(logs).includes('bob-device-secret'));
  });
});
