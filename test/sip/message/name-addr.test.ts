import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatNameAddr, isFormattedNameAddr, isFormattedUri, parseNameAddr } from '../../../src/sip/message/name-addr.ts';
import { formatUri, parseUri } from '../../../src/sip/message/uri.ts';

/** A small deterministic generator, so a failure names a case that can be replayed. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

/** Mostly a piece that formats back as written, sometimes one that does not. */
function pick(rand: () => number, [good, bad]: readonly [readonly string[], readonly string[]]): string {
  const from = rand() < 0.8 ? good : bad;
  return from[Math.floor(rand() * from.length)] as string;
}

const DISPLAY = [['', '"Alice" ', '"Zoë Ü" ', '"a<b>;c" '], ['"" ', '"a\\"b" ', '"a\\\\b" ', 'Alice ', '"Alice"', '"Alice"  ', ' ']] as const;
const SCHEME = [['sip:', 'sips:'], ['SIP:', 'tel:', 'Sip:']] as const;
const USER = [['', '101@', 'alice@', 'a;b=c@', 'a?b/c@', '+1-555@'], ['%61lice@', 'a:pw@', '@', 'é@', 'a b@']] as const;
const HOST = [['127.0.0.1', 'pbx.example.com', '[2001:db8::1]', 'Host.Example'], ['[::1', '', 'h_x']] as const;
const PORT = [['', ':5060', ':0', ':5070', ':65535'], [':05060', ':65536', ':', ':99999']] as const;
const URI_PARAMS = [
  ['', ';lr', ';transport=UDP', ';ob;transport=tcp', ';a=', ';a=1;b=2'],
  [';Transport=udp', ';lr;lr', ';a=1;b=2;a=3', ';1=x', ';x%41=1', ';a=%41', ';__proto__=1', ';a=b=c'],
] as const;
const URI_HEADERS = [[''], ['?Subject=x', '?a=b&c=d']] as const;
const PARAMS = [
  ['', ';tag=abc', ';tag=8f3k2j1h9d;expires=60', ';tag', ';q=0.5;tag=x', ';expires=60;tag', ';received=[::1]'],
  [';Tag=x', ';tag=a;tag=b', ';tag=', ' ;tag=a', ';tag = a', ';+sip.instance="<urn:uuid:1>"', ';2=a;1=b'],
] as const;

describe('isFormattedNameAddr', () => {
  it('is true only for values that parse and format back to themselves', () => {
    const rand = lcg(4242);
    let recognised = 0;
    for (let n = 0; n < 20000; n++) {
      const text =
        pick(rand, DISPLAY) + '<' + pick(rand, SCHEME) + pick(rand, USER) + pick(rand, HOST) + pick(rand, PORT) + pick(rand, URI_PARAMS) +
        pick(rand, URI_HEADERS) + '>' + pick(rand, PARAMS);
      if (!isFormattedNameAddr(text)) continue;
      recognised++;
      const parsed = parseNameAddr(text);
      assert.ok(parsed !== null, text);
      assert.equal(formatNameAddr(parsed), text);
    }
    // The generator makes plenty of both kinds: the test would notice a check that always says no.
    assert.ok(recognised > 1000, `only ${recognised} recognised`);
  });

  it('isFormattedUri: true only for URIs that parse and format back to themselves', () => {
    const rand = lcg(77);
    let recognised = 0;
    for (let n = 0; n < 20000; n++) {
      const text = pick(rand, SCHEME) + pick(rand, USER) + pick(rand, HOST) + pick(rand, PORT) + pick(rand, URI_PARAMS) + pick(rand, URI_HEADERS);
      if (!isFormattedUri(text)) continue;
      recognised++;
      const parsed = parseUri(text);
      assert.ok(parsed !== null, text);
      assert.equal(formatUri(parsed), text);
    }
    assert.ok(recognised > 2000, `only ${recognised} recognised`);
    assert.equal(isFormattedUri('sip:alice@10.0.0.1'), true);
    assert.equal(isFormattedUri('sip:alice@10.0.0.1>'), false);
  });

  it('recognises what our requests and common peers write', () => {
    for (const text of [
      '<sip:2000@127.0.0.1:5070>;tag=1234-abcd',
      '"Alice" <sip:101@pbx.example.com>;tag=8f3k2j1h9d',
      '<sip:service@127.0.0.1:5070;transport=UDP>',
      '<sip:127.0.0.1:5060;lr>',
      '"Zoë" <sips:zoe@[2001:db8::1]:5061;transport=tls>;tag=x;expires=60',
    ]) {
      assert.equal(isFormattedNameAddr(text), true, text);
      assert.equal(formatNameAddr(parseNameAddr(text)!), text);
    }
  });

  it('leaves to the parser what formatting would write differently', () => {
    for (const text of [
      'sut <sip:service@127.0.0.1:5060>;tag=1',
      'sip:bob@example.com;tag=1',
      '<sip:bob@example.com> ;tag=1',
      '<sip:bob@example.com>;Tag=1',
      '<sip:%62ob@example.com>',
      '<sip:bob@example.com:05060>',
      '<sip:bob@example.com;LR>',
      '<sip:bob@example.com;a=1;a=2>',
      '<sip:bob@example.com>;tag=a;tag=b',
      '<sip:bob@example.com?Subject=x>',
      '<SIP:bob@example.com>',
      '"" <sip:bob@example.com>',
      '"a\\"b" <sip:bob@example.com>',
      '<sip:bob@example.com>;2=a;1=b',
    ]) {
      assert.equal(isFormattedNameAddr(text), false, text);
    }
  });
});
