import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Via } from '../../../src/sip/message/index.ts';
import { responseDestination, stampReceived } from '../../../src/sip/transport/index.ts';
import { parseRequest } from '../transaction/helpers.ts';

const via = (v: Partial<Via>): Via => ({ transport: 'UDP', host: '192.0.2.1', params: {}, ...v });

test('§18.2.2 / RFC 3581: UDP responses go to received + rport, else the Via port, else 5060', () => {
  const source = { transport: 'udp' as const, host: '198.51.100.7', port: 40000 };
  assert.deepEqual(responseDestination(via({ port: 5070, received: '198.51.100.7', rport: 40000 }), source), {
    transport: 'udp',
    host: '198.51.100.7',
    port: 40000,
  });
  assert.deepEqual(responseDestination(via({ port: 5070, received: '198.51.100.7' }), source), { transport: 'udp', host: '198.51.100.7', port: 5070 });
  assert.deepEqual(responseDestination(via({}), source), { transport: 'udp', host: '192.0.2.1', port: 5060 });
});

test('§18.2.2: on TCP (no connection left) the sent-by port is used, not rport', () => {
  const source = { transport: 'tcp' as const, host: '198.51.100.7', port: 40001 };
  assert.deepEqual(responseDestination(via({ transport: 'TCP', port: 5061, received: '198.51.100.7', rport: 40001 }), source), {
    transport: 'tcp',
    host: '198.51.100.7',
    port: 5061,
  });
});

function req(viaValue: string) {
  return parseRequest(`OPTIONS sip:x@127.0.0.1 SIP/2.0
Via: ${viaValue}
From: <sip:a@b>;tag=1
To: <sip:x@y>
Call-ID: c
CSeq: 1 OPTIONS
Content-Length: 0

`);
}

test('RFC 3581 §4: rport is filled and received added even when the host matches', () => {
  const r = req('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;rport');
  stampReceived(r, { transport: 'udp', host: '10.0.0.1', port: 5999 });
  assert.equal(r.topVia.received, '10.0.0.1');
  assert.equal(r.topVia.rport, 5999);
});

test('RFC 3261 §18.2.1: received only when the Via host differs; nothing when it matches without rport', () => {
  const differs = req('SIP/2.0/UDP host.example:5060;branch=z9hG4bK-1');
  stampReceived(differs, { transport: 'udp', host: '10.0.0.2', port: 5060 });
  assert.equal(differs.topVia.received, '10.0.0.2');
  assert.equal(differs.topVia.rport, undefined);
  const same = req('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-1');
  const before = same.toString();
  stampReceived(same, { transport: 'udp', host: '10.0.0.2', port: 5060 });
  assert.equal(same.toString(), before);
});

test('only the top Via is stamped', () => {
  const r = req('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-0;rport');
  stampReceived(r, { transport: 'udp', host: '10.0.0.5', port: 7000 });
  assert.equal(r.vias[0]?.rport, 7000);
  assert.equal(r.vias[1]?.rport, true);
  assert.equal(r.vias[1]?.received, undefined);
});

test('an IPv6 Via host is compared without its brackets', () => {
  const r = req('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-1');
  stampReceived(r, { transport: 'udp', host: '2001:db8::1', port: 5060 });
  assert.equal(r.topVia.received, undefined);
  const other = req('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-1');
  stampReceived(other, { transport: 'udp', host: '2001:db8::2', port: 5060 });
  assert.equal(other.topVia.received, '2001:db8::2');
});
