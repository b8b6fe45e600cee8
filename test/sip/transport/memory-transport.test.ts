import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipResponse } from '../../../src/sip/message/index.ts';
import { ManualTimerPort, TransactionLayer } from '../../../src/sip/transaction/index.ts';
import { MemoryNetwork, TransportError } from '../../../src/sip/transport/index.ts';
import { outgoing, TIMERS } from '../transaction/helpers.ts';

test('MemoryNetwork: two transaction layers complete an OPTIONS transaction without sockets', async () => {
  const network = new MemoryNetwork();
  const a = network.transport({ transport: 'udp', host: '10.0.0.1', port: 5060 });
  const b = network.transport({ transport: 'udp', host: '10.0.0.2', port: 5060 });
  const timers = new ManualTimerPort();
  const uac = new TransactionLayer(a, TIMERS, timers);
  const uas = new TransactionLayer(b, TIMERS, timers);
  uas.onRequest((_req, tx) => tx?.reply(200));
  const done = new Promise<SipResponse>((resolve, reject) =>
    uac.sendRequest(outgoing('OPTIONS'), b.local, { onResponse: resolve, onError: reject }),
  );
  const res = await done;
  assert.equal(res.status, 200);
  // What each side sent, as the wire carried it: the request with our Via, the response with received/rport.
  assert.equal(a.sent[0]?.message.kind, 'request');
  const sentRes = b.sent[0]?.message;
  assert.equal(sentRes?.kind, 'response');
  assert.equal(sentRes?.topVia.rport, 5060);
  assert.deepEqual(b.sent[0]?.to, a.local);
});

test('MemoryTransport: failNextSends reports asynchronously; a closed transport fails every send', async () => {
  const network = new MemoryNetwork();
  const a = network.transport({ transport: 'udp', host: '10.0.0.1', port: 5060 });
  a.failNextSends(1);
  let sending = true;
  let calledWhileSending: boolean | undefined;
  const first = new Promise<TransportError>((resolve) =>
    a.send(outgoing('OPTIONS'), { transport: 'udp', host: '10.0.0.2', port: 5060 }, (e) => {
      calledWhileSending = sending;
      resolve(e);
    }),
  );
  sending = false;
  const err = await first;
  assert.ok(err instanceof TransportError);
  assert.equal(calledWhileSending, false);
  await a.close();
  const second = await new Promise<TransportError>((resolve) => a.send(outgoing('OPTIONS'), { transport: 'udp', host: '10.0.0.2', port: 5060 }, resolve));
  assert.match(second.message, /closed/);
});
