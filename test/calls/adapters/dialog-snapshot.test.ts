import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DialogSnapshotError, restoreDialog, snapshotDialog } from '../../../src/calls/adapters/dialog-snapshot.ts';
import type { DialogState } from '../../../src/sip/dialog/dialog-state.ts';

const state: DialogState = {
  id: { callId: 'abc@pbx', localTag: 'l1', remoteTag: 'r1' },
  early: false,
  isUac: true,
  localSeq: 7,
  remoteSeq: null,
  local: '"Tester" <sip:15551234@127.0.0.1>;tag=l1',
  remote: '<sip:101@127.0.0.1>;tag=r1',
  remoteTarget: 'sip:101@10.0.0.5:5062;transport=udp',
  routeSet: ['<sip:proxy.example;lr>'],
  secure: false,
};

test('a dialog survives the trip through its call-record snapshot', () => {
  const snap = snapshotDialog(state, { transport: 'udp', host: '127.0.0.1', port: 5062 });
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  assert.equal(snap.localCseq, 7);
  assert.deepEqual(restoreDialog(JSON.parse(JSON.stringify(snap))), state);
});

test('a call record with an unreadable dialog is refused when restored, naming the value', () => {
  const snap = snapshotDialog(state, { transport: 'udp', host: '127.0.0.1', port: 5062 });
  assert.throws(() => restoreDialog({ ...snap, remoteTarget: 'not a uri' }), (err: unknown) => err instanceof DialogSnapshotError && /not a uri/.test(err.message));
  assert.throws(() => restoreDialog({ ...snap, routeSet: ['<sip:ok;lr', 'x'] }), DialogSnapshotError);
});
