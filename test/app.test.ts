/** buildApp as a whole server: SIP listens, and a config reload reaches the API (directory, IVR variables, passwords). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import type { GeneratedSecret } from '../src/config/credentials.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { apiCall } from './helpers/start-server.ts';

const yaml = (extra: string): string =>
  [
    'api: { https: { host: 127.0.0.1, port: 0 }, admin: { username: admin, password: admin-secret } }',
    'sip: { listen: [ { transport: udp, host: 127.0.0.1, port: 0 }, { transport: tcp, host: 127.0.0.1, port: 0 } ] }',
    'accounts:',
    '  - { account_id: "1101", extension: "101", type: sip }',
    '  - { account_id: "1800", extension: "800", type: ivr, ivr_variables: [ { id: 3, name: balance } ] }',
    extra,
    '',
  ].join('\n');

test('a full server listens on SIP, and a config edit reaches the API without a restart', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'originate-app-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, yaml(''));
  const generatedLater: GeneratedSecret[] = [];
  const app = await buildApp(loadConfig(configPath), {
    dataDir: join(dir, 'data'),
    logger: pino({ level: 'silent' }),
    configPath,
    onGeneratedSecrets: (s) => generatedLater.push(...s),
  });
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.ok(app.sip, 'the server runs its own SIP side');
  const listeners = app.sip.transport.listeners;
  assert.deepEqual(listeners.map((l) => l.transport).sort(), ['tcp', 'udp']);
  assert.ok(listeners.every((l) => l.port > 0));
  const { https } = await app.listen();
  const url = `https://127.0.0.1:${https!.port}/xml`;
  const getList = '<request method="switchvox.ivr.globalVariables.getList"/>';
  assert.doesNotMatch((await apiCall(url, getList, 'admin', 'admin-secret')).body, /name="acct"/);

  const reloader = app.sip.directory.reloader;
  assert.ok(reloader);
  const reloaded = once(reloader, 'reloaded');
  writeFileSync(
    configPath,
    yaml('  - { account_id: "1102", extension: "102", type: sip }').replace('[ { id: 3, name: balance } ]', '[ { id: 3, name: balance }, { id: 4, name: acct } ]'),
  );
  await reloaded;

  assert.match((await apiCall(url, getList, 'admin', 'admin-secret')).body, /<ivr_global_variable id="4" name="acct"/);
  const info = await apiCall(url, '<request method="switchvox.extensions.getInfo"><parameters><extension>102</extension></parameters></request>', 'admin', 'admin-secret');
  assert.match(info.body, /account_id="1102"/);
  // The new account's API password was generated, handed over once, and works for its extension user.
  const apiPassword = generatedLater.find((s) => s.label.includes('1102') && s.label.includes('API'))?.value;
  assert.ok(apiPassword, JSON.stringify(generatedLater.map((s) => s.label)));
  const asUser = await apiCall(
    url,
    '<request method="switchvox.users.call"><parameters><dial_first>x</dial_first><dial_second>101</dial_second></parameters></request>',
    '102',
    apiPassword,
  );
  assert.equal(asUser.status, 200);
  assert.match(asUser.body, /code="54222"/);
});
