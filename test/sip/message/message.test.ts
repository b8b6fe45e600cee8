import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError, createRequest, parseVia, createResponse, parseMessage, type SipMessage, type SipRequest } from '../../../src/sip/message/index.ts';

/**
 * What a message we created must serialize to, written independently of the serializer: the start line, each
 * header line as `name: value`, one Content-Length (the first line's name, else "Content-Length") with the body's
 * length, the empty line, the body; UTF-8 throughout.
 */
function expectedBytes(msg: SipMessage): Buffer {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  let head = start + '\r\n';
  let lengthWritten = false;
  for (const [name, value] of msg.headerLines()) {
    if (name.toLowerCase() === 'content-length' || name === 'l') {
      if (lengthWritten) continue;
      lengthWritten = true;
      head += `${name}: ${msg.body.length}\r\n`;
    } else {
      head += `${name}: ${value}\r\n`;
    }
  }
  if (!lengthWritten) head += `Content-Length: ${msg.body.length}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'utf8'), msg.body]);
}

/** A small deterministic generator, so a failure names a case that can be replayed. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

const NAMES = ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Allow', 'X-Custom', 'v', 'f', 'Route', 'Subject'];
const VALUES = [
  'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1;rport',
  '"Alice" <sip:101@pbx.example.com>;tag=8f3k',
  '<sip:2000@127.0.0.1:5070>',
  '1 INVITE',
  '70',
  '',
  'x',
  'a'.repeat(200),
  '"Zoë Ünïcode" <sip:zoe@example.com>',
  'INVITE, ACK, CANCEL, BYE, OPTIONS',
  '中文',
];

function randomRequest(rand: () => number): SipRequest {
  const headers: Array<[string, string]> = [];
  const count = Math.floor(rand() * 12);
  for (let i = 0; i < count; i++) {
    const roll = rand();
    if (roll < 0.1) headers.push(['Content-Length', String(Math.floor(rand() * 1000))]);
    else if (roll < 0.15) headers.push(['l', '5']);
    else headers.push([NAMES[Math.floor(rand() * NAMES.length)] as string, VALUES[Math.floor(rand() * VALUES.length)] as string]);
  }
  const bodyRoll = rand();
  const body = bodyRoll < 0.3 ? undefined : bodyRoll < 0.6 ? 'v=0\r\n' : bodyRoll < 0.8 ? 'é'.repeat(40) : Buffer.alloc(3000, 7);
  const uri = rand() < 0.9 ? 'sip:2000@127.0.0.1:5070' : 'sip:ünï@example.com';
  return createRequest({ method: rand() < 0.5 ? 'INVITE' : 'ACK', uri, headers, ...(body === undefined ? {} : { body }) });
}

describe('serializing a message we created', () => {
  it('writes the start line, each header as name: value, one Content-Length from the body, for varied messages', () => {
    const rand = lcg(20261127);
    for (let n = 0; n < 500; n++) {
      const req = randomRequest(rand);
      assert.equal(req.serialize().toString("latin1"), expectedBytes(req).toString("latin1"), `case ${n}`);
    }
  });

  it('writes the same after edits (prepend, set, append, remove, a new body)', () => {
    const rand = lcg(7);
    for (let n = 0; n < 200; n++) {
      const req = randomRequest(rand);
      req.prepend('Via', 'SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-top');
      if (rand() < 0.5) req.set('CSeq', '2 INVITE');
      if (rand() < 0.5) req.append('Content-Length', '0');
      if (rand() < 0.3) req.remove('content-length');
      if (rand() < 0.3) req.body = Buffer.from('new body ü');
      if (rand() < 0.2) req.uri = 'sip:changed@example.com';
      assert.equal(req.serialize().toString("latin1"), expectedBytes(req).toString("latin1"), `case ${n}`);
    }
  });

  it('writes a response we built from a received request as its lines read', () => {
    const received = parseMessage(
      Buffer.from(
        'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb\r\n' +
          'From: "Zoë" <sip:zoe@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
      ),
    ) as SipRequest;
    const res = createResponse(received, 200, undefined, { toTag: 't9', headers: [['Contact', '<sip:b@192.0.2.3>']], body: 'v=0\r\n' });
    const bytes = res.serialize();
    assert.deepEqual(bytes, expectedBytes(res));
    assert.ok(bytes.includes(Buffer.from('From: "Zoë" <sip:zoe@example.com>;tag=1\r\n', 'utf8')));
    assert.ok(bytes.includes(Buffer.from('To: <sip:bob@example.com>;tag=t9\r\n')));
  });

  it('serializes back to bytes that parse into the same lines', () => {
    const rand = lcg(99);
    for (let n = 0; n < 100; n++) {
      const headers: Array<[string, string]> = [
        ['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1;rport'],
        ['From', '"Alice" <sip:101@pbx.example.com>;tag=8f3k'],
        ['To', '<sip:2000@127.0.0.1:5070>'],
        ['Call-ID', `c${n}@pbx`],
        ['CSeq', '1 INVITE'],
      ];
      for (let i = Math.floor(rand() * 4); i > 0; i--) headers.push(['Subject', VALUES[Math.floor(rand() * VALUES.length)] as string]);
      const body = rand() < 0.5 ? '' : 'é'.repeat(Math.floor(rand() * 50));
      const req = createRequest({ method: 'INVITE', uri: 'sip:2000@127.0.0.1:5070', headers, body });
      const parsed = parseMessage(req.serialize());
      if (parsed instanceof SipParseError) throw parsed;
      assert.deepEqual(parsed.headerLines().slice(0, -1), req.headerLines(), `case ${n}`);
      assert.deepEqual(parsed.body, req.body, `case ${n}`);
    }
  });
});

describe('the Vias of a received message', () => {
  it('read as parseVia reads each value, the top one the parser read included', () => {
    for (const vias of [
      ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport'],
      ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKb;received=1.2.3.4'],
      ['SIP / 2.0 / udp  host.example.com : 5060 ; branch = z9hG4bK1 ; ttl=1', 'SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKc;rport=5062'],
    ]) {
      const text =
        'OPTIONS sip:bob@example.com SIP/2.0\r\n' +
        vias.map((v) => `Via: ${v}\r\n`).join('') +
        'From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: v1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
      const msg = parseMessage(Buffer.from(text));
      if (msg instanceof SipParseError) throw msg;
      const values = msg.getAll('via');
      assert.deepEqual(msg.vias, values.map((v) => parseVia(v)), text);
      assert.equal(msg.vias[0], msg.topVia);
      msg.prepend('Via', 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKtop');
      assert.deepEqual(msg.vias, msg.getAll('via').map((v) => parseVia(v)));
    }
  });
});
