/**
 * Voicemail messages in SQLite (table: migrations/040_voicemail.sql): one row per message, the audio itself in a
 * WAV file whose path, relative to the data folder, the row keeps.
 */
import type { Database, Statement } from 'better-sqlite3';

export interface VoicemailMessageRow {
  readonly id: number;
  readonly accountId: string;
  readonly extension: string;
  readonly callId: string;
  readonly callerName: string;
  readonly caller: string;
  /** Relative to the data folder. */
  readonly path: string;
  readonly receivedAt: number;
  readonly durationMs: number;
  readonly heard: boolean;
}

export type NewVoicemailMessage = Omit<VoicemailMessageRow, 'id' | 'heard'>;

interface Row {
  id: number;
  account_id: string;
  extension: string;
  call_id: string;
  caller_name: string;
  caller: string;
  path: string;
  received_at: number;
  duration_ms: number;
  heard: number;
}

function fromRow(row: Row): VoicemailMessageRow {
  return {
    id: row.id,
    accountId: row.account_id,
    extension: row.extension,
    callId: row.call_id,
    callerName: row.caller_name,
    caller: row.caller,
    path: row.path,
    receivedAt: row.received_at,
    durationMs: row.duration_ms,
    heard: row.heard !== 0,
  };
}

export class VoicemailStore {
  readonly #insert: Statement<[Record<string, unknown>]>;
  readonly #list: Statement<[string], Row>;

  constructor(db: Database) {
    this.#insert = db.prepare(`
      INSERT INTO voicemail_messages (account_id, extension, call_id, caller_name, caller, path, received_at, duration_ms)
      VALUES (@accountId, @extension, @callId, @callerName, @caller, @path, @receivedAt, @durationMs)`);
    this.#list = db.prepare<[string], Row>('SELECT * FROM voicemail_messages WHERE account_id = ? ORDER BY received_at, id');
  }

  add(message: NewVoicemailMessage): number {
    return Number(this.#insert.run({ ...message }).lastInsertRowid);
  }

  /** An account's messages, oldest first. */
  list(accountId: string): VoicemailMessageRow[] {
    return this.#list.all(accountId).map(fromRow);
  }
}
