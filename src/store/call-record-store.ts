/**
 * Call records in SQLite (table: migrations/030_call_records.sql). The machine's state changes several times per
 * call within a few milliseconds; writes are kept in memory and flushed together in one transaction every
 * FLUSH_MS, so a call that rings and bridges within that window costs one row write, and a burst of originations
 * one commit. A crash loses at most the last FLUSH_MS of changes. Reads see unflushed writes.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { CallState } from '../calls/call-state.ts';
import type { CallRecord, CallRecords } from '../calls/ports.ts';

interface Row {
  call_id: string;
  account_id: string;
  requested_by: string;
  method: string;
  request: string;
  state: string;
}

/** A call record as the API's call history shows it, without the machine internals. */
export interface CallRecordSummary {
  readonly callId: string;
  readonly accountId: string;
  readonly requestedBy: string;
  readonly dialedFirst: string;
  readonly dialedSecond: string;
  readonly phase: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly endReason: string | null;
}

const FLUSH_MS = 50;

export class CallRecordStore implements CallRecords {
  readonly #upsert: Statement<unknown[]>;
  readonly #get: Statement<[string], Row>;
  readonly #open: Statement<[], Row>;
  readonly #recent: Statement<[number], Row>;
  readonly #pending = new Map<string, CallRecord>();
  #scheduled = false;
  readonly #flushAll: () => void;

  constructor(db: Database) {
    this.#upsert = db.prepare(`
      INSERT INTO call_records (call_id, account_id, requested_by, method, request, dialed_first, dialed_second, phase,
        live, started_at, first_ring_at, first_answer_at, first_end_at, first_status, first_outcome, second_ring_at,
        second_answer_at, second_end_at, second_status, second_outcome, bridged_at, ended_at, end_reason, state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (call_id) DO UPDATE SET
        phase = excluded.phase, live = excluded.live, first_ring_at = excluded.first_ring_at,
        first_answer_at = excluded.first_answer_at, first_end_at = excluded.first_end_at,
        first_status = excluded.first_status, first_outcome = excluded.first_outcome,
        second_ring_at = excluded.second_ring_at, second_answer_at = excluded.second_answer_at,
        second_end_at = excluded.second_end_at, second_status = excluded.second_status,
        second_outcome = excluded.second_outcome, bridged_at = excluded.bridged_at, ended_at = excluded.ended_at,
        end_reason = excluded.end_reason, state = excluded.state`);
    this.#get = db.prepare<[string], Row>('SELECT call_id, account_id, requested_by, method, request, state FROM call_records WHERE call_id = ?');
    this.#open = db.prepare<[], Row>('SELECT call_id, account_id, requested_by, method, request, state FROM call_records WHERE live = 1 ORDER BY started_at');
    this.#recent = db.prepare<[number], Row>(
      'SELECT call_id, account_id, requested_by, method, request, state FROM call_records ORDER BY started_at DESC LIMIT ?',
    );
    this.#flushAll = db.transaction(() => {
      for (const record of this.#pending.values()) this.#upsert.run(...toRow(record));
      this.#pending.clear();
    });
  }

  save(record: CallRecord): void {
    // A later state replaces an unflushed earlier one: only the newest state of a call needs writing.
    this.#pending.set(record.callId, record);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.flush();
    }, FLUSH_MS).unref();
  }

  /** Writes every pending record now (also called at shutdown). */
  flush(): void {
    if (this.#pending.size > 0) this.#flushAll();
  }

  get(callId: string): CallRecord | undefined {
    const pending = this.#pending.get(callId);
    if (pending) return pending;
    const row = this.#get.get(callId);
    return row ? fromRow(row) : undefined;
  }

  listOpen(): CallRecord[] {
    this.flush();
    return this.#open.all().map(fromRow);
  }

  /** The newest records first. */
  recent(limit: number): CallRecordSummary[] {
    this.flush();
    return this.#recent.all(limit).map((row) => {
      const r = fromRow(row);
      return {
        callId: r.callId,
        accountId: r.accountId,
        requestedBy: r.requestedBy,
        dialedFirst: r.state.legs.first.dialed,
        dialedSecond: r.state.legs.second.dialed,
        phase: r.state.phase,
        startedAt: r.state.createdAt,
        endedAt: r.state.endedAt,
        endReason: r.state.endReason,
      };
    });
  }
}

/** The upsert's parameters, positional and in the order of its column list (named binding costs more per row). */
function toRow(record: CallRecord): unknown[] {
  const s: CallState = record.state;
  const { first, second } = s.legs;
  return [
    record.callId,
    record.accountId,
    record.requestedBy,
    record.method,
    JSON.stringify(record.request),
    first.dialed,
    second.dialed,
    s.phase,
    s.phase === 'ended' ? 0 : 1,
    s.createdAt,
    first.ringAt,
    first.answerAt,
    first.endAt,
    first.sipStatus,
    first.outcome,
    second.ringAt,
    second.answerAt,
    second.endAt,
    second.sipStatus,
    second.outcome,
    s.bridgedAt,
    s.endedAt,
    s.endReason,
    JSON.stringify(s),
  ];
}

function fromRow(row: Row): CallRecord {
  return {
    callId: row.call_id,
    accountId: row.account_id,
    requestedBy: row.requested_by,
    method: row.method,
    request: JSON.parse(row.request) as CallRecord['request'],
    state: JSON.parse(row.state) as CallState,
  };
}
