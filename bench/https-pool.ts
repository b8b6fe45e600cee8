/**
 * A load generator's HTTPS client: a fixed pool of keep-alive TLS connections, one request at a time on each
 * (no pipelining), requests beyond the pool queued in order. It writes prebuilt request bytes and reads responses
 * by Content-Length, so that the benchmark's own client costs a fraction of what node's https module does per
 * request: on a 2-core machine every microsecond it spends is taken from the server it measures.
 */
import { connect, type TLSSocket } from 'node:tls';

export interface PoolAnswer {
  readonly status: number;
  readonly body: string;
}

interface Pending {
  readonly bytes: Buffer;
  readonly resolve: (answer: PoolAnswer) => void;
  readonly reject: (err: Error) => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

class Connection {
  #socket: TLSSocket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #current: Pending | undefined;

  constructor(
    private readonly pool: HttpsPool,
    private readonly host: string,
    private readonly port: number,
  ) {}

  get busy(): boolean {
    return this.#current !== undefined;
  }

  send(p: Pending): void {
    this.#current = p;
    const socket = (this.#socket ??= this.#open());
    socket.write(p.bytes);
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #open(): TLSSocket {
    const socket = connect({ host: this.host, port: this.port, rejectUnauthorized: false });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    const lost = (err?: Error): void => {
      if (this.#socket === socket) this.#socket = undefined;
      this.#buffer = Buffer.alloc(0);
      const p = this.#current;
      this.#current = undefined;
      if (p === undefined) return;
      p.reject(err ?? new Error('connection closed before the response'));
      this.pool.idle(this);
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    return socket;
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const headEnd = this.#buffer.indexOf(HEAD_END);
      if (headEnd < 0) return;
      const head = this.#buffer.toString('latin1', 0, headEnd);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length === null) throw new Error(`response without Content-Length: ${head.split('\r\n')[0]}`);
      const total = headEnd + 4 + Number(length[1]);
      if (this.#buffer.length < total) return;
      const status = Number(head.slice(9, 12));
      const body = this.#buffer.toString('utf8', headEnd + 4, total);
      this.#buffer = this.#buffer.subarray(total);
      const p = this.#current;
      this.#current = undefined;
      p?.resolve({ status, body });
      this.pool.idle(this);
    }
  }
}

export class HttpsPool {
  readonly #free: Connection[] = [];
  readonly #all: Connection[] = [];
  readonly #queue: (Pending | undefined)[] = [];
  #queueHead = 0;

  constructor(host: string, port: number, connections: number) {
    for (let i = 0; i < connections; i++) {
      const c = new Connection(this, host, port);
      this.#all.push(c);
      this.#free.push(c);
    }
  }

  /** A POST with a fixed set of headers; the request bytes can be built once and sent many times. */
  static post(path: string, headers: Record<string, string>, body: string): Buffer {
    const payload = Buffer.from(body, 'utf8');
    const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: keep-alive', `Content-Length: ${payload.length}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
  }

  request(bytes: Buffer): Promise<PoolAnswer> {
    return new Promise((resolve, reject) => {
      const p: Pending = { bytes, resolve, reject };
      const c = this.#free.pop();
      if (c !== undefined) c.send(p);
      else this.#queue.push(p);
    });
  }

  /** @internal a connection finished its request (or lost its socket). */
  idle(c: Connection): void {
    if (c.busy) return;
    const next = this.#queue[this.#queueHead];
    if (next === undefined) {
      this.#free.push(c);
      return;
    }
    this.#queue[this.#queueHead++] = undefined;
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    c.send(next);
  }

  close(): void {
    for (const c of this.#all) c.close();
  }
}
