import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError, SipRequest, SipResponse, parseMessage, type SipMessage } from '../../../src/sip/message/index.ts';
import { headerKey } from '../../../src/sip/message/header-names.ts';

function msg(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);
}

const BASE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport',
  'Max-Forwards: 70',
  'From: Alice <sip:alice@example.com>;tag=f1',
  'To: <sip:bob@example.com>',
  'Call-ID: c1@192.0.2.1',
  'CSeq: 1 INVITE',
];

function ok(data: Buffer): SipMessage {
  const m = parseMessage(data);
  if (m instanceof SipParseError) assert.fail(`${m.message} at ${m.offset}`);
  return m;
}

function err(data: Buffer): SipParseError {
  const m = parseMessage(data);
  assert.ok(m instanceof SipParseError, 'expected a parse error');
  return m;
}

describe('parseMessage: Content-Length on UDP (RFC 3261 §18.3)', () => {
  it('absent: the body runs to the end of the datagram', () => {
    const m = ok(msg(BASE, 'v=0\r\n'));
    assert.equal(m.body.toString(), 'v=0\r\n');
    assert.equal(m.contentLength, undefined);
  });

  it('smaller than the data: the body is truncated', () => {
    const m = ok(msg([...BASE, 'Content-Length: 3'], 'v=0\r\nextra'));
    assert.equal(m.body.toString(), 'v=0');
    assert.ok(!m.serialize().includes('extra'));
  });

  it('larger than the data: error with the request as partial', () => {
    const e = err(msg([...BASE, 'Content-Length: 50'], 'v=0\r\n'));
    assert.equal(e.status, 400);
    assert.ok(e.partial instanceof SipRequest);
    assert.equal(e.partial.callId, 'c1@192.0.2.1');
  });

  it('not a number: error pointing at the header line', () => {
    const data = msg([...BASE, 'Content-Length: 1x']);
    const e = err(data);
    assert.equal(e.offset, data.indexOf('Content-Length'));
  });
});

describe('parseMessage: header syntax', () => {
  it('headers named after Object.prototype members are headers like any other', () => {
    const names = ['Constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
    const m = ok(msg([...BASE, ...names.map((n, i) => `${n}: value-${i}`)]));
    names.forEach((n, i) => {
      assert.equal(m.get(n), `value-${i}`);
      assert.deepEqual(m.getAll(n.toUpperCase()), [`value-${i}`]);
    });
    const out = ok(m.serialize());
    assert.equal(out.get('constructor'), 'value-0');
    for (const n of names) assert.equal(headerKey(n), n.toLowerCase());
  });

  it('compact forms and long forms are the same header, names are case-insensitive', () => {
    const m = ok(
      msg([
        'OPTIONS sip:bob@example.com SIP/2.0',
        'v: SIP/2.0/UDP h1;branch=z9hG4bK1',
        'VIA: SIP/2.0/TCP h2;branch=z9hG4bK2',
        'f: <sip:a@example.com>;tag=1',
        't: <sip:b@example.com>',
        'i: compact@x',
        'cseq: 2 OPTIONS',
        'm: <sip:a@192.0.2.1>',
        'c: application/sdp',
        'k: timer',
        'l: 0',
      ]),
    );
    assert.equal(m.callId, 'compact@x');
    assert.equal(m.get('Call-ID'), 'compact@x');
    assert.equal(m.get('CALL-id'), 'compact@x');
    assert.deepEqual(
      m.vias.map((v) => v.host),
      ['h1', 'h2'],
    );
    assert.equal(m.get('supported'), 'timer');
    assert.equal(m.contentType, 'application/sdp');
    assert.ok(m.has('Contact'));
    assert.ok(m.has('M'));
  });

  it('folded lines are joined with one space; comma lists and repeated lines both count', () => {
    const m = ok(
      msg([
        ...BASE,
        'Allow: INVITE,',
        '  ACK , BYE',
        'Allow: CANCEL',
        'Subject: first',
        '\tsecond',
        'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
        'Route: <sip:p3.example.com;lr>',
      ]),
    );
    assert.deepEqual(m.getAll('allow'), ['INVITE', 'ACK', 'BYE', 'CANCEL']);
    assert.equal(m.get('subject'), 'first second');
    assert.deepEqual(
      m.routes.map((r) => r.uri.host),
      ['p1.example.com', 'p2.example.com', 'p3.example.com'],
    );
    assert.equal(m.getAll('subject').length, 1);
  });

  it('a comma inside a quoted display name does not split Contact', () => {
    const m = ok(msg([...BASE, 'Contact: "Doe, John" <sip:j@h>;expires=60, <sip:k@h2>']));
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.equal(c.length, 2);
    assert.equal(c[0]?.displayName, 'Doe, John');
    assert.equal(c[0]?.params['expires'], '60');
  });

  it('Contact: * is reported as "*"', () => {
    const m = ok(msg([...BASE.slice(0, 6), 'CSeq: 1 REGISTER', 'Contact: *', 'Expires: 0'].map((l, i) =>
      i === 0 ? 'REGISTER sip:example.com SIP/2.0' : l,
    )));
    assert.equal(m.contacts, '*');
    assert.equal(m.expires, 0);
  });

  it('CRLFs before the start line are ignored (§7.5)', () => {
    const m = ok(Buffer.concat([Buffer.from('\r\n\r\n'), msg(BASE)]));
    assert.equal((m as SipRequest).method, 'INVITE');
  });

  it('a header line without a colon is an error at its offset', () => {
    const data = msg([...BASE, 'Bogus header line']);
    const e = err(data);
    assert.equal(e.offset, data.indexOf('Bogus'));
  });

  it('a header name with a space inside is an error', () => {
    const data = msg([...BASE, 'Bad Name: x']);
    assert.equal(err(data).offset, data.indexOf('Bad Name'));
  });

  it('no empty line and no final CRLF: error', () => {
    const e = err(Buffer.from(BASE.join('\r\n')));
    assert.equal(e.status, 400);
  });

  it('maxBytes: larger datagrams are refused with 513 before parsing', () => {
    const data = msg(BASE, 'x'.repeat(100));
    assert.equal(ok(data).body.length, 100);
    const big = parseMessage(data, { maxBytes: 200 });
    assert.ok(big instanceof SipParseError);
    assert.equal(big.status, 513);
  });

  it('missing mandatory headers: 400 with partial', () => {
    const e = err(msg(BASE.filter((l) => !l.startsWith('Call-ID'))));
    assert.match(e.message, /call-id/);
    assert.ok(e.partial);
  });

  it('no Via: 400 without partial (nowhere to send a response)', () => {
    const e = err(msg(BASE.filter((l) => !l.startsWith('Via'))));
    assert.equal(e.partial, undefined);
  });

  it('a binary body with bytes >= 0x80 is kept byte for byte', () => {
    const body = Buffer.from([0, 0x80, 0xff, 0x0d, 0x0a, 0x41]);
    const data = Buffer.concat([msg([...BASE, `Content-Length: ${body.length}`]), body]);
    const m = ok(data);
    assert.deepEqual(m.body, body);
    assert.deepEqual(m.serialize(), data);
  });

  it('UTF-8 in header values is decoded, and error offsets are byte offsets', () => {
    const m = ok(msg([...BASE.filter((l) => !l.startsWith('From')), 'From: "Jürgen Groß" <sip:j@example.com>;tag=9']));
    assert.equal(m.from.displayName, 'Jürgen Groß');
    const data = msg(['OPTIONS sip:a@b SIP/2.0', 'Subject: ü', 'Broken']);
    assert.equal(err(data).offset, data.indexOf('Broken'));
  });
});

describe('parseMessage: start lines', () => {
  it('a response: status, reason with spaces', () => {
    const m = ok(msg(['SIP/2.0 486 Busy Here', ...BASE.slice(1)]));
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 486);
    assert.equal(m.reason, 'Busy Here');
  });

  it('status codes outside 100-699 are rejected', () => {
    err(msg(['SIP/2.0 099 Low', ...BASE.slice(1)]));
    err(msg(['SIP/2.0 700 High', ...BASE.slice(1)]));
  });

  it('SIP/3.0 in a request: 505 with partial; garbage version: 400', () => {
    const e = err(msg(['INVITE sip:bob@example.com SIP/3.0', ...BASE.slice(1)]));
    assert.equal(e.status, 505);
    assert.ok(e.partial);
    assert.equal(err(msg(['INVITE sip:bob@example.com HTTP/1.1', ...BASE.slice(1)])).status, 400);
  });

  it('Request-URI without a scheme is rejected', () => {
    assert.equal(err(msg(['INVITE bob@example.com SIP/2.0', ...BASE.slice(1)])).status, 400);
  });

  it('the request line ends at its first CRLF, whether read in one pass or by the general rules', () => {
    const rest = BASE.slice(1).map((line) => `${line}\r\n`).join('') + '\r\n';
    const request = (line: string): SipMessage | SipParseError => parseMessage(Buffer.from(line + rest, 'latin1'));
    const plain = request('INVITE sip:bob@example.com SIP/2.0\r\n');
    assert.ok(plain instanceof SipRequest);
    assert.equal(plain.uri, 'sip:bob@example.com');
    assert.equal(plain.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport');
    // The scheme's check lets a bare CR or LF through; the line still ends at the CRLF after the version.
    for (const uri of ['s\nx:foo', 's\rx:foo']) {
      const m = request(`INVITE ${uri} SIP/2.0\r\n`);
      assert.ok(m instanceof SipRequest, JSON.stringify(uri));
      assert.equal(m.uri, uri);
      assert.equal(m.cseq.method, 'INVITE');
    }
    const cr = request('INVITE sip:bob@example.com SIP/2.0\r\r\n');
    assert.ok(cr instanceof SipParseError);
    assert.equal(cr.message, 'malformed SIP version "SIP/2.0\r"');
    assert.equal(cr.offset, 27);
    for (const end of ['\n', '\r', ' \r\n', '']) {
      const e = request(`INVITE sip:bob@example.com SIP/2.0${end}`);
      assert.ok(e instanceof SipParseError, JSON.stringify(end));
      assert.match(e.message, /^malformed request line/);
    }
    // A scheme running into the next line does not take that line's "SIP/2.0" for its own.
    const cut = request('INVITE bob\r\nX-Uri:x SIP/2.0\r\n');
    assert.ok(cut instanceof SipParseError);
    assert.equal(cut.message, 'malformed request line "INVITE bob"');
  });
});

describe('serialize', () => {
  it('an untouched parsed message serializes to its received bytes (same buffer)', () => {
    const data = msg([...BASE, 'Content-Length: 4'], 'abcd');
    const m = ok(data);
    assert.equal(m.serialize().buffer, data.buffer);
    assert.deepEqual(m.serialize(), data);
  });

  it('an edit changes only that line; other lines keep their spelling and folding', () => {
    const data = msg([...BASE, 'Subject: a', ' b', 'Content-Length: 4'], 'abcd');
    const m = ok(data);
    m.set('Max-Forwards', '69');
    const out = m.serialize().toString();
    assert.ok(out.includes('Max-Forwards: 69\r\n'));
    assert.ok(out.includes('Subject: a\r\n b\r\n'));
    assert.ok(out.endsWith('\r\n\r\nabcd'));
    assert.equal(out.replace('Max-Forwards: 69', 'Max-Forwards: 70'), data.toString());
  });

  it('lines moved by edits keep their names as written and their received text', () => {
    for (const subject of ['Subject : a', 'Subject: Grüße']) {
      const data = msg([...BASE, 'l: 4', subject, ' b', 'x-Custom:  v ', 'k: z'], 'abcd');
      const m = ok(data);
      assert.deepEqual(
        m.headerLines().slice(-4).map(([name]) => name),
        ['l', 'Subject', 'x-Custom', 'k'],
      );
      m.remove('Max-Forwards');
      m.append('Max-Forwards', '69');
      m.prepend('Record-Route', '<sip:p.example.com;lr>');
      m.remove('k');
      const out = m.serialize().toString();
      // A head outside ASCII is written from names and values (unfolded, trimmed), an ASCII one copied line by line.
      const received = subject.endsWith('a') ? [subject, ' b', 'x-Custom:  v '] : [`${subject} b`, 'x-Custom: v'];
      const lines = [...BASE.filter((l) => !l.startsWith('Max-Forwards')), 'l: 4', ...received, 'Max-Forwards: 69'];
      lines.splice(1, 0, 'Record-Route: <sip:p.example.com;lr>');
      assert.equal(out, lines.join('\r\n') + '\r\n\r\nabcd');
      assert.deepEqual(m.headerLines().at(-3), ['Subject', `${subject.slice(subject.indexOf(':') + 1).trim()} b`]);
    }
  });

  it('Content-Length follows the body; one is added when absent', () => {
    const m = ok(msg(BASE));
    m.body = Buffer.from('hello');
    const again = ok(m.serialize());
    assert.equal(again.contentLength, 5);
    assert.equal(again.body.toString(), 'hello');
  });

  it('editing the method, URI, status or reason drops the cached bytes', () => {
    const r = ok(msg(BASE)) as SipRequest;
    r.uri = 'sip:carol@example.com';
    assert.ok(r.serialize().toString().startsWith('INVITE sip:carol@example.com SIP/2.0\r\n'));
    const s = ok(msg(['SIP/2.0 180 Ringing', ...BASE.slice(1)])) as SipResponse;
    s.reason = 'Ringing Loudly';
    assert.ok(s.serialize().toString().startsWith('SIP/2.0 180 Ringing Loudly\r\n'));
  });
});

describe('structured accessors and mutators', () => {
  it('are cached and invalidated by set', () => {
    const m = ok(msg(BASE));
    assert.equal(m.cseq.seq, 1);
    assert.equal(m.cseq, m.cseq);
    m.set('CSeq', '2 INVITE');
    assert.equal(m.cseq.seq, 2);
    m.prepend('Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp');
    assert.equal(m.topVia.host, 'proxy.example.com');
    assert.equal(m.vias.length, 2);
    m.remove('via');
    assert.throws(() => m.topVia, { name: 'SipHeaderError' });
  });

  it('setTopViaParams writes received and rport into the top Via only', () => {
    const m = ok(msg([...BASE.slice(0, 1), 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa;rport, SIP/2.0/UDP h2;branch=z9hG4bKb', ...BASE.slice(2)]));
    m.setTopViaParams({ received: '192.0.2.9', rport: 5062 });
    const again = ok(m.serialize());
    assert.equal(again.topVia.received, '192.0.2.9');
    assert.equal(again.topVia.rport, 5062);
    assert.equal(again.topVia.branch, 'z9hG4bKa');
    assert.equal(again.vias[1]?.host, 'h2');
    assert.equal(again.vias[1]?.received, undefined);
  });

  it('setToTag adds a tag keeping the To value as written, or replaces one', () => {
    const m = ok(msg(BASE));
    m.setToTag('t9');
    assert.equal(m.get('to'), '<sip:bob@example.com>;tag=t9');
    assert.equal(m.to.params['tag'], 't9');
    m.setToTag('t10');
    assert.equal(m.to.params['tag'], 't10');
  });

  it('fromTag / toTag / maxForwards / contentType', () => {
    const m = ok(msg([...BASE, 'Content-Type: Application/SDP; charset=utf-8']));
    assert.equal(m.fromTag, 'f1');
    assert.equal(m.toTag, undefined);
    assert.equal(m.maxForwards, 70);
    assert.equal(m.contentType, 'application/sdp');
  });

  it('requestUri is parsed once and follows edits of uri', () => {
    const r = ok(msg(BASE)) as SipRequest;
    assert.equal(r.requestUri.user, 'bob');
    assert.equal(r.requestUri, r.requestUri);
    r.uri = 'sips:carol@example.org:5061';
    assert.equal(r.requestUri.scheme, 'sips');
    assert.equal(r.requestUri.port, 5061);
  });
});

describe('parseCSeq', () => {
  it('accepts 1*DIGIT LWS token below 2**31 and rejects the rest', async () => {
    const { parseCSeq } = await import('../../../src/sip/message/index.ts');
    assert.deepEqual(parseCSeq('0009 \tINVITE'), { seq: 9, method: 'INVITE' });
    assert.deepEqual(parseCSeq('2147483647 BYE'), { seq: 2147483647, method: 'BYE' });
    for (const bad of ['', 'INVITE', '1INVITE', '1 ', '2147483648 INVITE', '-1 INVITE', '1 INV ITE', '12345678901 A']) {
      assert.equal(parseCSeq(bad), null, bad);
    }
  });
});

describe('serialize: UTF-8 heads', () => {
  it('an untouched message with UTF-8 in its head is returned byte for byte', () => {
    const data = msg([...BASE.filter((l) => !l.startsWith('From')), 'From: "Zoë" <sip:z@example.com>;tag=9', 'Content-Length: 0']);
    const m = ok(data);
    assert.deepEqual(m.serialize(), data);
    m.setToTag('t');
    const again = ok(m.serialize());
    assert.equal(again.from.displayName, 'Zoë');
    assert.equal(again.toTag, 't');
  });
});

describe('setTopViaParams spellings', () => {
  const top = (via: string): SipMessage => ok(msg([BASE[0] as string, `Via: ${via}`, ...BASE.slice(2)]));

  it('fills a bare rport in the middle, at the end, or in upper case, and replaces an existing value', () => {
    for (const [via, expected] of [
      ['SIP/2.0/UDP h;rport;branch=z9hG4bKa', 'SIP/2.0/UDP h;rport=7;branch=z9hG4bKa;received=1.2.3.4'],
      ['SIP/2.0/UDP h;branch=z9hG4bKa;rport', 'SIP/2.0/UDP h;branch=z9hG4bKa;rport=7;received=1.2.3.4'],
      ['SIP/2.0/UDP h;branch=z9hG4bKa;RPORT', 'SIP/2.0/UDP h;branch=z9hG4bKa;rport=7;received=1.2.3.4'],
      ['SIP/2.0/UDP h;rport=1;received=9.9.9.9;branch=z9hG4bKa', 'SIP/2.0/UDP h;rport=7;received=1.2.3.4;branch=z9hG4bKa'],
      ['SIP/2.0/UDP h;branch=z9hG4bKa', 'SIP/2.0/UDP h;branch=z9hG4bKa;rport=7;received=1.2.3.4'],
      ['SIP/2.0/UDP h;rportx=1;rport;branch=z9hG4bKa', 'SIP/2.0/UDP h;rportx=1;rport=7;branch=z9hG4bKa;received=1.2.3.4'],
      ['SIP/2.0/UDP h;branch=z9hG4bKa; rport', 'SIP/2.0/UDP h;branch=z9hG4bKa;rport=7;received=1.2.3.4'],
    ] as const) {
      const m = top(via);
      m.setTopViaParams({ received: '1.2.3.4', rport: 7 });
      assert.equal(m.get('via'), expected);
      assert.equal(m.topVia.rport, 7);
      assert.equal(m.topVia.received, '1.2.3.4');
    }
  });
});

describe('serialize after setTopViaParams', () => {
  const body = 'v=0\r\n';
  const cases: Array<[string, string[], string]> = [
    ['bare rport in the middle, with a body', [BASE[0] as string, 'Via: SIP/2.0/UDP h:5060;rport;branch=z9hG4bKa', ...BASE.slice(2), `Content-Length: ${body.length}`], body],
    ['bare rport at the end', [BASE[0] as string, 'Via: SIP/2.0/UDP h;branch=z9hG4bKa;rport', ...BASE.slice(2), 'Content-Length: 0'], ''],
    ['no rport, spaces after the value', [BASE[0] as string, 'Via: SIP/2.0/UDP h;branch=z9hG4bKa  ', ...BASE.slice(2), 'Content-Length: 0'], ''],
    ['rport and received already set', [BASE[0] as string, 'Via: SIP/2.0/UDP h;rport=1;received=9.9.9.9;branch=z9hG4bKa', ...BASE.slice(2), 'Content-Length: 0'], ''],
    ['a Content-Length written with a leading zero', [...BASE, `Content-Length: 0${body.length}`], body],
    ['no Content-Length', BASE, body],
    ['a zero Content-Length written 00', [...BASE, 'Content-Length: 00'], ''],
  ];
  for (const [name, lines, b] of cases) {
    it(`${name}: the Via line edited, every other byte as received`, () => {
      const data = msg(lines, b);
      for (const prefix of ['', '\r\n']) {
        const m = ok(Buffer.concat([Buffer.from(prefix), data]));
        m.setTopViaParams({ received: '192.0.2.9', rport: 5062 });
        const via = m.get('via') as string;
        assert.match(via, /;rport=5062/);
        assert.match(via, /;received=192\.0\.2\.9/);
        const viaLine = lines.find((l) => l.startsWith('Via:')) as string;
        let expected = data.toString('latin1').replace(viaLine.trimEnd(), `Via: ${via}`);
        // What serialize always corrects: one Content-Length, written as the body's length.
        expected = expected.replace(`Content-Length: 0${b.length}\r\n`, `Content-Length: ${b.length}\r\n`);
        if (!lines.some((l) => l.startsWith('Content-Length'))) expected = expected.replace('\r\n\r\n', `\r\nContent-Length: ${b.length}\r\n\r\n`);
        assert.equal(m.serialize().toString('latin1'), expected, `${JSON.stringify(prefix)} before the message`);
        assert.equal(ok(m.serialize()).topVia.rport, 5062);
      }
    });
  }

  it('a received value outside ASCII is written as UTF-8', () => {
    const m = ok(msg([...BASE, 'Content-Length: 0']));
    m.setTopViaParams({ received: 'hôte.example' });
    assert.equal(m.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport;received=hôte.example');
    assert.ok(m.serialize().toString('utf8').includes('Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport;received=hôte.example\r\n'));
  });

  it('a later edit of another header keeps the stamped Via', () => {
    const m = ok(msg([...BASE, 'Content-Length: 0']));
    m.setTopViaParams({ received: '192.0.2.9', rport: 5062 });
    m.set('Max-Forwards', '69');
    m.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp');
    const again = ok(m.serialize());
    assert.equal(again.maxForwards, 69);
    assert.equal(again.vias.length, 2);
    assert.equal(again.vias[1]?.received, '192.0.2.9');
    assert.equal(again.vias[1]?.rport, 5062);
  });
});
