import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import type { CallState } from '../../src/calls/call-state.ts';
import { DATABASE_FILE, openDatabase } from '../../src/store/open-database.ts';
import { migrate } from '../../src/store/migrate.ts';
import { CallRecordStore, CallRecordWriteError } from '../../src/store/call-record-store.ts';
import { createCall, transition } from '../../src/calls/origination-machine.ts';
import type { CallRecord } from '../../src/calls/ports.ts';

function record(callId: string): CallRecord {
  const state = createCall({
    id: callId,
    at: 5000,
    first: { plan: { dialed: '101', steps: [] }, callerId: { name: 'n', number: '1', external: '1' }, autoAnswer: false, timeoutMs: 1000 },
    second: { plan: { dialed: '915551234567', steps: [] }, callerId: { name: 'n', number: '2', external: '2' }, timeoutMs: 1000 },
    maxCallMs: 0,
    variables: [{ name: 'balance', value: '300' }],
  });
  return {
    callId,
    accountId: '1101',
    requestedBy: 'admin',
    method: 'switchvox.call',
    request: {
      dialFirst: '101',
      dialSecond: '15551234567',
      callerIdName: 'x',
      timeout: 30,
      timeoutSecondCall: 30,
      ignoreUserApiSettings: false,
      ignoreUserCallRules: false,
      autoAnswer: false,
      variables: [{ name: 'balance', value: '300' }],
    },
    state,
  };
}

test('call records survive a reopen; only calls not ended are open; the newest state wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'call-records-'));
  try {
    const db = openDatabase(dir);
    const store = new CallRecordStore(db);
    const a = record('a');
    const b = record('b');
    store.save(a);
    store.save(b);
    const ended = transition(b.state, { type: 'hangup', at: 6000, reason: 'api_hangup' }).state;
    store.save({ ...b, state: ended });
    assert.equal(store.get('b')?.state.phase, 'ended', 'unflushed writes are visible');
    store.flush();
    db.close();

    const again = new CallRecordStore(openDatabase(dir));
    assert.deepEqual(again.listOpen().map((r) => r.callId), ['a']);
    assert.deepEqual(again.get('a'), a);
    const row = openDatabase(dir)
      .prepare(
        `SELECT account_id, requested_by, method, request, dialed_first, dialed_second, phase, live, started_at,
           first_ring_at, first_outcome, second_outcome, bridged_at, ended_at, end_reason FROM call_records WHERE call_id = ?`,
      )
      .get('b');
    assert.deepEqual(row, {
      account_id: '1101',
      requested_by: 'admin',
      method: 'switchvox.call',
      request: JSON.stringify(b.request),
      dialed_first: '101',
      dialed_second: '915551234567',
      phase: 'ended',
      live: 0,
      started_at: 5000,
      first_ring_at: null,
      first_outcome: null,
      second_outcome: null,
      bridged_at: null,
      ended_at: 6000,
      end_reason: 'api_hangup',
    });
    assert.deepEqual(again.recent(10).map((r) => r.callId).sort(), ['a', 'b']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The states of a call from ringing to ended, each a copy-on-write step of the one before, as the machine makes them. */
function lifeOf(callId: string, at: number): CallRecord[] {
  const base = record(callId);
  const created = { ...base.state, createdAt: at };
  const first = { ...created.legs.first, ringAt: at };
  const ringing = { ...created, legs: { ...created.legs, first }, timers: { ring_first: at + 30_000 } };
  const answered = { ...first, answerAt: at + 5, winner: `${callId}.1`, sipStatus: 200, outcome: 'answered' as const };
  const ringback = { ...ringing, phase: 'preparing_ringback' as const, legs: { ...ringing.legs, first: answered }, timers: {}, ringbackSdp: 'v=0\r\n' };
  const second = { ...ringback.legs.second, ringAt: at + 10 };
  const ringingSecond = { ...ringback, phase: 'ringing_second' as const, legs: { first: answered, second }, replied: true };
  const bridged = { ...ringingSecond, phase: 'bridged' as const, legs: { first: answered, second: { ...second, answerAt: at + 20 } }, ringbackSdp: null, bridgedAt: at + 20 };
  const ended = transition(bridged, { type: 'hangup', at: at + 200, reason: 'api_hangup' }).state;
  return [ringing, ringback, ringingSecond, bridged, ended].map((state) => ({ ...base, state }));
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'call-records-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The rows as a connection of its own (not the store's) sees them: what another process would read. */
function committedRows(dir: string): Map<string, { phase: string; live: number; state: CallState }> {
  const db = new BetterSqlite3(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const rows = db.prepare('SELECT call_id, phase, live, state FROM call_records').all() as { call_id: string; phase: string; live: number; state: string }[];
    return new Map(rows.map((r) => [r.call_id, { phase: r.phase, live: r.live, state: JSON.parse(r.state) as CallState }]));
  } finally {
    db.close();
  }
}

test('rows are committed by the writer thread; until it has committed them, reads see them', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const store = new CallRecordStore(db);
  const [aRinging, , , aBridged] = lifeOf('a', 1000);
  const b = lifeOf('b', 2000)[3]!;
  // A first record started the thread and went through it: from now on windows are posted to it.
  store.save(lifeOf('earlier', 500)[4]!);
  await store.settled();
  // Another connection holds the write lock: the thread's commit waits for it (its busy_timeout), the main thread must not.
  const lock = new BetterSqlite3(join(dir, DATABASE_FILE));
  t.after(() => lock.close());
  lock.exec('BEGIN IMMEDIATE');
  store.save(aRinging!);
  store.save(b);
  const settled = store.settled();

  assert.deepEqual(store.get('a'), aRinging, 'a record posted and not committed is read from memory');
  assert.deepEqual(store.listOpen().map((r) => r.callId), ['a', 'b']);
  assert.deepEqual(store.recent(2).map((r) => r.callId), ['b', 'a']);
  store.save(aBridged!);
  assert.equal(store.get('a')?.state.phase, 'bridged', 'a newer state saved while the older one is in flight wins');
  assert.deepEqual([...committedRows(dir).keys()], ['earlier'], 'nothing more is committed while the lock is held');

  lock.exec('COMMIT');
  await settled;
  // a's newer state may have gone in the next window's batch already: only what the first batch held is certain.
  const first = committedRows(dir);
  assert.deepEqual([...first.keys()].sort(), ['a', 'b', 'earlier']);
  assert.equal(first.get('b')?.phase, 'bridged');
  await store.settled();
  assert.deepEqual(committedRows(dir).get('a')?.state, aBridged!.state, 'a later state, in a row without the columns that never change, is written whole');
  assert.deepEqual(store.get('a'), aBridged, 'once committed, the record is read back from the database');
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'the thread checkpoints, not the main connection');
  store.flush();
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'once the thread is gone the main connection checkpoints again');
});

test('states saved over many windows are written in order: every call ends with its last state', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const store = new CallRecordStore(db);
  const calls = Array.from({ length: 40 }, (_, i) => lifeOf(`call-${i}`, 1000 + i));
  const lastSaved = new Map<string, CallState>();
  for (let step = 0; step < 5; step++) {
    // Calls move at different times: some states collapse in a window, others go one window each.
    for (const [i, life] of calls.entries()) {
      if (i % (step + 1) !== 0 && step !== 4) continue;
      store.save(life[step]!);
      lastSaved.set(life[step]!.callId, life[step]!.state);
    }
    if (step % 2 === 1) {
      await store.settled();
      const rows = committedRows(dir);
      assert.equal(rows.size, calls.length);
      for (const [callId, state] of lastSaved) assert.deepEqual(rows.get(callId)?.state, state, `${callId} after step ${step}`);
    }
  }
  store.flush();
  const rows = committedRows(dir);
  assert.equal(rows.size, calls.length);
  for (const life of calls) {
    const row = rows.get(life[0]!.callId)!;
    assert.equal(row.live, 0);
    assert.deepEqual(row.state, life[4]!.state);
  }
});

test('flush() writes what is pending and what is in flight, and another process reads it all', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  const store = new CallRecordStore(db);
  const a = lifeOf('a', 1000);
  const b = lifeOf('b', 2000);
  store.save(a[0]!);
  await store.settled();
  const lock = new BetterSqlite3(join(dir, DATABASE_FILE));
  lock.exec('BEGIN IMMEDIATE');
  store.save(a[3]!);
  store.save(b[0]!);
  const inFlight = store.settled();
  lock.exec('COMMIT');
  lock.close();
  store.save(a[4]!);
  store.save(b[3]!);
  store.flush();
  assert.deepEqual(
    [...committedRows(dir)].map(([id, r]) => [id, r.phase]),
    [['a', 'ended'], ['b', 'bridged']],
    'committed when flush() returns',
  );
  await inFlight;
  db.close();

  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { readonly: true });
    console.log(JSON.stringify(db.prepare('SELECT call_id, live, state FROM call_records ORDER BY call_id').all()));`;
  const out = execFileSync(process.execPath, ['-e', script, join(dir, DATABASE_FILE)], { encoding: 'utf8', timeout: 10_000 });
  const rows = (JSON.parse(out) as { call_id: string; live: number; state: string }[]).map((r) => [r.call_id, r.live, JSON.parse(r.state) as CallState]);
  assert.deepEqual(rows, [
    ['a', 0, a[4]!.state],
    ['b', 1, b[3]!.state],
  ]);
  const again = new CallRecordStore(openDatabase(dir));
  assert.deepEqual(again.listOpen(), [b[3]]);
});

test('a store saves again after flush(), with a new writer thread', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const store = new CallRecordStore(db);
  const a = lifeOf('a', 1000);
  store.save(a[0]!);
  await store.settled();
  store.flush();
  store.save(a[3]!);
  await store.settled();
  assert.deepEqual(committedRows(dir).get('a')?.state, a[3]!.state, 'the new thread is sent a full row: it never saw the first one');
  store.flush();
});

test('a writer thread that fails rejects settled() with a CallRecordWriteError; what it held is written all the same', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const store = new CallRecordStore(db);
  // The thread opens the file by name; the main connection keeps the one it has open.
  const file = join(dir, DATABASE_FILE);
  renameSync(file, `${file}.away`);
  const a = lifeOf('a', 1000)[0]!;
  store.save(a);
  await assert.rejects(store.settled(), (err: unknown) => err instanceof CallRecordWriteError && /unable to open/.test(err.message));
  assert.deepEqual(store.get('a'), a, 'the record is still read from memory');
  renameSync(`${file}.away`, file);
  await store.settled();
  store.flush();
  assert.deepEqual(committedRows(dir).get('a')?.state, a.state);
});

test('an in-memory database is written on the main connection', async () => {
  const db = new BetterSqlite3(':memory:');
  migrate(db);
  const store = new CallRecordStore(db);
  const a = lifeOf('a', 1000);
  store.save(a[0]!);
  await store.settled();
  assert.equal((db.prepare('SELECT phase FROM call_records').get() as { phase: string }).phase, 'ringing_first');
  store.save(a[4]!);
  store.flush();
  assert.deepEqual(store.get('a'), a[4]);
  db.close();
});
