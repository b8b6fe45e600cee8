import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { UdpListener } from '../../../src/sip/transport/udp-listener.ts';
import type { Endpoint } from '../../../src/sip/transport/index.ts';

test('UdpListener: port 0 binds an ephemeral port, the receive buffer is configurable, datagrams carry their source', async () => {
  const errors: Error[] = [];
  let deliver: (v: { data: string; source: Endpoint }) => void = () => {};
  const received = new Promise<{ data: string; source: Endpoint }>((resolve, reject) => {
    deliver = resolve;
    AbortSignal.timeout(3000).addEventListener('abort', () => reject(new Error('no datagram')));
  });
  const small = await UdpListener.bind({ host: '127.0.0.1', port: 0, receiveBufferBytes: 65536 }, () => {}, (e) => errors.push(e));
  const big = await UdpListener.bind(
    { host: '127.0.0.1', port: 0, receiveBufferBytes: 1 << 20 },
    (data, source) => deliver({ data: data.toString(), source }),
    (e) => errors.push(e),
  );
  const client = dgram.createSocket('udp4');
  try {
    assert.ok(big.local.port > 0);
    assert.notEqual(big.local.port, small.local.port);
    // The kernel may cap the request at rmem_max, but a larger request never yields a smaller buffer.
    assert.ok(big.receiveBufferBytes >= small.receiveBufferBytes);
    assert.ok(small.receiveBufferBytes >= 65536);
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    client.send('hello', big.local.port, '127.0.0.1');
    assert.deepEqual(await received, { data: 'hello', source: { transport: 'udp', host: '127.0.0.1', port: client.address().port } });
    assert.deepEqual(errors, []);
  } finally {
    client.close();
    await small.close();
    await big.close();
  }
});

test('UdpListener: sends to an IP literal and to a host name, a failed name lookup reaches the error handler', async () => {
  const listener = await UdpListener.bind({ host: '127.0.0.1', port: 0 }, () => {}, () => {});
  const peer = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const port = peer.address().port;
    const received: string[] = [];
    const both = new Promise<void>((resolve, reject) => {
      peer.on('message', (m) => {
        received.push(m.toString());
        if (received.length === 2) resolve();
      });
      AbortSignal.timeout(3000).addEventListener('abort', () => reject(new Error(`received only ${received.join(',')}`)));
    });
    const sendErrors: Error[] = [];
    listener.send(Buffer.from('literal'), { transport: 'udp', host: '127.0.0.1', port }, (e) => sendErrors.push(e));
    listener.send(Buffer.from('name'), { transport: 'udp', host: 'localhost', port }, (e) => sendErrors.push(e));
    await both;
    assert.deepEqual(received.sort(), ['literal', 'name']);
    const failed = await new Promise<Error>((resolve, reject) => {
      listener.send(Buffer.from('nowhere'), { transport: 'udp', host: 'no-such-host.invalid', port }, resolve);
      AbortSignal.timeout(10_000).addEventListener('abort', () => reject(new Error('no error for an unresolvable name')));
    });
    assert.match(failed.message, /no-such-host\.invalid/);
    assert.deepEqual(sendErrors, []);
  } finally {
    peer.close();
    await listener.close();
  }
});

test('UdpListener: the datagrams of one turn leave in the order asked, and close() still sends what was asked before it', async () => {
  const listener = await UdpListener.bind({ host: '127.0.0.1', port: 0 }, () => {}, () => {});
  const peer = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const to: Endpoint = { transport: 'udp', host: '127.0.0.1', port: peer.address().port };
    const received: string[] = [];
    const count = 60;
    const all = new Promise<void>((resolve, reject) => {
      peer.on('message', (m) => {
        received.push(m.toString());
        if (received.length === count) resolve();
      });
      AbortSignal.timeout(3000).addEventListener('abort', () => reject(new Error(`received ${received.length} of ${count}`)));
    });
    const sent: string[] = [];
    for (let i = 0; i < count / 2; i++) {
      sent.push(`turn1-${i}`);
      listener.send(Buffer.from(`turn1-${i}`), to, undefined);
    }
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < count / 2; i++) {
      sent.push(`turn2-${i}`);
      listener.send(Buffer.from(`turn2-${i}`), to, undefined);
    }
    // Closed within the turn that asked for the second half: it is sent before the socket closes.
    await listener.close();
    await all;
    assert.deepEqual(received, sent);
  } finally {
    peer.close();
  }
});
