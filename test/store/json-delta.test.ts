import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallState } from '../../src/calls/call-state.ts';
import { createCall, transition, type CallInput } from '../../src/calls/origination-machine.ts';
import type { PlannedLeg } from '../../src/calls/ports.ts';
import { applyJsonDelta, jsonDelta, type Json } from '../../src/store/json-delta.ts';

const phone = (ext: string, n: number) => ({ kind: 'phone' as const, accountId: `1${ext}`, extension: ext, contact: `sip:${ext}-${n}@127.0.0.1:${5000 + n}`, sendTo: { transport: 'udp' as const, host: '127.0.0.1', port: 5000 + n } });
const twoPhones: PlannedLeg = { dialed: '101', steps: [{ targets: [phone('101', 1), phone('101', 2)], ringSeconds: null }] };
const outside: PlannedLeg = {
  dialed: '915551234567',
  steps: [{ targets: [{ kind: 'trunk', attempts: [{ trunk: 'carrier', number: '15551234567', rule: 'ld', isFinal: true }] }], ringSeconds: null }],
};

/** Every state of one call the machine takes from start to the end of a bridged call. */
function statesOfACall(): CallState[] {
  const inputs: CallInput[] = [
    { type: 'start', at: 1000 },
    { type: 'fork.answered', at: 2000, forkId: 'c1.1', sdp: 'offer1', dialog: null },
    { type: 'ringback.ready', at: 2010, sdp: 'rbt' },
    { type: 'fork.answered', at: 3000, forkId: 'c1.3', sdp: 'offer2', dialog: null },
    { type: 'reinvite.answered', at: 3050, forkId: 'c1.1', sdp: 'answer1' },
    { type: 'hangup', at: 9000, reason: 'api_hangup' },
  ];
  const states = [
    createCall({
      id: 'c1',
      at: 1000,
      first: { plan: twoPhones, callerId: { name: 'Tester', number: '915551234567', external: '15551234567' }, autoAnswer: true, timeoutMs: 30_000 },
      second: { plan: outside, callerId: { name: 'Alice', number: '101', external: '' }, timeoutMs: 20_000 },
      maxCallMs: 0,
      variables: [{ name: 'balance', value: '300' }],
    }),
  ];
  for (const input of inputs) states.push(transition(states.at(-1)!, input).state);
  return states;
}

/** What the thread does: the delta applied to the JSON of `prev`, compared with the JSON of `next`. */
function assertRebuilds(prev: object, next: object, message?: string): string {
  const delta = jsonDelta(prev, next);
  const rebuilt = JSON.parse(JSON.stringify(prev)) as { [key: string]: Json };
  applyJsonDelta(rebuilt, delta);
  assert.deepEqual(rebuilt, JSON.parse(JSON.stringify(next)), `${message ?? ''} ${delta}`);
  return delta;
}

test('a delta between any two states of a call rebuilds the later one from the JSON of the earlier', () => {
  const states = statesOfACall();
  assert.equal(states.at(-2)!.phase, 'bridged');
  assert.equal(states.at(-1)!.phase, 'ended');
  for (let i = 0; i < states.length; i++) {
    for (let j = i + 1; j < states.length; j++) assertRebuilds(states[i]!, states[j]!, `${states[i]!.phase} -> ${states[j]!.phase}`);
  }
});

test('parts a transition did not copy are not in the delta: ending a bridged call carries a fraction of its JSON', () => {
  const states = statesOfACall();
  const [bridged, ended] = states.slice(-2) as [CallState, CallState];
  const delta = assertRebuilds(bridged, ended);
  assert.ok(delta.length * 3 < JSON.stringify(ended).length, delta);
  assert.doesNotMatch(delta, /sip:101-1@127\.0\.0\.1/, 'fork targets are the same objects: not walked, not written');
  assert.equal(jsonDelta(bridged, bridged), '[]');
  assert.equal(jsonDelta(bridged, { ...bridged }), '[]', 'a copy whose parts are the same objects changes nothing');
});

test('deltas follow JSON.stringify: removed and undefined keys, arrays that change length, holes, null, toJSON', () => {
  const prev = {
    gone: 1,
    cleared: 'x',
    list: [1, 2, 3],
    same: [{ a: 1 }, { b: 2 }],
    nested: { deep: { value: 1, keep: 'k' } },
    nullable: { x: 1 } as { x: number } | null,
    when: new Date(1000),
    kind: { a: 1 } as object | number[],
  };
  const next = {
    cleared: undefined,
    list: [1, 2],
    same: [{ a: 1 }, { b: 3 }, undefined],
    nested: { deep: { value: 2, keep: 'k' } },
    nullable: null,
    when: new Date(2000),
    kind: [1],
    added: { fresh: true, text: 'line\nbreak "quoted"' },
  };
  assertRebuilds(prev, next);
  assertRebuilds(next, prev);
  const shorter = { list: [1, undefined, 3] };
  assertRebuilds({ list: [1, 2, 3] }, shorter);
  assertRebuilds({ n: 1 }, { n: Number.NaN });
});
