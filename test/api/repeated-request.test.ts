/**
 * Requests repeated on a keep-alive connection with the Basic credentials it was accepted with are answered
 * without Fastify's routing and body parser: the bytes must be those Fastify's path writes for the same request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ApiAuthenticator } from '../../src/api/api-authenticator.ts';
import { createApiServer } from '../../src/api/api-server.ts';
import type { OriginateResult, Originator } from '../../src/calls/originator.ts';
import type { Credentials } from '../../src/config/credentials.ts';
import { FakeOriginator } from './fake-originator.ts';
import { apiTestConfig, apiTestDirectory } from './fixture.ts';

let adminPassword = 'admin-secret';
const credentials: Credentials = {
  adminUsername: 'admin',
  adminPassword: () => adminPassword,
  sipPassword: () => undefined,
  apiPassword: (id) => (id === '1101' ? 'alice-pw' : undefined),
};
const originator = new FakeOriginator();
let app: FastifyInstance;
let port: number;
/** How many requests the repeated-credentials path took. */
let repeats = 0;

async function serve(o: Originator): Promise<{ app: FastifyInstance; port: number }> {
  const config = apiTestConfig();
  const directory = apiTestDirectory();
  const authenticator = new ApiAuthenticator({ auth: config.api.auth, credentials, directory: { current: () => directory }, nonceSecret: 'k' });
  const repeatedBasic = authenticator.repeatedBasic.bind(authenticator);
  authenticator.repeatedBasic = (...args) => {
    const p = repeatedBasic(...args);
    if (p !== null) repeats++;
    return p;
  };
  const server = createApiServer({ services: { config, directory, originator: o }, authenticator, logger: pino({ level: 'silent' }) });
  await server.listen({ host: '127.0.0.1', port: 0 });
  return { app: server, port: (server.server.address() as AddressInfo).port };
}

before(async () => {
  ({ app, port } = await serve(originator));
});
after(() => app.close());

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function request(path: string, body: string | Buffer, authorization: string, extra = ''): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${payload.length}\r\nAuthorization: ${authorization}\r\n${extra}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** One HTTP/1.1 connection reading whole responses by Content-Length; the Date header is blanked. */
class Connection {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  /** Wakes the reader waiting for more bytes. */
  #wake: (() => void) | undefined;

  constructor(to = port) {
    this.socket = connect(to, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    this.socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  exchange(bytes: Buffer): Promise<string> {
    this.socket.write(bytes);
    return this.receive();
  }

  /** The next whole response; one reader at a time. */
  async receive(): Promise<string> {
    for (;;) {
      const headEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headEnd >= 0) {
        const head = this.#buffer.toString('latin1', 0, headEnd);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? NaN);
        const total = headEnd + 4 + length;
        if (this.#buffer.length >= total) {
          const response = this.#buffer.toString('utf8', 0, total);
          this.#buffer = this.#buffer.subarray(total);
          return response.replace(/\r\nDate: [^\r]*/, '\r\nDate: -');
        }
      }
      if (this.#closed) throw new Error(`connection closed with ${this.#buffer.length} bytes unread`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const ADMIN = basic('admin', 'admin-secret');
const ALICE = basic('101', 'alice-pw');
const CALL = (dialAs: string): string =>
  `<request method="switchvox.call"><parameters><dial_first>101</dial_first><dial_second>800</dial_second><dial_as_account_id>${dialAs}</dial_as_account_id><variables><variable>balance=1</variable><variable>x=2</variable></variables></parameters></request>`;

const CASES: readonly { readonly name: string; readonly path: string; readonly body: string | Buffer; readonly auth: string }[] = [
  { name: 'a placed call', path: '/xml', body: CALL('1101'), auth: ADMIN },
  { name: 'a placed call in JSON', path: '/json', body: JSON.stringify({ request: { method: 'switchvox.call', parameters: { dial_first: '101', dial_second: '800', dial_as_account_id: '1101' } } }), auth: ADMIN },
  { name: 'a rejected dial-as account', path: '/xml', body: CALL('9999'), auth: ADMIN },
  { name: 'every parameter wrong', path: '/xml', body: '<request method="switchvox.call"><parameters><dial_first>x</dial_first><timeout>abc</timeout><auto_answer>2</auto_answer><caller_id_name>&lt;bad&gt;</caller_id_name></parameters></request>', auth: ADMIN },
  { name: 'parameters in JSON with a wrong type', path: '/json', body: '{"request":{"method":"switchvox.call","parameters":[1]}}', auth: ADMIN },
  { name: 'broken XML', path: '/xml', body: '<request method="switchvox.call"><parameters>', auth: ADMIN },
  { name: 'broken JSON', path: '/json', body: '{"request":', auth: ADMIN },
  { name: 'a DOCTYPE', path: '/xml', body: '<!DOCTYPE x [<!ENTITY a "b">]><request method="m"/>', auth: ADMIN },
  { name: 'an unknown method', path: '/xml', body: '<request method="switchvox.nothing"/>', auth: ADMIN },
  { name: 'an empty body', path: '/xml', body: '', auth: ADMIN },
  { name: 'a body that is not UTF-8', path: '/xml', body: Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), auth: ADMIN },
  { name: 'a method name to escape', path: '/xml', body: '<request method="a&amp;&lt;&quot;"/>', auth: ADMIN },
  { name: 'an extension user calling an admin method', path: '/xml', body: CALL('1101'), auth: ALICE },
  { name: 'an extension user calling as itself', path: '/xml', body: '<request method="switchvox.users.call"><parameters><dial_first>101</dial_first><dial_second>800</dial_second></parameters></request>', auth: ALICE },
  { name: 'getInfo', path: '/xml', body: '<request method="switchvox.extensions.getInfo"><parameters><extensions><extension>101</extension><extension>555</extension></extensions></parameters></request>', auth: ADMIN },
];

test('each request answered again on its connection is the same bytes as its first answer, through Fastify', async () => {
  for (const c of CASES) {
    const connection = new Connection();
    try {
      const bytes = request(c.path, c.body, c.auth);
      const before = repeats;
      const first = await connection.exchange(bytes);
      assert.equal(repeats, before, `${c.name}: the first request of a connection goes through Fastify`);
      const again = await connection.exchange(bytes);
      assert.equal(repeats, before + 1, `${c.name}: the repeat is answered without Fastify`);
      assert.equal(again, first, c.name);
    } finally {
      connection.close();
    }
  }
});

test('the call layer failing answers the same 500 on both paths', async () => {
  originator.behaviour = () => {
    throw new TypeError('bug in the call layer');
  };
  const connection = new Connection();
  try {
    const bytes = request('/xml', CALL('1101'), ADMIN);
    const first = await connection.exchange(bytes);
    assert.match(first, /^HTTP\/1\.1 500 /);
    assert.equal(await connection.exchange(bytes), first);
  } finally {
    originator.behaviour = new FakeOriginator().behaviour;
    connection.close();
  }
});

test('requests the repeated path does not take are left to Fastify, whose answers stand', async () => {
  const connection = new Connection();
  try {
    const call = CALL('1101');
    assert.match(await connection.exchange(request('/xml', call, ADMIN)), /<call_info /);
    const before = repeats;
    // A query string, another path, chunked upload, a body over the limit: each answered through Fastify.
    assert.match(await connection.exchange(request('/xml?x=1', call, ADMIN)), /<call_info /);
    assert.match(await connection.exchange(request('/nowhere', call, ADMIN)), /^HTTP\/1\.1 404 [^]*code="10016"/);
    const chunked = `POST /xml HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN}\r\nTransfer-Encoding: chunked\r\n\r\n${call.length.toString(16)}\r\n${call}\r\n0\r\n\r\n`;
    assert.match(await connection.exchange(Buffer.from(chunked)), /<call_info /);
    assert.match(await connection.exchange(request('/xml', 'x'.repeat(5000), ADMIN)), /^HTTP\/1\.1 413 /);
    assert.equal(repeats, before);
  } finally {
    connection.close();
  }
});

test('a rotated password or a locked-out address refuses the credentials a connection was accepted with', async () => {
  const connection = new Connection();
  try {
    const call = request('/xml', CALL('1101'), ADMIN);
    assert.match(await connection.exchange(call), /<call_info /);
    adminPassword = 'rotated';
    assert.match(await connection.exchange(call), /^HTTP\/1\.1 401 /);
    adminPassword = 'admin-secret';
    assert.match(await connection.exchange(call), /<call_info /);
    // max_failures is 4 in the fixture.
    const other = new Connection();
    try {
      for (let i = 0; i < 4; i++) await other.exchange(request('/xml', CALL('1101'), basic('admin', 'wrong')));
    } finally {
      other.close();
    }
    assert.match(await connection.exchange(call), /^HTTP\/1\.1 429 /);
  } finally {
    connection.close();
  }
});

test('once the server is closing, a request on a connection still open is answered by Fastify: 503, Connection: close', async () => {
  const pending = new FakeOriginator();
  let answer: ((r: OriginateResult) => void) | undefined;
  const asked = new Promise<void>((resolve) => {
    pending.originate = () =>
      new Promise<OriginateResult>((r) => {
        answer = r;
        resolve();
      });
  });
  const closing = await serve(pending);
  const connection = new Connection(closing.port);
  try {
    const reject = request('/xml', CALL('9999'), ADMIN);
    assert.match(await connection.exchange(reject), /code="77427"/);
    // A call in flight keeps the connection busy, so closing does not drop it as idle.
    connection.socket.write(request('/xml', CALL('1101'), ADMIN));
    await asked;
    const closed = closing.app.close();
    const before = repeats;
    // The late request must reach the server before the call in flight is answered (the connection ends then).
    const arrived = once(closing.app.server, 'request');
    connection.socket.write(reject);
    await arrived;
    answer?.({ callId: 'c', dialedFirst: '101', dialedSecond: '800', variables: [] });
    assert.match(await connection.receive(), /<call_info /);
    assert.match(await connection.receive(), /^HTTP\/1\.1 503 [^]*\r\nConnection: close\r\n/i);
    assert.equal(repeats, before);
    await closed;
  } finally {
    connection.close();
  }
});
