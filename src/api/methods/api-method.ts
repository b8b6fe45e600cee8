/** What a method of the Switchvox-compatible API is, and what it is given. */
import type { Account, Config } from '../../config/schema.ts';
import type { Originator } from '../../calls/originator.ts';
import type { Directory } from '../../directory/directory.ts';
import type { Params } from '../envelope.ts';
import type { MethodOutcome } from '../render.ts';

/** Who the request authenticated as. */
export type Principal =
  | { readonly kind: 'admin'; readonly username: string }
  | { readonly kind: 'user'; readonly account: Account };

export interface ApiServices {
  readonly config: Config;
  readonly directory: Directory;
  /** Absent when the server runs without a call layer: origination methods then answer 10008. */
  readonly originator?: Originator;
}

export interface ApiMethod {
  readonly name: string;
  /** switchvox.users.* methods: an extension user may call them, acting as itself. */
  readonly userMethod: boolean;
  handle(params: Params, principal: Principal, services: ApiServices): MethodOutcome | Promise<MethodOutcome>;
}
