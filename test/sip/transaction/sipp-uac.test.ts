import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransactionLayer } from '../../../src/sip/transaction/index.ts';
import { TransportLayer } from '../../../src/sip/transport/index.ts';
import { minimalUas } from './minimal-uas.ts';
import { runSipp } from './sipp.ts';

for (const transport of ['udp', 'tcp'] as const) {
  test(`sipp -sn uac completes 20 calls against our UAS over ${transport}`, async () => {
    const tl = await TransportLayer.listen({ listen: [{ transport, host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    const layer = new TransactionLayer(tl, { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
    const port = tl.localEndpoint(transport).port;
    const uas = minimalUas(`sip:uas@127.0.0.1:${port};transport=${transport}`);
    layer.onRequest(uas.handler);
    try {
      const res = await runSipp([
        '-sn', 'uac', `127.0.0.1:${port}`, '-t', transport === 'udp' ? 'u1' : 't1',
        '-m', '20', '-r', '50', '-timeout', '15', '-timeout_error', '-max_recv_loops', '1000',
      ]);
      assert.equal(res.code, 0, `sipp failed:\n${res.stdout.slice(-3000)}\n${res.stderr}`);
      assert.equal(uas.acks(), 20);
    } finally {
      layer.close();
      await tl.close();
    }
  });
}
