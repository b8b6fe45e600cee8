import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DialogStateError,
  confirmUacDialog,
  dialogIdOfRequest,
  dialogKey,
  inDialogRouting,
  nextLocalSeq,
  receiveRequest,
  receiveTargetRefreshResponse,
  uacDialogState,
  uasDialogState,
} from '../../../src/sip/dialog/dialog-state.ts';
import { formatUri } from '../../../src/sip/message/uri.ts';
import { SipHeaderError } from '../../../src/sip/message/errors.ts';
import { formatNameAddr, parseNameAddr } from '../../../src/sip/message/name-addr.ts';
import { request, response } from './messages.ts';

const invite = request([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
]);

function answer(status: number, toTag: string, extra: string[] = []) {
  return response([
    `SIP/2.0 ${status} Whatever`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
    `To: Bob <sip:bob@biloxi.example.com>;tag=${toTag}`,
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    'CSeq: 314159 INVITE',
    ...extra,
  ]);
}

const uris = (list: readonly string[]) => list.map((r) => formatUri(parseNameAddr(r)!.uri));

test('UAC: a 180 with a To tag makes an early dialog; route set is the reversed Record-Route', () => {
  const ringing = answer(180, 'a6c85cf', [
    'Contact: <sip:bob@192.0.2.4>',
    'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
  ]);
  const d = uacDialogState(invite, ringing);
  assert.deepEqual(d.id, { callId: 'a84b4c76e66710', localTag: '1928301774', remoteTag: 'a6c85cf' });
  assert.equal(d.early, true);
  assert.equal(d.isUac, true);
  assert.equal(d.localSeq, 314159);
  assert.equal(d.remoteSeq, null);
  assert.equal(d.remoteTarget, 'sip:bob@192.0.2.4');
  assert.deepEqual(uris(d.routeSet), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
});

test('UAC: forked 1xx with different To tags give distinct early dialogs', () => {
  const a = uacDialogState(invite, answer(180, 'fork-a', ['Contact: <sip:a@192.0.2.5>']));
  const b = uacDialogState(invite, answer(183, 'fork-b', ['Contact: <sip:b@192.0.2.6>']));
  assert.notEqual(dialogKey(a.id), dialogKey(b.id));
});

test('UAC: the 2xx confirms the early dialog and recomputes route set and target', () => {
  const early = uacDialogState(invite, answer(180, 'x', ['Contact: <sip:bob@192.0.2.4>', 'Record-Route: <sip:old.example.com;lr>']));
  const ok = answer(200, 'x', ['Contact: <sip:bob@192.0.2.9:5070>', 'Record-Route: <sip:b.example.com;lr>, <sip:a.example.com;lr>']);
  const d = confirmUacDialog(early, ok);
  assert.equal(d.early, false);
  assert.equal(d.remoteTarget, 'sip:bob@192.0.2.9:5070');
  assert.deepEqual(uris(d.routeSet), ['sip:a.example.com;lr', 'sip:b.example.com;lr']);
});

test('UAC: a 2xx without To tag or Contact creates no dialog', () => {
  const noTag = response([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    'CSeq: 314159 INVITE',
    'Contact: <sip:bob@192.0.2.4>',
  ]);
  assert.throws(() => uacDialogState(invite, noTag), DialogStateError);
  assert.throws(() => uacDialogState(invite, answer(200, 'x')), DialogStateError);
});

test('UAS: route set in Record-Route order, remote target from Contact, remote CSeq from the request', () => {
  const d = uasDialogState(invite, 'ourtag', false);
  assert.deepEqual(d.id, { callId: 'a84b4c76e66710', localTag: 'ourtag', remoteTag: '1928301774' });
  assert.equal(d.isUac, false);
  assert.equal(d.remoteSeq, 314159);
  assert.equal(parseNameAddr(d.local)!.params['tag'], 'ourtag');
  assert.equal(parseNameAddr(d.remote)!.params['tag'], '1928301774');
  assert.equal(d.remoteTarget, 'sip:alice@pc33.atlanta.example.com');
  assert.deepEqual(uris(d.routeSet), ['sip:p2.example.com;lr', 'sip:p1.example.com;lr']);
  assert.equal(nextLocalSeq(d).seq, 1);
});

function inDialog(method: string, seq: number, extra: string[] = []) {
  return request([
    `${method} sip:bob@192.0.2.4 SIP/2.0`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnew' + seq,
    'To: Bob <sip:bob@biloxi.example.com>;tag=ourtag',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    `CSeq: ${seq} ${method === 'ACK' ? 'ACK' : method}`,
    ...extra,
  ]);
}

test('UAS: in-dialog request ids match the dialog id', () => {
  const d = uasDialogState(invite, 'ourtag', false);
  const id = dialogIdOfRequest(inDialog('BYE', 314160));
  assert.ok(id);
  assert.equal(dialogKey(id), dialogKey(d.id));
});

test('remote CSeq must increase: a lower or equal number is answered 500, ACK is exempt', () => {
  const d = uasDialogState(invite, 'ourtag', false);
  const low = receiveRequest(d, inDialog('INFO', 314158));
  assert.deepEqual(low.ok ? null : low.status, 500);
  const same = receiveRequest(d, inDialog('INFO', 314159));
  assert.equal(same.ok, false);
  const ack = receiveRequest(d, inDialog('ACK', 314159));
  assert.equal(ack.ok, true);
  const ok = receiveRequest(d, inDialog('INFO', 314200));
  assert.ok(ok.ok);
  assert.equal(ok.state.remoteSeq, 314200);
});

test('UAC dialog: the first request from the peer sets the remote CSeq whatever its value', () => {
  const d = confirmUacDialog(uacDialogState(invite, answer(200, 'x', ['Contact: <sip:bob@192.0.2.4>'])), answer(200, 'x', ['Contact: <sip:bob@192.0.2.4>']));
  const r = request([
    'BYE sip:alice@pc33.atlanta.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKb1',
    'From: Bob <sip:bob@biloxi.example.com>;tag=x',
    'To: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    'CSeq: 1 BYE',
  ]);
  const v = receiveRequest(d, r);
  assert.ok(v.ok);
  assert.equal(v.state.remoteSeq, 1);
});

test('target refresh: Contact of a re-INVITE replaces the remote target, Contact of INFO does not', () => {
  const d = uasDialogState(invite, 'ourtag', false);
  const re = receiveRequest(d, inDialog('INVITE', 314160, ['Contact: <sip:alice@198.51.100.7:5080>']));
  assert.ok(re.ok);
  assert.equal(re.state.remoteTarget, 'sip:alice@198.51.100.7:5080');
  const info = receiveRequest(re.state, inDialog('INFO', 314161, ['Contact: <sip:alice@203.0.113.1>']));
  assert.ok(info.ok);
  assert.equal(info.state.remoteTarget, 'sip:alice@198.51.100.7:5080');
});

test('target refresh: Contact of the 2xx to our re-INVITE replaces the remote target', () => {
  const d = uacDialogState(invite, answer(200, 'x', ['Contact: <sip:bob@192.0.2.4>']));
  const ok = answer(200, 'x', ['Contact: <sip:bob@192.0.2.77>']);
  assert.equal(receiveTargetRefreshResponse(d, 'INVITE', ok).remoteTarget, 'sip:bob@192.0.2.77');
  assert.equal(receiveTargetRefreshResponse(d, 'INFO', ok).remoteTarget, 'sip:bob@192.0.2.4');
});

test('local CSeq increments by one per request', () => {
  const d = uacDialogState(invite, answer(200, 'x', ['Contact: <sip:bob@192.0.2.4>']));
  const a = nextLocalSeq(d);
  const b = nextLocalSeq(a.state);
  assert.deepEqual([a.seq, b.seq], [314160, 314161]);
});

test('loose routing: Request-URI is the remote target, Route is the route set, next hop the first route', () => {
  const d = uacDialogState(invite, answer(200, 'x', ['Contact: <sip:bob@192.0.2.4>', 'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>']));
  const r = inDialogRouting(d);
  assert.equal(formatUri(r.requestUri), 'sip:bob@192.0.2.4');
  assert.deepEqual(r.routes.map((route) => formatUri(route.uri)), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
  assert.equal(formatUri(r.nextHop), 'sip:p1.example.com;lr');
});

test('strict routing: the first route becomes the Request-URI and the remote target the last Route', () => {
  const d = uacDialogState(invite, answer(200, 'x', ['Contact: <sip:bob@192.0.2.4>', 'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;method=INVITE>']));
  const r = inDialogRouting(d);
  assert.equal(formatUri(r.requestUri), 'sip:p1.example.com');
  assert.deepEqual(r.routes.map((route) => formatUri(route.uri)), ['sip:p2.example.com;lr', 'sip:bob@192.0.2.4']);
});

test('no route set: straight to the remote target', () => {
  const d = uacDialogState(invite, answer(200, 'x', ['Contact: <sip:bob@192.0.2.4;transport=tcp>']));
  const r = inDialogRouting(d);
  assert.deepEqual(r.routes, []);
  assert.equal(formatUri(r.nextHop), 'sip:bob@192.0.2.4;transport=tcp');
});

test('From, To and Contact are kept as formatNameAddr and formatUri write them, whether or not they arrive so', () => {
  const written = (text: string) => formatNameAddr(parseNameAddr(text)!);
  const values = [
    '<sip:bob@biloxi.example.com>',
    '"Bob B" <sip:bob@biloxi.example.com;transport=UDP>',
    'Bob <sip:bob@biloxi.example.com>',
    'sip:bob@biloxi.example.com',
    '<sip:%62ob@biloxi.example.com:05060;LR;lr>',
    '"B\\"ob" <sips:bob@[2001:db8::1]:5061>',
    '"a<b>" <sip:bob@biloxi.example.com>',
  ];
  for (const value of values) {
    for (const contact of [value, `${value};expires=60`, `${value}, <sip:second@example.com>`]) {
      const inv = request([
        'INVITE sip:bob@biloxi.example.com SIP/2.0',
        'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
        'To: <sip:bob@biloxi.example.com>',
        `From: ${value};tag=ft`,
        'Call-ID: c1',
        'CSeq: 1 INVITE',
        `Contact: ${contact}`,
      ]);
      const ok = response([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
        `To: ${value};tag=tt`,
        `From: ${value};tag=ft`,
        'Call-ID: c1',
        'CSeq: 1 INVITE',
        `Contact: ${contact}`,
      ]);
      const uac = uacDialogState(inv, ok);
      assert.equal(uac.local, written(`${value};tag=ft`), value);
      assert.equal(uac.remote, written(`${value};tag=tt`), value);
      assert.equal(uac.remoteTarget, formatUri(parseNameAddr(value)!.uri), contact);
      const uas = uasDialogState(inv, 'ours', false);
      assert.equal(uas.remote, written(`${value};tag=ft`), value);
      assert.equal(uas.remoteTarget, formatUri(parseNameAddr(value)!.uri), contact);
    }
  }
});

test('a dialog is secure when its request went to a sips Request-URI, however the URI is written', () => {
  const cases: Array<[string, boolean | 'throws']> = [
    ['sip:bob@biloxi.example.com', false],
    ['sips:bob@biloxi.example.com', true],
    ['SIPS:bob@biloxi.example.com', true],
    ['sips:%62ob@biloxi.example.com:05061', true],
    ['sip:bob@biloxi.example.com;transport=tls', false],
    ['tel:+15551234567', false],
    ['sips:bob@biloxi.example.com:99999', 'throws'],
  ];
  for (const [uri, secure] of cases) {
    const lines = [
      `INVITE ${uri} SIP/2.0`,
      'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
      'To: <sip:bob@biloxi.example.com>',
      'From: <sip:alice@atlanta.example.com>;tag=ft',
      'Call-ID: c1',
      'CSeq: 1 INVITE',
      'Contact: <sip:alice@pc33.atlanta.example.com>',
    ];
    const inv = request(lines);
    const ok = answer(200, 'tt', ['Contact: <sip:bob@192.0.2.4>']);
    if (secure === 'throws') {
      assert.throws(() => uacDialogState(inv, ok), SipHeaderError, uri);
      assert.throws(() => uasDialogState(inv, 'ours', false), SipHeaderError, uri);
    } else {
      assert.equal(uacDialogState(inv, ok).secure, secure, uri);
      assert.equal(uasDialogState(inv, 'ours', false).secure, secure, uri);
    }
  }
});
