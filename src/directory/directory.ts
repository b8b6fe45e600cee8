/**
 * One immutable snapshot of who exists on the PBX: accounts, extensions, trunks, outgoing call rules and IVR
 * variables, indexed for the lookups the API, the dial plan and the registrar make on every request. A reload
 * builds a new Directory; readers holding an old one keep a consistent view until they ask the holder again.
 */
import type { Credentials } from '../config/credentials.ts';
import type { Account, Config, IvrVariable, OutgoingCallRule, SipConfig, Trunk } from '../config/schema.ts';
import { DEVICE_TYPES } from '../config/schema.ts';

export type DirectoryConfig = Pick<Config, 'accounts' | 'trunks' | 'outgoing_call_rules'> & { readonly sip: Pick<SipConfig, 'realm' | 'registrar'> };

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
  /** Expiry bounds and failure throttling of the registrar, reloaded with the rest. */
  readonly registrar: SipConfig['registrar'];
  readonly #byAccountId = new Map<string, Account>();
  readonly #byExtension = new Map<string, Account>();
  readonly #trunks = new Map<string, Trunk>();
  readonly #ivrVariables = new Map<string, IvrVariableRef>();
  readonly #credentials: Pick<Credentials, 'sipPassword'> | undefined;

  /** `credentials` supplies the passwords generated for accounts whose config leaves them out. */
  constructor(config: DirectoryConfig, credentials?: Pick<Credentials, 'sipPassword'>) {
    this.#credentials = credentials;
    this.accounts = config.accounts;
    this.trunks = config.trunks;
    this.outgoingRules = config.outgoing_call_rules;
    this.realm = config.sip.realm;
    this.registrar = config.sip.registrar;
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

  /** The Digest password of an extension's devices; undefined for accounts without devices. */
  sipPassword(accountId: string): string | undefined {
    const account = this.#byAccountId.get(accountId);
    if (account === undefined || !DEVICE_TYPES.includes(account.type)) return undefined;
    return this.#credentials?.sipPassword(accountId) ?? account.sip_password;
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
