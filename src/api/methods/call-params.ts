/**
 * Validation of switchvox.call / switchvox.users.call parameters into an OriginateRequest. Every failing
 * parameter is reported, in the order of the Switchvox parameter table, with the page's messages.
 */
import { DIAL_AS_TYPES, type Account } from '../../config/schema.ts';
import type { OriginateRequest } from '../../calls/originator.ts';
import type { Directory } from '../../directory/directory.ts';
import { ApiErrors, type ApiError } from '../api-error.ts';
import type { Params } from '../envelope.ts';
import type { Principal } from './api-method.ts';
import { listOf, scalar, show } from './param-values.ts';

/** Longer than any E.164 number with prefixes and a PIN; beyond it a "number" is garbage. */
export const MAX_NUMBER_LENGTH = 64;
export const MAX_CALLER_ID_NAME_LENGTH = 20;
export const MAX_VARIABLES = 100;

const DIALABLE = /^[0-9*#]+$/;
const DIGITS = /^[0-9]+$/;
const CALLER_ID_NAME = /^[A-Za-z0-9 _&]*$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*=/;
const TIMEOUT = /^[0-9]{1,3}$/;

export type CallParamsResult =
  | { readonly ok: true; readonly request: OriginateRequest }
  | { readonly ok: false; readonly errors: readonly ApiError[] };

export interface CallParamsContext {
  /** switchvox.call or switchvox.users.call */
  readonly method: string;
  readonly principal: Principal;
  readonly directory: Directory;
}

// The readers are module functions rather than closures in validateCallParams: the TS toolchain names every
// arrow function it assigns, a property store per closure per API request.

function numberParam(params: Params, name: string, errors: ApiError[]): string {
  const v = scalar(params, name);
  if (v === undefined) errors.push(ApiErrors.missingParameter(name));
  else if (v === null || v.length > MAX_NUMBER_LENGTH || !DIALABLE.test(v)) errors.push(ApiErrors.invalidNumber(name));
  else return v;
  return '';
}

function timeoutParam(params: Params, name: string, errors: ApiError[]): number {
  const v = scalar(params, name);
  if (v === undefined || v === '') return 30;
  if (v === null || !TIMEOUT.test(v)) {
    errors.push(ApiErrors.invalidTimeout());
    return 30;
  }
  return Number(v);
}

function flagParam(params: Params, name: string, errors: ApiError[]): boolean {
  const v = scalar(params, name);
  if (v === undefined || v === '') return false;
  if (v !== '0' && v !== '1') errors.push(ApiErrors.invalidFlag(name));
  return v === '1';
}

export function validateCallParams(params: Params, ctx: CallParamsContext): CallParamsResult {
  const errors: ApiError[] = [];

  const dialFirst = numberParam(params, 'dial_first', errors);
  const dialSecond = numberParam(params, 'dial_second', errors);

  const account = ctx.method === 'switchvox.users.call' ? usersAccount(params, ctx, errors) : dialAsAccount(params, 'dial_as_account_id', ctx.directory, errors);

  let callerIdName = 'PBX';
  const cid = scalar(params, 'caller_id_name');
  if (cid === null || (cid !== undefined && (cid.length > MAX_CALLER_ID_NAME_LENGTH || !CALLER_ID_NAME.test(cid)))) {
    errors.push(ApiErrors.invalidCallerIdName());
  } else if (cid !== undefined && cid !== '') callerIdName = cid;

  const variables: { name: string; value: string }[] = [];
  const rawVars = listOf(params.variables, 'variable');
  if (rawVars === null || rawVars.length > MAX_VARIABLES) errors.push(ApiErrors.invalidVariable(show(params, 'variables')));
  else {
    for (const v of rawVars) {
      if (!VARIABLE.test(v)) errors.push(ApiErrors.invalidVariable(v));
      else {
        const eq = v.indexOf('=');
        variables.push({ name: v.slice(0, eq), value: v.slice(eq + 1) });
      }
    }
  }

  // Seed page order: timeout, the two ignore flags, timeout_second_call, auto_answer.
  const firstTimeout = timeoutParam(params, 'timeout', errors);
  const ignoreUserApiSettings = flagParam(params, 'ignore_user_api_settings', errors);
  const ignoreUserCallRules = flagParam(params, 'ignore_user_call_rules', errors);
  const timeoutSecondCall = timeoutParam(params, 'timeout_second_call', errors);
  const autoAnswer = flagParam(params, 'auto_answer', errors);

  if (errors.length > 0 || account === undefined) return { ok: false, errors };
  return {
    ok: true,
    request: {
      dialFirst,
      dialSecond,
      account,
      callerIdName,
      variables,
      timeout: firstTimeout,
      timeoutSecondCall,
      ignoreUserApiSettings,
      ignoreUserCallRules,
      autoAnswer,
      requestedBy: ctx.principal.kind === 'admin' ? ctx.principal.username : ctx.principal.account.extension,
      method: ctx.method,
    },
  };
}

function dialAsAccount(params: Params, name: string, directory: Directory, errors: ApiError[]): Account | undefined {
  const v = scalar(params, name);
  if (v === undefined) {
    errors.push(ApiErrors.missingParameter(name));
    return undefined;
  }
  if (v === null || !DIGITS.test(v)) {
    errors.push(ApiErrors.invalidAccountId(show(params, name)));
    return undefined;
  }
  const account = directory.account(v);
  if (account === undefined || !DIAL_AS_TYPES.includes(account.type)) {
    errors.push(ApiErrors.invalidDialAs());
    return undefined;
  }
  return account;
}

/** An extension user acts as itself; account_id may be given but must be its own. The admin must name one. */
function usersAccount(params: Params, ctx: CallParamsContext, errors: ApiError[]): Account | undefined {
  if (ctx.principal.kind === 'admin') return dialAsAccount(params, 'account_id', ctx.directory, errors);
  const own = ctx.principal.account;
  const v = scalar(params, 'account_id');
  if (v === undefined || v === '') return own;
  if (v === null || !DIGITS.test(v)) {
    errors.push(ApiErrors.invalidAccountId(show(params, 'account_id')));
    return undefined;
  }
  if (v !== own.account_id) {
    errors.push(ApiErrors.notOwnAccount(v));
    return undefined;
  }
  return own;
}
