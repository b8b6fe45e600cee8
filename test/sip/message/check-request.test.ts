import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest, createRequest, parseNameAddr, parseUri, type SipRequest } from '../../../src/sip/message/index.ts';

function req(method: string, extra: Array<[string, string]> = [], body?: string, uri = 'sip:bob@example.com'): SipRequest {
  return createRequest({
    method,
    uri,
    headers: [
      ['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc'],
      ['From', '<sip:a@example.com>;tag=1'],
      ['To', '<sip:bob@example.com>'],
      ['Call-ID', 'chk'],
      ['CSeq', `1 ${method}`],
      ['Max-Forwards', '70'],
      ...extra,
    ],
    ...(body === undefined ? {} : { body }),
  });
}

describe('checkRequest (RFC 3261 §8.2 stateless checks)', () => {
  it('accepts a plain request', () => {
    assert.equal(checkRequest(req('INVITE', [['Content-Type', 'application/sdp']], 'v=0\r\n')), null);
  });

  it('416 for an unknown Request-URI scheme, 400 for a malformed one', () => {
    assert.equal(checkRequest(req('OPTIONS', [], undefined, 'mailto:a@b'))?.status, 416);
    assert.equal(checkRequest(req('OPTIONS', [], undefined, 'sip:a@b:99999'))?.status, 400);
    assert.equal(checkRequest(req('OPTIONS', [], undefined, 'tel:+15551234')), null);
  });

  it('the Request-URI verdict is the parsed URI\'s, however the URI is written', () => {
    const uris = [
      'sip:bob@example.com',
      'sips:bob@[2001:db8::1]:5061;transport=tls',
      'sip:127.0.0.1:5070;lr;ob',
      'SIP:bob@example.com',
      'sip:%62ob@example.com',
      'sip:bob@example.com:05060',
      'sip:bob@example.com:65536',
      'sip:bob@example.com?Subject=x',
      'sip:bob@exa mple.com',
      'sip:@example.com',
      'sip:bob@example.com;a=%4',
      'sip:',
      'tel:+1-555',
      'urn:service:sos',
      'bob@example.com',
    ];
    for (const uri of uris) {
      const parsed = parseUri(uri);
      const expected = parsed === null ? 400 : ['sip', 'sips', 'tel'].includes(parsed.scheme) ? undefined : 416;
      assert.equal(checkRequest(req('OPTIONS', [], undefined, uri))?.status, expected, uri);
    }
  });

  it('From and To: 400 exactly when they do not parse, however they are written', () => {
    const values = [
      '<sip:a@example.com>;tag=1',
      '"Alice" <sip:a@example.com>;tag=1',
      'Alice <sip:a@example.com>',
      'sip:a@example.com;tag=1',
      '<sip:a@example.com>;tag=1;tag=2',
      '<sip:%61@example.com:05060>',
      '<sip:a@example.com',
      '<sip:a@exa mple.com>',
      '"unterminated <sip:a@example.com>',
      '<sip:a@example.com>;tag=',
      '<mailto:a@example.com>',
      '<sip:a@example.com:99999>',
    ];
    for (const value of values) {
      const expected = parseNameAddr(value) === null ? 400 : undefined;
      for (const header of ['From', 'To']) {
        const r = req('OPTIONS');
        r.set(header, value);
        assert.equal(checkRequest(r)?.status, expected, `${header}: ${value}`);
      }
    }
  });

  it('400 for a missing mandatory header or a malformed Contact / Expires', () => {
    const r = req('OPTIONS');
    r.remove('Call-ID');
    assert.equal(checkRequest(r)?.status, 400);
    assert.equal(checkRequest(req('REGISTER', [['Contact', 'sip:a@b?x=y']]))?.status, 400);
    assert.equal(checkRequest(req('REGISTER', [['Expires', 'soon']]))?.status, 400);
  });

  it('420 lists the unsupported option tags, except for what the UA supports', () => {
    const r = req('INVITE', [['Require', '100rel, timer']]);
    assert.deepEqual(checkRequest(r, { supported: ['timer'] }), {
      status: 420,
      reason: 'Bad Extension',
      headers: [['Unsupported', '100rel']],
    });
    assert.equal(checkRequest(r, { supported: ['timer', '100rel'] }), null);
  });

  it('415 for a body of an unknown type, a body without type, or an encoded body', () => {
    assert.equal(checkRequest(req('INVITE', [['Content-Type', 'text/html']], '<p>'))?.status, 415);
    assert.equal(checkRequest(req('INVITE', [], 'v=0'))?.status, 415);
    const gz = checkRequest(req('INVITE', [['Content-Type', 'application/sdp'], ['Content-Encoding', 'gzip']], 'x'));
    assert.equal(gz?.status, 415);
    assert.deepEqual(gz?.headers, [['Accept-Encoding', 'identity']]);
    assert.equal(checkRequest(req('MESSAGE', [['Content-Type', 'text/plain']], 'hi'), { acceptTypes: ['text/plain'] }), null);
  });

  it('406 when Accept excludes the answer type; wildcards are fine', () => {
    assert.equal(checkRequest(req('INVITE', [['Accept', 'text/plain']]))?.status, 406);
    assert.equal(checkRequest(req('INVITE', [['Accept', 'application/*']])), null);
    assert.equal(checkRequest(req('OPTIONS', [['Accept', 'text/plain, application/sdp;level=1']])), null);
  });
});
