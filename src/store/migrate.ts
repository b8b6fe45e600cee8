/**
 * Numbered schema migrations, applied in order at start-up, each in its own transaction.
 *
 * Adding a migration is adding one file: `src/store/migrations/NNN_what_it_does.sql`, NNN the next number (three
 * digits, no gaps needed). Never edit a migration that has shipped: databases in the field have already run it;
 * write a new one. The numbers applied are recorded in `schema_migrations`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

const FILE_NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_NAME.exec(file);
    if (m === null) throw new MigrationError(`migration file name ${file} is not NNN_snake_case.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new MigrationError(`two migrations numbered ${m[1]}`);
    out.push({ version, name: file, sql: readFileSync(`${dir}/${file}`, 'utf8') });
  }
  return out;
}

/** Applies what the database has not run yet; returns the names applied now. */
export function migrate(db: Database, migrations: readonly Migration[] = readMigrations()): string[] {
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version INTEGER PRIMARY KEY, name TEXT NOT NULL,
       applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT`,
  );
  const done = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)');
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name);
    })();
    applied.push(m.name);
  }
  return applied;
}
