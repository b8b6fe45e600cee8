import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { Endpoint } from './endpoint.ts';
import { TransportError } from './transport-error.ts';
import type { SendErrorHandler } from './transport.ts';

/** Bytes of one datagram with where it came from, handed to the transport layer to parse. */
export type DatagramSink = (data: Buffer, source: Endpoint, listener: UdpListener) => void;

export interface UdpListenerOptions {
  readonly host: string;
  readonly port: number;
  /** SO_RCVBUF: a burst of INVITEs must not overflow the kernel queue while the event loop is busy. */
  readonly receiveBufferBytes?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves every destination through its `lookup` before sending, dns.lookup by default, which answers even
 * an IP literal on the next tick. Every destination the SIP layers hand over is already an address (RFC 3263
 * resolution happens above), so a literal is answered at once and the datagram leaves within `send()`; anything
 * else still goes through dns.lookup.
 */
function literalLookup(address: string, family: number, callback: LookupCallback): void {
  if (isIP(address) !== 0) callback(null, address, family);
  else dns.lookup(address, family, callback);
}

/**
 * One bound UDP socket (RFC 3261 §18: one datagram, one message).
 *
 * Datagrams are sent at the end of the event-loop turn that asked for them, in the order asked. A busy server
 * handles many received messages per turn, and most of a loopback or LAN send's cost is waking the receiving
 * process: sent back to back, the datagrams of a turn wake each peer once instead of once per datagram, while
 * the peer would otherwise go back to sleep between sends spread over the turn (measured with sipp peers at
 * 1,000 originations/s: ~12% less server CPU per origination). The delay is the rest of the turn, well under a
 * millisecond at any load that is not already queueing.
 */
export class UdpListener {
  readonly #socket: dgram.Socket;
  #local: Endpoint;
  /** What this turn asked to send, in order (three arrays rather than an object per datagram). */
  #data: Buffer[] = [];
  #to: Endpoint[] = [];
  #onError: (SendErrorHandler | undefined)[] = [];
  #flushing: NodeJS.Immediate | undefined;
  readonly #flush = (): void => this.#sendQueued();

  private constructor(socket: dgram.Socket, local: Endpoint) {
    this.#socket = socket;
    this.#local = local;
  }

  static async bind(opts: UdpListenerOptions, sink: DatagramSink, onSocketError: (err: Error) => void): Promise<UdpListener> {
    const socket = dgram.createSocket({
      type: opts.host.includes(':') ? 'udp6' : 'udp4',
      lookup: literalLookup as unknown as dgram.SocketOptions['lookup'],
      ...(opts.receiveBufferBytes !== undefined && opts.receiveBufferBytes > 0 ? { recvBufferSize: opts.receiveBufferBytes } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const addr = socket.address();
    const listener = new UdpListener(socket, { transport: 'udp', host: opts.host, port: addr.port });
    socket.on('message', (data, rinfo) => sink(data, { transport: 'udp', host: rinfo.address, port: rinfo.port }, listener));
    socket.on('error', onSocketError);
    return listener;
  }

  /** The bound address, with the actual port when 0 was asked for. */
  get local(): Endpoint {
    return this.#local;
  }

  /** SO_RCVBUF as the kernel granted it (Linux doubles the request and caps it at net.core.rmem_max). */
  get receiveBufferBytes(): number {
    return this.#socket.getRecvBufferSize();
  }

  /** Sends `data` at the end of this turn. `data` must not change until then (the SIP layers never reuse one). */
  send(data: Buffer, to: Endpoint, onError: SendErrorHandler | undefined): void {
    this.#data.push(data);
    this.#to.push(to);
    this.#onError.push(onError);
    this.#flushing ??= setImmediate(this.#flush);
  }

  #sendQueued(): void {
    this.#flushing = undefined;
    const data = this.#data;
    const to = this.#to;
    const onError = this.#onError;
    this.#data = [];
    this.#to = [];
    this.#onError = [];
    for (let i = 0; i < data.length; i++) this.#sendNow(data[i] as Buffer, to[i] as Endpoint, onError[i]);
  }

  #sendNow(data: Buffer, to: Endpoint, onError: SendErrorHandler | undefined): void {
    if (onError === undefined) {
      this.#socket.send(data, to.port, to.host);
      return;
    }
    this.#socket.send(data, to.port, to.host, (err) => {
      if (err) onError(new TransportError(`UDP send to ${to.host}:${to.port} failed: ${err.message}`, to, { cause: err }));
    });
  }

  /** What was asked before closing is still sent. */
  close(): Promise<void> {
    if (this.#flushing !== undefined) {
      clearImmediate(this.#flushing);
      this.#sendQueued();
    }
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
