import type { Logger } from 'pino';
import type { SipConfig, SipListen } from '../../config/schema.ts';
import { createResponse } from '../message/create.ts';
import { SipHeaderError, SipParseError } from '../message/errors.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import { parseMessage } from '../message/parse.ts';
import type { Via } from '../message/types.ts';
import { formatVia } from '../message/via.ts';
import type { Endpoint, TransportProtocol } from './endpoint.ts';
import { responseDestination, stampReceived } from './response-destination.ts';
import { TcpListener, type TcpConnection } from './tcp-listener.ts';
import type { SendErrorHandler, SipTransport, TransportReceiver } from './transport.ts';
import { TransportError } from './transport-error.ts';
import { UdpListener } from './udp-listener.ts';

export interface TransportLayerOptions {
  /** Listeners to bind; port 0 binds an ephemeral port (read it back with `listeners`). */
  readonly listen: readonly SipListen[];
  /** Written into Via/Contact instead of a wildcard bind address. */
  readonly publicHost: string;
  readonly udpReceiveBufferBytes?: number;
  /** 0 keeps idle TCP connections open forever. */
  readonly tcpIdleTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
}

const DEFAULT_MAX_MESSAGE_BYTES = 65535;
const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const DEFAULT_SIP_PORT = 5060;

/**
 * RFC 3261 §18.1.1: a request "larger than 1300 bytes and the path MTU is unknown" (we never know it) goes over a
 * congestion-controlled transport, TCP, instead of UDP.
 */
export const UDP_REQUEST_LIMIT = 1300;

/**
 * §18.1.1: falling back to UDP is only for a TCP attempt that "generates either an ICMP Protocol Not Supported, or
 * results in a TCP reset" (a peer without TCP): not for timeouts or unreachable hosts.
 */
const NO_TCP_AT_PEER = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPROTONOSUPPORT', 'ENOPROTOOPT']);

/** How a request bound for UDP was sent because of its size (§18.1.1). */
type LargeRequestRoute = 'tcp' | 'udp-fallback';

/**
 * The SIP transport layer (RFC 3261 §18) over UDP and TCP listeners: parses what arrives (a malformed request is
 * answered 400/505/513 when its start line and Via were readable, otherwise dropped), stamps `received`/`rport`
 * on requests (RFC 3581), and sends requests and responses (§18.2.2), reusing TCP connections.
 */
export class TransportLayer implements SipTransport {
  readonly #udp: UdpListener[];
  readonly #tcp: TcpListener[];
  readonly #publicHost: string;
  readonly #maxBytes: number;
  readonly #log: Logger | undefined;
  /** Raw SIP is logged at trace level only; decided once so the hot path does not stringify messages. */
  readonly #traceSip: boolean;
  #receiver: TransportReceiver | undefined;
  /** Requests bound for UDP that went over TCP (or fell back to UDP) because of their size: retransmissions follow. */
  readonly #largeRequests = new WeakMap<SipMessage, LargeRequestRoute>();
  /**
   * Every sent-by we insert, as the hosts (lower-cased, IPv6 unbracketed) of each port: responses must carry one
   * (§18.1.2). By port first, so that a response is checked without building a `host:port` string to look up.
   */
  #ownSentBy = new Map<number, string[]>();

  private constructor(udp: UdpListener[], tcp: TcpListener[], opts: TransportLayerOptions, log: Logger | undefined) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.#publicHost = opts.publicHost;
    this.#maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#log = log;
    this.#traceSip = log?.isLevelEnabled('trace') ?? false;
  }

  /** Binds every listener of `opts.listen`; rejects (closing what was bound) when one cannot be bound. */
  static async listen(opts: TransportLayerOptions): Promise<TransportLayer> {
    const log = opts.logger?.child({ layer: 'sip-transport' });
    const udp: UdpListener[] = [];
    const tcp: TcpListener[] = [];
    const layer = new TransportLayer(udp, tcp, opts, log);
    const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const onSocketError = (err: Error): void => log?.debug({ err }, 'socket error');
    try {
      for (const l of opts.listen) {
        if (l.transport === 'udp') {
          udp.push(
            await UdpListener.bind(
              { host: l.host, port: l.port, receiveBufferBytes: opts.udpReceiveBufferBytes },
              (data, source, listener) => layer.#datagram(data, source, listener.local),
              onSocketError,
            ),
          );
        } else {
          tcp.push(
            await TcpListener.bind(
              { host: l.host, port: l.port, idleTimeoutMs: opts.tcpIdleTimeoutMs ?? 0, maxMessageBytes },
              (item, conn, listener) => layer.#streamItem(item, conn, listener),
              onSocketError,
            ),
          );
        }
      }
    } catch (err) {
      await layer.close();
      throw err;
    }
    for (const l of layer.listeners) {
      const hosts = layer.#ownSentBy.get(l.port) ?? [];
      hosts.push(layer.#advertised(l).host.toLowerCase());
      layer.#ownSentBy.set(l.port, hosts);
    }
    return layer;
  }

  /** The transport layer the config describes (`sip.listen`, buffers, idle timeout, max message size). */
  static fromConfig(sip: SipConfig, logger?: Logger): Promise<TransportLayer> {
    return TransportLayer.listen({
      listen: sip.listen,
      publicHost: sip.public_host,
      udpReceiveBufferBytes: sip.udp_receive_buffer_bytes,
      tcpIdleTimeoutMs: sip.tcp_idle_timeout_seconds * 1000,
      maxMessageBytes: sip.max_message_bytes,
      logger,
    });
  }

  /** Every bound listener with its actual port. */
  get listeners(): Endpoint[] {
    return [...this.#udp.map((u) => u.local), ...this.#tcp.map((t) => t.local)];
  }

  /** Open TCP connections over all listeners. */
  get tcpConnectionCount(): number {
    return this.#tcp.reduce((n, t) => n + t.connectionCount, 0);
  }

  setReceiver(receiver: TransportReceiver): void {
    this.#receiver = receiver;
  }

  localEndpoint(transport: TransportProtocol): Endpoint {
    const l = transport === 'udp' ? this.#udp[0]?.local : this.#tcp[0]?.local;
    if (l === undefined) throw new TransportError(`no ${transport} listener`, { transport, host: this.#publicHost, port: 0 });
    return this.#advertised(l);
  }

  /**
   * Sends a message. A request bound for UDP that is larger than `UDP_REQUEST_LIMIT` goes over TCP when we listen
   * on TCP, its top Via rewritten to our TCP sent-by; if the peer has no TCP (connection refused or reset) it is
   * sent over UDP after all, its Via restored (RFC 3261 §18.1.1). Its ACK and CANCEL, which copy that Via
   * (§17.1.1.3, §9.1), follow it over TCP.
   */
  send(msg: SipMessage, to: Endpoint, onError?: SendErrorHandler): void {
    if (msg.kind === 'request' && to.transport === 'udp' && this.#tcp.length > 0) {
      this.#sendRequestBoundForUdp(msg, to, onError);
      return;
    }
    this.#sendBytes(msg, to, undefined, onError);
  }

  sendResponse(res: SipResponse, source: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void {
    if (source.transport === 'tcp') {
      // §18.2.2: "the response MUST be sent using the existing connection to the source of the original request";
      // when it is gone, to the received address and the sent-by port.
      const open = this.#tcp.find((t) => t.connection(source.host, source.port) !== undefined);
      this.#sendBytes(res, open !== undefined ? source : responseDestination(res.topVia, source), local, onError);
      return;
    }
    this.#sendBytes(res, responseDestination(res.topVia, source), local, onError);
  }

  sendResponseBytes(data: Buffer, to: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void {
    this.#sendData(data, to, local, onError);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#udp.map((u) => u.close()), ...this.#tcp.map((t) => t.close())]);
  }

  #advertised(l: Endpoint): Endpoint {
    return WILDCARDS.has(l.host) ? { transport: l.transport, host: this.#publicHost, port: l.port } : l;
  }

  #sendRequestBoundForUdp(req: SipRequest, to: Endpoint, onError: SendErrorHandler | undefined): void {
    const tcpTo: Endpoint = { transport: 'tcp', host: to.host, port: to.port };
    const route = this.#largeRequests.get(req);
    if (route === 'udp-fallback') {
      this.#sendBytes(req, to, undefined, onError);
      return;
    }
    if (route === 'tcp') {
      // A retransmission by a transaction that was started for UDP: the connection delivered the request already.
      if (!this.#tcp.some((t) => t.connection(to.host, to.port) !== undefined)) this.#sendBytes(req, tcpTo, undefined, onError);
      return;
    }
    const data = req.serialize();
    if (this.#viaIsOurTcp(req)) {
      this.#sendData(data, tcpTo, undefined, onError);
      return;
    }
    if (data.length <= UDP_REQUEST_LIMIT) {
      this.#sendData(data, to, undefined, onError);
      return;
    }
    const vias = req.getAll('via');
    const udpVia = vias[0];
    if (udpVia === undefined) {
      this.#sendData(data, to, undefined, onError);
      return;
    }
    const local = this.localEndpoint('tcp');
    const host = local.host.includes(':') ? `[${local.host}]` : local.host;
    vias[0] = formatVia({ ...req.topVia, transport: 'TCP', host, port: local.port });
    req.set('Via', vias);
    this.#largeRequests.set(req, 'tcp');
    this.#log?.debug({ to: tcpTo, bytes: data.length, callId: req.callId }, 'request over the UDP limit sent over TCP');
    this.#sendBytes(req, tcpTo, undefined, (err) => {
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      if (code === undefined || !NO_TCP_AT_PEER.has(code)) {
        if (onError !== undefined) onError(err);
        else this.#log?.debug({ err }, 'send failed');
        return;
      }
      this.#log?.debug({ to, code, callId: req.callId }, 'no TCP at the peer: request sent over UDP after all');
      vias[0] = udpVia;
      req.set('Via', vias);
      this.#largeRequests.set(req, 'udp-fallback');
      this.#sendBytes(req, to, undefined, onError);
    });
  }

  /** Whether a request's top Via is our TCP sent-by: an ACK or CANCEL copying the Via of a request moved to TCP. */
  #viaIsOurTcp(req: SipRequest): boolean {
    let via: Via;
    try {
      via = req.topVia;
    } catch (err) {
      // Without a readable Via it is not a request we moved; sending it is the sender's business.
      if (err instanceof SipHeaderError) return false;
      throw err;
    }
    if (via.transport !== 'TCP') return false;
    const local = this.localEndpoint('tcp');
    return via.port === local.port && unbracket(via.host).toLowerCase() === local.host.toLowerCase();
  }

  #sendBytes(msg: SipMessage, to: Endpoint, local: Endpoint | undefined, onError: SendErrorHandler | undefined): void {
    this.#sendData(msg.serialize(), to, local, onError);
  }

  #sendData(data: Buffer, to: Endpoint, local: Endpoint | undefined, onError: SendErrorHandler | undefined): void {
    if (data.length > this.#maxBytes) {
      this.#fail(new TransportError(`message of ${data.length} bytes exceeds ${this.#maxBytes}`, to), onError);
      return;
    }
    if (to.transport === 'udp') {
      const listener = (local !== undefined ? this.#udp.find((u) => u.local.port === local.port && u.local.host === local.host) : undefined) ?? this.#udp[0];
      if (listener === undefined) return this.#fail(new TransportError('no udp listener', to), onError);
      listener.send(data, to, onError);
    } else {
      const listener = this.#tcp.find((t) => t.connection(to.host, to.port) !== undefined) ?? this.#tcp[0];
      if (listener === undefined) return this.#fail(new TransportError('no tcp listener', to), onError);
      listener.send(data, to, onError);
    }
    if (this.#traceSip) this.#log?.trace({ to, sip: data.toString('utf8') }, 'sip out');
  }

  #fail(err: TransportError, onError: SendErrorHandler | undefined): void {
    if (onError !== undefined) queueMicrotask(() => onError(err));
    else this.#log?.debug({ err }, 'send failed');
  }

  #datagram(data: Buffer, source: Endpoint, local: Endpoint): void {
    // RFC 5626 §3.5.1 / §4.4.1: CRLF keep-alives on UDP carry no message.
    if (data.length <= 4 && data.every((b) => b === 13 || b === 10)) return;
    this.#inbound(parseMessage(data, { maxBytes: this.#maxBytes }), source, local);
  }

  #streamItem(item: SipMessage | SipParseError, conn: TcpConnection, listener: TcpListener): void {
    if (!(item instanceof SipParseError) && item.kind === 'request') {
      const via = item.topVia;
      if (via.params['alias'] !== undefined) listener.addAlias(conn, via.host, via.port ?? 5060);
    }
    this.#inbound(item, conn.remote, listener.local);
  }

  #inbound(item: SipMessage | SipParseError, source: Endpoint, local: Endpoint): void {
    if (item instanceof SipParseError) {
      this.#rejectMalformed(item, source, local);
      return;
    }
    if (this.#traceSip) this.#log?.trace({ from: source, sip: item.toString() }, 'sip in');
    const receiver = this.#receiver;
    if (receiver === undefined) return;
    try {
      if (item.kind === 'request') {
        stampReceived(item, source);
        receiver.receiveRequest(item, source, local);
      } else if (this.#isOurSentBy(item)) {
        receiver.receiveResponse(item, source, local);
      } else {
        // §18.1.2: "If the value of the "sent-by" parameter in that header field value does not correspond to a
        // value that the client transport is configured to insert into requests, the response MUST be silently
        // discarded."
        this.#log?.debug({ from: source, status: item.status, via: item.get('via') }, 'response for another sent-by discarded');
      }
    } catch (err) {
      // One message whose handling threw must not take the socket (and every other call) down with it.
      if (this.#log !== undefined) this.#log.error({ err, from: source, callId: item.callId }, 'handling an inbound message failed');
      else process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'SipHandlerError');
    }
  }

  #isOurSentBy(res: SipResponse): boolean {
    const via = res.topVia;
    const hosts = this.#ownSentBy.get(via.port ?? DEFAULT_SIP_PORT);
    if (hosts === undefined) return false;
    const host = unbracket(via.host);
    for (const own of hosts) {
      if (own.length === host.length && (own === host || own === host.toLowerCase())) return true;
    }
    return false;
  }

  /** A malformed request whose start line and Via were readable gets its 400/505/513 (§8.2 / RFC 4475). */
  #rejectMalformed(err: SipParseError, source: Endpoint, local: Endpoint): void {
    const partial = err.partial;
    if (partial === undefined || partial.method === 'ACK') {
      this.#log?.debug({ err, from: source }, 'malformed message dropped');
      return;
    }
    let res: SipResponse;
    try {
      stampReceived(partial, source);
      res = createResponse(partial, err.status, undefined, { headers: [['Warning', `399 originate "${err.message.replace(/"/g, "'")}"`]] });
    } catch (cause) {
      this.#log?.debug({ err, cause, from: source }, 'malformed message dropped: no response possible');
      return;
    }
    this.#log?.debug({ err, from: source, status: err.status }, 'malformed message answered');
    this.sendResponse(res, source, undefined, local);
  }
}

function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

