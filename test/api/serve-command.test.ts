/** `originate serve` as a real process: start-up, passwords printed once, SIGTERM drain, config errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { apiCall } from '../helpers/start-server.ts';

const BIN = new URL('../../bin/originate.js', import.meta.url).pathname;

interface Started {
  port: number;
  stdout: () => string;
  stop(): Promise<number | null>;
}

/** Starts the command; resolves once it logs that it listens (bounded). */
async function serve(config: string, data: string): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s; stderr: ${err}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"https":\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)\}.*"msg":"originate listening"/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${err}`));
    });
  });
  return {
    port,
    stdout: () => out,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

test('serve: generated passwords printed on the first start only, API answers, SIGTERM drains with exit 0', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originate-serve-'));
  const config = join(dir, 'c.yaml');
  writeFileSync(config, 'api: { https: { host: 127.0.0.1, port: 0 } }\nsip: { listen: [ { transport: udp, host: 127.0.0.1, port: 0 } ] }\naccounts:\n  - { account_id: "1101", extension: "101", type: sip }\n');
  const data = join(dir, 'data');
  const first = await serve(config, data);
  const password = /API admin password \(user admin\): (\S+)/.exec(first.stdout())?.[1];
  assert.ok(password, first.stdout());
  assert.match(first.stdout(), /account 1101 \(extension 101\) SIP password: \S+/);
  const r = await apiCall(`https://127.0.0.1:${first.port}/xml`, '<request method="switchvox.extensions.getInfo"><parameters><extension>101</extension></parameters></request>', 'admin', password);
  assert.match(r.body, /<extension account_id="1101" number="101"/);
  assert.equal(await first.stop(), 0);

  const second = await serve(config, data);
  assert.doesNotMatch(second.stdout(), /password/i);
  const again = await apiCall(`https://127.0.0.1:${second.port}/json`, '{"request":{"method":"switchvox.ivr.globalVariables.getList"}}', 'admin', password, 'basic');
  assert.equal(again.status, 200);
  assert.equal(await second.stop(), 0);
});

test('serve: an invalid config stops start-up with the path of the bad key, exit 1', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originate-serve-'));
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, 'accounts:\n  - { account_id: "1", extension: "1", type: sip }\n  - { account_id: "2", extension: "2", type: sip }\n  - { account_id: "3", extension: "3", type: sip }\n  - { account_id: "4", extension: "4", type: fax }\n');
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--data', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.match(err, /accounts\[3\]\.type: must be one of sip, analog, virtual, ivr, queue, conference/);
  const usage = spawn(process.execPath, [BIN, 'bogus'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const [usageCode] = await once(usage, 'exit');
  assert.equal(usageCode, 2);
});

test('serve: a port already taken is reported plainly, exit 1', { timeout: 30_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = blocker.address() as { port: number };
    const dir = mkdtempSync(join(tmpdir(), 'originate-serve-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `api: { https: { host: 127.0.0.1, port: ${port} } }\nsip: { listen: [ { transport: udp, host: 127.0.0.1, port: 0 } ] }\n`);
    const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--data', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    assert.match(err, /^cannot listen: .*EADDRINUSE/m);
    assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
  } finally {
    blocker.close();
  }
});
