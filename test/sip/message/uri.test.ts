import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatNameAddr,
  formatUri,
  formatVia,
  parseNameAddr,
  parseUri,
  parseVia,
} from '../../../src/sip/message/index.ts';

describe('parseUri / formatUri', () => {
  it('parses every part of a SIP URI', () => {
    assert.deepEqual(parseUri('sips:alice:secret@Atlanta.example.com:5061;transport=TCP;lr;Maddr=10.0.0.1?subject=hi&priority=urgent'), {
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'Atlanta.example.com',
      port: 5061,
      params: { transport: 'TCP', lr: null, maddr: '10.0.0.1' },
      headers: { subject: 'hi', priority: 'urgent' },
    });
  });

  it('IPv6 references, no user, upper-case scheme', () => {
    const u = parseUri('SIP:[2001:db8::10]:5070;transport=udp');
    assert.equal(u?.scheme, 'sip');
    assert.equal(u?.host, '[2001:db8::10]');
    assert.equal(u?.port, 5070);
    assert.equal(u?.user, undefined);
  });

  it('tel URIs keep the number in user', () => {
    const u = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    assert.equal(u?.scheme, 'tel');
    assert.equal(u?.user, '+1-201-555-0123');
    assert.equal(u?.params['phone-context'], 'example.com');
    assert.equal(formatUri(u!), 'tel:+1-201-555-0123;phone-context=example.com');
  });

  it('other absolute URIs are opaque', () => {
    const u = parseUri('urn:service:sos');
    assert.equal(u?.scheme, 'urn');
    assert.equal(u?.opaque, 'service:sos');
    assert.equal(formatUri(u!), 'urn:service:sos');
  });

  it('rejects malformed URIs', () => {
    for (const bad of [
      '',
      'sip:',
      'sip:@host',
      'sip:user@',
      'sip:host:99999',
      'sip:host:5x',
      'sip:us er@host',
      'sip:user@ho st',
      'sip:host;;lr',
      'sip:[::1',
      'sip:user@host?novalue',
      ':nothing',
    ]) {
      assert.equal(parseUri(bad), null, bad);
    }
  });

  it('formats back what it parsed, escaping user characters that need it', () => {
    for (const text of ['sip:alice@example.com', 'sip:example.com:5060;lr', 'sips:a:b@h;x=1?h=v', 'sip:%00@h']) {
      assert.equal(formatUri(parseUri(text)!), text);
    }
    assert.equal(formatUri({ scheme: 'sip', user: 'a b@c', host: 'h', params: {}, headers: {} }), 'sip:a%20b%40c@h');
  });
});

describe('parseNameAddr / formatNameAddr', () => {
  it('name-addr with quoted display name and parameters', () => {
    const na = parseNameAddr('"Alice \\"A\\" Smith" <sip:alice@example.com;transport=tcp>;tag=abc;expires=60');
    assert.equal(na?.displayName, 'Alice "A" Smith');
    assert.equal(na?.uri.params['transport'], 'tcp');
    assert.deepEqual(na?.params, { tag: 'abc', expires: '60' });
    assert.equal(formatNameAddr(na!), '"Alice \\"A\\" Smith" <sip:alice@example.com;transport=tcp>;tag=abc;expires=60');
  });

  it('display names and user parts are escaped only where they must be, wherever the character falls', () => {
    const cases: Array<[string, string]> = [
      ['Alice', '"Alice"'],
      ['"', '"\\""'],
      ['a\\b', '"a\\\\b"'],
      ['end"', '"end\\""'],
      ['Zoë "Z" \\ Ünï', '"Zoë \\"Z\\" \\\\ Ünï"'],
    ];
    for (const [name, written] of cases) {
      const text = formatNameAddr({ displayName: name, uri: { scheme: 'sip', host: 'h', params: {}, headers: {} }, params: {} });
      assert.equal(text, `${written} <sip:h>`, name);
      assert.equal(parseNameAddr(text)?.displayName, name);
    }
    for (const [user, written] of [
      ['101', '101'],
      ['+1-555;x=1', '+1-555;x=1'],
      ['é', '%E9'],
      ['ab c', 'ab%20c'],
      [' a', '%20a'],
    ]) {
      assert.equal(formatUri({ scheme: 'sip', user, host: 'h', params: {}, headers: {} }), `sip:${written}@h`, user);
    }
  });

  it('addr-spec: parameters after the URI belong to the header', () => {
    const na = parseNameAddr('sip:bob@example.com;tag=9');
    assert.equal(na?.displayName, undefined);
    assert.deepEqual(na?.uri.params, {});
    assert.deepEqual(na?.params, { tag: '9' });
  });

  it('token display names and quoted parameter values', () => {
    const na = parseNameAddr('Bob  Smith <sip:b@h>;+sip.instance="<urn:uuid:1>"');
    assert.equal(na?.displayName, 'Bob Smith');
    assert.equal(na?.params['+sip.instance'], '"<urn:uuid:1>"');
  });

  it('rejects broken values', () => {
    for (const bad of ['"unterminated <sip:a@b>', '<sip:a@b', 'Bad, Name <sip:a@b>', 'sip:a@b?x=y', '<sip:a@b>;', '< sip:a@b>']) {
      assert.equal(parseNameAddr(bad), null, bad);
    }
  });
});

describe('parseVia / formatVia', () => {
  it('parses sent-protocol, sent-by and the well-known parameters', () => {
    const v = parseVia('SIP/2.0/udp 192.0.2.1:5060;branch=z9hG4bK1;received=10.0.0.1;rport=1234;ttl=3');
    assert.deepEqual(
      { ...v, params: undefined },
      { transport: 'UDP', host: '192.0.2.1', port: 5060, branch: 'z9hG4bK1', received: '10.0.0.1', rport: 1234, params: undefined },
    );
    assert.equal(v?.params['ttl'], '3');
  });

  it('rport without a value is true; IPv6 sent-by', () => {
    const v = parseVia('SIP/2.0/TCP [2001:db8::1]:5070;rport;branch=z9hG4bK2');
    assert.equal(v?.rport, true);
    assert.equal(v?.host, '[2001:db8::1]');
    assert.equal(v?.port, 5070);
  });

  it('rejects broken values', () => {
    for (const bad of ['SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDP host;branch']) {
      assert.equal(parseVia(bad), null, bad);
    }
  });

  it('formatVia writes typed fields over params and keeps other parameters', () => {
    const v = parseVia('SIP/2.0/UDP h;rport;branch=z9hG4bK3;x=y')!;
    v.received = '192.0.2.7';
    v.rport = 5099;
    assert.equal(formatVia(v), 'SIP/2.0/UDP h;rport=5099;branch=z9hG4bK3;x=y;received=192.0.2.7');
  });
});

describe('parseVia whitespace', () => {
  it('LWS is allowed after the last slash of sent-protocol', () => {
    assert.equal(parseVia('SIP/2.0/ UDP h;branch=z9hG4bK4')?.transport, 'UDP');
    assert.equal(parseVia('SIP / 2.0 / tcp h')?.transport, 'TCP');
  });
});
