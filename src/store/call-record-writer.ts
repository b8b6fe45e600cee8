/**
 * Writes batches of call-record rows in one transaction: on the record-writer thread's own connection
 * (call-record-worker.ts), and on the main connection when no thread runs (see call-record-store.ts). Also the
 * form in which a batch travels to the thread, and the thread's start-up data and messages.
 */
import type { Database, Statement } from 'better-sqlite3';

/**
 * One record's columns, as positional parameters. A short row (17 values: phase, live, the ten per-leg columns,
 * bridged_at, ended_at, end_reason, state, call_id) rewrites what changes while a call runs, on a row an earlier
 * full row wrote; a full row (INSERT_LENGTH values: then account_id, requested_by, method, request, dialed_first,
 * dialed_second, started_at) inserts the call or overwrites it. A short row is a prefix of a full one, so both bind
 * positionally (better-sqlite3 binds numbered parameters by name, which costs more per row).
 */
export type CallRecordRow = (string | number | null)[];

const INSERT_LENGTH = 24;
/** Where a row holds the state's JSON. */
export const STATE_COLUMN = 15;

const CHANGING = [
  'phase',
  'live',
  'first_ring_at',
  'first_answer_at',
  'first_end_at',
  'first_status',
  'first_outcome',
  'second_ring_at',
  'second_answer_at',
  'second_end_at',
  'second_status',
  'second_outcome',
  'bridged_at',
  'ended_at',
  'end_reason',
  'state',
];
const FIXED = ['account_id', 'requested_by', 'method', 'request', 'dialed_first', 'dialed_second', 'started_at'];

export class CallRecordWriter {
  readonly #upsert: Statement<unknown[]>;
  readonly #update: Statement<unknown[]>;
  readonly #write: (rows: readonly CallRecordRow[]) => void;

  constructor(db: Database) {
    const columns = [...CHANGING, 'call_id', ...FIXED];
    this.#upsert = db.prepare(
      `INSERT INTO call_records (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
       ON CONFLICT (call_id) DO UPDATE SET ${CHANGING.map((c) => `${c} = excluded.${c}`).join(', ')}`,
    );
    this.#update = db.prepare(`UPDATE call_records SET ${CHANGING.map((c) => `${c} = ?`).join(', ')} WHERE call_id = ?`);
    this.#write = db.transaction((rows: readonly CallRecordRow[]) => {
      for (const row of rows) (row.length === INSERT_LENGTH ? this.#upsert : this.#update).run(...row);
    });
  }

  write(rows: readonly CallRecordRow[]): void {
    if (rows.length > 0) this.#write(rows);
  }
}

/**
 * A batch travels to the thread as text, two lines per row (JSON text never holds a raw newline): the row as a
 * JSON array with null for the state, then the state's JSON. Posting, measured on the main thread per 2.3 KB
 * row: an array of strings 2-3 us, the same joined into one flat string of ~100 KB ~1.1 us, a structured clone of
 * the rows' values several times more (larger strings cost more again: fresh pages for the copy).
 */
export function pushRow(lines: string[], row: CallRecordRow, stateJson: string): void {
  lines.push(JSON.stringify(row), stateJson);
}

export function batchText(lines: readonly string[]): string {
  return lines.join('\n');
}

/** The thread's side of pushRow and batchText. */
export function rowsOfText(text: string): CallRecordRow[] {
  const lines = text === '' ? [] : text.split('\n');
  const rows: CallRecordRow[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const row = JSON.parse(lines[i]!) as CallRecordRow;
    row[STATE_COLUMN] = lines[i + 1]!;
    rows.push(row);
  }
  return rows;
}

/** What the record-writer thread (call-record-worker.ts) is started with. */
export interface WriterData {
  readonly file: string;
  /** Shared with the main thread: see COMMITTED and FAILED. */
  readonly progress: Int32Array;
}

/** What the thread posts once its connection is open; afterwards it posts the number of each batch committed. */
export const READY = 'ready';

/** progress[COMMITTED]: the number of the last batch committed. */
export const COMMITTED = 0;
/** progress[FAILED]: 1 once a write failed (the thread then ends with the error). */
export const FAILED = 1;

/** What the main thread posts to the record-writer thread, one per write-behind window. */
export interface WriterBatch {
  readonly seq: number;
  /** batchText of the rows pushRow put. */
  readonly text: string;
  /** Nothing follows: the thread closes its connection after this batch and ends. */
  readonly last: boolean;
}
