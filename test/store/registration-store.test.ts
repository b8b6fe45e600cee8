import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/open-database.ts';
import { RegistrationStore, type StoredBinding } from '../../src/store/registration-store.ts';

function binding(accountId: string, contactKey: string, expiresAt: number, contact = `sip:${contactKey}@127.0.0.1:5062`): StoredBinding {
  return {
    accountId,
    contactKey,
    contact,
    callId: `${contactKey}@phone`,
    cseq: 1,
    expiresAt,
    registeredAt: 1000,
    source: { transport: 'udp', host: '127.0.0.1', port: 5062 },
    q: null,
    userAgent: 'test',
  };
}

function withStore(fn: (store: RegistrationStore, reopen: () => RegistrationStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'regstore-'));
  const dbs = [openDatabase(dir)];
  try {
    fn(new RegistrationStore(dbs[0]!), () => {
      const db = openDatabase(dir);
      dbs.push(db);
      return new RegistrationStore(db);
    });
  } finally {
    for (const db of dbs) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads after every kind of write see the write, and match what the database holds', () => {
  withStore((store, reopen) => {
    assert.deepEqual(store.list('1101', 2000), []);
    assert.equal(store.has('1101', 2000), false);
    store.put(binding('1101', 'a', 10_000));
    store.put(binding('1101', 'b', 10_000));
    store.put(binding('1102', 'c', 10_000));
    assert.deepEqual(store.list('1101', 2000).map((b) => b.contactKey), ['a', 'b']);
    // A refresh replaces the contact it read before.
    store.put(binding('1101', 'a', 20_000, 'sip:a@127.0.0.1:6000'));
    assert.deepEqual(store.list('1101', 2000).map((b) => [b.contactKey, b.contact, b.expiresAt]), [
      ['a', 'sip:a@127.0.0.1:6000', 20_000],
      ['b', 'sip:b@127.0.0.1:5062', 10_000],
    ]);
    store.remove('1101', 'b');
    assert.deepEqual(store.list('1101', 2000).map((b) => b.contactKey), ['a']);
    assert.deepEqual(reopen().list('1101', 2000), store.list('1101', 2000));
    store.removeAccount('1101');
    assert.equal(store.has('1101', 2000), false);
    assert.equal(store.has('1102', 2000), true);
  });
});

test('bindings stop being listed when they expire, without a write in between', () => {
  withStore((store) => {
    store.put(binding('1101', 'a', 5_000));
    store.put(binding('1101', 'b', 9_000));
    assert.deepEqual(store.list('1101', 4_999).map((b) => b.contactKey), ['a', 'b']);
    assert.deepEqual(store.list('1101', 5_000).map((b) => b.contactKey), ['b']);
    assert.equal(store.has('1101', 8_999), true);
    assert.equal(store.has('1101', 9_000), false);
    assert.equal(store.removeExpired(6_000), 1);
    assert.deepEqual(store.list('1101', 0).map((b) => b.contactKey), ['b']);
  });
});
