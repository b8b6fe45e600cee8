/** The config most API tests use: one account of each type, an IVR with variables, a quick lockout. */
import { parseConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/schema.ts';
import { Directory } from '../../src/directory/directory.ts';

export const API_TEST_YAML = `
api:
  admin: { username: admin, password: admin-secret }
  auth: { realm: test-realm, max_failures: 4, window_seconds: 60, lockout_seconds: 60 }
  max_body_bytes: 4096
accounts:
  - { account_id: "1101", extension: "101", type: sip, display_name: "Alice Anders", api_password: alice-pw }
  - { account_id: "1103", extension: "103", type: analog, display_name: "Lobby Phone", api_password: lobby-pw }
  - { account_id: "1104", extension: "104", type: virtual, display_name: "Remote Worker" }
  - { account_id: "1800", extension: "800", type: ivr, display_name: "Balance",
      ivr_variables: [ { id: 3, name: balance, default_value: "0" }, { id: 4, name: acct } ] }
  - { account_id: "1600", extension: "600", type: queue, display_name: "Support Queue" }
`;

export function apiTestConfig(): Config {
  return parseConfig(API_TEST_YAML, 'api-test.yaml');
}

export function apiTestDirectory(): Directory {
  return new Directory(apiTestConfig());
}
