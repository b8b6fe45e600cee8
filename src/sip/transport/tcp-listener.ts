import net from 'node:net';
import { SipParseError } from '../message/errors.ts';
import type { SipMessage } from '../message/message.ts';
import { StreamFramer } from '../message/stream-framer.ts';
import type { Endpoint } from './endpoint.ts';
import { TransportError } from './transport-error.ts';
import type { SendErrorHandler } from './transport.ts';

/** A framed message (or framing error) from a connection, handed to the transport layer. */
export type StreamSink = (item: SipMessage | SipParseError, conn: TcpConnection, listener: TcpListener) => void;
type ConnectionSink = (item: SipMessage | SipParseError, conn: TcpConnection) => void;

export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  /** A connection with no traffic in either direction for this long is closed (0: never). */
  readonly idleTimeoutMs: number;
  readonly maxMessageBytes: number;
}

const CRLF = Buffer.from('\r\n');

function addressKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One TCP connection, accepted or opened, with its framer (RFC 3261 §18.3) and the keys it is indexed by. */
export class TcpConnection {
  readonly remote: Endpoint;
  readonly keys = new Set<string>();
  readonly #socket: net.Socket;
  readonly #framer: StreamFramer;
  /** What broke the socket: pending writes only learn that it closed, a sender needs to know why (§18.1.1). */
  #error: Error | undefined;

  constructor(socket: net.Socket, remote: Endpoint, maxMessageBytes: number, sink: ConnectionSink) {
    this.#socket = socket;
    this.remote = remote;
    // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a single CRLF pong.
    this.#framer = new StreamFramer({ maxBytes: maxMessageBytes, onPing: () => this.#socket.write(CRLF) });
    socket.setNoDelay(true);
    socket.on('error', (err) => {
      this.#error = err;
    });
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.#framer.push(chunk)) {
        sink(item, this);
        if (item instanceof SipParseError && item.fatal) this.#socket.end();
      }
    });
  }

  get open(): boolean {
    return !this.#socket.destroyed;
  }

  write(data: Buffer, onError: SendErrorHandler | undefined): void {
    const to = this.remote;
    this.#socket.write(data, (err) => {
      if (err && onError !== undefined) {
        const cause = this.#error ?? err;
        onError(new TransportError(`TCP send to ${to.host}:${to.port} failed: ${cause.message}`, to, { cause }));
      }
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * A TCP listening socket and the connections of its transport, accepted and opened alike. Connections are found
 * by remote address and by the `alias` of a Via that arrived on them (RFC 5923 §5), so a response or a new
 * request to the same peer reuses the connection; idle ones are closed.
 */
export class TcpListener {
  readonly #server: net.Server;
  readonly #opts: TcpListenerOptions;
  readonly #sink: ConnectionSink;
  readonly #onError: (err: Error) => void;
  readonly #byKey = new Map<string, TcpConnection>();
  readonly #all = new Set<TcpConnection>();
  #local: Endpoint;

  private constructor(server: net.Server, local: Endpoint, opts: TcpListenerOptions, sink: StreamSink, onError: (err: Error) => void) {
    this.#server = server;
    this.#local = local;
    this.#opts = opts;
    this.#sink = (item, conn) => sink(item, conn, this);
    this.#onError = onError;
  }

  static async bind(opts: TcpListenerOptions, sink: StreamSink, onError: (err: Error) => void): Promise<TcpListener> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as net.AddressInfo;
    const listener = new TcpListener(server, { transport: 'tcp', host: opts.host, port: addr.port }, opts, sink, onError);
    server.on('connection', (socket) => listener.#adopt(socket));
    server.on('error', onError);
    return listener;
  }

  get local(): Endpoint {
    return this.#local;
  }

  /** Open connections (accepted and opened). */
  get connectionCount(): number {
    return this.#all.size;
  }

  /** The open connection to `host:port` (by remote address or alias), if any. */
  connection(host: string, port: number): TcpConnection | undefined {
    const conn = this.#byKey.get(addressKey(host, port));
    return conn !== undefined && conn.open ? conn : undefined;
  }

  /** Indexes a connection under the sent-by of a Via with `alias` (RFC 5923), so requests to it reuse it. */
  addAlias(conn: TcpConnection, host: string, port: number): void {
    const key = addressKey(host, port);
    if (this.#byKey.get(key) === conn) return;
    this.#byKey.set(key, conn);
    conn.keys.add(key);
  }

  /** Sends over the open connection to `to`, or opens one (writes wait for the connect). */
  send(data: Buffer, to: Endpoint, onError: SendErrorHandler | undefined): void {
    const conn = this.connection(to.host, to.port) ?? this.#connect(to);
    conn.write(data, onError);
  }

  async close(): Promise<void> {
    for (const conn of this.#all) conn.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #connect(to: Endpoint): TcpConnection {
    const socket = net.connect({ host: to.host, port: to.port });
    return this.#track(socket, to);
  }

  #adopt(socket: net.Socket): void {
    const host = socket.remoteAddress;
    const port = socket.remotePort;
    if (host === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    this.#track(socket, { transport: 'tcp', host, port });
  }

  #track(socket: net.Socket, remote: Endpoint): TcpConnection {
    const conn = new TcpConnection(socket, remote, this.#opts.maxMessageBytes, this.#sink);
    const key = addressKey(remote.host, remote.port);
    this.#byKey.set(key, conn);
    conn.keys.add(key);
    this.#all.add(conn);
    if (this.#opts.idleTimeoutMs > 0) {
      socket.setTimeout(this.#opts.idleTimeoutMs);
      socket.on('timeout', () => socket.destroy());
    }
    // Write failures reach their senders through the write callbacks; the event only needs observing.
    socket.on('error', this.#onError);
    socket.on('close', () => {
      this.#all.delete(conn);
      for (const k of conn.keys) if (this.#byKey.get(k) === conn) this.#byKey.delete(k);
    });
    return conn;
  }
}
