import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MigrationError, migrate, readMigrations } from '../../src/store/migrate.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { SqliteSecretStore } from '../../src/store/sqlite-secret-store.ts';

test('openDatabase: WAL mode, migrations applied once, secrets survive a reopen', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'originate-store-')), 'nested', 'data');
  const db = openDatabase(dir);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
  assert.deepEqual(versions.slice(0, 1), [1]);
  const store = new SqliteSecretStore(db);
  assert.equal(store.get('k'), undefined);
  assert.equal(store.putIfAbsent('k', 'first'), 'first');
  assert.equal(store.putIfAbsent('k', 'second'), 'first');
  db.close();
  const again = openDatabase(dir);
  assert.equal(new SqliteSecretStore(again).get('k'), 'first');
  assert.deepEqual(migrate(again), []);
  again.close();
});

test('migrations run in number order, each once, and a failing one leaves nothing half-applied', () => {
  const dir = mkdtempSync(join(tmpdir(), 'originate-mig-'));
  mkdirSync(join(dir, 'm'));
  writeFileSync(join(dir, 'm', '002_b.sql'), 'INSERT INTO t VALUES (2);');
  writeFileSync(join(dir, 'm', '001_a.sql'), 'CREATE TABLE t (v INTEGER);');
  const db = new BetterSqlite3(':memory:');
  assert.deepEqual(migrate(db, readMigrations(join(dir, 'm'))), ['001_a.sql', '002_b.sql']);
  writeFileSync(join(dir, 'm', '003_bad.sql'), 'INSERT INTO t VALUES (3); INSERT INTO nope VALUES (1);');
  assert.throws(() => migrate(db, readMigrations(join(dir, 'm'))), /no such table: nope/);
  assert.deepEqual(db.prepare('SELECT v FROM t').pluck().all(), [2]);
  writeFileSync(join(dir, 'm', 'bad-name.sql'), '');
  assert.throws(() => readMigrations(join(dir, 'm')), MigrationError);
  db.close();
});
