/** switchvox.ivr.globalVariables.getList: the variables the IVRs of the directory in force define, with their defaults. */
import type { ApiMethod } from './api-method.ts';

export const ivrGlobalVariablesGetList: ApiMethod = {
  name: 'switchvox.ivr.globalVariables.getList',
  userMethod: false,
  handle(_params, _principal, { directory }) {
    const children = directory.accounts.flatMap((a) =>
      a.ivr_variables.map((v) => ({
        name: 'ivr_global_variable',
        attrs: { id: String(v.id), name: v.name, value: v.default_value, ivr_account_id: a.account_id },
      })),
    );
    return { result: [{ name: 'ivr_global_variables', children }] };
  },
};
