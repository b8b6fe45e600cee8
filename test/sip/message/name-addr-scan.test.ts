// The parser checks From and To with a byte scanner (scanNameAddr) and leaves anything unusual to parseNameAddr:
// whatever the scanner accepts, parseNameAddr must accept with the same tag, and the scanner must accept the
// common shapes (else it saves nothing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNameAddr } from '../../../src/sip/message/index.ts';
import { NameAddrScan, scanNameAddr, scannedTag } from '../../../src/sip/message/name-addr-scan.ts';
import { mutateText, prng } from './mutations.ts';

const COMMON = [
  'Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Bob <sip:bob@biloxi.example.com>',
  '"Bob Smith" <sip:bob@biloxi.example.com:5060;transport=udp>;tag=a6c85cf',
  '<sip:+15551234567@trunk.example.net;user=phone>',
  '<sips:carol:secret@chicago.example.com:5061>;tag=x;expires=60',
  'sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag001',
  '<sip:192.0.2.4>;TAG = abc ; other',
  '"" <sip:a@b>;tag=1;tag=2',
  '<sip:a@b>;tag;x=1',
  '<sip:a@b;lr;x=>',
];

const UNUSUAL = [
  'sip:bob@biloxi.example.com;tag=1',
  '"Esc \\" aped" <sip:a@b>;tag=1',
  '<sip:%61lice@b>',
  '<sip:[2001:db8::1]:5060>;tag=v6',
  '<tel:+15551234>;tag=t',
  '<SIP:a@b>',
  '<sip:a@b?subject=x>',
  '<sip:a@b>;tag="quoted"',
];

const SEEDS = [...COMMON, ...UNUSUAL, '<sip:a@b', '<sip:@b>', '<sip:a@>', 'A B <sip:a@b:99999>', '<sip:a@b>;', '<sip:a@b>;=x', '<sip:a@b>x'];
const INTERESTING = ' \t";=:/[]<>,@?%\\\x7f\x00aT';

/** Scans `value` inside a head (followed by bytes it must not read); returns whether the scanner was sure. */
function agree(value: string): boolean {
  const before = 'INVITE sip:a@b SIP/2.0\r\nFrom: ';
  const bytes = Buffer.from(before + value + '>;tag=late\r\n\r\n', 'latin1');
  if (scanNameAddr(bytes, before.length, before.length + value.length) !== NameAddrScan.Valid) return false;
  const na = parseNameAddr(value);
  assert.ok(na !== null, `scanner accepted ${JSON.stringify(value)}, parseNameAddr refuses it`);
  const tag = scannedTag.start === -1 ? null : bytes.toString('latin1', scannedTag.start, scannedTag.end);
  assert.equal(tag, na.params['tag'] ?? null, `tag of ${JSON.stringify(value)}`);
  return true;
}

describe('scanNameAddr', () => {
  it('accepts the common shapes with their tags', () => {
    for (const v of COMMON) assert.ok(agree(v), `not recognised: ${v}`);
  });

  it('leaves escapes, addr-specs, IPv6, other schemes, URI headers and quoted values to parseNameAddr', () => {
    for (const v of UNUSUAL) assert.equal(agree(v), false, v);
  });

  it('never accepts what parseNameAddr refuses, nor differs on the tag, over 30,000 mutations', () => {
    const rand = prng(3261);
    let sure = 0;
    for (let i = 0; i < 30000; i++) {
      if (agree(mutateText(SEEDS[i % SEEDS.length] as string, rand, INTERESTING))) sure++;
    }
    assert.ok(sure > 1500, `only ${sure} mutations recognised`);
  });
});
