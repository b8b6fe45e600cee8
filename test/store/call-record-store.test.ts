import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/open-database.ts';
import { CallRecordStore } from '../../src/store/call-record-store.ts';
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
