import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SipParseError,
  SipRequest,
  SipResponse,
  createRequest,
  createResponse,
  newBranch,
  newCallId,
  newTag,
  parseMessage,
  parseNameAddr,
  parseVia,
  reasonPhrase,
} from '../../../src/sip/message/index.ts';

function invite(extra: Array<[string, string]> = []): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri: 'sip:bob@example.com',
    headers: [
      ['Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx1'],
      ['Via', 'SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKx2'],
      ['Max-Forwards', '70'],
      ['From', '"Alice" <sip:alice@example.com>;tag=f1'],
      ['To', '<sip:bob@example.com>'],
      ['Call-ID', 'call-1'],
      ['CSeq', '7 INVITE'],
      ['Record-Route', '<sip:p1.example.com;lr>'],
      ['Contact', '<sip:alice@192.0.2.1>'],
      ...extra,
    ],
    body: 'v=0\r\n',
  });
}

describe('createRequest', () => {
  it('serializes with a Content-Length matching the body and parses back', () => {
    const req = invite([['Content-Length', '999']]);
    const text = req.serialize().toString();
    assert.ok(text.startsWith('INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx1\r\n'));
    const back = parseMessage(req.serialize());
    assert.ok(back instanceof SipRequest);
    assert.equal(back.contentLength, 5);
    assert.equal(back.body.toString(), 'v=0\r\n');
    assert.equal(back.cseq.seq, 7);
  });

  it('UTF-8 header values are encoded as UTF-8', () => {
    const req = createRequest({
      method: 'MESSAGE',
      uri: 'sip:b@h',
      headers: [['From', '"Zoë" <sip:z@h>;tag=1']],
      body: Buffer.from('é'),
    });
    const bytes = req.serialize();
    assert.ok(bytes.includes(Buffer.from('"Zoë"', 'utf8')));
    assert.ok(bytes.toString().includes('Content-Length: 2\r\n'));
  });
});

describe('createResponse (RFC 3261 §8.2.6.2)', () => {
  it('copies every Via in order, From, To, Call-ID, CSeq and adds the To tag', () => {
    const res = createResponse(invite(), 200, undefined, { toTag: 'tt', contentType: 'application/sdp', body: 'v=0\r\n' });
    assert.equal(res.reason, 'OK');
    assert.deepEqual(
      res.vias.map((v) => v.branch),
      ['z9hG4bKx1', 'z9hG4bKx2'],
    );
    assert.equal(res.from.params['tag'], 'f1');
    assert.equal(res.to.params['tag'], 'tt');
    assert.equal(res.callId, 'call-1');
    assert.deepEqual(res.cseq, { seq: 7, method: 'INVITE' });
    assert.equal(res.get('record-route'), '<sip:p1.example.com;lr>');
    assert.equal(res.contentType, 'application/sdp');
    assert.equal(res.has('contact'), false);
    const back = parseMessage(res.serialize());
    assert.ok(back instanceof SipResponse);
    assert.equal(back.body.toString(), 'v=0\r\n');
  });

  it('no Record-Route on 100, on final failures, or for non-dialog requests', () => {
    assert.equal(createResponse(invite(), 100).has('record-route'), false);
    assert.equal(createResponse(invite(), 486).has('record-route'), false);
    const opts = createRequest({
      method: 'OPTIONS',
      uri: 'sip:b@h',
      headers: [
        ['Via', 'SIP/2.0/UDP h;branch=z9hG4bKo'],
        ['Record-Route', '<sip:p@h;lr>'],
      ],
    });
    assert.equal(createResponse(opts, 200).has('record-route'), false);
  });

  it('keeps an existing To tag and applies extra headers and reasons', () => {
    const req = invite();
    req.setToTag('existing');
    const res = createResponse(req, 480, 'Gone Fishing', { toTag: 'new', headers: [['Retry-After', '60']] });
    assert.equal(res.to.params['tag'], 'existing');
    assert.equal(res.reason, 'Gone Fishing');
    assert.equal(res.get('retry-after'), '60');
  });

  it('answers a partial request from a parse error', () => {
    const err = parseMessage(
      Buffer.from('INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCall-ID: q\r\nCSeq: x\r\n\r\n'),
    );
    assert.ok(err instanceof SipParseError);
    assert.ok(err.partial);
    const res = createResponse(err.partial, err.status);
    assert.equal(res.status, 400);
    assert.equal(res.get('cseq'), 'x');
  });
});

describe('reason phrases and identifiers', () => {
  it('default reason phrases, falling back on the class', () => {
    assert.equal(reasonPhrase(487), 'Request Terminated');
    assert.equal(reasonPhrase(499), 'Bad Request');
    assert.equal(reasonPhrase(299), 'OK');
  });

  it('branches carry the magic cookie; tags and Call-IDs are unique', () => {
    assert.match(newBranch(), /^z9hG4bK[0-9a-f]{16}$/);
    assert.match(newCallId('h.example.com'), /^[0-9a-f]{32}@h\.example\.com$/);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(newTag());
    assert.equal(seen.size, 2000);
  });
});

describe('createResponse copies lines by their parsed names', () => {
  /** The copy as RFC 3261 §8.2.6.2 words it, from the lines as written: what createResponse must write. */
  function expectedLines(req: SipRequest, status: number): Array<[string, string]> {
    const long: Record<string, string> = { via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', 'record-route': 'Record-Route' };
    const compact: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id' };
    const recordRoute = status > 100 && status < 300 && ['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY'].includes(req.method);
    const seen = new Set<string>();
    const out: Array<[string, string]> = [];
    for (const [name, value] of req.headerLines()) {
      const lower = name.toLowerCase();
      const key = compact[lower] ?? lower;
      const spelled = Object.hasOwn(long, key) ? long[key] : undefined;
      if (spelled === undefined || (key === 'record-route' && !recordRoute)) continue;
      if (key !== 'via' && key !== 'record-route') {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      out.push([spelled, value]);
    }
    return out;
  }

  it('for requests with compact names, repeated lines, Record-Route and other headers', () => {
    let s = 99;
    const rand = (): number => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s / 0x80000000;
    };
    const LINES = [
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa',
      'v: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKb, SIP/2.0/UDP 192.0.2.3;branch=z9hG4bKc',
      'VIA : SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKd',
      'From: <sip:a@example.com>;tag=1',
      'f: "Zoë" <sip:z@example.com>;tag=2',
      'To: <sip:bob@example.com>',
      't: <sip:bob@example.com>;tag=9',
      'Call-ID: c1',
      'i: c2',
      'CSeq: 1 INVITE',
      'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
      'record-route: <sip:p3.example.com;lr>',
      'Route: <sip:p4.example.com;lr>',
      'Contact: <sip:a@192.0.2.1>',
      'Subject: hello',
      'X-Other: 1',
    ];
    let checked = 0;
    for (let n = 0; n < 300; n++) {
      const lines = ['Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKtop', 'From: <sip:a@example.com>;tag=0', 'To: <sip:b@example.com>', 'Call-ID: c0', 'CSeq: 1 INVITE'];
      for (let k = Math.floor(rand() * 10); k > 0; k--) lines.splice(Math.floor(rand() * (lines.length + 1)), 0, LINES[Math.floor(rand() * LINES.length)] as string);
      const text = `INVITE sip:bob@example.com SIP/2.0\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
      const req = parseMessage(Buffer.from(text));
      if (req instanceof SipParseError || req.kind !== 'request') continue;
      checked++;
      for (const status of [100, 180, 200, 486]) {
        const res = createResponse(req, status, undefined, { headers: [['Server', 'originate']], contentType: 'application/sdp', body: 'v=0\r\n' });
        const expected: Array<[string, string]> = [...expectedLines(req, status), ['Server', 'originate'], ['Content-Type', 'application/sdp']];
        assert.deepEqual(res.headerLines(), expected, `${text} ${status}`);
        // The readings given from the request are the ones the response's own lines parse to.
        for (const r of [res, createResponse(req, status, undefined, { toTag: 'added' })]) {
          assert.deepEqual(r.topVia, parseVia(r.getAll('via')[0] as string), text);
          assert.equal(r.fromTag, parseNameAddr(r.get('from') as string)?.params['tag'] ?? undefined, text);
          assert.equal(r.toTag, parseNameAddr(r.get('to') as string)?.params['tag'] ?? undefined, text);
        }
      }
    }
    assert.ok(checked > 40, `only ${checked} requests parsed`);
  });
});
