import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallState } from '../../src/calls/call-state.ts';
import { createCall, transition, type CallEffect, type CallInput } from '../../src/calls/origination-machine.ts';
import type { PlannedLeg } from '../../src/calls/ports.ts';

const phone = (ext: string, n: number) => ({ kind: 'phone' as const, accountId: `1${ext}`, extension: ext, contact: `sip:${ext}-${n}@127.0.0.1:${5000 + n}`, sendTo: { transport: 'udp' as const, host: '127.0.0.1', port: 5000 + n } });
const trunk = (number: string, isFinal: boolean, name = 'carrier') => ({ trunk: name, number, rule: `r-${name}`, isFinal });

function newCall(first: PlannedLeg, second: PlannedLeg, autoAnswer = true): CallState {
  return createCall({
    id: 'c1',
    at: 1000,
    first: { plan: first, callerId: { name: 'Tester', number: second.dialed, external: second.dialed }, autoAnswer, timeoutMs: 30_000 },
    second: { plan: second, callerId: { name: 'Alice', number: '101', external: '' }, timeoutMs: 20_000 },
    maxCallMs: 0,
    variables: [{ name: 'balance', value: '300' }],
  });
}

const twoPhones: PlannedLeg = { dialed: '101', steps: [{ targets: [phone('101', 1), phone('101', 2)], ringSeconds: null }] };
const outside: PlannedLeg = { dialed: '915551234567', steps: [{ targets: [{ kind: 'trunk', attempts: [trunk('15551234567', true)] }], ringSeconds: null }] };

/** Feeds inputs in order; returns the final state and every effect, by input. */
function run(state: CallState, ...inputs: CallInput[]): { state: CallState; effects: CallEffect[][] } {
  const effects: CallEffect[][] = [];
  let s = state;
  for (const input of inputs) {
    const t = transition(s, input);
    s = t.state;
    effects.push([...t.effects]);
  }
  return { state: s, effects };
}

const types = (fx: readonly CallEffect[]) => fx.map((e) => e.type);
const dials = (fx: readonly CallEffect[]) => fx.flatMap((e) => (e.type === 'dial' ? [e.request] : []));

test('start rings every target of the first step at once, auto-answer only toward phones', () => {
  const first: PlannedLeg = {
    dialed: '101',
    steps: [{ targets: [phone('101', 1), { kind: 'trunk', attempts: [trunk('5550001', true)] }], ringSeconds: null }],
  };
  const { state, effects } = run(newCall(first, outside), { type: 'start', at: 1000 });
  const d = dials(effects[0]!);
  assert.equal(d.length, 2);
  assert.deepEqual(d.map((r) => [r.target.kind, r.autoAnswer]), [['phone', true], ['trunk', false]]);
  assert.deepEqual(d[0]!.callerId, { name: 'Tester', number: '915551234567', external: '915551234567' });
  assert.deepEqual(effects[0]!.find((e) => e.type === 'startTimer'), { type: 'startTimer', timer: 'ring_first', ms: 30_000 });
  assert.equal(state.timers.ring_first, 31_000);
  assert.equal(state.legs.first.ringAt, 1000);
});

test('first 2xx wins: the other forks are cancelled, ringback starts toward the phone offer, a late 2xx is discarded', () => {
  const { state, effects } = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.2', sdp: 'offer1', dialog: null },
    { type: 'fork.answered', at: 2001, forkId: 'c1.1', sdp: 'late', dialog: null },
  );
  assert.deepEqual(effects[1], [
    { type: 'cancel', forkId: 'c1.1' },
    { type: 'cancelTimer', timer: 'ring_first' },
    { type: 'startRingback', offerSdp: 'offer1' },
  ]);
  assert.deepEqual(effects[2], [{ type: 'discard', forkId: 'c1.1' }]);
  assert.equal(state.phase, 'preparing_ringback');
  assert.equal(state.legs.first.winner, 'c1.2');
  assert.equal(state.legs.first.answerAt, 2000);
});

test('full flow: ringback answer ACKs leg 1, API is answered, leg 2 dialed, offer2 re-INVITEd, answer1 ACKs leg 2', () => {
  const { state, effects } = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt-answer' },
    { type: 'fork.progress', at: 2500, forkId: 'c1.3', status: 180 },
    { type: 'fork.answered', at: 3000, forkId: 'c1.3', sdp: 'offer2', dialog: null },
    { type: 'reinvite.answered', at: 3050, forkId: 'c1.1', sdp: 'answer1' },
  );
  assert.deepEqual(types(effects[2]!), ['ack', 'startTimer', 'dial', 'replyAnswered']);
  assert.deepEqual(effects[2]![0], { type: 'ack', forkId: 'c1.1', sdp: 'rbt-answer' });
  const leg2 = dials(effects[2]!)[0]!;
  assert.deepEqual(leg2.callerId, { name: 'Alice', number: '101', external: '' });
  assert.equal(leg2.autoAnswer, false);
  assert.deepEqual(effects[3], []);
  assert.deepEqual(effects[4], [
    { type: 'cancelTimer', timer: 'ring_second' },
    { type: 'stopRingback' },
    { type: 'reinvite', forkId: 'c1.1', sdp: 'offer2' },
  ]);
  // The bridge also starts relaying re-INVITEs between the two parties (RFC 3725 §5).
  assert.deepEqual(effects[5], [
    { type: 'ack', forkId: 'c1.3', sdp: 'answer1' },
    { type: 'relay', first: 'c1.1', second: 'c1.3' },
  ]);
  assert.equal(state.phase, 'bridged');
  assert.equal(state.bridgedAt, 3050);
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state, 'state survives a JSON round trip');
});

const bridged = (): CallState =>
  run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
    { type: 'fork.answered', at: 3000, forkId: 'c1.3', sdp: 'offer2', dialog: null },
    { type: 'reinvite.answered', at: 3050, forkId: 'c1.1', sdp: 'answer1' },
  ).state;

/** Freezes a state and everything in it, so that any write to it throws (ES modules run in strict mode). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

test('a transition never writes to the state it was given, and shares the parts it did not change', () => {
  const inputs: CallInput[] = [
    { type: 'start', at: 1000 },
    { type: 'fork.sent', at: 1001, forkId: 'c1.1', invite: { uri: 'sip:101@h', via: 'v', from: 'f', to: 't', callId: 'x', cseq: 1, routes: [], peer: { transport: 'udp', host: 'h', port: 5060 } } },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
    { type: 'fork.failed', at: 2020, forkId: 'c1.2', status: 487, reason: 'cancelled' },
    { type: 'fork.answered', at: 3000, forkId: 'c1.3', sdp: 'offer2', dialog: null },
    { type: 'reinvite.answered', at: 3050, forkId: 'c1.1', sdp: 'answer1' },
    { type: 'fork.ended', at: 9000, forkId: 'c1.3' },
  ];
  let state = deepFreeze(newCall(twoPhones, outside));
  for (const input of inputs) {
    const before = JSON.stringify(state);
    const next = transition(state, input).state;
    assert.equal(JSON.stringify(state), before, `${input.type} changed its input`);
    for (const [i, fork] of next.forks.entries()) {
      const old = state.forks.find((f) => f.id === fork.id);
      if (old && JSON.stringify(old) === JSON.stringify(fork)) assert.equal(fork, old, `${input.type} copied unchanged fork ${i}`);
    }
    state = deepFreeze(next);
  }
  assert.equal(state.phase, 'ended');
  assert.equal(state.endReason, 'second_hung_up');
});

test('BYE from either party after the bridge hangs up the other', () => {
  for (const [from, other] of [['c1.1', 'c1.3'], ['c1.3', 'c1.1']] as const) {
    const { state, effects } = run(bridged(), { type: 'fork.ended', at: 9000, forkId: from });
    assert.deepEqual(effects[0], [{ type: 'bye', forkId: other }]);
    assert.equal(state.phase, 'ended');
    assert.equal(state.endReason, from === 'c1.1' ? 'first_hung_up' : 'second_hung_up');
    assert.equal(state.legs.first.endAt, 9000);
    assert.equal(state.legs.second.endAt, 9000);
  }
});

test('a 491 to the bridging re-INVITE is retried after the glare timer', () => {
  const { state, effects } = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
    { type: 'fork.answered', at: 3000, forkId: 'c1.3', sdp: 'offer2', dialog: null },
    { type: 'reinvite.failed', at: 3010, forkId: 'c1.1', status: 491 },
    { type: 'timer', at: 6000, timer: 'glare' },
    { type: 'reinvite.answered', at: 6050, forkId: 'c1.1', sdp: 'answer1' },
  );
  const glare = effects[4]![0];
  assert.ok(glare?.type === 'startTimer' && glare.timer === 'glare' && glare.ms >= 2100 && glare.ms <= 4000);
  assert.deepEqual(effects[5], [{ type: 'reinvite', forkId: 'c1.1', sdp: 'offer2' }]);
  assert.equal(state.phase, 'bridged');
});

test('a re-INVITE refused otherwise ends the call: BYE to leg 1, the unACKed leg 2 is discarded', () => {
  const s = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
    { type: 'fork.answered', at: 3000, forkId: 'c1.3', sdp: 'offer2', dialog: null },
  ).state;
  const { state, effects } = run(s, { type: 'reinvite.failed', at: 3010, forkId: 'c1.1', status: 488 });
  assert.deepEqual(effects[0], [{ type: 'bye', forkId: 'c1.1' }, { type: 'discard', forkId: 'c1.3' }]);
  assert.equal(state.endReason, 'bridge_failed');
});

test('first leg busy on every fork: the API gets busy, nothing else rings', () => {
  const { state, effects } = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.failed', at: 1100, forkId: 'c1.1', status: 486, reason: 'Busy Here' },
    { type: 'fork.failed', at: 1200, forkId: 'c1.2', status: 480, reason: 'Unavailable' },
  );
  assert.deepEqual(effects[1], []);
  assert.deepEqual(effects[2], [{ type: 'cancelTimer', timer: 'ring_first' }, { type: 'replyFailed', reason: 'busy' }]);
  assert.equal(state.endReason, 'first_busy');
  assert.equal(state.legs.first.sipStatus, 486);
  assert.equal(state.legs.second.ringAt, null);
});

test('first leg not answered in time: its forks are cancelled and the API gets no_answer', () => {
  const { state, effects } = run(newCall(twoPhones, outside), { type: 'start', at: 1000 }, { type: 'timer', at: 31_000, timer: 'ring_first' });
  assert.deepEqual(effects[1], [
    { type: 'cancel', forkId: 'c1.1' },
    { type: 'cancel', forkId: 'c1.2' },
    { type: 'replyFailed', reason: 'no_answer' },
  ]);
  assert.equal(state.legs.first.outcome, 'no_answer');
  // The 487s to our CANCELs change nothing but the record.
  const after = run(state, { type: 'fork.failed', at: 31_010, forkId: 'c1.1', status: 487, reason: 'Request Terminated' });
  assert.deepEqual(after.effects[0], []);
  assert.equal(after.state.forks[0]!.sipStatus, 487);
});

test('cascade: when a step rings out its forks are cancelled and the next step rings', () => {
  const first: PlannedLeg = {
    dialed: '101',
    steps: [
      { targets: [phone('101', 1)], ringSeconds: 20 },
      { targets: [phone('102', 1), { kind: 'trunk', attempts: [trunk('5550002', true)] }], ringSeconds: null },
    ],
  };
  const { state, effects } = run(newCall(first, outside), { type: 'start', at: 1000 }, { type: 'timer', at: 21_000, timer: 'step' });
  assert.ok(effects[0]!.some((e) => e.type === 'startTimer' && e.timer === 'step' && e.ms === 20_000));
  assert.deepEqual(effects[1]![0], { type: 'cancel', forkId: 'c1.1' });
  assert.deepEqual(dials(effects[1]!).map((r) => [r.forkId, r.target.kind, r.autoAnswer]), [
    ['c1.2', 'phone', true],
    ['c1.3', 'trunk', false],
  ]);
  assert.equal(state.legs.first.step, 1);
  assert.equal(state.timers.step, undefined);
});

test('a busy step moves on to the next step at once', () => {
  const first: PlannedLeg = {
    dialed: '101',
    steps: [{ targets: [phone('101', 1)], ringSeconds: 20 }, { targets: [phone('102', 1)], ringSeconds: null }],
  };
  const { effects } = run(newCall(first, outside), { type: 'start', at: 1000 }, { type: 'fork.failed', at: 1500, forkId: 'c1.1', status: 486, reason: 'busy' });
  assert.deepEqual(dials(effects[1]!).map((r) => r.target), [phone('102', 1)]);
});

test('trunk attempts: a non-final rule failing with 503 falls through to the next attempt; a final one ends the leg', () => {
  const first: PlannedLeg = {
    dialed: '95551234',
    steps: [{ targets: [{ kind: 'trunk', attempts: [trunk('5551234', false, 'a'), trunk('5551234', true, 'b'), trunk('1', true, 'c')] }], ringSeconds: null }],
  };
  const { state, effects } = run(
    newCall(first, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.failed', at: 1100, forkId: 'c1.1', status: 503, reason: 'Service Unavailable' },
    { type: 'fork.failed', at: 1200, forkId: 'c1.2', status: 503, reason: 'Service Unavailable' },
  );
  assert.deepEqual(dials(effects[1]!).map((r) => r.target), [{ kind: 'trunk', attempt: trunk('5551234', true, 'b') }]);
  assert.deepEqual(dials(effects[2]!), []);
  assert.equal(state.endReason, 'first_unreachable');
});

test('a non-final trunk that is busy does not fall through', () => {
  const first: PlannedLeg = {
    dialed: '95551234',
    steps: [{ targets: [{ kind: 'trunk', attempts: [trunk('5551234', false, 'a'), trunk('5551234', true, 'b')] }], ringSeconds: null }],
  };
  const { state } = run(newCall(first, outside), { type: 'start', at: 1000 }, { type: 'fork.failed', at: 1100, forkId: 'c1.1', status: 486, reason: 'Busy' });
  assert.equal(state.endReason, 'first_busy');
});

test('the first party hanging up while the second rings cancels the second leg and stops ringback', () => {
  const s = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
  ).state;
  const { state, effects } = run(s, { type: 'fork.ended', at: 4000, forkId: 'c1.1' });
  assert.deepEqual(effects[0], [{ type: 'cancel', forkId: 'c1.3' }, { type: 'cancelTimer', timer: 'ring_second' }, { type: 'stopRingback' }]);
  assert.equal(state.endReason, 'first_hung_up');
  assert.equal(state.legs.second.outcome, 'cancelled');
});

test('second leg busy or not answered: leg 1 gets BYE, ringback stops, the API was already answered', () => {
  const ringingSecond = (): CallState =>
    run(
      newCall(twoPhones, outside),
      { type: 'start', at: 1000 },
      { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
      { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
    ).state;
  const busy = run(ringingSecond(), { type: 'fork.failed', at: 3000, forkId: 'c1.3', status: 486, reason: 'Busy' });
  assert.deepEqual(busy.effects[0], [{ type: 'bye', forkId: 'c1.1' }, { type: 'cancelTimer', timer: 'ring_second' }, { type: 'stopRingback' }]);
  assert.equal(busy.state.endReason, 'second_busy');
  const late = run(ringingSecond(), { type: 'timer', at: 22_010, timer: 'ring_second' });
  assert.deepEqual(types(late.effects[0]!), ['bye', 'cancel', 'stopRingback']);
  assert.equal(late.state.endReason, 'second_no_answer');
});

test('ringback that cannot start discards leg 1 and fails the API; hangup and timers after the end change nothing', () => {
  const { state, effects } = run(
    newCall(twoPhones, outside),
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.failed', at: 2010, reason: 'no RTP port' },
    { type: 'hangup', at: 2020, reason: 'api_hangup' },
    { type: 'timer', at: 2030, timer: 'ring_first' },
  );
  assert.deepEqual(effects[2], [{ type: 'discard', forkId: 'c1.1' }, { type: 'stopRingback' }, { type: 'replyFailed', reason: 'media_unavailable' }]);
  assert.deepEqual(effects[3], []);
  assert.deepEqual(effects[4], []);
  assert.equal(state.endReason, 'media_unavailable');
});

test('API hangup while leg 1 rings cancels every fork and fails the pending API call', () => {
  const { state, effects } = run(newCall(twoPhones, outside), { type: 'start', at: 1000 }, { type: 'hangup', at: 1500, reason: 'api_hangup' });
  assert.deepEqual(types(effects[1]!), ['cancel', 'cancel', 'cancelTimer', 'replyFailed']);
  assert.equal(state.phase, 'ended');
});

test('max call duration ends a bridged call with BYE to both', () => {
  const s = createCall({
    id: 'c1',
    at: 0,
    first: { plan: twoPhones, callerId: { name: 'x', number: '1', external: '1' }, autoAnswer: false, timeoutMs: 1000 },
    second: { plan: outside, callerId: { name: 'y', number: '2', external: '2' }, timeoutMs: 1000 },
    maxCallMs: 60_000,
    variables: [],
  });
  const { state, effects } = run(
    s,
    { type: 'start', at: 0 },
    { type: 'fork.answered', at: 10, forkId: 'c1.1', sdp: 'o1', dialog: null },
    { type: 'ringback.ready', at: 11, sdp: 'r' },
    { type: 'fork.answered', at: 20, forkId: 'c1.3', sdp: 'o2', dialog: null },
    { type: 'reinvite.answered', at: 30, forkId: 'c1.1', sdp: 'a1' },
    { type: 'timer', at: 60_030, timer: 'max_call' },
  );
  assert.deepEqual(effects[4]!.at(-1), { type: 'startTimer', timer: 'max_call', ms: 60_000 });
  assert.deepEqual(effects[5], [{ type: 'bye', forkId: 'c1.1' }, { type: 'bye', forkId: 'c1.3' }]);
  assert.equal(state.endReason, 'max_call_duration');
});
