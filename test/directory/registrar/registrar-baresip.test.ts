import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { pino } from 'pino';
import { LocationService } from '../../../src/directory/registrar/location-service.ts';
import { Registrar } from '../../../src/directory/registrar/registrar.ts';
import { migrate } from '../../../src/store/migrate.ts';
import { RegistrationStore } from '../../../src/store/registration-store.ts';
import { account, directory } from '../fixtures.ts';
import { startBaresip } from '../support/baresip.ts';
import { startSipRegistrar, type SipRegistrar } from '../support/sip-registrar.ts';

const dir = directory({
  realm: 'pbx.test',
  accounts: [account({ account_id: '1102', extension: '102', sip_password: 'baresip-secret' })],
});

describe('registrar with a real baresip phone over UDP', () => {
  let db: Database;
  let locations: LocationService;
  let server: SipRegistrar;
  const changes = new EventEmitter<{ change: [accountId: string] }>();

  before(async () => {
    db = new BetterSqlite3(':memory:');
    migrate(db);
    const store = new RegistrationStore(db);
    locations = new LocationService(store);
    const registrar = new Registrar({
      directory: { current: () => dir },
      store,
      logger: pino({ level: 'silent' }),
      onChange: (id) => changes.emit('change', id),
    });
    server = await startSipRegistrar(registrar);
  });

  after(async () => {
    await server.close();
    db.close();
  });

  it('binds the phone where it registered from, and removes it when the phone un-registers on exit', async () => {
    const bound = once(changes, 'change', { signal: AbortSignal.timeout(10_000) });
    const phone = startBaresip(`<sip:102@127.0.0.1:${server.port}>;auth_pass=baresip-secret;regint=120`);
    try {
      const [accountId] = await bound.catch((err: unknown) => {
        throw new Error(`no REGISTER binding within 10 s\n${phone.output()}`, { cause: err });
      });
      assert.equal(accountId, '1102');
      const [location, ...more] = locations.lookup('1102');
      assert.equal(more.length, 0);
      assert.ok(location, phone.output());
      assert.match(location.contact, /^sip:102[^@]*@127\.0\.0\.1:\d+/);
      assert.deepEqual(location.sendTo, { transport: 'udp', host: '127.0.0.1', port: location.sendTo.port });
      assert.ok(location.expiresAt - Date.now() > 100_000, 'regint 120 is honoured');
    } finally {
      const unbound = once(changes, 'change', { signal: AbortSignal.timeout(10_000) });
      await phone.stop();
      await unbound.catch((err: unknown) => {
        throw new Error(`no un-REGISTER within 10 s\n${phone.output()}`, { cause: err });
      });
    }
    assert.equal(locations.hasContacts('1102'), false);
  });
});
