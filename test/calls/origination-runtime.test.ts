import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OriginateFailedError, type OriginateRequest } from '../../src/calls/originator.ts';
import type { DialogSnapshot } from '../../src/calls/ports.ts';
import pino from 'pino';
import { account, fakeRuntime } from './fakes.ts';

function request(over: Partial<OriginateRequest> = {}): OriginateRequest {
  return {
    dialFirst: '102',
    dialSecond: '5551234',
    account,
    callerIdName: 'Reminder',
    variables: [
      { name: 'balance', value: '300' },
      { name: 'nope', value: '1' },
    ],
    timeout: 30,
    timeoutSecondCall: 30,
    ignoreUserApiSettings: false,
    ignoreUserCallRules: false,
    autoAnswer: true,
    requestedBy: 'admin',
    method: 'switchvox.call',
    ...over,
  };
}

/** Lets the promise callbacks (ringback start) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const dialog = (callId: string): DialogSnapshot => ({
  callId,
  localTag: 'lt',
  remoteTag: 'rt',
  local: '<sip:pbx@127.0.0.1>;tag=lt',
  remote: '<sip:102@127.0.0.1>;tag=rt',
  remoteTarget: 'sip:102@127.0.0.1:5999',
  routeSet: [],
  localCseq: 2,
  transport: 'udp',
  peer: { transport: 'udp', host: '127.0.0.1', port: 5999 },
});

test('originate answers once leg 1 answered and leg 2 is dialed; the bridge follows; BYE ends both; the record tells it', async () => {
  const { runtime, signalling, ringback, records, clock } = fakeRuntime();
  const pending = runtime.originate(request());
  assert.deepEqual(signalling.log, ['dial call1.1']);
  const leg1 = signalling.forks.get('call1.1')!.request;
  // A phone gets the second number as dialed; a carrier would get it as the trunk is dialed (no outside-line 9).
  assert.deepEqual(leg1.callerId, { name: 'Reminder', number: '95551234', external: '5551234' });
  assert.equal(leg1.autoAnswer, true);
  assert.deepEqual(runtime.listCalls()[0]!.legs.map((l) => l.state), ['ringing', 'routing']);
  clock.advance(1500);
  signalling.events('call1.1').answered('offer1', dialog('sip-1'));
  await settle();
  const result = await pending;
  assert.deepEqual(result, {
    callId: 'call1',
    dialedFirst: '102',
    dialedSecond: '95551234',
    variables: [
      { name: 'balance', status: 'exists', id: 3 },
      { name: 'nope', status: 'does_not_exist' },
    ],
  });
  assert.deepEqual(ringback.started, ['call1 offer1']);
  assert.deepEqual(signalling.log, ['dial call1.1', 'ack call1.1 rbt-answer-to-offer1', 'dial call1.2']);
  const leg2 = signalling.forks.get('call1.2')!.request;
  assert.equal(leg2.autoAnswer, false, 'no auto-answer toward the trunk');
  assert.deepEqual(leg2.callerId, { name: 'Alice Anders', number: '15550000101', external: '15550000101' });
  signalling.events('call1.2').answered('offer2', dialog('sip-2'));
  signalling.events('call1.1').reinviteAnswered('answer1');
  assert.deepEqual(signalling.log.slice(3), ['reinvite call1.1 offer2', 'ack call1.2 answer1', 'relay call1.1 call1.2']);
  assert.deepEqual(ringback.stopped, ['call1']);
  assert.equal(runtime.listCalls()[0]!.state, 'bridged');
  signalling.events('call1.2').ended();
  assert.deepEqual(signalling.log.slice(6), ['bye call1.1']);
  assert.deepEqual(runtime.listCalls(), []);
  const record = records.get('call1')!;
  assert.equal(record.state.endReason, 'second_hung_up');
  assert.equal(record.requestedBy, 'admin');
  assert.equal(record.state.legs.first.answerAt, 1_001_500);
  assert.equal(record.state.forks[0]!.dialog?.callId, 'sip-1');
  assert.equal(clock.timers.size, 0, 'no timer left behind');
});

test('no route on either leg: 41591 (OriginateFailedError) and nobody is rung, but the attempt is recorded', async () => {
  for (const over of [{ dialFirst: '55' }, { dialSecond: '66' }]) {
    const { runtime, signalling, records } = fakeRuntime();
    await assert.rejects(runtime.originate(request(over)), (err: unknown) => err instanceof OriginateFailedError && err.reason === 'no_route');
    assert.deepEqual(signalling.log, []);
    const [record] = records.records.values();
    assert.match(record!.state.endReason!, /_no_route$/);
  }
});

test('first leg not answered within the timeout: CANCEL, then 41591', async () => {
  const { runtime, signalling, clock } = fakeRuntime();
  const pending = runtime.originate(request({ timeout: 5 }));
  clock.advance(4999);
  assert.deepEqual(signalling.log, ['dial call1.1']);
  clock.advance(1);
  await assert.rejects(pending, (err: unknown) => err instanceof OriginateFailedError && err.reason === 'no_answer');
  assert.deepEqual(signalling.log, ['dial call1.1', 'cancel call1.1']);
});

test('timeout=0 rings until the server-wide cap', async () => {
  const { runtime, signalling, clock } = fakeRuntime({ maxRing: 60 });
  const pending = runtime.originate(request({ timeout: 0 }));
  clock.advance(59_999);
  assert.equal(signalling.log.length, 1);
  clock.advance(1);
  await assert.rejects(pending, OriginateFailedError);
});

test('busy first leg rejects with busy; the second number is never dialed', async () => {
  const { runtime, signalling } = fakeRuntime();
  const pending = runtime.originate(request());
  signalling.events('call1.1').failed(486, 'Busy Here');
  await assert.rejects(pending, (err: unknown) => err instanceof OriginateFailedError && err.reason === 'busy');
  assert.deepEqual(signalling.log, ['dial call1.1']);
});

test('ringback failing to start: the 2xx is discarded and the API gets 41591', async () => {
  const { runtime, signalling, ringback } = fakeRuntime();
  ringback.fail = true;
  const pending = runtime.originate(request());
  signalling.events('call1.1').answered('offer1', null);
  await assert.rejects(pending, (err: unknown) => err instanceof OriginateFailedError && err.reason === 'media_unavailable');
  assert.deepEqual(signalling.log, ['dial call1.1', 'discard call1.1']);
});

test('hangUp ends a live call, false for an unknown one; a 2xx for a forgotten call is still discarded', async () => {
  const { runtime, signalling } = fakeRuntime();
  const pending = runtime.originate(request());
  signalling.events('call1.1').answered('offer1', null);
  await pending;
  assert.equal(await runtime.hangUp('call1'), true);
  assert.deepEqual(signalling.log.slice(-2), ['bye call1.1', 'cancel call1.2']);
  assert.equal(await runtime.hangUp('call1'), false);
  signalling.events('call1.2').answered('late', null);
  assert.equal(signalling.log.at(-1), 'discard call1.2');
});

test('watchers see each change of a live call, the last with the ended state once the call left listCalls', async () => {
  const { runtime, signalling } = fakeRuntime();
  const seen: string[] = [];
  const stop = runtime.watch((callId, state) => seen.push(`${callId} ${state.phase} live=${runtime.listCalls().length}`));
  const pending = runtime.originate(request());
  signalling.events('call1.1').answered('offer1', null);
  await pending;
  await runtime.hangUp('call1');
  assert.deepEqual(seen.slice(0, 1), ['call1 ringing_first live=1']);
  assert.ok(seen.includes('call1 ringing_second live=1'), seen.join('; '));
  assert.equal(seen.at(-1), 'call1 ended live=0');
  stop();
  const count = seen.length;
  const again = runtime.originate(request());
  signalling.events('call2.1').failed(486, 'Busy Here');
  await assert.rejects(again);
  assert.equal(seen.length, count, 'a stopped watcher is told nothing');
});

test('recover closes calls a previous process left open, sending BYE on established dialogs', async () => {
  const before = fakeRuntime();
  const pending = before.runtime.originate(request());
  before.signalling.events('call1.1').answered('offer1', dialog('sip-1'));
  await pending;
  const records = before.records;
  const after = fakeRuntime();
  for (const r of records.records.values()) after.records.save(r);
  assert.equal(await after.runtime.recover(), 1);
  assert.deepEqual(after.signalling.byes.map((d) => d.callId), ['sip-1']);
  const record = after.records.get('call1')!;
  assert.equal(record.state.phase, 'ended');
  assert.equal(record.state.endReason, 'server_restart');
  assert.equal(record.state.legs.first.endAt, after.clock.now());
  assert.deepEqual(after.records.listOpen(), []);
});

test('one info line per origination tells its outcome: numbers, result, why it ended, durations; nothing else at info', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const { runtime, signalling, clock } = fakeRuntime({ logger });
  const pending = runtime.originate(request());
  clock.advance(1500);
  signalling.events('call1.1').answered('offer1', dialog('sip-1'));
  await settle();
  await pending;
  clock.advance(4000);
  signalling.events('call1.2').progress(180);
  signalling.events('call1.2').answered('offer2', dialog('sip-2'));
  signalling.events('call1.1').reinviteAnswered('answer1');
  clock.advance(60_000);
  signalling.events('call1.2').ended();
  await assert.rejects(runtime.originate(request({ dialSecond: 'nowhere' })), OriginateFailedError);
  assert.equal(lines.length, 2, JSON.stringify(lines));
  assert.deepEqual(
    { ...lines[0], level: undefined, time: undefined, pid: undefined, hostname: undefined },
    {
      level: undefined,
      time: undefined,
      pid: undefined,
      hostname: undefined,
      msg: 'call ended',
      callId: 'call1',
      accountId: account.account_id,
      dialedFirst: '102',
      dialedSecond: '95551234',
      result: 'bridged',
      endReason: 'second_hung_up',
      first: { outcome: 'answered', sipStatus: 200, ringMs: 1500 },
      second: { outcome: 'answered', sipStatus: 200, ringMs: 4000 },
      bridgedMs: 60_000,
      totalMs: 65_500,
    },
  );
  assert.equal(lines[0]!.level, 30);
  assert.equal(lines[1]!.msg, 'call ended');
  assert.equal(lines[1]!.endReason, 'second_no_route');
  assert.equal(lines[1]!.result, 'not_answered');
});

test('one save per turn: an INVITE reported sent while it is dialed is saved with the call it starts, a 180 saves nothing', () => {
  const { runtime, signalling, records } = fakeRuntime();
  const invite = {
    uri: 'sip:102@127.0.0.1:5999',
    via: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa',
    from: '<sip:pbx@127.0.0.1>;tag=lt',
    to: '<sip:102@127.0.0.1>',
    callId: 'sip-1',
    cseq: 1,
    routes: [],
    peer: { transport: 'udp' as const, host: '127.0.0.1', port: 5999 },
  };
  // As the SIP adapter does: the INVITE is out, and reported, before dial() returns.
  const dial = signalling.dial.bind(signalling);
  signalling.dial = (request, events) => {
    dial(request, events);
    events.sent(invite);
  };
  void runtime.originate(request()).catch(() => undefined);
  assert.equal(records.saves, 1);
  const saved = records.get('call1')!.state;
  assert.deepEqual(saved, JSON.parse(JSON.stringify(runtime.getState('call1'))));
  assert.deepEqual(saved.forks[0]!.invite, invite);
  signalling.events('call1.1').progress(180);
  assert.equal(records.saves, 1);
  runtime.hangUpAll('test');
  assert.equal(records.saves, 2);
  assert.equal(records.get('call1')!.state.phase, 'ended');
});
