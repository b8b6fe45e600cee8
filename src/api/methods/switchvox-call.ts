/** switchvox.call (admin) and switchvox.users.call (an extension user, as itself): validate, originate, render. */
import {
  OriginateFailedError,
  OriginationUnavailableError,
  type OriginateRequest,
  type OriginateResult,
  type Originator,
} from '../../calls/originator.ts';
import { ApiErrors } from '../api-error.ts';
import type { Params } from '../envelope.ts';
import type { MethodOutcome, XNode } from '../render.ts';
import type { ApiMethod, ApiServices, Principal } from './api-method.ts';
import { validateCallParams } from './call-params.ts';

export function renderCallInfo(r: OriginateResult): XNode {
  return {
    name: 'call_info',
    attrs: { dialed_first: r.dialedFirst, dialed_second: r.dialedSecond },
    children: [
      {
        name: 'variables',
        children: r.variables.map(
          (v): XNode => ({
            name: 'ivr_variable',
            attrs: v.id === undefined ? { name: v.name, status: v.status } : { id: String(v.id), name: v.name, status: v.status },
          }),
        ),
      },
    ],
  };
}

function call(method: string, params: Params, principal: Principal, services: ApiServices): MethodOutcome | Promise<MethodOutcome> {
  const v = validateCallParams(params, { method, principal, directory: services.directory });
  if (!v.ok) return { errors: v.errors };
  const { originator } = services;
  if (originator === undefined) return { errors: [ApiErrors.originationUnavailable()] };
  return originate(originator, v.request);
}

function answered(r: OriginateResult): MethodOutcome {
  return { result: [renderCallInfo(r)] };
}

function refused(err: unknown): MethodOutcome {
  if (err instanceof OriginateFailedError) return { errors: [ApiErrors.originateFailed()] };
  if (err instanceof OriginationUnavailableError) return { errors: [ApiErrors.originationUnavailable()] };
  throw err;
}

/** A promise chain, not an async function: one promise and no resumption per call placed. */
function originate(originator: Originator, request: OriginateRequest): Promise<MethodOutcome> {
  try {
    return originator.originate(request).then(answered, refused);
  } catch (err) {
    // As from an async function: what the originator throws before it returns a promise rejects the outcome.
    return new Promise((resolve) => resolve(refused(err)));
  }
}

export const switchvoxCall: ApiMethod = {
  name: 'switchvox.call',
  userMethod: false,
  handle: (params, principal, services) => call('switchvox.call', params, principal, services),
};

export const switchvoxUsersCall: ApiMethod = {
  name: 'switchvox.users.call',
  userMethod: true,
  handle: (params, principal, services) => call('switchvox.users.call', params, principal, services),
};
