// Messages on the wire with a real peer: sipp's requests (UDP datagrams and a TCP stream) go through parseMessage
// and StreamFramer, and the responses built by createResponse must satisfy sipp.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SipParseError,
  StreamFramer,
  createResponse,
  newTag,
  parseMessage,
  type SipMessage,
} from '../../../src/sip/message/index.ts';
import { runSipp } from '../transaction/sipp.ts';

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

/** A UAS with no transaction layer: enough for sipp's basic call flow, and it records what it parsed. */
class Answerer {
  readonly methods: string[] = [];
  readonly errors: SipParseError[] = [];
  private readonly tags = new Map<string, string>();

  /** Set once the listening port is known. */
  contact = '';

  handle(item: SipMessage | SipParseError): Buffer[] {
    if (item instanceof SipParseError) {
      this.errors.push(item);
      return [];
    }
    if (item.kind !== 'request') return [];
    this.methods.push(item.method);
    if (item.method === 'ACK') return [];
    let tag = this.tags.get(item.callId);
    if (tag === undefined) {
      tag = newTag();
      this.tags.set(item.callId, tag);
    }
    if (item.method !== 'INVITE') return [createResponse(item, 200, undefined, { toTag: tag }).serialize()];
    assert.equal(item.contentType, 'application/sdp');
    assert.ok(item.body.includes('m=audio'));
    return [
      createResponse(item, 100).serialize(),
      createResponse(item, 180, undefined, { toTag: tag }).serialize(),
      createResponse(item, 200, undefined, {
        toTag: tag,
        headers: [['Contact', `<${this.contact}>`]],
        contentType: 'application/sdp',
        body: SDP,
      }).serialize(),
    ];
  }
}

async function udpServer(): Promise<{ port: number; answerer: Answerer; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const answerer = new Answerer();
  answerer.contact = `sip:uas@127.0.0.1:${port}`;
  socket.on('message', (data, rinfo) => {
    for (const out of answerer.handle(parseMessage(data))) socket.send(out, rinfo.port, rinfo.address);
  });
  return { port, answerer, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

async function tcpServer(): Promise<{ port: number; answerer: Answerer; close: () => Promise<void> }> {
  const answerer = new Answerer();
  const connections = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    const framer = new StreamFramer({ onPing: () => conn.write('\r\n') });
    conn.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) for (const out of answerer.handle(item)) conn.write(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  answerer.contact = `sip:uas@127.0.0.1:${port};transport=tcp`;
  return {
    port,
    answerer,
    close: () =>
      new Promise((resolve) => {
        for (const c of connections) c.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('messages against sipp', { timeout: 60_000 }, () => {
  it('UDP: sipp -sn uac completes 10 calls answered with createResponse', async () => {
    const uas = await udpServer();
    try {
      const res = await runSipp(['-sn', 'uac', '-m', '10', '-r', '50', '-d', '0', '-timeout', '20s', `127.0.0.1:${uas.port}`]);
      assert.equal(res.code, 0, res.stdout.slice(-2000) + res.stderr);
      assert.deepEqual(uas.answerer.errors, []);
      assert.equal(uas.answerer.methods.filter((m) => m === 'INVITE').length, 10);
      assert.equal(uas.answerer.methods.filter((m) => m === 'BYE').length, 10);
    } finally {
      await uas.close();
    }
  });

  it('TCP: sipp -t t1 -sn uac completes 10 calls through StreamFramer', async () => {
    const uas = await tcpServer();
    try {
      const res = await runSipp(['-t', 't1', '-sn', 'uac', '-m', '10', '-r', '50', '-d', '0', '-timeout', '20s', `127.0.0.1:${uas.port}`]);
      assert.equal(res.code, 0, res.stdout.slice(-2000) + res.stderr);
      assert.deepEqual(uas.answerer.errors, []);
      assert.equal(uas.answerer.methods.filter((m) => m === 'ACK').length, 10);
    } finally {
      await uas.close();
    }
  });

  it('UDP: compact forms and a Via list; the 200 copies both Vias and adds a To tag', async () => {
    const uas = await udpServer();
    try {
      const res = await runSipp([
        '-sf',
        join(SCENARIOS, 'uac-compact-list.xml'),
        '-m',
        '3',
        '-timeout',
        '20s',
        `127.0.0.1:${uas.port}`,
      ]);
      assert.equal(res.code, 0, res.stdout.slice(-2000) + res.stderr);
      assert.deepEqual(uas.answerer.methods, ['OPTIONS', 'OPTIONS', 'OPTIONS']);
    } finally {
      await uas.close();
    }
  });
});
