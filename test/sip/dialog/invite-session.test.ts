import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InviteSession,
  glareBackoffMs,
  transition,
  type InviteSessionContext,
  type InviteSessionInput,
  type InviteSessionState,
  type InviteSessionPorts,
  type TerminationReason,
} from '../../../src/sip/dialog/invite-session.ts';
import { FakeClock } from './fake-clock.ts';

const T1 = 500;
const T2 = 4000;

function harness(ctx: Partial<InviteSessionContext> = {}) {
  const clock = new FakeClock();
  const log: string[] = [];
  const retransmitTimes: number[] = [];
  const ports: InviteSessionPorts = {
    retransmit2xx: () => retransmitTimes.push(clock.now),
    sendBye: () => log.push(`bye@${clock.now}`),
    rejectInvite: (status, retryAfter) => log.push(`reject ${status}${retryAfter === undefined ? '' : ` ${retryAfter}`}`),
    retryInvite: () => log.push(`retry@${clock.now}`),
    terminated: (reason: TerminationReason) => log.push(`terminated ${reason}`),
  };
  const session = new InviteSession(
    { t1Ms: T1, t2Ms: T2, callIdOwner: true, random: () => 0.5, ...ctx },
    ports,
    clock,
  );
  return { clock, log, retransmitTimes, session };
}

test('2xx is retransmitted at T1 doubling up to T2 until the ACK arrives', () => {
  const { clock, retransmitTimes, session, log } = harness();
  session.handle({ type: '2xxSent', cseq: 1 });
  clock.advance(10_000);
  // T1=500: 500, 1500 (+1000), 3500 (+2000), 7500 (+4000 = T2), then every T2.
  assert.deepEqual(retransmitTimes, [500, 1500, 3500, 7500]);
  session.handle({ type: 'ackReceived', cseq: 1 });
  assert.equal(session.state.name, 'confirmed');
  assert.equal(clock.pendingCount, 0);
  clock.advance(60_000);
  assert.equal(retransmitTimes.length, 4);
  assert.deepEqual(log, []);
});

test('an ACK for another CSeq does not stop the retransmissions', () => {
  const { clock, retransmitTimes, session } = harness();
  session.handle({ type: '2xxSent', cseq: 2 });
  session.handle({ type: 'ackReceived', cseq: 1 });
  assert.equal(session.state.name, 'waitingAck');
  clock.advance(600);
  assert.equal(retransmitTimes.length, 1);
});

test('no ACK within 64*T1: the session sends BYE and terminates', () => {
  const { clock, retransmitTimes, session, log } = harness();
  session.handle({ type: '2xxSent', cseq: 1 });
  clock.advance(64 * T1 - 1);
  assert.deepEqual(log, []);
  clock.advance(1);
  assert.deepEqual(log, [`bye@${64 * T1}`, 'terminated ack-timeout']);
  assert.equal(session.state.name, 'terminated');
  assert.equal(clock.pendingCount, 0);
  // 500,1500,3500,7500 then every 4000 up to < 32000: 11500 .. 31500 (6 more).
  assert.equal(retransmitTimes.length, 10);
  session.handle({ type: 'ackReceived', cseq: 1 });
  assert.equal(session.state.name, 'terminated');
});

test('a re-INVITE while ours is pending is answered 491', () => {
  const { session, log } = harness();
  session.handle({ type: 'answered' });
  session.handle({ type: 'inviteSent', cseq: 2 });
  const effects = session.handle({ type: 'inviteReceived', cseq: 5 });
  assert.deepEqual(effects, [{ type: 'rejectInvite', status: 491 }]);
  assert.deepEqual(log, ['reject 491']);
  assert.equal(session.state.incomingInvite, null);
});

test('a second INVITE before our final response to the first is answered 500 with Retry-After 0-10', () => {
  const { session, log } = harness({ random: () => 0.99 });
  session.handle({ type: 'answered' });
  assert.deepEqual(session.handle({ type: 'inviteReceived', cseq: 5 }), []);
  session.handle({ type: 'inviteReceived', cseq: 6 });
  assert.deepEqual(log, ['reject 500 10']);
  session.handle({ type: 'inviteRejected', cseq: 5 });
  assert.deepEqual(session.handle({ type: 'inviteReceived', cseq: 7 }), []);
});

test('an INVITE arriving while our 2xx still waits for its ACK is answered 500', () => {
  const { session, log } = harness({ random: () => 0 });
  session.handle({ type: '2xxSent', cseq: 1 });
  session.handle({ type: 'inviteReceived', cseq: 2 });
  assert.deepEqual(log, ['reject 500 0']);
});

test('491 to our re-INVITE: retried after the §14.1 back-off (Call-ID owner 2.1-4 s)', () => {
  const { clock, session, log } = harness({ callIdOwner: true, random: () => 0.5 });
  session.handle({ type: 'answered' });
  session.handle({ type: 'inviteSent', cseq: 2 });
  session.handle({ type: 'inviteResponse', cseq: 2, status: 491 });
  assert.equal(session.state.outgoingInvite, null);
  clock.advance(3049);
  assert.deepEqual(log, []);
  clock.advance(1);
  assert.deepEqual(log, ['retry@3050']);
});

test('491 back-off for the side that does not own the Call-ID is 0-2 s', () => {
  const { clock, session, log } = harness({ callIdOwner: false, random: () => 0.999 });
  session.handle({ type: 'answered' });
  session.handle({ type: 'inviteSent', cseq: 2 });
  session.handle({ type: 'inviteResponse', cseq: 2, status: 491 });
  clock.advance(1990);
  assert.deepEqual(log, ['retry@1990']);
});

test('glare back-off bounds and 10 ms units', () => {
  assert.equal(glareBackoffMs(true, () => 0), 2100);
  assert.equal(glareBackoffMs(true, () => 0.999999), 3990);
  assert.equal(glareBackoffMs(false, () => 0), 0);
  assert.equal(glareBackoffMs(false, () => 0.999999), 1990);
  assert.equal(glareBackoffMs(false, () => 0.123456) % 10, 0);
});

test('BYE ends the session and cancels pending timers', () => {
  const { clock, session, log } = harness();
  session.handle({ type: '2xxSent', cseq: 1 });
  session.handle({ type: 'byeReceived' });
  assert.equal(clock.pendingCount, 0);
  assert.deepEqual(log, ['terminated bye-received']);
});

test('dispose releases every timer without effects', () => {
  const { clock, session, log, retransmitTimes } = harness();
  session.handle({ type: '2xxSent', cseq: 1 });
  session.dispose();
  assert.equal(clock.pendingCount, 0);
  clock.advance(60_000);
  assert.deepEqual(log, []);
  assert.deepEqual(retransmitTimes, []);
});

test('a move keeps the fields its transition does not set, and every state has the fields in one order', () => {
  const ctx: InviteSessionContext = { t1Ms: T1, t2Ms: T2, callIdOwner: true, random: () => 0.5 };
  const busy: InviteSessionState = {
    name: 'early',
    ackCSeq: null,
    retransmitMs: 0,
    outgoingInvite: 7,
    incomingInvite: 3,
    glareRetryPending: true,
  };
  const FIELDS = ['name', 'ackCSeq', 'retransmitMs', 'outgoingInvite', 'incomingInvite', 'glareRetryPending'];
  const cases: Array<[InviteSessionState, InviteSessionInput, InviteSessionState]> = [
    [busy, { type: 'answered' }, { ...busy, name: 'confirmed' }],
    [busy, { type: '2xxSent', cseq: 3 }, { ...busy, name: 'waitingAck', ackCSeq: 3, retransmitMs: T1, incomingInvite: null }],
    [busy, { type: '2xxSent', cseq: 4 }, { ...busy, name: 'waitingAck', ackCSeq: 4, retransmitMs: T1 }],
    [{ ...busy, name: 'waitingAck', ackCSeq: 4, retransmitMs: 1000 }, { type: 'ackReceived', cseq: 4 }, { ...busy, name: 'confirmed', ackCSeq: null, retransmitMs: 0 }],
    [{ ...busy, name: 'confirmed' }, { type: 'byeSent' }, { ...busy, name: 'terminated' }],
    [{ ...busy, name: 'waitingAck', ackCSeq: 4, retransmitMs: 1000 }, { type: 'timer', timer: 'ackTimeout' }, { ...busy, name: 'terminated', ackCSeq: null, retransmitMs: 1000 }],
  ];
  for (const [from, input, expected] of cases) {
    const next = transition(from, input, ctx).state;
    assert.deepEqual(next, expected, `${from.name} ${input.type}`);
    assert.deepEqual(Object.keys(next), FIELDS);
  }
});
