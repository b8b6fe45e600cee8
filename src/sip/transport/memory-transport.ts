import { parseMessage } from '../message/parse.ts';
import type { SipMessage, SipResponse } from '../message/message.ts';
import { SipParseError } from '../message/errors.ts';
import { endpointKey, type Endpoint, type TransportProtocol } from './endpoint.ts';
import { responseDestination, stampReceived } from './response-destination.ts';
import type { SendErrorHandler, SipTransport, TransportReceiver } from './transport.ts';
import { TransportError } from './transport-error.ts';

/** One message a `MemoryTransport` sent, as the peer will see it (serialized and parsed again). */
export interface SentMessage {
  readonly message: SipMessage;
  readonly to: Endpoint;
}

/**
 * Connects `MemoryTransport`s by endpoint so two stacks can talk without sockets. Delivery is asynchronous
 * (a microtask), like a network, so a sender's state machine finishes its step before the peer reacts.
 */
export class MemoryNetwork {
  readonly #nodes = new Map<string, MemoryTransport>();

  transport(local: Endpoint): MemoryTransport {
    const t = new MemoryTransport(local, this);
    this.#nodes.set(endpointKey(local), t);
    return t;
  }

  /** @internal used by MemoryTransport. */
  node(to: Endpoint): MemoryTransport | undefined {
    return this.#nodes.get(endpointKey(to));
  }

  /** @internal used by MemoryTransport. */
  detach(t: MemoryTransport): void {
    this.#nodes.delete(endpointKey(t.local));
  }
}

/**
 * The in-memory transport for unit tests of the state machines: records what was sent, lets a test inject
 * messages as if they came from the network, fail the next sends, and (through a `MemoryNetwork`) reach a peer.
 * Every message goes through `serialize()` + `parseMessage()`, so tests see what the wire would carry.
 */
export class MemoryTransport implements SipTransport {
  readonly sent: SentMessage[] = [];
  #receiver: TransportReceiver | undefined;
  #failures: TransportError[] = [];
  #closed = false;

  constructor(
    readonly local: Endpoint,
    readonly network?: MemoryNetwork,
  ) {}

  setReceiver(receiver: TransportReceiver): void {
    this.#receiver = receiver;
  }

  /** The next `count` sends fail with a TransportError (reported asynchronously, like a socket would). */
  failNextSends(count = 1, reason = 'simulated transport failure'): void {
    for (let i = 0; i < count; i++) this.#failures.push(new TransportError(reason, this.local));
  }

  /** Delivers bytes or a message as if it arrived from `source` (a request gets received/rport stamped). */
  inject(data: SipMessage | Buffer | string, source: Endpoint): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.isBuffer(data) ? data : data.serialize();
    const msg = parseMessage(bytes);
    if (msg instanceof SipParseError) throw msg;
    const receiver = this.#receiver;
    if (receiver === undefined) return;
    if (msg.kind === 'request') {
      stampReceived(msg, source);
      receiver.receiveRequest(msg, source, this.local);
    } else {
      receiver.receiveResponse(msg, source, this.local);
    }
  }

  send(msg: SipMessage, to: Endpoint, onError?: SendErrorHandler): void {
    const failure = this.#closed ? new TransportError('transport closed', to) : this.#failures.shift();
    if (failure !== undefined) {
      if (onError !== undefined) queueMicrotask(() => onError(failure));
      return;
    }
    const copy = parseMessage(msg.serialize());
    if (copy instanceof SipParseError) throw copy;
    this.sent.push({ message: copy, to });
    const peer = this.network?.node(to);
    if (peer !== undefined) {
      const from = this.local;
      queueMicrotask(() => peer.inject(copy.serialize(), from));
    }
  }

  sendResponse(res: SipResponse, source: Endpoint, onError?: SendErrorHandler): void {
    this.send(res, source.transport === 'udp' ? responseDestination(res.topVia, source) : source, onError);
  }

  sendResponseBytes(data: Buffer, to: Endpoint, onError?: SendErrorHandler): void {
    const msg = parseMessage(data);
    if (msg instanceof SipParseError) throw msg;
    this.send(msg, to, onError);
  }

  localEndpoint(transport: TransportProtocol): Endpoint {
    return { ...this.local, transport };
  }

  /** Removes and returns what was sent so far. */
  takeSent(): SentMessage[] {
    return this.sent.splice(0, this.sent.length);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.network?.detach(this);
  }
}
