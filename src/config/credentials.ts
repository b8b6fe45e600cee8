/**
 * The passwords in force: those written in the config, else ones generated on first start and kept in the
 * SecretStore. The registrar, the SIP client and the API ask here rather than reading the config.
 */
import { randomBytes } from 'node:crypto';
import type { SecretStore } from '../store/secret-store.ts';
import { DEVICE_TYPES, DIAL_AS_TYPES, type Config } from './schema.ts';

export interface Credentials {
  readonly adminUsername: string;
  adminPassword(): string;
  /** Digest password of an account's devices (sip and analog accounts); undefined for other accounts. */
  sipPassword(accountId: string): string | undefined;
  /** API password of an extension user (sip, analog and virtual accounts); undefined for other accounts. */
  apiPassword(accountId: string): string | undefined;
}

export interface GeneratedSecret {
  /** What the operator reads: `admin password`, `account 1101 (ext 101) sip password`. */
  readonly label: string;
  readonly value: string;
}

/** 18 random bytes: 24 characters of base64url, about 144 bits. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Resolves every password. `generated` lists those created by this call (to be shown once); a password generated
 * on an earlier start is reused silently.
 */
export function resolveCredentials(
  config: Config,
  secrets: SecretStore,
): { credentials: Credentials; generated: GeneratedSecret[] } {
  const generated: GeneratedSecret[] = [];
  const resolve = (key: string, configured: string | undefined, label: string): string => {
    if (configured !== undefined) return configured;
    const existing = secrets.get(key);
    if (existing !== undefined) return existing;
    const stored = secrets.putIfAbsent(key, generatePassword());
    generated.push({ label, value: stored });
    return stored;
  };
  const admin = resolve('admin.password', config.api.admin.password, `API admin password (user ${config.api.admin.username})`);
  const sip = new Map<string, string>();
  const api = new Map<string, string>();
  for (const a of config.accounts) {
    const who = `account ${a.account_id} (extension ${a.extension})`;
    if (DEVICE_TYPES.includes(a.type)) sip.set(a.account_id, resolve(`account.${a.account_id}.sip_password`, a.sip_password, `${who} SIP password`));
    if (DIAL_AS_TYPES.includes(a.type)) api.set(a.account_id, resolve(`account.${a.account_id}.api_password`, a.api_password, `${who} API password`));
  }
  const credentials: Credentials = {
    adminUsername: config.api.admin.username,
    adminPassword: () => admin,
    sipPassword: (id) => sip.get(id),
    apiPassword: (id) => api.get(id),
  };
  return { credentials, generated };
}
