import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inDialogRouting, uacDialogState, uasDialogState } from '../../../src/sip/dialog/dialog-state.ts';
import { formatUri, parseUri } from '../../../src/sip/message/uri.ts';
import { createAckFor2xx, createInDialogRequest } from '../../../src/sip/dialog/in-dialog-request.ts';
import { request, response } from './messages.ts';

const invite = request([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1',
  'To: <sip:bob@biloxi.example.com>',
  'From: <sip:alice@atlanta.example.com>;tag=ft',
  'Call-ID: cid1',
  'CSeq: 10 INVITE',
  'Contact: <sip:alice@127.0.0.1:5060>',
]);
/** The 2xx to `invite` with this Contact and the lines after it. */
function answerWith(contact: string, extra: string[] = []) {
  return response([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1',
    'To: <sip:bob@biloxi.example.com>;tag=tt',
    'From: <sip:alice@atlanta.example.com>;tag=ft',
    'Call-ID: cid1',
    'CSeq: 10 INVITE',
    `Contact: <${contact}>`,
    ...extra,
  ]);
}
const ok = answerWith('sip:bob@127.0.0.2:5070', ['Record-Route: <sip:proxy.example.com;lr>']);

test('a BYE from the UAC dialog: next CSeq, tags, route set, remote target as Request-URI', () => {
  const d = uacDialogState(invite, ok);
  const { state, request: bye } = createInDialogRequest(d, { method: 'BYE' });
  assert.equal(state.localSeq, 11);
  assert.equal(bye.method, 'BYE');
  assert.equal(bye.uri, 'sip:bob@127.0.0.2:5070');
  assert.deepEqual(bye.cseq, { seq: 11, method: 'BYE' });
  assert.equal(bye.fromTag, 'ft');
  assert.equal(bye.toTag, 'tt');
  assert.equal(bye.callId, 'cid1');
  assert.deepEqual(bye.getAll('route'), ['<sip:proxy.example.com;lr>']);
  assert.equal(bye.has('via'), false);
});

test('the ACK for a 2xx keeps the INVITE CSeq number and carries the answer', () => {
  const d = uacDialogState(invite, ok);
  const ack = createAckFor2xx(d, 10, { body: 'v=0\r\n', contentType: 'application/sdp' });
  assert.deepEqual(ack.cseq, { seq: 10, method: 'ACK' });
  assert.equal(ack.get('content-type'), 'application/sdp');
  assert.equal(ack.body.toString(), 'v=0\r\n');
});

test('the UAS side sends its requests from the To of the INVITE with its tag, starting at CSeq 1', () => {
  const d = uasDialogState(invite, 'ours', false);
  const { request: info } = createInDialogRequest(d, { method: 'INFO', contact: 'sip:me@127.0.0.1:5060' });
  assert.equal(info.fromTag, 'ours');
  assert.equal(info.from.uri.user, 'bob');
  assert.equal(info.toTag, 'ft');
  assert.equal(info.cseq.seq, 1);
  assert.equal(info.uri, 'sip:alice@127.0.0.1:5060');
  assert.equal(info.get('contact'), '<sip:me@127.0.0.1:5060>');
});

test('without a route set the Request-URI is the remote target as parsing and formatting it would write it', () => {
  const contacts = [
    'sip:bob@127.0.0.2:5070',
    'sip:%62ob@example.com',
    'sip:b%20o%2Cb:pa%3Ass@example.com;Transport=TCP;ob',
    'sips:bob@[2001:db8::1]:5071;transport=tls?Subject=hi&Priority=urgent',
    'sip:example.com;a=1;A=2;lr',
    'sip:+15551234567;phone-context=example.com@gw.example.com;user=phone',
    'tel:+1-555-123-4567;Ext=12',
  ];
  for (const contact of contacts) {
    const d = uacDialogState(invite, answerWith(contact));
    const target = parseUri(d.remoteTarget);
    assert.ok(target !== null, contact);
    const written = formatUri(target);
    assert.equal(createInDialogRequest(d, { method: 'BYE' }).request.uri, written, contact);
    assert.equal(createAckFor2xx(d, 10, {}).uri, written, contact);
    assert.equal(inDialogRouting(d).requestUri.host, target.host, contact);
  }
});
