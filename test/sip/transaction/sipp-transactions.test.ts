import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createRequest, parseMessage, SipParseError, type SipMessage, type SipRequest, type SipResponse } from '../../../src/sip/message/index.ts';
import { TransactionLayer, type ServerTransaction } from '../../../src/sip/transaction/index.ts';
import {
  TransportLayer,
  type Endpoint,
  type SendErrorHandler,
  type SipTransport,
  type TransportProtocol,
  type TransportReceiver,
} from '../../../src/sip/transport/index.ts';
import { recorder } from './helpers.ts';
import { runSipp, startSipp, waitForTcpListener } from './sipp.ts';

const SCENARIOS = fileURLToPath(new URL('../../scenarios/transaction/', import.meta.url));
const sippTransport = (t: TransportProtocol): string => (t === 'udp' ? 'u1' : 't1');
const SIPP_BOUNDS = ['-m', '1', '-timeout', '15', '-timeout_error', '-max_recv_loops', '1000'];
const wait = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(15_000) });

/** Our real transport, with every message we send recorded and every request we receive announced. */
class Observed extends EventEmitter implements SipTransport {
  readonly sent: SipMessage[] = [];
  constructor(readonly inner: TransportLayer) {
    super();
  }
  setReceiver(r: TransportReceiver): void {
    this.inner.setReceiver({
      receiveRequest: (req: SipRequest, source: Endpoint, local: Endpoint) => {
        r.receiveRequest(req, source, local);
        this.emit(req.method, req);
      },
      receiveResponse: (res: SipResponse, source: Endpoint, local: Endpoint) => r.receiveResponse(res, source, local),
    });
  }
  send(msg: SipMessage, to: Endpoint, onError?: SendErrorHandler): void {
    this.sent.push(msg);
    this.inner.send(msg, to, onError);
  }
  sendResponse(res: SipResponse, source: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void {
    this.sent.push(res);
    this.inner.sendResponse(res, source, onError, local);
  }
  sendResponseBytes(data: Buffer, to: Endpoint, onError?: SendErrorHandler, local?: Endpoint): void {
    const msg = parseMessage(data);
    if (msg instanceof SipParseError) throw msg;
    this.sent.push(msg);
    this.inner.sendResponseBytes(data, to, onError, local);
  }
  localEndpoint(t: TransportProtocol): Endpoint {
    return this.inner.localEndpoint(t);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  count(what: string): number {
    return this.sent.filter((m) => (m.kind === 'request' ? m.method : String(m.status)) === what).length;
  }
}

async function stack(
  transport: TransportProtocol = 'udp',
): Promise<{ net: Observed; layer: TransactionLayer; port: number; close: () => Promise<void> }> {
  const tl = await TransportLayer.listen({ listen: [{ transport, host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
  const net = new Observed(tl);
  const layer = new TransactionLayer(net, { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
  return {
    net,
    layer,
    port: tl.localEndpoint(transport).port,
    close: async () => {
      layer.close();
      await net.close();
    },
  };
}

function invite(port: number): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri: `sip:uas@127.0.0.1:${port}`,
    headers: [
      ['Max-Forwards', '70'],
      ['From', '<sip:uac@127.0.0.1>;tag=uac-1'],
      ['To', `<sip:uas@127.0.0.1:${port}>`],
      ['Call-ID', `sipp-${port}@127.0.0.1`],
      ['CSeq', '1 INVITE'],
      ['Contact', '<sip:uac@127.0.0.1>'],
    ],
  });
}

test('INVITE server: the unacknowledged 486 is retransmitted (Timer G) until sipp ACKs it late', async () => {
  const s = await stack();
  const txs: ServerTransaction[] = [];
  s.layer.onRequest((_req, tx) => {
    if (tx === undefined) return;
    txs.push(tx);
    tx.reply(486);
  });
  try {
    const acked = once(s.net, 'ACK', wait());
    const res = await runSipp(['-sf', `${SCENARIOS}uac-ignores-first-final.xml`, `127.0.0.1:${s.port}`, ...SIPP_BOUNDS]);
    assert.equal(res.code, 0, res.stdout.slice(-2000));
    await acked;
    assert.equal(txs.length, 1);
    assert.ok(s.net.count('486') >= 2, `486 sent ${s.net.count('486')} times`);
    assert.equal(txs[0]?.state, 'confirmed');
  } finally {
    await s.close();
  }
});

test('non-INVITE server: a retransmitted OPTIONS gets the same 200 again and reaches the TU once', async () => {
  const s = await stack();
  let seen = 0;
  s.layer.onRequest((_req, tx) => {
    if (tx === undefined) return;
    seen++;
    tx.reply(200);
  });
  try {
    const res = await runSipp(['-sf', `${SCENARIOS}uac-retransmits-options.xml`, `127.0.0.1:${s.port}`, '-nr', ...SIPP_BOUNDS]);
    assert.equal(res.code, 0, res.stdout.slice(-2000));
    assert.equal(seen, 1);
    assert.equal(s.net.count('200'), 2);
    assert.equal(s.layer.size.server, 1, 'Timer J keeps the transaction to absorb more retransmissions');
  } finally {
    await s.close();
  }
});

test('INVITE client: unanswered INVITE is retransmitted (Timer A); the late 486 is ACKed once per final', async () => {
  const s = await stack();
  const sipp = await startSipp(['-sf', `${SCENARIOS}uas-late-final.xml`, ...SIPP_BOUNDS]);
  try {
    const user = recorder();
    const tx = s.layer.sendRequest(invite(sipp.port), { transport: 'udp', host: '127.0.0.1', port: sipp.port }, user);
    const res = await sipp.done;
    assert.equal(res.code, 0, res.stdout.slice(-2000));
    assert.ok(s.net.count('INVITE') >= 2, `INVITE sent ${s.net.count('INVITE')} times`);
    assert.deepEqual(user.responses.map((r) => r.status), [486]);
    assert.ok(s.net.count('ACK') >= 1);
    assert.equal(tx.state, 'completed');
  } finally {
    await s.close();
  }
});

for (const transport of ['udp', 'tcp'] as const) {
test(`CANCEL against our UAS over ${transport}: 200 to the CANCEL, 487 to the INVITE, ACK absorbed`, async () => {
  const s = await stack(transport);
  const cancelled: ServerTransaction[] = [];
  s.layer.onRequest((_req, tx) => {
    if (tx === undefined) return;
    tx.reply(180);
    tx.onCancel = (_cancel, inviteTx) => {
      cancelled.push(inviteTx);
      inviteTx.reply(487);
    };
  });
  try {
    const acked = once(s.net, 'ACK', wait());
    const res = await runSipp(['-sf', `${SCENARIOS}uac-cancel.xml`, `127.0.0.1:${s.port}`, '-t', sippTransport(transport), ...SIPP_BOUNDS]);
    assert.equal(res.code, 0, res.stdout.slice(-2000));
    await acked;
    assert.equal(cancelled.length, 1);
    // Timer I is zero on TCP (§17.2.1).
    assert.equal(cancelled[0]?.state, transport === 'udp' ? 'confirmed' : 'terminated');
  } finally {
    await s.close();
  }
});

test(`our CANCEL over ${transport}: sent after the 180 with the INVITE branch; the INVITE ends with 487 and its ACK`, async () => {
  const s = await stack(transport);
  const sipp = await startSipp(['-sf', `${SCENARIOS}uas-cancel.xml`, '-t', sippTransport(transport), ...SIPP_BOUNDS]);
  try {
    // Over UDP a lost first INVITE is retransmitted; over TCP the connection must find sipp listening.
    if (transport === 'tcp') await waitForTcpListener(sipp.port);
    const cancelUser = recorder();
    const user = recorder();
    const dest: Endpoint = { transport, host: '127.0.0.1', port: sipp.port };
    const tx = s.layer.sendRequest(invite(sipp.port), dest, {
      onResponse(res, t) {
        user.onResponse(res, t);
        if (res.status === 180) t.cancel(cancelUser);
      },
      onError: user.onError,
    });
    const res = await sipp.done;
    assert.equal(res.code, 0, res.stdout.slice(-2000));
    assert.deepEqual(user.responses.map((r) => r.status), [180, 487]);
    assert.deepEqual(cancelUser.responses.map((r) => r.status), [200]);
    const cancel = s.net.sent.find((m) => m.kind === 'request' && m.method === 'CANCEL');
    assert.equal(cancel?.topVia.branch, tx.branch);
  } finally {
    await s.close();
  }
});
}
