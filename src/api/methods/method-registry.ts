/** The methods this server answers, by name. Adding a method: write its ApiMethod and list it here. */
import type { ApiMethod } from './api-method.ts';
import { currentCallsGetList, currentCallsHangUp } from './current-calls.ts';
import { extensionsGetInfo } from './extensions-get-info.ts';
import { ivrGlobalVariablesGetList } from './ivr-global-variables.ts';
import { switchvoxCall, switchvoxUsersCall } from './switchvox-call.ts';

export const METHODS: ReadonlyMap<string, ApiMethod> = new Map(
  [switchvoxCall, switchvoxUsersCall, extensionsGetInfo, ivrGlobalVariablesGetList, currentCallsGetList, currentCallsHangUp].map(
    (m) => [m.name, m],
  ),
);
