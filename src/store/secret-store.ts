/** Secrets the server generated and must find again after a restart. A repository interface: SQLite today. */
export interface SecretStore {
  get(key: string): string | undefined;
  /** Stores `value` unless the key exists; returns what is stored (so concurrent starters agree on one value). */
  putIfAbsent(key: string, value: string): string;
}
