import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { SipParseError, StreamFramer, createRequest, createResponse, newTag, type SipRequest, type SipResponse } from '../../../src/sip/message/index.ts';
import type { SipConfig } from '../../../src/config/schema.ts';
import { TransportError, TransportLayer, type Endpoint, type TransportReceiver } from '../../../src/sip/transport/index.ts';

const WAIT_MS = 3000;

/** Collects what the layer hands up; `next()` resolves with the next one (bounded). */
class Inbox implements TransportReceiver {
  readonly items: Array<{ msg: SipRequest | SipResponse; source: Endpoint; local: Endpoint }> = [];
  #waiters: Array<() => void> = [];
  receiveRequest(msg: SipRequest, source: Endpoint, local: Endpoint): void {
    this.#push({ msg, source, local });
  }
  receiveResponse(msg: SipResponse, source: Endpoint, local: Endpoint): void {
    this.#push({ msg, source, local });
  }
  async next(): Promise<{ msg: SipRequest | SipResponse; source: Endpoint; local: Endpoint }> {
    const deadline = AbortSignal.timeout(WAIT_MS);
    while (this.items.length === 0) {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push(resolve);
        deadline.addEventListener('abort', () => reject(new Error('no message within the deadline')), { once: true });
      });
    }
    return this.items.shift() as { msg: SipRequest | SipResponse; source: Endpoint; local: Endpoint };
  }
  #push(item: { msg: SipRequest | SipResponse; source: Endpoint; local: Endpoint }): void {
    this.items.push(item);
    for (const w of this.#waiters.splice(0)) w();
  }
}

function optionsText(viaHost: string, viaPort: number, transport = 'UDP', extraVia = ';rport', branch = 'z9hG4bK-t1'): string {
  return [
    'OPTIONS sip:pbx@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/${transport} ${viaHost}:${viaPort};branch=${branch}${extraVia}`,
    'Max-Forwards: 70',
    'From: <sip:a@example.com>;tag=1',
    'To: <sip:pbx@127.0.0.1>',
    'Call-ID: transport-test',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A 200 to OPTIONS whose top Via names `transport viaHost:viaPort`, as a peer would send it back. */
function okText(viaHost: string, viaPort: number, callId: string, transport = 'UDP', branch = 'z9hG4bK-r'): string {
  return ['SIP/2.0 200 OK', `Via: SIP/2.0/${transport} ${viaHost}:${viaPort};branch=${branch}`, 'From: <sip:a@b>;tag=1', 'To: <sip:x@y>;tag=9', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
}

async function udpClient(): Promise<{ sock: dgram.Socket; port: number; recv: () => Promise<string> }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  return {
    sock,
    port,
    recv: async () => {
      const [data] = (await once(sock, 'message', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      return data.toString();
    },
  };
}

async function tcpClient(port: number): Promise<{ sock: net.Socket; recv: () => Promise<string> }> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect', { signal: AbortSignal.timeout(WAIT_MS) });
  return {
    sock,
    recv: async () => {
      const [data] = (await once(sock, 'data', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      return data.toString();
    },
  };
}

async function layer(opts: Partial<Parameters<typeof TransportLayer.listen>[0]> = {}): Promise<{ tl: TransportLayer; inbox: Inbox }> {
  const tl = await TransportLayer.listen({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ],
    publicHost: '127.0.0.1',
    ...opts,
  });
  const inbox = new Inbox();
  tl.setReceiver(inbox);
  return { tl, inbox };
}

describe('TransportLayer over real sockets on 127.0.0.1', () => {
  test('several listeners on port 0: actual ports are readable, wildcard binds advertise public_host', async () => {
    const tl = await TransportLayer.listen({
      listen: [
        { transport: 'udp', host: '0.0.0.0', port: 0 },
        { transport: 'tcp', host: '127.0.0.1', port: 0 },
        { transport: 'udp', host: '127.0.0.1', port: 0 },
      ],
      publicHost: 'pbx.example.com',
    });
    try {
      const ls = tl.listeners;
      assert.equal(ls.length, 3);
      for (const l of ls) assert.ok(l.port > 0);
      assert.deepEqual(tl.localEndpoint('udp'), { transport: 'udp', host: 'pbx.example.com', port: ls[0]?.port });
      assert.deepEqual(tl.localEndpoint('tcp'), ls[2]);
    } finally {
      await tl.close();
    }
  });

  test('a port already in use makes listen() reject', async () => {
    const { tl } = await layer();
    try {
      const taken = tl.localEndpoint('tcp').port;
      await assert.rejects(TransportLayer.listen({ listen: [{ transport: 'tcp', host: '127.0.0.1', port: taken }], publicHost: 'x' }));
    } finally {
      await tl.close();
    }
  });

  test('UDP: received and rport stamped (RFC 3581), the response goes to the source port', async () => {
    const { tl, inbox } = await layer();
    const client = await udpClient();
    try {
      client.sock.send(optionsText('192.0.2.1', 5099), tl.localEndpoint('udp').port, '127.0.0.1');
      const { msg, source, local } = await inbox.next();
      assert.equal(msg.kind, 'request');
      assert.deepEqual(source, { transport: 'udp', host: '127.0.0.1', port: client.port });
      assert.deepEqual(local, tl.localEndpoint('udp'));
      assert.equal(msg.topVia.received, '127.0.0.1');
      assert.equal(msg.topVia.rport, client.port);
      const res = createResponse(msg as SipRequest, 200, undefined, { toTag: newTag() });
      tl.sendResponse(res, source);
      const got = await client.recv();
      assert.match(got, /^SIP\/2.0 200 OK\r\n/);
      assert.match(got, new RegExp(`Via: SIP/2.0/UDP 192.0.2.1:5099;branch=z9hG4bK-t1;rport=${client.port};received=127.0.0.1\r\n`));
    } finally {
      client.sock.close();
      await tl.close();
    }
  });

  test('UDP without rport: received only when the Via host differs, the response goes to the Via port', async () => {
    const { tl, inbox } = await layer();
    const client = await udpClient();
    try {
      client.sock.send(optionsText('127.0.0.1', client.port, 'UDP', ''), tl.localEndpoint('udp').port, '127.0.0.1');
      const { msg, source } = await inbox.next();
      assert.equal(msg.topVia.received, undefined);
      assert.equal(msg.topVia.rport, undefined);
      tl.sendResponse(createResponse(msg as SipRequest, 200), source);
      assert.match(await client.recv(), /^SIP\/2.0 200 OK/);
    } finally {
      client.sock.close();
      await tl.close();
    }
  });

  test('UDP: a malformed request with a readable start line and Via gets 400; garbage is dropped', async () => {
    const { tl, inbox } = await layer();
    const client = await udpClient();
    try {
      const port = tl.localEndpoint('udp').port;
      client.sock.send('\x00\x01garbage that is not SIP', port, '127.0.0.1');
      client.sock.send('\r\n\r\n', port, '127.0.0.1');
      const bad = optionsText('127.0.0.1', client.port).replace('CSeq: 1 OPTIONS', 'CSeq: abc OPTIONS');
      client.sock.send(bad, port, '127.0.0.1');
      const got = await client.recv();
      assert.match(got, /^SIP\/2.0 400 /);
      assert.match(got, /Call-ID: transport-test/);
      assert.equal(inbox.items.length, 0);
      // Still serving.
      client.sock.send(optionsText('127.0.0.1', client.port), port, '127.0.0.1');
      assert.equal((await inbox.next()).msg.kind, 'request');
    } finally {
      client.sock.close();
      await tl.close();
    }
  });

  test('max message size: a larger send fails with TransportError, a larger datagram is not delivered', async () => {
    const { tl, inbox } = await layer({ maxMessageBytes: 600 });
    const client = await udpClient();
    try {
      const big = createRequest({
        method: 'MESSAGE',
        uri: 'sip:x@127.0.0.1',
        headers: [['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-big'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:x@y>'], ['Call-ID', 'big'], ['CSeq', '1 MESSAGE']],
        body: 'x'.repeat(1000),
      });
      const err = await new Promise<TransportError>((resolve) => tl.send(big, { transport: 'udp', host: '127.0.0.1', port: client.port }, resolve));
      assert.ok(err instanceof TransportError);
      client.sock.send(big.serialize(), tl.localEndpoint('udp').port, '127.0.0.1');
      client.sock.send(optionsText('127.0.0.1', client.port), tl.localEndpoint('udp').port, '127.0.0.1');
      const first = await inbox.next();
      assert.equal((first.msg as SipRequest).method, 'OPTIONS', 'the oversized datagram was dropped');
    } finally {
      client.sock.close();
      await tl.close();
    }
  });

  test('TCP: a message split across chunks is framed once complete; two in one chunk are both delivered', async () => {
    const { tl, inbox } = await layer();
    const client = await tcpClient(tl.localEndpoint('tcp').port);
    try {
      const text = optionsText('127.0.0.1', 5060, 'TCP');
      const parts = [text.slice(0, 10), text.slice(10, 100), text.slice(100)];
      for (const p of parts) {
        client.sock.write(p);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const { msg, source } = await inbox.next();
      assert.equal((msg as SipRequest).method, 'OPTIONS');
      assert.equal(source.transport, 'tcp');
      client.sock.write(text.replace('z9hG4bK-t1', 'z9hG4bK-t2') + text.replace('z9hG4bK-t1', 'z9hG4bK-t3'));
      assert.equal((await inbox.next()).msg.topVia.branch, 'z9hG4bK-t2');
      assert.equal((await inbox.next()).msg.topVia.branch, 'z9hG4bK-t3');
    } finally {
      client.sock.destroy();
      await tl.close();
    }
  });

  test('TCP: a CRLFCRLF ping is answered with a CRLF pong (RFC 5626 §3.5.1)', async () => {
    const { tl } = await layer();
    const client = await tcpClient(tl.localEndpoint('tcp').port);
    try {
      client.sock.write('\r\n\r\n');
      assert.equal(await client.recv(), '\r\n');
    } finally {
      client.sock.destroy();
      await tl.close();
    }
  });

  test('TCP: the response and a later request to the peer reuse the connection the request came on', async () => {
    const { tl, inbox } = await layer();
    const client = await tcpClient(tl.localEndpoint('tcp').port);
    try {
      client.sock.write(optionsText('127.0.0.1', 5999, 'TCP'));
      const { msg, source } = await inbox.next();
      assert.equal(source.port, client.sock.localPort);
      tl.sendResponse(createResponse(msg as SipRequest, 200), source);
      assert.match(await client.recv(), /^SIP\/2.0 200 OK/);
      const bye = createRequest({
        method: 'BYE',
        uri: 'sip:a@127.0.0.1',
        headers: [['Via', 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-bye'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:x@y>;tag=2'], ['Call-ID', 'c'], ['CSeq', '2 BYE']],
      });
      tl.send(bye, source);
      assert.match(await client.recv(), /^BYE sip:a@127.0.0.1 SIP\/2.0/);
      assert.equal(tl.tcpConnectionCount, 1);
    } finally {
      client.sock.destroy();
      await tl.close();
    }
  });

  test('TCP: a Via alias (RFC 5923) indexes the connection by the sent-by', async () => {
    const { tl, inbox } = await layer();
    const client = await tcpClient(tl.localEndpoint('tcp').port);
    try {
      client.sock.write(optionsText('127.0.0.1', 5998, 'TCP', ';alias'));
      await inbox.next();
      const req = createRequest({
        method: 'OPTIONS',
        uri: 'sip:a@127.0.0.1:5998;transport=tcp',
        headers: [['Via', 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-o'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:x@y>'], ['Call-ID', 'c2'], ['CSeq', '1 OPTIONS']],
      });
      tl.send(req, { transport: 'tcp', host: '127.0.0.1', port: 5998 });
      assert.match(await client.recv(), /^OPTIONS sip:a@127.0.0.1:5998;transport=tcp/);
    } finally {
      client.sock.destroy();
      await tl.close();
    }
  });

  test('TCP: an outgoing connection is opened on demand and reused for the response coming back', async () => {
    const { tl, inbox } = await layer();
    const peer = net.createServer();
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const peerPort = (peer.address() as net.AddressInfo).port;
    try {
      const accepted = once(peer, 'connection', { signal: AbortSignal.timeout(WAIT_MS) });
      const req = createRequest({
        method: 'OPTIONS',
        uri: `sip:peer@127.0.0.1:${peerPort};transport=tcp`,
        headers: [['Via', `SIP/2.0/TCP 127.0.0.1:${tl.localEndpoint('tcp').port};branch=z9hG4bK-out`], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:x@y>'], ['Call-ID', 'c3'], ['CSeq', '1 OPTIONS']],
      });
      const dest: Endpoint = { transport: 'tcp', host: '127.0.0.1', port: peerPort };
      tl.send(req, dest);
      const [sock] = (await accepted) as [net.Socket];
      const [data] = (await once(sock, 'data', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      assert.match(data.toString(), /^OPTIONS /);
      sock.write(
        okText('127.0.0.1', tl.localEndpoint('tcp').port, 'c3', 'TCP', 'z9hG4bK-out'),
      );
      const { msg, source } = await inbox.next();
      assert.equal(msg.kind, 'response');
      assert.deepEqual(source, dest);
      tl.send(req, dest);
      const [again] = (await once(sock, 'data', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      assert.match(again.toString(), /^OPTIONS /);
      assert.equal(tl.tcpConnectionCount, 1);
      sock.destroy();
    } finally {
      peer.close();
      await tl.close();
    }
  });

  test('TCP: a connection that cannot be opened reports TransportError', async () => {
    const { tl } = await layer();
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
      const req = createRequest({
        method: 'OPTIONS',
        uri: 'sip:x@127.0.0.1',
        headers: [['Via', 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-x'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:x@y>'], ['Call-ID', 'c4'], ['CSeq', '1 OPTIONS']],
      });
      const err = await new Promise<TransportError>((resolve) => tl.send(req, { transport: 'tcp', host: '127.0.0.1', port }, resolve));
      assert.ok(err instanceof TransportError);
      assert.equal(err.endpoint.port, port);
    } finally {
      await tl.close();
    }
  });

  test('TCP: an idle connection is closed after tcp idle timeout', async () => {
    const { tl } = await layer({ tcpIdleTimeoutMs: 150 });
    const client = await tcpClient(tl.localEndpoint('tcp').port);
    try {
      assert.equal(tl.tcpConnectionCount, 1);
      await once(client.sock, 'close', { signal: AbortSignal.timeout(WAIT_MS) });
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(tl.tcpConnectionCount, 0);
    } finally {
      client.sock.destroy();
      await tl.close();
    }
  });

  test('TCP: a message without Content-Length gets 400 and the connection is closed', async () => {
    const { tl, inbox } = await layer();
    const client = await tcpClient(tl.localEndpoint('tcp').port);
    try {
      client.sock.write(optionsText('127.0.0.1', 5060, 'TCP').replace('Content-Length: 0\r\n', ''));
      assert.match(await client.recv(), /^SIP\/2.0 400 /);
      await once(client.sock, 'close', { signal: AbortSignal.timeout(WAIT_MS) });
      assert.equal(inbox.items.length, 0);
    } finally {
      client.sock.destroy();
      await tl.close();
    }
  });
});

test('a receiver that throws does not stop the listener', async () => {
  const { tl, inbox } = await layer();
  const client = await udpClient();
  let calls = 0;
  tl.setReceiver({
    receiveRequest: (req, source, local) => {
      calls++;
      if (calls === 1) throw new Error('handler bug');
      inbox.receiveRequest(req, source, local);
    },
    receiveResponse: () => {},
  });
  try {
    const port = tl.localEndpoint('udp').port;
    client.sock.send(optionsText('127.0.0.1', client.port), port, '127.0.0.1');
    client.sock.send(optionsText('127.0.0.1', client.port, 'UDP', ';rport', 'z9hG4bK-t9'), port, '127.0.0.1');
    assert.equal((await inbox.next()).msg.topVia.branch, 'z9hG4bK-t9');
    assert.equal(calls, 2);
  } finally {
    client.sock.close();
    await tl.close();
  }
});

test('raw SIP is logged at trace level only', async () => {
  const { default: pino } = await import('pino');
  const { Writable } = await import('node:stream');
  for (const level of ['trace', 'debug'] as const) {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const { tl, inbox } = await layer({ logger: pino({ level }, sink) });
    const client = await udpClient();
    try {
      client.sock.send(optionsText('127.0.0.1', client.port), tl.localEndpoint('udp').port, '127.0.0.1');
      await inbox.next();
      const sipIn = lines.filter((l) => l.includes('"msg":"sip in"'));
      assert.equal(sipIn.length, level === 'trace' ? 1 : 0);
      if (level === 'trace') assert.match(sipIn[0] ?? '', /OPTIONS sip:pbx@127.0.0.1/);
    } finally {
      client.sock.close();
      await tl.close();
    }
  }
});

test('fromConfig binds sip.listen and applies the transport settings', async () => {
  const sip: SipConfig = {
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '0.0.0.0', port: 0 },
    ],
    public_host: 'pbx.test',
    realm: 'pbx.test',
    t1_ms: 500,
    t2_ms: 4000,
    t4_ms: 5000,
    udp_receive_buffer_bytes: 1 << 20,
    tcp_idle_timeout_seconds: 1,
    max_message_bytes: 600,
    registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, max_failures: 5, window_seconds: 60, lockout_seconds: 300 },
  };
  const tl = await TransportLayer.fromConfig(sip);
  try {
    assert.deepEqual(
      tl.listeners.map((l) => l.transport),
      ['udp', 'tcp'],
    );
    assert.equal(tl.localEndpoint('udp').host, '127.0.0.1');
    assert.equal(tl.localEndpoint('tcp').host, 'pbx.test');
    const big = createRequest({
      method: 'MESSAGE',
      uri: 'sip:x@127.0.0.1',
      headers: [['Via', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-c'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:x@y>'], ['Call-ID', 'cfg'], ['CSeq', '1 MESSAGE']],
      body: 'x'.repeat(700),
    });
    const err = await new Promise<TransportError>((resolve) => tl.send(big, { transport: 'udp', host: '127.0.0.1', port: 9 }, resolve));
    assert.match(err.message, /exceeds 600/);
  } finally {
    await tl.close();
  }
});

test('TCP: when the request connection is gone, the response opens one to received + the Via sent-by port', async () => {
  const { tl, inbox } = await layer();
  const peer = net.createServer();
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const peerPort = (peer.address() as net.AddressInfo).port;
  const client = await tcpClient(tl.localEndpoint('tcp').port);
  try {
    client.sock.write(optionsText('198.51.100.1', peerPort, 'TCP', ''));
    const { msg, source } = await inbox.next();
    assert.equal(msg.topVia.received, '127.0.0.1');
    client.sock.destroy();
    const deadline = Date.now() + WAIT_MS;
    while (tl.tcpConnectionCount > 0 && Date.now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(tl.tcpConnectionCount, 0);
    const accepted = once(peer, 'connection', { signal: AbortSignal.timeout(WAIT_MS) });
    tl.sendResponse(createResponse(msg as SipRequest, 200), source);
    const [sock] = (await accepted) as [net.Socket];
    const [data] = (await once(sock, 'data', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
    assert.match(data.toString(), /^SIP\/2.0 200 OK/);
    sock.destroy();
  } finally {
    client.sock.destroy();
    peer.close();
    await tl.close();
  }
});

/** A peer with a UDP socket and, unless `tcp` is false, a TCP listener on the same port number. */
async function dualPeer(tcp = true): Promise<{ port: number; udp: dgram.Socket; server: net.Server | undefined; close: () => void }> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    if (!tcp) return { port, udp, server: undefined, close: () => udp.close() };
    const server = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      return { port, udp, server, close: () => (udp.close(), server.close()) };
    } catch (err) {
      // The TCP port of that number is taken by someone else: try another number.
      udp.close();
      if (attempt === 5) throw err;
    }
  }
}

/** Frames SIP messages from the first connection the server accepts. */
async function acceptMessages(server: net.Server): Promise<{ sock: net.Socket; next: () => Promise<SipRequest> }> {
  const [sock] = (await once(server, 'connection', { signal: AbortSignal.timeout(WAIT_MS) })) as [net.Socket];
  const framer = new StreamFramer();
  const queue: SipRequest[] = [];
  return {
    sock,
    next: async () => {
      while (queue.length === 0) {
        const [chunk] = (await once(sock, 'data', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
        for (const item of framer.push(chunk)) {
          assert.ok(!(item instanceof SipParseError), String(item));
          queue.push(item as SipRequest);
        }
      }
      return queue.shift() as SipRequest;
    },
  };
}

function message(callId: string, bodyBytes: number, via = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-' + callId + ';rport'): SipRequest {
  return createRequest({
    method: 'MESSAGE',
    uri: 'sip:peer@127.0.0.1',
    headers: [['Via', via], ['Max-Forwards', '70'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:peer@127.0.0.1>'], ['Call-ID', callId], ['CSeq', '1 MESSAGE'], ['Content-Type', 'text/plain']],
    body: 'x'.repeat(bodyBytes),
  });
}

describe('RFC 3261 §18.1.1: requests larger than 1300 bytes bound for UDP', () => {
  test('go over TCP with the top Via rewritten to our TCP sent-by; smaller ones stay on UDP', async () => {
    const { tl } = await layer();
    const peer = await dualPeer();
    try {
      const small = message('small', 300);
      tl.send(small, { transport: 'udp', host: '127.0.0.1', port: peer.port });
      const [datagram] = (await once(peer.udp, 'message', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      assert.match(datagram.toString(), /^Via: SIP\/2.0\/UDP 127.0.0.1:5060;/m);

      const big = message('big', 1400);
      assert.ok(big.serialize().length > 1300);
      const accepted = acceptMessages(peer.server as net.Server);
      tl.send(big, { transport: 'udp', host: '127.0.0.1', port: peer.port });
      const { sock, next } = await accepted;
      const got = await next();
      assert.equal(got.callId, 'big');
      assert.equal(got.topVia.transport, 'TCP');
      assert.equal(got.topVia.port, tl.localEndpoint('tcp').port);
      assert.equal(got.topVia.branch, 'z9hG4bK-big');
      assert.equal(got.topVia.rport, true);
      assert.equal(got.body.length, 1400);

      // A retransmission of the same request (its transaction was started for UDP) is not written again, and the
      // ACK-like request copying the moved Via follows it over the same connection.
      tl.send(big, { transport: 'udp', host: '127.0.0.1', port: peer.port });
      const follower = message('follower', 10, big.get('via'));
      tl.send(follower, { transport: 'udp', host: '127.0.0.1', port: peer.port });
      assert.equal((await next()).callId, 'follower');
      sock.destroy();
    } finally {
      peer.close();
      await tl.close();
    }
  });

  test('a peer without TCP (connection refused): sent over UDP after all, the Via restored, no error', async () => {
    const { tl } = await layer();
    const peer = await dualPeer(false);
    try {
      const big = message('refused', 1400);
      const errors: TransportError[] = [];
      tl.send(big, { transport: 'udp', host: '127.0.0.1', port: peer.port }, (err) => errors.push(err));
      const [datagram] = (await once(peer.udp, 'message', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      const text = datagram.toString();
      assert.match(text, /^Via: SIP\/2.0\/UDP 127.0.0.1:5060;branch=z9hG4bK-refused;rport\r$/m);
      assert.ok(text.endsWith('x'.repeat(1400)));
      assert.deepEqual(errors, []);
      // Its retransmissions go over UDP straight away.
      tl.send(big, { transport: 'udp', host: '127.0.0.1', port: peer.port });
      const [again] = (await once(peer.udp, 'message', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      assert.equal(again.toString(), text);
    } finally {
      peer.close();
      await tl.close();
    }
  });

  test('without a TCP listener they stay on UDP', async () => {
    const tl = await TransportLayer.listen({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    const peer = await dualPeer();
    try {
      tl.send(message('udp-only', 1400), { transport: 'udp', host: '127.0.0.1', port: peer.port });
      const [datagram] = (await once(peer.udp, 'message', { signal: AbortSignal.timeout(WAIT_MS) })) as [Buffer];
      assert.ok(datagram.length > 1300);
      assert.match(datagram.toString(), /^Via: SIP\/2.0\/UDP /m);
    } finally {
      peer.close();
      await tl.close();
    }
  });
});

describe('RFC 3261 §18.1.2: responses whose top Via is not our sent-by', () => {
  test('are discarded; ours are handed up', async () => {
    const { tl, inbox } = await layer();
    const client = await udpClient();
    const ours = tl.localEndpoint('udp');
    try {
      client.sock.send(okText('192.0.2.50', ours.port, 'other-host'), ours.port, '127.0.0.1');
      client.sock.send(okText(ours.host, ours.port + 1, 'other-port'), ours.port, '127.0.0.1');
      client.sock.send(okText(ours.host, tl.localEndpoint('tcp').port, 'our-tcp-sent-by'), ours.port, '127.0.0.1');
      client.sock.send(okText(ours.host, ours.port, 'ours'), ours.port, '127.0.0.1');
      assert.equal((await inbox.next()).msg.callId, 'our-tcp-sent-by');
      assert.equal((await inbox.next()).msg.callId, 'ours');
      assert.equal(inbox.items.length, 0);
    } finally {
      client.sock.close();
      await tl.close();
    }
  });

  test('a public host name matches whatever its case; a name that only starts or ends like it does not', async () => {
    const { tl, inbox } = await layer({ listen: [{ transport: 'udp', host: '0.0.0.0', port: 0 }], publicHost: 'Pbx.Example.COM' });
    const client = await udpClient();
    const port = tl.localEndpoint('udp').port;
    try {
      for (const [host, callId] of [
        ['pbx.example.co', 'shorter'],
        ['pbx.example.comm', 'longer'],
        ['xbx.example.com', 'same-length'],
        ['PBX.EXAMPLE.COM', 'upper'],
        ['pbx.example.com', 'lower'],
      ]) {
        client.sock.send(okText(host as string, port, callId as string), port, '127.0.0.1');
      }
      assert.equal((await inbox.next()).msg.callId, 'upper');
      assert.equal((await inbox.next()).msg.callId, 'lower');
      assert.equal(inbox.items.length, 0);
    } finally {
      client.sock.close();
      await tl.close();
    }
  });
});
