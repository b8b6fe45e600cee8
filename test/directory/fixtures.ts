/** Builders of directory snapshots for tests: defaults for every field a test does not care about. */
import type { Account, OutgoingCallRule, SipConfig, Trunk } from '../../src/config/schema.ts';
import { Directory } from '../../src/directory/directory.ts';

export function account(fields: Partial<Account> & Pick<Account, 'account_id' | 'extension'>): Account {
  return {
    type: 'sip',
    display_name: `Ext ${fields.extension}`,
    caller_id: { name: '', number: '' },
    call_api_settings: { rewrites: [] },
    outgoing_rules_allow: [],
    outgoing_rules_deny: [],
    call_rules: [],
    ivr_variables: [],
    ...fields,
  };
}

export function trunk(fields: Partial<Trunk> & Pick<Trunk, 'name'>): Trunk {
  return {
    host: '127.0.0.1',
    port: 5070,
    transport: 'udp',
    register: false,
    register_expires: 3600,
    domain: '127.0.0.1',
    default_caller_id: '',
    max_calls: 0,
    ...fields,
  };
}

export function rule(fields: Partial<OutgoingCallRule> & Pick<OutgoingCallRule, 'name' | 'pattern_begin' | 'trunk'>): OutgoingCallRule {
  return { pattern_min: 1, pattern_max: 32, pattern_trim: 0, pattern_prepend: '', is_final: true, ...fields };
}

export function directory(parts: {
  accounts?: readonly Account[];
  trunks?: readonly Trunk[];
  rules?: readonly OutgoingCallRule[];
  realm?: string;
  registrar?: Partial<SipConfig['registrar']>;
}): Directory {
  return new Directory({
    accounts: parts.accounts ?? [],
    trunks: parts.trunks ?? [],
    outgoing_call_rules: parts.rules ?? [],
    sip: {
      realm: parts.realm ?? 'test.local',
      registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, max_failures: 5, window_seconds: 60, lockout_seconds: 300, ...parts.registrar },
    },
  });
}
