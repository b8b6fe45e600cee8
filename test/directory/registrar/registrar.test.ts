import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { LocationService } from '../../../src/directory/registrar/location-service.ts';
import type { RegisterAnswer, RegisterRequest } from '../../../src/directory/registrar/registrar.ts';
import { Registrar } from '../../../src/directory/registrar/registrar.ts';
import { answerChallenge } from '../../../src/sip/auth/digest.ts';
import { migrate } from '../../../src/store/migrate.ts';
import { RegistrationStore } from '../../../src/store/registration-store.ts';
import { account, directory } from '../fixtures.ts';

const dir = directory({
  realm: 'pbx.test',
  registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, max_failures: 3, window_seconds: 60, lockout_seconds: 300 },
  accounts: [
    account({ account_id: '1101', extension: '101', sip_password: 'secret-101' }),
    account({ account_id: '1102', extension: '102', type: 'analog', sip_password: 'secret-102' }),
    account({ account_id: '1104', extension: '104', type: 'virtual', sip_password: 'never' }),
  ],
});

/** The verifier's nonces carry their issue time in ms: a fake clock that never moves would repeat them. */
const tickingClock = { now: 1_800_000_000_000 };

function setup() {
  const db = new BetterSqlite3(':memory:');
  migrate(db);
  const clock = tickingClock;
  const store = new RegistrationStore(db);
  const registrar = new Registrar({ directory: { current: () => dir }, store, logger: pino({ level: 'silent' }), now: () => clock.now });
  const locations = new LocationService(store, () => clock.now);
  return { registrar, locations, clock };
}

let cseqs = 0;
function req(fields: Partial<RegisterRequest>): RegisterRequest {
  return {
    toUser: '101',
    callId: 'call-a',
    cseq: ++cseqs,
    contacts: [{ uri: 'sip:101@192.0.2.10:5060' }],
    authorizations: [],
    source: { transport: 'udp', host: '192.0.2.10', port: 5060 },
    ...fields,
  };
}

/** Sends the request, answers the 401 with `password`, returns the final answer. */
function register(registrar: Registrar, request: RegisterRequest, password = 'secret-101', username = request.toUser): RegisterAnswer {
  tickingClock.now += 1;
  const first = registrar.handle(request);
  if (first.status !== 401) return first;
  const challenge = first.headers.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
  const authorization = answerChallenge({ challenge: challenge[0] ?? '', method: 'REGISTER', uri: 'sip:pbx.test', username, password });
  return registrar.handle({ ...request, cseq: request.cseq + 1, authorizations: [authorization] });
}

const contacts = (a: RegisterAnswer) => a.headers.filter(([n]) => n === 'Contact').map(([, v]) => v);

describe('Registrar', () => {
  it('challenges an unauthenticated REGISTER with MD5 only by default', () => {
    const { registrar } = setup();
    const a = registrar.handle(req({}));
    assert.equal(a.status, 401);
    assert.deepEqual(
      a.headers.map(([n, v]) => [n, /algorithm=([\w-]+)/.exec(v)?.[1]]),
      [['WWW-Authenticate', 'MD5']],
    );
  });

  it('offers the configured algorithms in order, and accepts SHA-256 credentials', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    const registrar = new Registrar({
      directory: { current: () => dir },
      store: new RegistrationStore(db),
      logger: pino({ level: 'silent' }),
      now: () => tickingClock.now,
      algorithms: ['SHA-256', 'MD5'],
    });
    const a = registrar.handle(req({}));
    assert.equal(a.status, 401);
    const challenges = a.headers.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
    assert.equal(challenges.length, 2);
    assert.match(challenges[0] ?? '', /realm="pbx.test".*algorithm=SHA-256/);
    assert.match(challenges[1] ?? '', /algorithm=MD5/);
    assert.equal(register(registrar, req({})).status, 200);
  });

  it('binds the contact with the right password and lists it with its expires', () => {
    const { registrar, locations } = setup();
    const a = register(registrar, req({ expires: 300 }));
    assert.equal(a.status, 200);
    assert.deepEqual(contacts(a), ['<sip:101@192.0.2.10:5060>;expires=300']);
    assert.equal(locations.hasContacts('1101'), true);
    assert.deepEqual(
      locations.lookup('1101').map((l) => [l.contact, l.sendTo]),
      [['sip:101@192.0.2.10:5060', { transport: 'udp', host: '192.0.2.10', port: 5060 }]],
    );
  });

  it('re-challenges a wrong password and locks the source out after max_failures', () => {
    const { registrar, locations } = setup();
    assert.equal(register(registrar, req({}), 'wrong').status, 401);
    assert.equal(register(registrar, req({}), 'wrong').status, 401);
    assert.equal(register(registrar, req({}), 'wrong').status, 403);
    assert.equal(register(registrar, req({})).status, 403, 'locked even with the right password');
    assert.equal(register(registrar, req({ source: { transport: 'udp', host: '192.0.2.99', port: 5060 } })).status, 200, 'other sources are not');
    assert.equal(locations.lookup('1101').length, 1);
  });

  it('lets the lockout end after lockout_seconds', () => {
    const { registrar, clock } = setup();
    for (let i = 0; i < 3; i++) register(registrar, req({}), 'wrong');
    assert.equal(register(registrar, req({})).status, 403);
    clock.now += 301_000;
    assert.equal(register(registrar, req({})).status, 200);
  });

  it('refuses to register another extension with valid credentials', () => {
    const { registrar } = setup();
    assert.equal(register(registrar, req({ toUser: '102' }), 'secret-101', '101').status, 403);
  });

  it('refuses extension types without devices before challenging', () => {
    const { registrar } = setup();
    assert.equal(registrar.handle(req({ toUser: '104' })).status, 403);
  });

  it('answers 423 with Min-Expires below the minimum and shortens above the maximum', () => {
    const { registrar } = setup();
    const brief = register(registrar, req({ expires: 30 }));
    assert.equal(brief.status, 423);
    assert.deepEqual(brief.headers, [['Min-Expires', '60']]);
    const long = register(registrar, req({ contacts: [{ uri: 'sip:101@192.0.2.10', expires: 99999 }] }));
    assert.deepEqual(contacts(long), ['<sip:101@192.0.2.10>;expires=3600']);
  });

  it('keeps several contacts per extension and lists all of them; a contact parameter beats the header', () => {
    const { registrar, locations, clock } = setup();
    register(registrar, req({ contacts: [{ uri: 'sip:101@192.0.2.10:5060' }], expires: 120 }));
    clock.now += 1000;
    const a = register(registrar, req({ callId: 'call-b', contacts: [{ uri: 'sip:101@192.0.2.11:5062', expires: 900 }], expires: 120, source: { transport: 'tcp', host: '192.0.2.11', port: 40000 } }));
    assert.deepEqual(contacts(a), ['<sip:101@192.0.2.10:5060>;expires=119', '<sip:101@192.0.2.11:5062>;expires=900']);
    assert.deepEqual(locations.lookup('1101')[1]?.sendTo, { transport: 'tcp', host: '192.0.2.11', port: 40000 });
  });

  it('un-registers one contact with expires 0 and all with * and Expires: 0', () => {
    const { registrar, locations } = setup();
    register(registrar, req({ contacts: [{ uri: 'sip:101@192.0.2.10' }, { uri: 'sip:101@192.0.2.12' }] }));
    const one = register(registrar, req({ contacts: [{ uri: 'SIP:101@192.0.2.10', expires: 0 }] }));
    assert.deepEqual(contacts(one), ['<sip:101@192.0.2.12>;expires=600']);
    assert.equal(register(registrar, req({ contacts: '*' })).status, 400, '* needs Expires: 0');
    assert.equal(register(registrar, req({ contacts: '*', expires: 10 })).status, 400);
    const all = register(registrar, req({ contacts: '*', expires: 0 }));
    assert.equal(all.status, 200);
    assert.deepEqual(contacts(all), []);
    assert.equal(locations.hasContacts('1101'), false);
  });

  it('rejects a request with the same Call-ID and a CSeq not higher than the binding', () => {
    const { registrar, locations } = setup();
    const first = register(registrar, req({ cseq: 50 }));
    assert.equal(first.status, 200);
    const stale = register(registrar, req({ cseq: 40, contacts: [{ uri: 'sip:101@192.0.2.10:5060', expires: 0 }] }));
    assert.equal(stale.status, 500);
    assert.equal(locations.hasContacts('1101'), true, 'the out-of-order un-register changed nothing');
    assert.equal(register(registrar, req({ cseq: 40, callId: 'other', contacts: [{ uri: 'sip:101@192.0.2.10:5060', expires: 0 }] })).status, 200, 'another Call-ID may');
  });

  it('answers a query (no Contact) with the current bindings', () => {
    const { registrar } = setup();
    register(registrar, req({}));
    assert.deepEqual(contacts(register(registrar, req({ contacts: [] }))), ['<sip:101@192.0.2.10:5060>;expires=600']);
  });

  it('never logs passwords or Digest answers, even at trace level', () => {
    const lines: string[] = [];
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    const registrar = new Registrar({
      directory: { current: () => dir },
      store: new RegistrationStore(db),
      logger: pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }),
      now: () => tickingClock.now,
    });
    register(registrar, req({}), 'wrong-guess');
    register(registrar, req({}));
    register(registrar, req({ toUser: '102' }), 'secret-101', '101');
    assert.ok(lines.length >= 3, 'failures and bindings are logged');
    const all = lines.join('');
    for (const secret of ['secret-101', 'wrong-guess', 'response=', 'Digest ']) assert.ok(!all.includes(secret), `log contains ${secret}`);
  });

  it('sweeps expired bindings on a timer', async () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    const store = new RegistrationStore(db);
    const registrar = new Registrar({ directory: { current: () => dir }, store, logger: pino({ level: 'silent' }), now: () => tickingClock.now });
    register(registrar, req({ expires: 60 }));
    tickingClock.now += 61_000;
    const locations = new LocationService(store, () => tickingClock.now);
    const swept = new Promise<{ removed: number }>((resolve) => {
      locations.startSweeping(5, pino({ level: 'info' }, { write: (line: string) => resolve(JSON.parse(line)) }));
    });
    const timeout = AbortSignal.timeout(2000);
    try {
      const record = await Promise.race([swept, once(timeout, 'abort').then(() => Promise.reject(new Error('no sweep within 2 s')))]);
      assert.equal(record.removed, 1);
      assert.deepEqual(db.prepare('SELECT count(*) AS n FROM registrations').get(), { n: 0 });
    } finally {
      locations.stop();
    }
  });

  it('forgets expired bindings on lookup and on sweep', () => {
    const { registrar, locations, clock } = setup();
    register(registrar, req({ expires: 60 }));
    clock.now += 59_000;
    assert.equal(locations.hasContacts('1101'), true);
    clock.now += 1_000;
    assert.equal(locations.hasContacts('1101'), false);
    assert.deepEqual(locations.lookup('1101'), []);
    assert.equal(locations.sweep(), 1);
  });
});
