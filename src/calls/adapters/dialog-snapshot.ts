/**
 * Dialog state to and from the plain text form kept in call records, so a later process can send BYE in a dialog
 * it never saw (RFC 3261 §12.2.1.1 needs only Call-ID, tags, URIs, remote target, route set and CSeq).
 */
import type { DialogState } from '../../sip/dialog/dialog-state.ts';
import { parseNameAddr, parseUri } from '../../sip/message/index.ts';
import type { Endpoint } from '../../sip/transport/endpoint.ts';
import type { DialogSnapshot } from '../ports.ts';

export class DialogSnapshotError extends Error {
  override readonly name = 'DialogSnapshotError';
}

export function snapshotDialog(state: DialogState, peer: Endpoint): DialogSnapshot {
  return {
    callId: state.id.callId,
    localTag: state.id.localTag,
    remoteTag: state.id.remoteTag,
    // The dialog's own strings: a live call keeps its snapshot too, and shares them rather than copies.
    local: state.local,
    remote: state.remote,
    remoteTarget: state.remoteTarget,
    routeSet: state.routeSet,
    localCseq: state.localSeq,
    transport: peer.transport,
    peer: { transport: peer.transport, host: peer.host, port: peer.port },
  };
}

export function restoreDialog(snapshot: DialogSnapshot): DialogState {
  // Checked here so that an unreadable record fails the restore, not the BYE built from it.
  for (const text of [snapshot.local, snapshot.remote, ...snapshot.routeSet]) {
    if (parseNameAddr(text) === null) throw new DialogSnapshotError(`unreadable name-addr in call record: ${text}`);
  }
  if (parseUri(snapshot.remoteTarget) === null) {
    throw new DialogSnapshotError(`unreadable remote target in call record: ${snapshot.remoteTarget}`);
  }
  return {
    id: { callId: snapshot.callId, localTag: snapshot.localTag, remoteTag: snapshot.remoteTag },
    early: false,
    isUac: true,
    localSeq: snapshot.localCseq,
    remoteSeq: null,
    local: snapshot.local,
    remote: snapshot.remote,
    remoteTarget: snapshot.remoteTarget,
    routeSet: snapshot.routeSet,
    secure: false,
  };
}
