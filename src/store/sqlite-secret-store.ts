import type { Database, Statement } from 'better-sqlite3';
import type { SecretStore } from './secret-store.ts';

export class SqliteSecretStore implements SecretStore {
  readonly #select: Statement<[string], { value: string }>;
  readonly #insert: Statement<[string, string]>;

  constructor(db: Database) {
    this.#select = db.prepare('SELECT value FROM secrets WHERE key = ?');
    this.#insert = db.prepare('INSERT INTO secrets (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  }

  get(key: string): string | undefined {
    return this.#select.get(key)?.value;
  }

  putIfAbsent(key: string, value: string): string {
    this.#insert.run(key, value);
    return this.get(key) ?? value;
  }
}
