/** switchvox.currentCalls.getList / hangUp, delegated to the call layer. */
import type { LiveCall } from '../../calls/originator.ts';
import { ApiErrors } from '../api-error.ts';
import type { XNode } from '../render.ts';
import type { ApiMethod } from './api-method.ts';
import { scalar, show } from './param-values.ts';

function callNode(c: LiveCall, now: number): XNode {
  return {
    name: 'current_call',
    attrs: {
      id: c.callId,
      account_id: c.accountId,
      state: c.state,
      start_time: c.startedAt.toISOString(),
      duration: String(Math.max(0, Math.floor((now - c.startedAt.getTime()) / 1000))),
    },
    children: [{ name: 'legs', children: c.legs.map((l) => ({ name: 'leg', attrs: { leg: l.leg, number: l.number, state: l.state } })) }],
  };
}

export const currentCallsGetList: ApiMethod = {
  name: 'switchvox.currentCalls.getList',
  userMethod: false,
  handle(_params, _principal, { originator }) {
    if (originator === undefined) return { errors: [ApiErrors.originationUnavailable()] };
    const calls = originator.listCalls();
    const now = Date.now();
    return {
      result: [{ name: 'current_calls', attrs: { total_items: String(calls.length) }, children: calls.map((c) => callNode(c, now)) }],
    };
  },
};

export const currentCallsHangUp: ApiMethod = {
  name: 'switchvox.currentCalls.hangUp',
  userMethod: false,
  async handle(params, _principal, { originator }) {
    const id = scalar(params, 'current_call_id');
    if (id === undefined) return { errors: [ApiErrors.missingParameter('current_call_id')] };
    if (id === null || id === '') return { errors: [ApiErrors.invalidCurrentCallId(show(params, 'current_call_id'))] };
    if (originator === undefined) return { errors: [ApiErrors.originationUnavailable()] };
    if (!(await originator.hangUp(id))) return { errors: [ApiErrors.invalidCurrentCallId(id)] };
    return { result: [{ name: 'current_call', attrs: { id, status: 'hung_up' } }] };
  },
};
