import type { Logger } from 'pino';
import { createResponse } from '../message/create.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import { newBranch, newTag } from '../message/ids.ts';
import { formatVia } from '../message/via.ts';
import { viaTransport, type Endpoint } from '../transport/endpoint.ts';
import type { SendErrorHandler, SipTransport, TransportReceiver } from '../transport/transport.ts';
import type { TransportError } from '../transport/transport-error.ts';
import { ClientTransaction, type ClientTransactionHost, type ClientTransactionUser } from './client-transaction.ts';
import { createCancel } from './create-cancel.ts';
import type { TransactionTimerConfig } from './machine.ts';
import { ServerTransaction, type ServerTransactionHost } from './server-transaction.ts';
import { nodeTimers, type TimerPort } from './timer-port.ts';
import { clientKey, MAGIC_COOKIE, responseKey, serverKey } from './transaction-key.ts';
import type { TransactionTimeoutError } from './transaction-timeout-error.ts';

/** T1, T2, T4 of RFC 3261 Table 4 (`sip.t1_ms` ... in the config). */
export interface TransactionTimers {
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t4Ms: number;
}

/**
 * Every request that is not a retransmission: with its new server transaction, or without one for an ACK that
 * matched none (the ACK of a 2xx, §17.1.1.3 / §13.3.1.4: the dialog layer's business).
 */
export type RequestHandler = (req: SipRequest, tx: ServerTransaction | undefined, source: Endpoint, local: Endpoint) => void;

/** A response that matched no client transaction: the 2xx retransmissions of an INVITE the dialog layer re-ACKs. */
export type StrayResponseHandler = (res: SipResponse, source: Endpoint) => void;

/** Outcome sink of a CANCEL nobody asked about, when there is no logger to report its failure to either. */
const IGNORE_RESPONSES = { onResponse(): void {}, onError(): void {} };

/**
 * The transaction layer (RFC 3261 §17): owns the client and server transactions, one hash map per direction,
 * matches what the transport hands up (§17.1.3, §17.2.3), answers CANCEL (§9.2), and passes everything else to
 * the TU. Transactions remove themselves from the maps when they reach Terminated, timers included.
 */
export class TransactionLayer implements TransportReceiver, ClientTransactionHost, ServerTransactionHost {
  readonly #reliable: TransactionTimerConfig;
  readonly #unreliable: TransactionTimerConfig;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  readonly #log: Logger | undefined;
  #onRequest: RequestHandler | undefined;
  #onStray: StrayResponseHandler | undefined;

  constructor(
    readonly transport: SipTransport,
    config: TransactionTimers,
    readonly timers: TimerPort = nodeTimers,
    logger?: Logger,
  ) {
    const { t1Ms, t2Ms, t4Ms } = config;
    this.#reliable = Object.freeze({ t1Ms, t2Ms, t4Ms, reliable: true });
    this.#unreliable = Object.freeze({ t1Ms, t2Ms, t4Ms, reliable: false });
    this.#log = logger?.child({ layer: 'sip-transaction' });
    transport.setReceiver(this);
  }

  /** Live transactions, per direction. */
  get size(): { client: number; server: number } {
    return { client: this.#clients.size, server: this.#servers.size };
  }

  onRequest(handler: RequestHandler): void {
    this.#onRequest = handler;
  }

  onStrayResponse(handler: StrayResponseHandler): void {
    this.#onStray = handler;
  }

  /**
   * Starts a client transaction (§17.1). A request without Via gets one for the local endpoint of `dest`'s
   * transport (with `rport`, RFC 3581); a top Via without a magic-cookie branch gets a fresh branch.
   */
  sendRequest(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    if (req.method === 'ACK') throw new TypeError('ACK is not sent in a transaction: use sendAck()');
    this.#ensureBranch(req, dest);
    const tx = this.#register(req, dest, user);
    tx.start();
    return tx;
  }

  /**
   * Takes over an INVITE sent by a process that is gone (its Via, branch and CSeq as that process wrote them) in
   * the Proceeding state, without sending it: so that it can be CANCELled (§9.1) and its final response is handled
   * as RFC 3261 wants, the ACK of a 487 included (§17.1.1.3).
   */
  adoptInvite(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    if (req.method !== 'INVITE') throw new TypeError('only an INVITE can be adopted');
    const tx = this.#register(req, dest, user);
    tx.startAdopted();
    return tx;
  }

  /** A new client transaction for `req`, indexed by its branch (a CANCEL's with its method: see `clientKey`), not yet started. */
  #register(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    const branch = req.topVia.branch as string;
    const key = clientKey(branch, req.method);
    if (this.#clients.has(key)) throw new Error(`a client transaction with branch ${branch} is live`);
    const tx = new ClientTransaction(req, dest, key, user, this);
    this.#clients.set(key, tx);
    return tx;
  }

  /**
   * Sends an ACK for a 2xx straight through the transport (§13.2.2.4: it is its own transaction-less request).
   * A missing Via is added as for `sendRequest`.
   */
  sendAck(ack: SipRequest, dest: Endpoint, onError?: SendErrorHandler): void {
    this.#ensureBranch(ack, dest);
    this.transport.send(ack, dest, onError);
  }

  /** A response outside any transaction (stateless: e.g. to a request the TU refuses before matching). */
  sendStatelessResponse(res: SipResponse, source: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void {
    this.transport.sendResponse(res, source, onError, local);
  }

  /** Ends every transaction and releases its timers without telling anyone (shutdown). */
  close(): void {
    for (const tx of this.#clients.values()) tx.dispose();
    for (const tx of this.#servers.values()) tx.dispose();
    this.#clients.clear();
    this.#servers.clear();
  }

  // ---- TransportReceiver ----

  receiveResponse(res: SipResponse, source: Endpoint): void {
    const key = responseKey(res);
    const tx = key === undefined ? undefined : this.#clients.get(key);
    if (tx !== undefined && tx.method === res.cseq.method) {
      tx.receive(res);
      return;
    }
    this.strayResponse(res, source);
  }

  /** A response no transaction takes (none matched, or its transaction's TU has gone). */
  strayResponse(res: SipResponse, source: Endpoint): void {
    // §17.1.1.2 / RFC 6026: 2xx retransmissions outlive the INVITE client transaction; the TU re-ACKs them.
    if (res.status >= 200 && res.status < 300 && res.cseq.method === 'INVITE' && this.#onStray !== undefined) {
      this.#onStray(res, source);
      return;
    }
    // §18.1.2: a response that matches no transaction is dropped.
    this.#log?.debug({ status: res.status, callId: res.callId }, 'response matched no transaction');
  }

  receiveRequest(req: SipRequest, source: Endpoint, local: Endpoint): void {
    const key = serverKey(req);
    const existing = this.#servers.get(key);
    if (req.method === 'ACK') {
      // §17.2.3: the ACK of a non-2xx matches the INVITE server transaction; any other goes to the TU.
      if (existing !== undefined) existing.receiveAck(req);
      else this.#dispatch(req, undefined, source, local);
      return;
    }
    if (existing !== undefined) {
      existing.receiveRetransmission();
      return;
    }
    const tx = new ServerTransaction(req, source, local, key, this);
    this.#servers.set(key, tx);
    try {
      if (req.method === 'CANCEL') this.#cancel(req, tx);
      else this.#dispatch(req, tx, source, local);
    } catch (err) {
      // A TU that threw will not answer: a 500 ends the transaction instead of leaving it pending forever.
      if (tx.state === 'proceeding' || tx.state === 'trying') tx.respond(createResponse(req, 500, undefined, { toTag: newTag() }));
      throw err;
    }
    // After the TU had its chance: one that answered synchronously needs no 100 Trying timer (§17.2.1).
    tx.start();
  }

  // ---- hosts of the transactions ----

  timerConfig(reliable: boolean): TransactionTimerConfig {
    return reliable ? this.#reliable : this.#unreliable;
  }

  clientTerminated(tx: ClientTransaction): void {
    if (this.#clients.get(tx.key) === tx) this.#clients.delete(tx.key);
  }

  serverTerminated(tx: ServerTransaction): void {
    if (this.#servers.get(tx.key) === tx) this.#servers.delete(tx.key);
  }

  sendCancel(invite: ClientTransaction, user: ClientTransactionUser | undefined): void {
    const request = invite.request;
    // A CANCEL is only asked for while the INVITE is pending, so before its final response lets the request go.
    if (request === undefined) return;
    const cancel = createCancel(request);
    this.sendRequest(cancel, invite.destination, user ?? this.#cancelLogger(invite));
  }

  passAck(ack: SipRequest, tx: ServerTransaction): void {
    this.#dispatch(ack, undefined, tx.source, tx.local);
  }

  unhandledError(err: TransactionTimeoutError | TransportError, tx: ServerTransaction): void {
    this.#log?.info({ err, method: tx.method, callId: tx.callId }, 'server transaction failed');
  }

  // ---- internals ----

  /** §9.2: 200 to a CANCEL that matches a server transaction (which learns it is cancelled), else 481. */
  #cancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.#servers.get(serverKey(cancel, 'INVITE'));
    if (invite === undefined) {
      tx.respond(createResponse(cancel, 481));
      return;
    }
    // §9.2: the To tag of the CANCEL's response SHOULD be the one the INVITE's responses carry.
    tx.respond(createResponse(cancel, 200, undefined, { toTag: invite.lastToTag ?? newTag() }));
    invite.cancelWith(cancel);
  }

  #dispatch(req: SipRequest, tx: ServerTransaction | undefined, source: Endpoint, local: Endpoint): void {
    if (this.#onRequest !== undefined) {
      this.#onRequest(req, tx, source, local);
      return;
    }
    this.#log?.warn({ method: req.method }, 'no request handler: answering 503');
    tx?.respond(createResponse(req, 503));
  }

  #ensureBranch(req: SipRequest, dest: Endpoint): void {
    if (!req.has('via')) {
      const local = this.transport.localEndpoint(dest.transport);
      const branch = newBranch();
      const transport = viaTransport(dest.transport);
      const host = local.host.includes(':') ? `[${local.host}]` : local.host;
      // The Via as parseVia reads the text formatVia writes (the typed fields also among the params, in order):
      // `#register` keys the transaction by this branch without parsing the value back.
      req.prependVia(formatVia({ transport, host, port: local.port, branch, rport: true, params: {} }), {
        transport,
        host,
        port: local.port,
        branch,
        received: undefined,
        rport: true,
        params: { branch, rport: null },
      });
      return;
    }
    const top = req.topVia;
    if (top.branch !== undefined && top.branch.startsWith(MAGIC_COOKIE)) return;
    const vias = req.getAll('via');
    vias[0] = formatVia({ ...top, branch: newBranch() });
    req.set('via', vias);
  }

  #cancelLogger(invite: ClientTransaction): ClientTransactionUser {
    const log = this.#log;
    if (log === undefined) return IGNORE_RESPONSES;
    return {
      onResponse(): void {},
      onError(err): void {
        log.info({ err, callId: invite.callId }, 'CANCEL failed');
      },
    };
  }
}
