// The parser reads the top Via from the received bytes (parseViaIn) and the accessors from strings (parseVia):
// both must agree on every value, well-formed or not, and never read past the value's end.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseVia } from '../../../src/sip/message/index.ts';
import { parseViaIn } from '../../../src/sip/message/via.ts';
import { paramsScan } from '../../../src/sip/message/syntax.ts';
import { mutateText, prng } from './mutations.ts';

const SEEDS = [
  'SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
  'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKabc;received=198.51.100.7;rport=50602',
  'SIP / 2.0 / udp  host.example.com : 5060 ; branch = z9hG4bK1 ; ttl=1',
  'SIP/2.0/TLS [2001:db8::9:1]:5061;branch=z9hG4bK2;maddr=[2001:db8::1]',
  'SIP/2.0/UDP h;branch="quoted;value";x',
  'SIP/2.0/UDP h;BRANCH=z9hG4bK3;Received=1.2.3.4;RPort',
  'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashd92;alias',
  'SIP/2.0/UDP h;branch',
  'SIP/2.0/UDP h;rport=70000x',
  'SIP/2.0/UDP h:65536;branch=z9hG4bK4',
  'SIP/2.0/UDP [::1;branch=z9hG4bK5',
  'SIP/2.0/UDP [2001:db8::1',
  'SIP/2.0/UDP',
  'SIP/2.0/',
  'SIP/2.0/UDP ;branch=z9hG4bK6',
  'SIP/2.0/UDP h;;branch=x',
  'SIP/2.0/UDP h;branch=x;',
  'SIP/2.0 UDP h',
  'SIP/3.0/UDP h;branch=z9hG4bK7',
  'SIP/2.0/UDP h;received',
  'SIP/2.0/UDP h;rportx;rport=5',
  'SIP/2.0/UDP h;branch=z9hG4bK8;rport=5060;received=192.0.2.4',
  'SIP/2.0/SCTP h;branch=z9hG4bK9',
  'SIP/2.0/udp h;branch=z9hG4bK10',
  'SIP/2.0/UDP h;branch="unterminated',
  '',
];
const INTERESTING = ' \t";=:/[],@<>\\%\x00\x7f';

/** Parses `value` with both parsers; the bytes version sees it inside a head, followed by text it must not read. */
function agree(value: string): void {
  for (const after of ['\r\nTo: <sip:x@y>;tag=a]"\r\n', ']";branch=late, SIP/2.0/UDP z\r\n']) {
    const before = 'INVITE sip:a@b SIP/2.0\r\nVia: ';
    const text = before + value + after;
    const bytes = Buffer.from(text, 'latin1');
    const got = parseViaIn(bytes, text, before.length, before.length + value.length);
    assert.deepEqual(got, parseVia(value), `Via ${JSON.stringify(value)} followed by ${JSON.stringify(after)}`);
    if (got !== null && !value.includes('"')) {
      // Where the first ";rport" ends, for setTopViaParams to fill in its value: whichever reading took the value.
      const at = value.indexOf(';rport');
      const want = at === -1 ? -1 : before.length + at + 6;
      assert.equal(paramsScan.rportEnd, want, `rport end in Via ${JSON.stringify(value)}`);
    }
  }
}

describe('parseViaIn agrees with parseVia', () => {
  it('on well-formed and malformed values', () => {
    let accepted = 0;
    for (const v of SEEDS) {
      agree(v);
      if (parseVia(v) !== null) accepted++;
    }
    // The corpus has both kinds, so agreement is not only on null.
    assert.ok(accepted >= 6 && accepted < SEEDS.length, `${accepted} of ${SEEDS.length} accepted`);
  });

  it('on 20,000 mutations of them', () => {
    const rand = prng(4475);
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const v = mutateText(SEEDS[i % SEEDS.length] as string, rand, INTERESTING);
      agree(v);
      if (parseVia(v) !== null) accepted++;
    }
    assert.ok(accepted > 1000, `only ${accepted} mutations accepted`);
  });
});
