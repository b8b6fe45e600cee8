import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { pino } from 'pino';
import { LocationService } from '../../../src/directory/registrar/location-service.ts';
import { Registrar } from '../../../src/directory/registrar/registrar.ts';
import { openDatabase } from '../../../src/store/open-database.ts';
import { RegistrationStore } from '../../../src/store/registration-store.ts';
import { account, directory } from '../fixtures.ts';
import { runSipp } from '../support/sipp.ts';
import { startSipRegistrar, type SipRegistrar } from '../support/sip-registrar.ts';

const dir = directory({
  realm: 'pbx.test',
  registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, max_failures: 50, window_seconds: 60, lockout_seconds: 60 },
  accounts: [
    account({ account_id: '1101', extension: '101', sip_password: 'pw-101' }),
    account({ account_id: '1102', extension: '102', sip_password: 'pw-102' }),
    account({ account_id: '1103', extension: '103', sip_password: 'pw-103' }),
    account({ account_id: '1104', extension: '104', sip_password: 'pw-104' }),
    account({ account_id: '1105', extension: '105', sip_password: 'pw-105' }),
  ],
});

describe('registrar over UDP with sipp', () => {
  let dataDir: string;
  let db: Database;
  let locations: LocationService;
  let server: SipRegistrar;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'originate-registrar-'));
    db = openDatabase(dataDir);
    const store = new RegistrationStore(db);
    locations = new LocationService(store);
    server = await startSipRegistrar(new Registrar({ directory: { current: () => dir }, store, logger: pino({ level: 'silent' }) }));
  });

  after(async () => {
    await server.close();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('binds a phone with the right password, where it registered from', async () => {
    const run = await runSipp({ scenario: 'registrar/register-ok.xml', remotePort: server.port, service: '101', authUser: '101', authPass: 'pw-101' });
    assert.equal(run.code, 0, run.output);
    const [binding, ...more] = locations.lookup('1101');
    assert.equal(more.length, 0);
    assert.ok(binding);
    assert.match(binding.contact, /^sip:101@127\.0\.0\.1:\d+$/);
    assert.equal(binding.sendTo.host, '127.0.0.1');
    assert.equal(binding.contact, `sip:101@127.0.0.1:${binding.sendTo.port}`);
  });

  it('over TCP, keeps the connection the phone opened as where to reach it', async () => {
    const run = await runSipp({ scenario: 'registrar/register-ok.xml', remotePort: server.tcpPort, transport: 'tcp', service: '105', authUser: '105', authPass: 'pw-105' });
    assert.equal(run.code, 0, run.output);
    const [binding] = locations.lookup('1105');
    assert.ok(binding);
    assert.deepEqual([binding.sendTo.transport, binding.sendTo.host], ['tcp', '127.0.0.1']);
    assert.match(binding.contact, /^sip:105@127\.0\.0\.1:\d+$/);
  });

  it('re-challenges a wrong password and binds nothing', async () => {
    const run = await runSipp({ scenario: 'registrar/register-wrong-password.xml', remotePort: server.port, service: '102', authUser: '102', authPass: 'not-it' });
    assert.equal(run.code, 0, run.output);
    assert.equal(locations.hasContacts('1102'), false);
  });

  it('answers 423 with Min-Expires to a too brief expiry and binds on the retry with it', async () => {
    const run = await runSipp({ scenario: 'registrar/register-too-brief.xml', remotePort: server.port, service: '103', authUser: '103', authPass: 'pw-103' });
    assert.equal(run.code, 0, run.output);
    const [binding] = locations.lookup('1103');
    assert.ok(binding);
    assert.ok(binding.expiresAt - Date.now() <= 60_000 && binding.expiresAt - Date.now() > 50_000);
  });

  it('keeps several contacts, removes one with expires=0 and all with Contact: *', async () => {
    const run = await runSipp({ scenario: 'registrar/register-contacts.xml', remotePort: server.port, service: '104', authUser: '104', authPass: 'pw-104' });
    assert.equal(run.code, 0, run.output);
    assert.equal(locations.hasContacts('1104'), false);
  });

  it('keeps the bindings across a restart: a new store and location service on the same database file', () => {
    const reopened = openDatabase(dataDir);
    try {
      const after = new LocationService(new RegistrationStore(reopened)).lookup('1101');
      assert.deepEqual(after, locations.lookup('1101'));
      assert.equal(after.length, 1);
    } finally {
      reopened.close();
    }
  });
});
