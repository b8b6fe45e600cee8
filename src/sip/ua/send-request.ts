/**
 * One non-INVITE-style exchange through the transaction layer as a promise: the final response, after answering a
 * 401/407 once (RFC 3261 §22.2) when credentials are given. Used for out-of-dialog requests (REGISTER, OPTIONS,
 * MESSAGE) and in-dialog ones (BYE, INFO, re-INVITE).
 */
import type { SipRequest, SipResponse } from '../message/index.ts';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/client-transaction.ts';
import type { TransactionLayer } from '../transaction/transaction-layer.ts';
import type { TransactionTimeoutError } from '../transaction/transaction-timeout-error.ts';
import type { Endpoint } from '../transport/endpoint.ts';
import type { TransportError } from '../transport/transport-error.ts';
import { authorizeRequest, type Credentials } from './client-auth.ts';

export interface SendOptions {
  readonly credentials?: Credentials | undefined;
  /** The CSeq number of the authorized retry; out of dialog it is the request's own plus one. */
  readonly nextSeq?: (() => number) | undefined;
  readonly onProvisional?: ((res: SipResponse) => void) | undefined;
  /** 2xx responses after the first (a re-INVITE's retransmitted 2xx: the caller re-sends its ACK). */
  readonly onExtra2xx?: ((res: SipResponse) => void) | undefined;
}

export interface SendResult {
  readonly response: SipResponse;
  /** The request the final response answers (the authorized copy when there was a challenge). */
  readonly request: SipRequest;
}

/**
 * One exchange: the user of its transaction, and of the authorized retry's. A class rather than closures: the TS
 * toolchain names every function it assigns to a name or a property, at a cost per call, and an in-dialog request
 * of every call comes here.
 */
class Exchange implements ClientTransactionUser {
  /** The request of the transaction running: the first one, then its authorized retry. */
  #request!: SipRequest;
  #authorized = false;
  #settled = false;

  constructor(
    private readonly layer: TransactionLayer,
    private readonly destination: Endpoint,
    private readonly opts: SendOptions,
    private readonly resolve: (result: SendResult) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  start(req: SipRequest): ClientTransaction {
    this.#request = req;
    return this.layer.sendRequest(req, this.destination, this);
  }

  onResponse(res: SipResponse, tx: ClientTransaction): void {
    const opts = this.opts;
    if (res.status < 200) {
      opts.onProvisional?.(res);
      return;
    }
    if (this.#settled) {
      if (res.status < 300) opts.onExtra2xx?.(res);
      return;
    }
    // The final response: the transaction may live on up to 32 s absorbing retransmissions, and should not keep
    // this exchange (request, options, the caller's session) that long. A re-INVITE's retransmitted 2xx then
    // reaches its session through the user agent's stray 2xx handling, which re-sends the same ACK.
    tx.releaseUser();
    const req = this.#request;
    if ((res.status === 401 || res.status === 407) && opts.credentials !== undefined && !this.#authorized) {
      this.#authorized = true;
      let retry: SipRequest;
      try {
        const seq = opts.nextSeq?.() ?? req.cseq.seq + 1;
        retry = authorizeRequest(req, res, opts.credentials, seq);
      } catch (err) {
        this.#settled = true;
        this.reject(err as Error);
        return;
      }
      this.start(retry);
      return;
    }
    this.#settled = true;
    this.resolve({ response: res, request: req });
  }

  onError(err: TransactionTimeoutError | TransportError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.reject(err);
  }
}

/** Resolves with any final response; rejects with the transaction's errors or an unanswerable challenge. */
export function sendRequest(
  layer: TransactionLayer,
  request: SipRequest,
  destination: Endpoint,
  opts: SendOptions = {},
): Promise<SendResult> {
  return new Promise((resolve, reject) => {
    try {
      new Exchange(layer, destination, opts, resolve, reject).start(request);
    } catch (err) {
      reject(err as Error);
    }
  });
}
