import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { pino } from 'pino';
import { resolveCredentials } from '../../src/config/credentials.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createDirectoryServices, type DirectoryServices } from '../../src/directory/directory-services.ts';
import type { TrunkStatus } from '../../src/directory/trunks/trunk-manager.ts';
import { TransportLayer } from '../../src/sip/transport/transport-layer.ts';
import { UserAgent } from '../../src/sip/ua/user-agent.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { SqliteSecretStore } from '../../src/store/sqlite-secret-store.ts';
import { freeUdpPort } from './support/free-port.ts';
import { runSipp, type SippRun } from './support/sipp.ts';

const yaml = (trunkPort: number, extra = '') => `
sip:
  realm: pbx.test
  registrar: { min_expires: 60 }
trunks:
  - { name: carrier, host: 127.0.0.1, port: ${trunkPort}, transport: udp, register: true, register_expires: 300,
      username: trunkuser, password: trunk-secret, domain: carrier.test }
accounts:
  - { account_id: "1101", extension: "101", type: sip, display_name: "Alice" }
${extra}`;

describe('directory services wired on a real user agent, from a real config file', () => {
  let dir: string;
  let db: Database;
  let transport: TransportLayer;
  let ua: UserAgent;
  let services: DirectoryServices;
  let trunkSipp: Promise<SippRun>;
  let trunkPort: number;
  const statuses = new EventEmitter<{ status: [TrunkStatus] }>();
  const seen: TrunkStatus[] = [];
  statuses.on('status', (s) => seen.push(s));
  /** Resolves once `count` statuses have been seen (including earlier ones); bounded. */
  const statusCount = (count: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (seen.length < count) return;
        statuses.off('status', check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        statuses.off('status', check);
        reject(new Error(`only ${seen.length} trunk statuses within 10 s: ${JSON.stringify(seen)}`));
      }, 10_000);
      statuses.on('status', check);
      check();
    });
  let sipPassword: (id: string) => string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'originate-services-'));
    trunkPort = await freeUdpPort();
    trunkSipp = runSipp({ scenario: 'trunk/registrar-verifyauth.xml', localPort: trunkPort, timeoutSeconds: 20 });
    writeFileSync(join(dir, 'originate.yaml'), yaml(trunkPort));
    db = openDatabase(dir);
    const secrets = new SqliteSecretStore(db);
    const credentialsFor = (config: Parameters<typeof resolveCredentials>[0]) => resolveCredentials(config, secrets).credentials;
    sipPassword = (id) => credentialsFor(loadConfig(join(dir, 'originate.yaml'))).sipPassword(id);
    transport = await TransportLayer.listen({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    ua = new UserAgent({ transport, t1Ms: 100, t2Ms: 400, t4Ms: 500 });
    services = createDirectoryServices({
      config: loadConfig(join(dir, 'originate.yaml')),
      configPath: join(dir, 'originate.yaml'),
      db,
      credentialsFor,
      secrets,
      ua,
      logger: pino({ level: 'silent' }),
      reloadDebounceMs: 20,
      sighup: false,
      onTrunkStatus: (s) => statuses.emit('status', s),
    });
  });

  after(async () => {
    await services.close();
    ua.close();
    await transport.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the trunk with its credentials on start', async () => {
    services.start();
    await statusCount(1);
    assert.deepEqual([seen[0]?.name, seen[0]?.state, seen[0]?.lastStatus], ['carrier', 'registered', 200]);
  });

  it('registers a phone with its generated SIP password', async () => {
    const password = sipPassword('1101');
    assert.ok(password !== undefined && password.length >= 20);
    const run = await runSipp({ scenario: 'registrar/register-ok.xml', remotePort: transport.localEndpoint('udp').port, service: '101', authUser: '101', authPass: password });
    assert.equal(run.code, 0, run.output);
    assert.equal(services.locations.hasContacts('1101'), true);
  });

  it('takes a new account from an edited config file without a restart', async () => {
    const reloaded = once(services.reloader!, 'reloaded', { signal: AbortSignal.timeout(5000) });
    writeFileSync(join(dir, 'originate.yaml'), yaml(trunkPort, '  - { account_id: "1102", extension: "102", type: sip, display_name: "Bob", sip_password: "bob-pw" }'));
    await reloaded;
    const run = await runSipp({ scenario: 'registrar/register-ok.xml', remotePort: transport.localEndpoint('udp').port, service: '102', authUser: '102', authPass: 'bob-pw' });
    assert.equal(run.code, 0, run.output);
    assert.equal(services.locations.hasContacts('1102'), true);
    assert.equal(services.trunks.trunkStatus()[0]?.state, 'registered', 'the unchanged trunk kept its registration');
  });

  it('un-registers the trunk on close', async () => {
    // The scenario refreshes once (2 s grant) before it expects the un-REGISTER.
    await statusCount(2);
    assert.equal(seen[1]?.state, 'registered');
    await services.close();
    const run = await trunkSipp;
    assert.equal(run.code, 0, run.output);
  });
});
