/**
 * The user agent core (RFC 3261 §8, §12-§15) on top of the transaction layer: it owns the layer, runs the UAS
 * checks of §8.2, sends in-dialog requests to their session (481 when none, §12.2.2), out-of-dialog ones to the
 * handler registered for the method (OPTIONS answered 200 by default, others 405 with Allow), re-ACKs 2xx
 * retransmissions that outlive their transaction, and places calls and out-of-dialog requests.
 */
import type { Logger } from 'pino';
import type { SipConfig } from '../../config/schema.ts';
import { dialogIdOfRequest, dialogIdOfResponse, dialogKey } from '../dialog/dialog-state.ts';
import type { SessionTimerPort } from '../dialog/invite-session.ts';
import {
  checkRequest,
  createRequest,
  createResponse,
  formatNameAddr,
  newCallId,
  newTag,
  parseUri,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from '../message/index.ts';
import type { ServerTransaction } from '../transaction/server-transaction.ts';
import { nodeTimers, type TimerPort } from '../transaction/timer-port.ts';
import { TransactionLayer } from '../transaction/transaction-layer.ts';
import type { Endpoint, TransportProtocol } from '../transport/endpoint.ts';
import type { SipTransport } from '../transport/transport.ts';
import { DigestVerifier } from '../auth/digest.ts';
import type { Credentials } from './client-auth.ts';
import { IncomingCall, type IncomingCallHost } from './incoming-call.ts';
import { OutgoingCall, type InviteOptions, type OutgoingCallHost } from './outgoing-call.ts';
import { requireAuth, type RequireAuthResult } from './require-auth.ts';
import { sendRequest, type SendResult } from './send-request.ts';
import type { Session } from './session.ts';
import { SESSION_METHODS } from './allow.ts';

export type RequestHandlerFn = (req: SipRequest, tx: ServerTransaction, source: Endpoint) => void;

export interface UserAgentOptions {
  readonly transport: SipTransport;
  /** RFC 3261 Table 4 timers (`sip.t1_ms` ...). */
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t4Ms: number;
  /** Host written into Contact instead of the transport's local address (`sip.public_host` behind NAT). */
  readonly publicHost?: string;
  /** User part of our Contact. */
  readonly contactUser?: string;
  /** Digest realm of `requireAuth` (`sip.realm`). */
  readonly realm?: string;
  /** How long a nonce we issue stays valid (default 5 minutes). */
  readonly nonceTtlMs?: number;
  /** Key of our stateless nonces; kept across restarts, nonces issued before one stay valid (default: random). */
  readonly nonceSecret?: string;
  /** Option tags we support (Require checks, §8.2.2.3). */
  readonly supported?: readonly string[];
  /** Body types we take (others are answered 415, §8.2.3); default SDP, multipart, DTMF relay and plain text. */
  readonly acceptTypes?: readonly string[];
  readonly logger?: Logger;
  /** Transaction timers (tests pass a ManualTimerPort). */
  readonly timers?: TimerPort;
  /** Session timers: 2xx retransmission, ACK wait, glare back-off. */
  readonly clock?: SessionTimerPort;
  readonly random?: () => number;
}

/** An out-of-dialog non-INVITE request (REGISTER, OPTIONS, MESSAGE ...). */
export interface RequestOptions {
  readonly method: string;
  /** Request-URI. */
  readonly uri: string;
  /** Default: the Request-URI's host, port (5060) and `transport` parameter. */
  readonly destination?: Endpoint;
  readonly from: string;
  readonly fromDisplayName?: string;
  readonly fromTag?: string;
  /** To URI; default the Request-URI. */
  readonly to?: string;
  readonly callId?: string;
  readonly cseq?: number;
  /** Our Contact is added when true (REGISTER adds its own through `headers`). */
  readonly contact?: boolean;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  readonly contentType?: string;
  readonly credentials?: Credentials;
}

const DEFAULT_ACCEPT = ['application/sdp', 'multipart/mixed', 'application/dtmf-relay', 'application/dtmf', 'text/plain'];

const realClock: SessionTimerPort = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The Endpoint a URI designates (§8.1.2 without DNS SRV: host, port or 5060, `transport` parameter). */
export function uriDestination(uri: SipUri, fallback: TransportProtocol): Endpoint {
  const param = uri.params['transport']?.toLowerCase();
  const transport: TransportProtocol = param === 'tcp' ? 'tcp' : param === 'udp' ? 'udp' : fallback;
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
  return { transport, host, port: uri.port ?? 5060 };
}

export class UserAgent implements OutgoingCallHost, IncomingCallHost {
  readonly layer: TransactionLayer;
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly random: () => number;
  readonly clock: SessionTimerPort;
  readonly logger: Logger | undefined;
  readonly #transport: SipTransport;
  readonly #publicHost: string | undefined;
  readonly #contactUser: string;
  readonly #supported: readonly string[];
  readonly #acceptTypes: readonly string[];
  readonly #sessions = new Map<string, Session>();
  readonly #handlers = new Map<string, RequestHandlerFn>();
  #inviteHandler: ((call: IncomingCall) => void) | undefined;
  readonly #verifier: DigestVerifier;

  constructor(opts: UserAgentOptions) {
    this.#transport = opts.transport;
    this.t1Ms = opts.t1Ms;
    this.t2Ms = opts.t2Ms;
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger?.child({ layer: 'sip-ua' });
    this.#publicHost = opts.publicHost;
    this.#contactUser = opts.contactUser ?? 'originate';
    this.#supported = opts.supported ?? [];
    this.#acceptTypes = opts.acceptTypes ?? DEFAULT_ACCEPT;
    this.#verifier = new DigestVerifier({
      realm: opts.realm ?? 'originate',
      nonceTtlMs: opts.nonceTtlMs ?? 300_000,
      ...(opts.nonceSecret === undefined ? {} : { secret: opts.nonceSecret }),
    });
    this.layer = new TransactionLayer(
      opts.transport,
      { t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, t4Ms: opts.t4Ms },
      opts.timers ?? nodeTimers,
      opts.logger,
    );
    this.layer.onRequest((req, tx, source) => this.#receive(req, tx, source));
    this.layer.onStrayResponse((res) => this.#stray2xx(res));
  }

  /**
   * The user agent the `sip` config section describes. Contact and Via use the transport's local endpoints, which
   * already put `public_host` in place of a wildcard bind address.
   */
  static fromConfig(
    transport: SipTransport,
    sip: Pick<SipConfig, 't1_ms' | 't2_ms' | 't4_ms' | 'realm'>,
    extra: Omit<UserAgentOptions, 'transport' | 't1Ms' | 't2Ms' | 't4Ms' | 'realm'> = {},
  ): UserAgent {
    return new UserAgent({ ...extra, transport, t1Ms: sip.t1_ms, t2Ms: sip.t2_ms, t4Ms: sip.t4_ms, realm: sip.realm });
  }

  /** Live sessions (early and confirmed dialogs with an INVITE usage). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Handles out-of-dialog requests of this method (REGISTER, MESSAGE, SUBSCRIBE ...). */
  onRequest(method: string, handler: RequestHandlerFn): void {
    this.#handlers.set(method.toUpperCase(), handler);
  }

  /** Handles new INVITEs; without a handler they are answered 480. */
  onInvite(handler: (call: IncomingCall) => void): void {
    this.#inviteHandler = handler;
  }

  /** Our Contact URI for this transport: the transport's local endpoint, the public host when configured. */
  contact(transport: TransportProtocol): string {
    const local = this.#transport.localEndpoint(transport);
    const host = this.#publicHost ?? local.host;
    const h = host.includes(':') ? `[${host}]` : host;
    return `sip:${this.#contactUser}@${h}:${local.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  destination(uri: SipUri, transport: TransportProtocol): Endpoint {
    return uriDestination(uri, transport);
  }

  /**
   * Digest check for a request a handler received (REGISTER at the registrar, INVITE from a phone): true with the
   * user name, or the request has been answered 401 with our challenges.
   */
  requireAuth(
    req: SipRequest,
    tx: ServerTransaction,
    lookupPassword: (username: string) => string | undefined,
  ): RequireAuthResult {
    return requireAuth(this.#verifier, req, tx, lookupPassword);
  }

  /** Sends an INVITE; see OutgoingCall for its events and the late-offer `ack(localSdp)`. */
  invite(opts: InviteOptions): OutgoingCall {
    return new OutgoingCall(this, opts, opts.destination ?? this.#destinationOf(opts.target));
  }

  /** Sends an out-of-dialog non-INVITE request; resolves with its final response (one digest retry). */
  request(opts: RequestOptions): Promise<SendResult> {
    const fromUri = parseUri(opts.from);
    if (fromUri === null) return Promise.reject(new TypeError(`not a SIP URI: ${opts.from}`));
    const destination = opts.destination ?? this.#destinationOf(opts.uri);
    const headers: Array<readonly [string, string]> = [
      ['Max-Forwards', '70'],
      ['From', formatNameAddr({ displayName: opts.fromDisplayName, uri: fromUri, params: { tag: opts.fromTag ?? newTag() } })],
      ['To', `<${opts.to ?? opts.uri}>`],
      ['Call-ID', opts.callId ?? newCallId()],
      ['CSeq', `${opts.cseq ?? 1} ${opts.method}`],
    ];
    if (opts.contact === true) headers.push(['Contact', `<${this.contact(destination.transport)}>`]);
    headers.push(...(opts.headers ?? []));
    if (opts.body !== undefined && opts.contentType !== undefined) headers.push(['Content-Type', opts.contentType]);
    const req = createRequest({
      method: opts.method,
      uri: opts.uri,
      headers,
      ...(opts.body === undefined ? {} : { body: opts.body }),
    });
    return sendRequest(this.layer, req, destination, { credentials: opts.credentials });
  }

  /** Stops every transaction; sessions are forgotten without BYE (shutdown drains calls before this). */
  close(): void {
    this.layer.close();
    for (const session of this.#sessions.values()) session.dispose();
    this.#sessions.clear();
  }

  // ---- SessionHost ----

  sessionStarted(session: Session): void {
    this.#sessions.set(session.key, session);
  }

  sessionEnded(session: Session): void {
    if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key);
  }

  // ---- dispatch ----

  #destinationOf(uriText: string): Endpoint {
    const uri = parseUri(uriText);
    if (uri === null) throw new TypeError(`not a SIP URI: ${uriText}`);
    return uriDestination(uri, 'udp');
  }

  #allow(): string {
    return [...new Set([...SESSION_METHODS, ...this.#handlers.keys()])].join(', ');
  }

  #receive(req: SipRequest, tx: ServerTransaction | undefined, source: Endpoint): void {
    if (tx === undefined) {
      // An ACK outside any transaction: the ACK for a 2xx, which its session waits for.
      const id = dialogIdOfRequest(req);
      if (id !== null) this.#sessions.get(dialogKey(id))?.receiveRequest(req, undefined);
      return;
    }
    const rejection = checkRequest(req, { supported: this.#supported, acceptTypes: this.#acceptTypes });
    if (rejection !== null) {
      tx.respond(
        createResponse(req, rejection.status, rejection.reason, { toTag: newTag(), headers: rejection.headers ?? [] }),
      );
      return;
    }
    const id = dialogIdOfRequest(req);
    if (id !== null) {
      const session = this.#sessions.get(dialogKey(id));
      // §12.2.2: "If the UAS wishes to reject the request because it does not wish to recreate the dialog, it MUST
      // respond to the request with a 481 (Call/Transaction Does Not Exist) status code".
      if (session === undefined) tx.respond(createResponse(req, 481));
      else session.receiveRequest(req, tx);
      return;
    }
    if (req.method === 'INVITE') {
      this.#receiveInvite(req, tx);
      return;
    }
    const handler = this.#handlers.get(req.method);
    if (handler !== undefined) {
      handler(req, tx, source);
      return;
    }
    if (req.method === 'OPTIONS') {
      tx.respond(
        createResponse(req, 200, undefined, {
          toTag: newTag(),
          headers: [
            ['Allow', this.#allow()],
            ['Accept', 'application/sdp'],
          ],
        }),
      );
      return;
    }
    // §8.2.1: a method we do not handle is answered 405 with the methods we do.
    tx.respond(createResponse(req, 405, undefined, { toTag: newTag(), headers: [['Allow', this.#allow()]] }));
  }

  #receiveInvite(req: SipRequest, tx: ServerTransaction): void {
    if (this.#inviteHandler === undefined) {
      tx.respond(createResponse(req, 480, undefined, { toTag: newTag() }));
      return;
    }
    const contacts = req.contacts;
    if (contacts === '*' || contacts.length !== 1) {
      // §12.1.1 needs the one Contact of a dialog-creating request as the remote target.
      tx.respond(createResponse(req, 400, 'Contact Required', { toTag: newTag() }));
      return;
    }
    this.#inviteHandler(new IncomingCall(this, req, tx));
  }

  /** A 2xx to an INVITE whose client transaction is gone: its session re-sends the ACK (§13.2.2.4). */
  #stray2xx(res: SipResponse): void {
    const id = dialogIdOfResponse(res);
    if (id !== null) this.#sessions.get(dialogKey(id))?.receive2xxRetransmission(res);
  }
}
