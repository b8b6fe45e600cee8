import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactHostPort, contactKey, deliveryEndpoint } from '../../../src/directory/registrar/binding.ts';
import type { Endpoint } from '../../../src/sip/transport/endpoint.ts';

const udp = (host: string, port: number): Endpoint => ({ transport: 'udp', host, port });

describe('deliveryEndpoint', () => {
  const cases: [string, string, Endpoint, Endpoint][] = [
    ['phone on the LAN writes where it is: its Contact port', 'sip:101@10.0.0.5:5062', udp('10.0.0.5', 5062), udp('10.0.0.5', 5062)],
    ['same host, listening port differs from the source port: the Contact port', 'sip:101@10.0.0.5:5060', udp('10.0.0.5', 40000), udp('10.0.0.5', 5060)],
    ['no port in the Contact: 5060', 'sip:101@10.0.0.5', udp('10.0.0.5', 40000), udp('10.0.0.5', 5060)],
    ['behind NAT (private Contact, public source): the source', 'sip:101@192.168.1.10:5060', udp('203.0.113.9', 61000), udp('203.0.113.9', 61000)],
    ['a host name in the Contact: the source', 'sip:101@phone.lan:5060;transport=udp', udp('198.51.100.3', 5060), udp('198.51.100.3', 5060)],
    ['over TCP: the connection the phone opened', 'sip:101@10.0.0.5:5060;transport=tcp', { transport: 'tcp', host: '10.0.0.5', port: 51515 }, { transport: 'tcp', host: '10.0.0.5', port: 51515 }],
    ['IPv6 Contact on the source host', 'sip:101@[2001:db8::5]:5070', udp('2001:db8::5', 40000), udp('2001:db8::5', 5070)],
  ];
  for (const [name, contact, source, expected] of cases) {
    it(name, () => assert.deepEqual(deliveryEndpoint({ contact, source }), expected));
  }
});

describe('contact URIs', () => {
  it('compares scheme and host without case, the user with case', () => {
    assert.equal(contactKey('SIP:Bob@EXAMPLE.com:5060;transport=UDP'), 'sip:Bob@example.com:5060;transport=UDP');
    assert.notEqual(contactKey('sip:bob@example.com'), contactKey('sip:Bob@example.com'));
  });
  it('reads host and port', () => {
    assert.deepEqual(contactHostPort('sips:101@Host.Example:5061;x=y'), { host: 'host.example', port: 5061 });
    assert.deepEqual(contactHostPort('sip:host.example'), { host: 'host.example', port: undefined });
    assert.equal(contactHostPort('tel:+15551234567'), null);
  });
});
