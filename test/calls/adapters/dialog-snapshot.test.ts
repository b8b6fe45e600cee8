import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restoreDialog, snapshotDialog } from '../../../src/calls/adapters/dialog-snapshot.ts';
import { parseNameAddr, parseUri } from '../../../src/sip/message/index.ts';
import type { DialogState } from '../../../src/sip/dialog/dialog-state.ts';

test('a dialog survives the trip through its call-record snapshot', () => {
  const state: DialogState = {
    id: { callId: 'abc@pbx', localTag: 'l1', remoteTag: 'r1' },
    early: false,
    isUac: true,
    localSeq: 7,
    remoteSeq: null,
    local: parseNameAddr('"Tester" <sip:15551234@127.0.0.1>;tag=l1')!,
    remote: parseNameAddr('<sip:101@127.0.0.1>;tag=r1')!,
    remoteTarget: parseUri('sip:101@10.0.0.5:5062;transport=udp')!,
    routeSet: [parseNameAddr('<sip:proxy.example;lr>')!],
    secure: false,
  };
  const snap = snapshotDialog(state, { transport: 'udp', host: '127.0.0.1', port: 5062 });
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  assert.equal(snap.localCseq, 7);
  assert.deepEqual(restoreDialog(snap), state);
});
