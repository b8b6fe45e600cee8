import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportProtocol } from '../../../src/sip/transport/endpoint.ts';
import { CallCancelledError, SipResponseError } from '../../../src/sip/ua/errors.ts';
import { startSipp, startUa } from './sipp.ts';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

function target(port: number, transport: TransportProtocol): string {
  return `sip:service@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`our UAC over ${transport}: ringing, 200 with SDP, ACK, BYE (uas-answer.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-answer.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    const statuses: number[] = [];
    call.on('progress', (res) => statuses.push(res.status));
    const answer = await call.answered;
    assert.ok(statuses.includes(180));
    assert.match(answer.sdp ?? '', /m=audio \d+ RTP\/AVP 0/);
    assert.equal(node.ua.sessionCount, 1);
    await call.bye();
    assert.equal(node.ua.sessionCount, 0);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: 486 fails the call and is ACKed (uas-busy.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-busy.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    await assert.rejects(call.answered, (err: unknown) => err instanceof SipResponseError && err.status === 486);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test(`our UAC over ${transport}: CANCEL while ringing ends in 487 and CallCancelledError (uas-ring-cancel.xml)`, async (t) => {
    const node = await startUa();
    t.after(() => node.close());
    const sipp = await startSipp('uas-ring-cancel.xml', transport);
    t.after(() => sipp.stop());
    const call = node.ua.invite({ target: target(sipp.port, transport), from: 'sip:pbx@127.0.0.1', sdp: OFFER });
    await new Promise<void>((resolve) => call.on('progress', (res) => res.status === 180 && resolve()));
    call.cancel();
    await assert.rejects(call.answered, CallCancelledError);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
}
