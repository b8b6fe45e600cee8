/**
 * One immutable snapshot of who exists on the PBX: accounts, extensions, trunks, outgoing call rules and IVR
 * variables, indexed for the lookups the API, the dial plan and the registrar make on every request. A reload
 * builds a new Directory; readers holding an old one keep a consistent view until they ask the holder again.
 */
import type { Account, Config, IvrVariable, OutgoingCallRule, Trunk } from '../config/schema.ts';

/** An IVR variable as the API reports it (`<ivr_variable id="3" name="balance" .../>`), with the IVR defining it. */
export interface IvrVariableRef {
  readonly id: number;
  readonly name: string;
  readonly defaultValue: string;
  readonly ivrAccountId: string;
}

export class Directory {
  readonly accounts: readonly Account[];
  readonly trunks: readonly Trunk[];
  /** In the order the operator wrote them: the dial plan takes the first match. */
  readonly outgoingRules: readonly OutgoingCallRule[];
  readonly realm: string;
  readonly #byAccountId = new Map<string, Account>();
  readonly #byExtension = new Map<string, Account>();
  readonly #trunks = new Map<string, Trunk>();
  readonly #ivrVariables = new Map<string, IvrVariableRef>();

  constructor(config: Pick<Config, 'accounts' | 'trunks' | 'outgoing_call_rules'> & { readonly sip: { readonly realm: string } }) {
    this.accounts = config.accounts;
    this.trunks = config.trunks;
    this.outgoingRules = config.outgoing_call_rules;
    this.realm = config.sip.realm;
    for (const account of config.accounts) {
      this.#byAccountId.set(account.account_id, account);
      this.#byExtension.set(account.extension, account);
      if (account.type === 'ivr') this.#indexIvrVariables(account, account.ivr_variables);
    }
    for (const trunk of config.trunks) this.#trunks.set(trunk.name, trunk);
  }

  account(accountId: string): Account | undefined {
    return this.#byAccountId.get(accountId);
  }

  byExtension(extension: string): Account | undefined {
    return this.#byExtension.get(extension);
  }

  trunk(name: string): Trunk | undefined {
    return this.#trunks.get(name);
  }

  /** A variable name the API was given, looked up across every IVR; the first IVR (config order) defining it wins. */
  ivrVariable(name: string): IvrVariableRef | undefined {
    return this.#ivrVariables.get(name);
  }

  #indexIvrVariables(ivr: Account, variables: readonly IvrVariable[]): void {
    for (const v of variables) {
      if (this.#ivrVariables.has(v.name)) continue;
      this.#ivrVariables.set(v.name, { id: v.id, name: v.name, defaultValue: v.default_value, ivrAccountId: ivr.account_id });
    }
  }
}
