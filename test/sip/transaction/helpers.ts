import { createRequest, createResponse, newTag, parseMessage, SipParseError, SipRequest, type SipResponse } from '../../../src/sip/message/index.ts';
import {
  ManualTimerPort,
  TransactionLayer,
  type ClientTransaction,
  type ClientTransactionUser,
  type TransactionTimeoutError,
} from '../../../src/sip/transaction/index.ts';
import { MemoryTransport, type Endpoint, type TransportError } from '../../../src/sip/transport/index.ts';

export const TIMERS = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 } as const;

export function setup(transport: 'udp' | 'tcp' = 'udp'): {
  timers: ManualTimerPort;
  net: MemoryTransport;
  layer: TransactionLayer;
  peer: Endpoint;
} {
  const timers = new ManualTimerPort();
  const net = new MemoryTransport({ transport, host: '127.0.0.1', port: 5060 });
  const layer = new TransactionLayer(net, TIMERS, timers);
  return { timers, net, layer, peer: { transport, host: '127.0.0.2', port: 5070 } };
}

export function parseRequest(text: string): SipRequest {
  const msg = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (msg instanceof SipParseError) throw msg;
  if (!(msg instanceof SipRequest)) throw new TypeError('not a request');
  return msg;
}

/** A request as a peer at 127.0.0.2:5070 sends it (branch, sent-by and CSeq as given). */
export function request(
  method: string,
  opts: { branch?: string; transport?: 'UDP' | 'TCP'; sentBy?: string; cseq?: number; toTag?: string; callId?: string } = {},
): SipRequest {
  const branch = opts.branch ?? 'z9hG4bK-peer-1';
  const cseqMethod = method;
  return parseRequest(
    `${method} sip:bob@127.0.0.1 SIP/2.0
Via: SIP/2.0/${opts.transport ?? 'UDP'} ${opts.sentBy ?? '127.0.0.2:5070'};branch=${branch};rport
Max-Forwards: 70
From: <sip:alice@127.0.0.2>;tag=from-1
To: <sip:bob@127.0.0.1>${opts.toTag === undefined ? '' : `;tag=${opts.toTag}`}
Call-ID: ${opts.callId ?? 'call-1@127.0.0.2'}
CSeq: ${opts.cseq ?? 1} ${cseqMethod}
Content-Length: 0

`,
  );
}

/** A request of ours, without Via: the layer adds it. */
export function outgoing(method: string, cseq = 1): SipRequest {
  return createRequest({
    method,
    uri: 'sip:bob@127.0.0.2:5070',
    headers: [
      ['Max-Forwards', '70'],
      ['Route', '<sip:proxy.example;lr>'],
      ['From', '<sip:alice@127.0.0.1>;tag=ours-1'],
      ['To', '<sip:bob@127.0.0.2>'],
      ['Call-ID', 'out-1@127.0.0.1'],
      ['CSeq', `${cseq} ${method}`],
    ],
  });
}

export function responseTo(req: SipRequest, status: number, toTag = 'to-1'): SipResponse {
  return createResponse(req, status, undefined, status === 100 ? {} : { toTag });
}

export { newTag };

export interface Recorder extends ClientTransactionUser {
  responses: SipResponse[];
  errors: Array<TransactionTimeoutError | TransportError>;
  txs: ClientTransaction[];
}

export function recorder(): Recorder {
  const r: Recorder = {
    responses: [],
    errors: [],
    txs: [],
    onResponse(res, tx) {
      r.responses.push(res);
      r.txs.push(tx);
    },
    onError(err, tx) {
      r.errors.push(err);
      r.txs.push(tx);
    },
  };
  return r;
}

/** Lets queued microtasks (asynchronous transport failures) run. */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The first message sent since the last take, which must be a request. */
export function takeRequest(net: MemoryTransport): SipRequest {
  const msg = net.takeSent()[0]?.message;
  if (!(msg instanceof SipRequest)) throw new TypeError('expected a request to have been sent');
  return msg;
}
