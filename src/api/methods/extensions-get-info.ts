/**
 * switchvox.extensions.getInfo: clients turn an extension into the account_id switchvox.call needs. Takes
 * `extensions` (<extension> items) or `account_ids` (<account_id> items), or a single `extension` / `account_id`.
 */
import type { Account } from '../../config/schema.ts';
import { ApiErrors, type ApiError } from '../api-error.ts';
import type { XNode } from '../render.ts';
import type { ApiMethod } from './api-method.ts';
import { listOf, show } from './param-values.ts';

function extensionNode(a: Account): XNode {
  return {
    name: 'extension',
    attrs: { account_id: a.account_id, number: a.extension, display_name: a.display_name, type: a.type },
  };
}

export const extensionsGetInfo: ApiMethod = {
  name: 'switchvox.extensions.getInfo',
  userMethod: false,
  handle(params, _principal, { directory }) {
    const extensions = [...(listOf(params.extensions, 'extension') ?? [null]), ...(listOf(params.extension, 'extension') ?? [null])];
    const accountIds = [...(listOf(params.account_ids, 'account_id') ?? [null]), ...(listOf(params.account_id, 'account_id') ?? [null])];
    if (extensions.includes(null) || accountIds.includes(null)) {
      const bad = params.extensions !== undefined || params.extension !== undefined ? 'extensions' : 'account_ids';
      return { errors: [ApiErrors.malformed(`${bad} must be a list of values, got ${show(params, bad)}`)] };
    }
    if (extensions.length === 0 && accountIds.length === 0) return { errors: [ApiErrors.missingParameter('extensions')] };
    const found: XNode[] = [];
    const errors: ApiError[] = [];
    for (const e of extensions as string[]) {
      const a = directory.byExtension(e);
      if (a === undefined) errors.push(ApiErrors.noSuchExtension(e));
      else found.push(extensionNode(a));
    }
    for (const id of accountIds as string[]) {
      const a = directory.account(id);
      if (a === undefined) errors.push(ApiErrors.noSuchAccount(id));
      else found.push(extensionNode(a));
    }
    if (errors.length > 0) return { errors };
    return { result: [{ name: 'extensions', children: found }] };
  },
};
