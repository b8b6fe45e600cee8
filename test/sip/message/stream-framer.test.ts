import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError, SipRequest, StreamFramer } from '../../../src/sip/message/index.ts';

function request(callId: string, body = ''): Buffer {
  return Buffer.from(
    [
      'MESSAGE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK' + callId,
      'Max-Forwards: 70',
      'From: <sip:alice@example.com>;tag=f1',
      'To: <sip:bob@example.com>',
      `Call-ID: ${callId}`,
      'CSeq: 1 MESSAGE',
      'Content-Type: text/plain',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

function callIds(items: Array<unknown>): string[] {
  return items.map((m) => {
    assert.ok(m instanceof SipRequest, String(m));
    return m.callId;
  });
}

describe('StreamFramer', () => {
  it('splits several messages arriving in one chunk', () => {
    const f = new StreamFramer();
    const out = f.push(Buffer.concat([request('a', 'hello'), request('b'), request('c', 'x')]));
    assert.deepEqual(callIds(out), ['a', 'b', 'c']);
    assert.equal((out[0] as SipRequest).body.toString(), 'hello');
  });

  it('reassembles a message delivered one byte at a time, body included', () => {
    const f = new StreamFramer();
    const data = request('slow', 'body with\r\n\r\nblank lines');
    const out = [];
    for (let i = 0; i < data.length; i++) out.push(...f.push(data.subarray(i, i + 1)));
    assert.deepEqual(callIds(out), ['slow']);
    assert.equal((out[0] as SipRequest).body.toString(), 'body with\r\n\r\nblank lines');
    assert.deepEqual((out[0] as SipRequest).serialize(), data);
  });

  it('reports each CRLFCRLF ping and skips single-CRLF pongs (RFC 5626 §3.5.1)', () => {
    let pings = 0;
    const f = new StreamFramer({ onPing: () => pings++ });
    assert.deepEqual(f.push(Buffer.from('\r\n\r\n')), []);
    assert.equal(pings, 1);
    assert.deepEqual(callIds(f.push(Buffer.concat([request('a'), Buffer.from('\r\n')]))), ['a']);
    assert.deepEqual(callIds(f.push(request('b'))), ['b']);
    assert.equal(pings, 1);
    assert.deepEqual(f.push(Buffer.from('\r\n\r\n\r\n\r\n')), []);
    assert.equal(pings, 3);
  });

  it('Content-Length is mandatory on streams: a fatal error with the partial request', () => {
    const f = new StreamFramer();
    const data = Buffer.from(request('ncl').toString().replace(/Content-Length: 0\r\n/, ''));
    const out = f.push(data);
    assert.equal(out.length, 1);
    const e = out[0];
    assert.ok(e instanceof SipParseError);
    assert.equal(e.fatal, true);
    assert.equal(e.status, 400);
    assert.equal(e.partial?.callId, 'ncl');
    assert.deepEqual(f.push(request('ignored')), []);
  });

  it('a head that never ends within maxBytes is a fatal 513', () => {
    const f = new StreamFramer({ maxBytes: 300 });
    assert.deepEqual(f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\n')), []);
    const out = f.push(Buffer.from('X-Filler: ' + 'y'.repeat(400)));
    assert.equal(out.length, 1);
    assert.ok(out[0] instanceof SipParseError);
    assert.equal(out[0].status, 513);
    assert.equal(out[0].fatal, true);
  });

  it('a Content-Length beyond maxBytes is refused before the body is buffered', () => {
    const f = new StreamFramer({ maxBytes: 1000 });
    const head = request('big').toString().replace('Content-Length: 0', 'Content-Length: 5000');
    const out = f.push(Buffer.from(head));
    assert.ok(out[0] instanceof SipParseError);
    assert.equal(out[0].status, 513);
  });

  it('error offsets count from the start of the stream', () => {
    const f = new StreamFramer();
    const first = request('one');
    const bad = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nNo colon here\r\n\r\n');
    const out = f.push(Buffer.concat([first, bad]));
    assert.equal(callIds(out.slice(0, 1))[0], 'one');
    const e = out[1];
    assert.ok(e instanceof SipParseError);
    assert.equal(e.offset, first.length + bad.indexOf('No colon'));
  });
});
