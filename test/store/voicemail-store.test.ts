import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/open-database.ts';
import { VoicemailStore } from '../../src/store/voicemail-store.ts';

test('messages are kept per account, oldest first, unheard', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vm-store-'));
  const db = openDatabase(dir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = new VoicemailStore(db);
  const base = { extension: '101', callerName: 'Bob', caller: '102', durationMs: 1500 };
  const second = store.add({ ...base, accountId: '1101', callId: 'c2', path: 'voicemail/101/2.wav', receivedAt: 2000 });
  const first = store.add({ ...base, accountId: '1101', callId: 'c1', path: 'voicemail/101/1.wav', receivedAt: 1000 });
  store.add({ ...base, accountId: '1102', extension: '102', callId: 'c3', path: 'voicemail/102/3.wav', receivedAt: 500 });
  const list = store.list('1101');
  assert.deepEqual(list.map((m) => m.id), [first, second]);
  assert.deepEqual(list[0], { id: first, ...base, accountId: '1101', callId: 'c1', path: 'voicemail/101/1.wav', receivedAt: 1000, heard: false });
  assert.equal(store.list('1999').length, 0);
});
