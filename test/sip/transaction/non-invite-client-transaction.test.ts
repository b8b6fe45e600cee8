import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransactionTimeoutError } from '../../../src/sip/transaction/index.ts';
import { TransportError } from '../../../src/sip/transport/index.ts';
import { outgoing, recorder, responseTo, settle, setup, takeRequest } from './helpers.ts';

/** Times (ms since start) at which the request was sent again, firing timers until none is left. */
function retransmissionTimes(t: ReturnType<typeof setup>, untilMs: number): number[] {
  const times: number[] = [];
  while (t.timers.now < untilMs) {
    const before = t.net.sent.length;
    if (t.timers.fireNext() === undefined) break;
    if (t.net.sent.length > before) times.push(t.timers.now);
  }
  return times;
}

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  test('UDP Trying: Timer E doubles from T1 up to T2, Timer F times out at 64*T1', () => {
    const t = setup();
    const user = recorder();
    const tx = t.layer.sendRequest(outgoing('OPTIONS'), t.peer, user);
    assert.equal(tx.state, 'trying');
    assert.deepEqual(t.timers.pending(), [
      { name: 'E', dueInMs: 500 },
      { name: 'F', dueInMs: 32000 },
    ]);
    const times = retransmissionTimes(t, 40_000);
    // 500, +1000, +2000, then every T2 (4000) until F at 32000.
    assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    const err = user.errors[0];
    assert.ok(err instanceof TransactionTimeoutError);
    assert.equal(err.timer, 'F');
    assert.equal(err.method, 'OPTIONS');
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(tx.runningTimers(), []);
    assert.equal(t.layer.size.client, 0);
  });

  test('Proceeding: Timer E fires every T2, the 1xx reaches the TU, F still times out', () => {
    const t = setup();
    const user = recorder();
    const tx = t.layer.sendRequest(outgoing('REGISTER'), t.peer, user);
    const req = takeRequest(t.net);
    t.net.inject(responseTo(req, 100), t.peer);
    assert.equal(tx.state, 'proceeding');
    assert.deepEqual(user.responses.map((r) => r.status), [100]);
    t.timers.advance(500); // the E started in Trying
    assert.equal(t.net.takeSent().length, 1);
    t.timers.advance(3999);
    assert.equal(t.net.sent.length, 0);
    t.timers.advance(1);
    assert.equal(t.net.takeSent().length, 1, 'E is reset to T2 in Proceeding');
    t.timers.advance(32_000);
    assert.ok(user.errors[0] instanceof TransactionTimeoutError);
  });

  test('a final response completes it: passed once, retransmissions absorbed, Timer K (T4) ends it', () => {
    const t = setup();
    const user = recorder();
    const tx = t.layer.sendRequest(outgoing('BYE'), t.peer, user);
    const req = takeRequest(t.net);
    t.net.inject(responseTo(req, 200), t.peer);
    assert.equal(tx.state, 'completed');
    assert.deepEqual(t.timers.pending(), [{ name: 'K', dueInMs: 5000 }]);
    t.net.inject(responseTo(req, 200), t.peer);
    t.net.inject(responseTo(req, 180), t.peer);
    assert.deepEqual(user.responses.map((r) => r.status), [200]);
    t.timers.advance(5000);
    assert.equal(tx.state, 'terminated');
    assert.equal(t.layer.size.client, 0);
    assert.equal(t.net.sent.length, 0, 'no retransmission after the final response');
  });

  test('a TU that lets go of it on its final response ends it at once, without Timer K', () => {
    const t = setup();
    const strays: number[] = [];
    t.layer.onStrayResponse((res) => strays.push(res.status));
    let tx: ReturnType<typeof t.layer.sendRequest> | undefined;
    const statuses: number[] = [];
    tx = t.layer.sendRequest(outgoing('BYE'), t.peer, {
      onResponse(res, from) {
        statuses.push(res.status);
        if (res.status >= 200) from.releaseUser();
      },
      onError() {},
    });
    const req = takeRequest(t.net);
    t.net.inject(responseTo(req, 100), t.peer);
    assert.equal(tx.state, 'proceeding');
    t.net.inject(responseTo(req, 200), t.peer);
    assert.equal(tx.state, 'terminated');
    assert.equal(t.layer.size.client, 0);
    assert.deepEqual(t.timers.pending(), []);
    t.net.inject(responseTo(req, 200), t.peer);
    assert.deepEqual(statuses, [100, 200], 'a retransmitted final matches nothing and is dropped');
    assert.deepEqual(strays, [], 'only an INVITE 2xx is handed to the stray handler');
    tx = undefined;
  });

  test('a final response in Proceeding completes it too', () => {
    const t = setup();
    const user = recorder();
    const tx = t.layer.sendRequest(outgoing('INFO'), t.peer, user);
    const req = takeRequest(t.net);
    t.net.inject(responseTo(req, 180), t.peer);
    t.net.inject(responseTo(req, 481), t.peer);
    assert.equal(tx.state, 'completed');
    assert.deepEqual(user.responses.map((r) => r.status), [180, 481]);
  });

  test('TCP: no Timer E, and Timer K is zero', () => {
    const t = setup('tcp');
    const user = recorder();
    const tx = t.layer.sendRequest(outgoing('OPTIONS'), t.peer, user);
    assert.deepEqual(t.timers.pending(), [{ name: 'F', dueInMs: 32000 }]);
    t.net.inject(responseTo(takeRequest(t.net), 200), t.peer);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(t.timers.pending(), []);
  });

  test('a transport error is reported to the TU and ends the transaction', async () => {
    const t = setup();
    const user = recorder();
    t.net.failNextSends(1);
    const tx = t.layer.sendRequest(outgoing('MESSAGE'), t.peer, user);
    await settle();
    assert.ok(user.errors[0] instanceof TransportError);
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(t.timers.pending(), []);
  });

  test('a transport error on a retransmission (Proceeding) is reported too', async () => {
    const t = setup();
    const user = recorder();
    const tx = t.layer.sendRequest(outgoing('MESSAGE'), t.peer, user);
    t.net.inject(responseTo(takeRequest(t.net), 100), t.peer);
    t.net.failNextSends(1);
    t.timers.advance(500);
    await settle();
    assert.ok(user.errors[0] instanceof TransportError);
    assert.equal(tx.state, 'terminated');
  });
});
