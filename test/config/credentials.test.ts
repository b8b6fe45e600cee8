import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load-config.ts';
import { resolveCredentials } from '../../src/config/credentials.ts';
import type { SecretStore } from '../../src/store/secret-store.ts';

class MapSecretStore implements SecretStore {
  readonly map = new Map<string, string>();
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  putIfAbsent(key: string, value: string): string {
    if (!this.map.has(key)) this.map.set(key, value);
    return this.map.get(key) as string;
  }
}

const YAML = `
api: { admin: { username: boss } }
accounts:
  - { account_id: "1", extension: "101", type: sip, sip_password: given-sip }
  - { account_id: "2", extension: "102", type: virtual, api_password: given-api }
  - { account_id: "3", extension: "103", type: ivr }
`;

test('missing passwords are generated once, reused after, configured ones win', () => {
  const config = parseConfig(YAML, 't');
  const store = new MapSecretStore();
  const first = resolveCredentials(config, store);
  assert.deepEqual(first.generated.map((g) => g.label), [
    'API admin password (user boss)',
    'account 1 (extension 101) API password',
  ]);
  const admin = first.credentials.adminPassword();
  assert.match(admin, /^[A-Za-z0-9_-]{24}$/);
  assert.equal(first.credentials.adminUsername, 'boss');
  assert.equal(first.credentials.sipPassword('1'), 'given-sip');
  assert.equal(first.credentials.apiPassword('2'), 'given-api');
  assert.equal(first.credentials.sipPassword('2'), undefined, 'virtual accounts have no devices');
  assert.equal(first.credentials.apiPassword('3'), undefined, 'an IVR is no user');
  const second = resolveCredentials(config, store);
  assert.deepEqual(second.generated, []);
  assert.equal(second.credentials.adminPassword(), admin);
  assert.equal(second.credentials.apiPassword('1'), first.credentials.apiPassword('1'));
  assert.notEqual(admin, first.credentials.apiPassword('1'));
});
