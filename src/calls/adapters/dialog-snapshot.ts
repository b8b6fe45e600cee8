/**
 * Dialog state to and from the plain text form kept in call records, so a later process can send BYE in a dialog
 * it never saw (RFC 3261 §12.2.1.1 needs only Call-ID, tags, URIs, remote target, route set and CSeq).
 */
import type { DialogState } from '../../sip/dialog/dialog-state.ts';
import { formatNameAddr, formatUri, parseNameAddr, parseUri } from '../../sip/message/index.ts';
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
    local: formatNameAddr(state.local),
    remote: formatNameAddr(state.remote),
    remoteTarget: formatUri(state.remoteTarget),
    routeSet: state.routeSet.map(formatNameAddr),
    localCseq: state.localSeq,
    transport: peer.transport,
    peer: { transport: peer.transport, host: peer.host, port: peer.port },
  };
}

export function restoreDialog(snapshot: DialogSnapshot): DialogState {
  const nameAddr = (text: string) => {
    const parsed = parseNameAddr(text);
    if (parsed === null) throw new DialogSnapshotError(`unreadable name-addr in call record: ${text}`);
    return parsed;
  };
  const remoteTarget = parseUri(snapshot.remoteTarget);
  if (remoteTarget === null) throw new DialogSnapshotError(`unreadable remote target in call record: ${snapshot.remoteTarget}`);
  return {
    id: { callId: snapshot.callId, localTag: snapshot.localTag, remoteTag: snapshot.remoteTag },
    early: false,
    isUac: true,
    localSeq: snapshot.localCseq,
    remoteSeq: null,
    local: nameAddr(snapshot.local),
    remote: nameAddr(snapshot.remote),
    remoteTarget,
    routeSet: snapshot.routeSet.map(nameAddr),
    secure: false,
  };
}
