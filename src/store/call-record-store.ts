/**
 * Call records in SQLite (table: migrations/030_call_records.sql). The machine's state changes several times per
 * call within a few milliseconds; writes are kept in memory and written together every FLUSH_MS, so a call that
 * rings and bridges within that window costs one row write, and a burst of originations one commit.
 *
 * The writing is done off the main thread: each window's rows go to a record-writer thread (call-record-worker.ts)
 * with its own connection to the same file, which commits them in the order posted and runs the WAL checkpoints.
 * The main thread turns states into rows (their JSON is most of what is left of its cost) and posts them; a
 * call's later rows leave out the columns that never change (the request's JSON among them).
 * Until the thread reports a batch committed, its records stay readable here, so reads always see the newest
 * state of a call, written or not. WAL readers never wait for the writer, so the main connection's reads (and its
 * other tables) go on while the thread commits; its transactions hold one window's rows.
 *
 * flush() writes everything out synchronously: it posts what is pending as the thread's last batch, blocks until
 * the thread has committed it and closed its connection (Atomics.wait on memory they share), and the thread ends
 * (the next window starts another). Without a thread ready to take rows (until the one started by the first
 * window has loaded, after flush(), or for an in-memory database no other connection can open) rows are written
 * on the main connection, as they all were. If the thread fails, what it had not committed is written again.
 *
 * A crash loses at most the last FLUSH_MS of changes plus the window the thread was committing (more only if
 * the thread falls behind, its windows then queue up), as with writes on the main thread. Per call, writes stay in order: one thread commits the batches in the order posted, and the
 * main connection writes only when no thread holds rows.
 */
import { Worker } from 'node:worker_threads';
import type { Database, Statement } from 'better-sqlite3';
import type { CallState } from '../calls/call-state.ts';
import type { CallRecord, CallRecords } from '../calls/ports.ts';
import { batchText, CallRecordWriter, COMMITTED, FAILED, READY, pushRow, STATE_COLUMN, type CallRecordRow, type WriterBatch, type WriterData } from './call-record-writer.ts';

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

/** The record-writer thread failed, or did not commit what flush() gave it in time. */
export class CallRecordWriteError extends Error {
  override readonly name = 'CallRecordWriteError';
}

const FLUSH_MS = 50;
/** How long flush() waits for the thread's last commit: well over its connection's busy_timeout (5 s). */
const DRAIN_MS = 15_000;
/**
 * A window's rows go in messages of about this many characters, each committed in its own transaction: a busy
 * window (~300 KB at 1,000 calls/s) is neither one large allocation to clone nor one long hold of the write lock.
 */
const BATCH_CHARS = 96 * 1024;

/** A record posted to the thread and not yet reported committed, with the number of its batch. */
interface InFlight {
  readonly record: CallRecord;
  readonly seq: number;
}

export class CallRecordStore implements CallRecords {
  readonly #db: Database;
  readonly #get: Statement<[string], Row>;
  readonly #open: Statement<[], Row>;
  readonly #recent: Statement<[number], Row>;
  readonly #writer: CallRecordWriter;
  readonly #pending = new Map<string, CallRecord>();
  readonly #inFlight = new Map<string, InFlight>();
  #scheduled = false;
  #thread: WriterThread | null = null;
  /** The number of the last batch posted, over all the threads this store has started (an int32 that wraps). */
  #seq = 0;

  constructor(db: Database) {
    this.#db = db;
    this.#get = db.prepare<[string], Row>('SELECT call_id, account_id, requested_by, method, request, state FROM call_records WHERE call_id = ?');
    this.#open = db.prepare<[], Row>('SELECT call_id, account_id, requested_by, method, request, state FROM call_records WHERE live = 1 ORDER BY started_at');
    this.#recent = db.prepare<[number], Row>(
      'SELECT call_id, account_id, requested_by, method, request, state FROM call_records ORDER BY started_at DESC LIMIT ?',
    );
    this.#writer = new CallRecordWriter(db);
  }

  save(record: CallRecord): void {
    // A later state replaces an unflushed earlier one: only the newest state of a call needs writing.
    this.#pending.set(record.callId, record);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.#writeBehind();
    }, FLUSH_MS).unref();
  }

  /** Writes every pending record now, and waits until the writer thread has committed all it was given (shutdown). */
  flush(): void {
    const thread = this.#thread;
    this.#thread = null;
    if (thread === null || !thread.ready) {
      thread?.stop();
      this.#writeHere();
      return;
    }
    thread.waitFor(this.#post(thread, true), DRAIN_MS);
    this.#inFlight.clear();
  }

  /**
   * Resolves once every record saved so far is committed (what is pending is posted now); rejects with a
   * CallRecordWriteError if the thread fails first. Does not stop the thread.
   */
  settled(): Promise<void> {
    if (this.#db.memory) {
      this.#writeHere();
      return Promise.resolve();
    }
    if (this.#thread === null && this.#pending.size === 0) return Promise.resolve();
    const thread = (this.#thread ??= this.#startThread());
    // Posted at once when the thread is ready: what is pending is in flight when this returns.
    if (thread.ready) return thread.committed(this.#post(thread, false));
    return thread.whenReady().then(() =>
      // flush() may have written everything out while the thread was starting.
      this.#thread === thread ? thread.committed(this.#post(thread, false)) : undefined,
    );
  }

  get(callId: string): CallRecord | undefined {
    const unflushed = this.#pending.get(callId) ?? this.#inFlight.get(callId)?.record;
    if (unflushed) return unflushed;
    const row = this.#get.get(callId);
    return row ? fromRow(row) : undefined;
  }

  listOpen(): CallRecord[] {
    const unflushed = this.#unflushed();
    const open: CallRecord[] = [];
    for (const row of this.#open.all()) if (!unflushed.has(row.call_id)) open.push(fromRow(row));
    for (const record of unflushed.values()) if (record.state.phase !== 'ended') open.push(record);
    return open.sort((a, b) => a.state.createdAt - b.state.createdAt);
  }

  /** The newest records first. */
  recent(limit: number): CallRecordSummary[] {
    // A call's start never changes, so the newest `limit` are among the newest written and those not yet written.
    const unflushed = this.#unflushed();
    const records: CallRecord[] = [...unflushed.values()];
    for (const row of this.#recent.all(limit)) if (!unflushed.has(row.call_id)) records.push(fromRow(row));
    records.sort((a, b) => b.state.createdAt - a.state.createdAt);
    return records.slice(0, limit).map((r) => ({
      callId: r.callId,
      accountId: r.accountId,
      requestedBy: r.requestedBy,
      dialedFirst: r.state.legs.first.dialed,
      dialedSecond: r.state.legs.second.dialed,
      phase: r.state.phase,
      startedAt: r.state.createdAt,
      endedAt: r.state.endedAt,
      endReason: r.state.endReason,
    }));
  }

  #writeBehind(): void {
    if (this.#pending.size === 0) return;
    const thread = this.#db.memory ? null : (this.#thread ??= this.#startThread());
    if (thread === null || !thread.ready) {
      this.#writeHere();
      return;
    }
    this.#post(thread, false);
  }

  #startThread(): WriterThread {
    const thread: WriterThread = new WriterThread(this.#db, this.#seq, {
      committed: (seq) => {
        for (const [callId, entry] of this.#inFlight) if (((entry.seq - seq) | 0) <= 0) this.#inFlight.delete(callId);
      },
      // What the thread had not committed is written again, whole, by the next writer: nothing it was given is lost.
      failed: () => {
        if (this.#thread === thread) this.#thread = null;
        for (const [callId, { record }] of this.#inFlight) if (!this.#pending.has(callId)) this.#pending.set(callId, record);
        this.#inFlight.clear();
        if (this.#pending.size > 0) this.#schedule();
      },
    });
    return thread;
  }

  /**
   * On the main connection, when no thread takes rows (nothing is in flight then): full rows, so that nothing
   * depends on what a thread did.
   */
  #writeHere(): void {
    if (this.#pending.size === 0) return;
    const rows: CallRecordRow[] = [];
    for (const record of this.#pending.values()) {
      const row = fullRow(record, changingColumns(record));
      row[STATE_COLUMN] = JSON.stringify(record.state);
      rows.push(row);
    }
    this.#writer.write(rows);
    this.#pending.clear();
  }

  /** Posts the pending records in batches of about BATCH_CHARS; returns the number of the last batch. */
  #post(thread: WriterThread, last: boolean): number {
    let lines: string[] = [];
    let chars = 0;
    for (const [callId, record] of this.#pending) {
      const row = changingColumns(record);
      if (!thread.inserted.has(callId)) fullRow(record, row);
      if (record.state.phase === 'ended') thread.inserted.delete(callId);
      else thread.inserted.add(callId);
      const json = JSON.stringify(record.state);
      pushRow(lines, row, json);
      this.#inFlight.set(callId, { record, seq: (this.#seq + 1) | 0 });
      chars += json.length;
      if (chars >= BATCH_CHARS) {
        thread.post({ seq: (this.#seq = (this.#seq + 1) | 0), text: batchText(lines), last: false });
        lines = [];
        chars = 0;
      }
    }
    this.#pending.clear();
    thread.post({ seq: (this.#seq = (this.#seq + 1) | 0), text: batchText(lines), last });
    return this.#seq;
  }

  /** Records posted and not yet committed, and records not yet posted (the newer ones win). */
  #unflushed(): Map<string, CallRecord> {
    const all = new Map<string, CallRecord>();
    for (const [callId, { record }] of this.#inFlight) all.set(callId, record);
    for (const [callId, record] of this.#pending) all.set(callId, record);
    return all;
  }
}

/**
 * The main thread's handle on a record-writer thread. It is given rows once it reports its connection open (until
 * then the main connection writes: a thread takes a moment to load, and a record must not wait for it). While it
 * takes rows, the main connection does not checkpoint the WAL on its commits (the thread's commits do): a
 * checkpoint copies pages to the database file and syncs it, the slow part of a commit that triggers one.
 */
class WriterThread {
  readonly #worker: Worker;
  readonly #progress = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  readonly #db: Database;
  #autoCheckpoint: number | null = null;
  /** Who waits for the thread to be ready (seq null) or for a batch to be committed. */
  #waiting: { readonly seq: number | null; readonly resolve: () => void; readonly reject: (err: Error) => void }[] = [];
  /** Live calls whose row this thread has been given: their next rows rewrite only the columns that change. */
  readonly inserted = new Set<string>();

  /** `lastSeq`: the number of the batch before this thread's first. */
  constructor(db: Database, lastSeq: number, events: { committed(seq: number): void; failed(): void }) {
    this.#db = db;
    Atomics.store(this.#progress, COMMITTED, lastSeq);
    const data: WriterData = { file: db.name, progress: this.#progress };
    // Loader hooks of the main thread (--import tsx, or register() in bin/originate.js) do not reach a worker on
    // Node 20, and neither does --import in its execArgv: the thread registers tsx itself before loading the module.
    const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./call-record-worker.ts', import.meta.url).href)}); })`;
    this.#worker = new Worker(bootstrap, { eval: true, workerData: data });
    // Shutdown waits for the thread through flush(); an idle thread keeps no process alive.
    this.#worker.unref();
    this.#worker.on('message', (message: number | typeof READY) => {
      if (message === READY) {
        // Started by a late window and ready after the server closed the database: nothing is left to write.
        if (!db.open) return this.stop();
        this.#autoCheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number;
        db.pragma('wal_autocheckpoint = 0');
      } else {
        events.committed(message);
      }
      this.#waiting = this.#waiting.filter((w) => {
        const done = message === READY ? w.seq === null : w.seq !== null && ((w.seq - message) | 0) <= 0;
        if (done) w.resolve();
        return !done;
      });
    });
    this.#worker.on('error', (err: unknown) => {
      // What the thread threw arrives as a clone, not always an Error (better-sqlite3's SqliteError comes as an object).
      const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
      const failure = new CallRecordWriteError(`the call-record writer thread failed: ${message}`, { cause: err });
      this.#restoreCheckpoints();
      events.failed();
      if (this.#waiting.length === 0) throw failure;
      for (const waiter of this.#waiting.splice(0)) waiter.reject(failure);
    });
  }

  /** The thread has its connection open and takes rows. */
  get ready(): boolean {
    return this.#autoCheckpoint !== null;
  }

  /** Resolves when the thread is ready; rejects with a CallRecordWriteError if it fails first. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ seq: null, resolve, reject }));
  }

  post(batch: WriterBatch): void {
    this.#worker.postMessage(batch);
  }

  /** Resolves when batch `seq` is committed; batches are committed in the order posted. */
  committed(seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.#waiting.push({ seq, resolve, reject }));
  }

  /** Ends a thread that was never given a row (shutdown before it was ready). */
  stop(): void {
    void this.#worker.terminate();
  }

  /** Blocks until batch `seq` is committed (the thread's commits are short: this is shutdown's wait). */
  waitFor(seq: number, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        if (Atomics.load(this.#progress, FAILED) === 1) throw new CallRecordWriteError('the call-record writer thread failed');
        const done = Atomics.load(this.#progress, COMMITTED);
        if (((done - seq) | 0) >= 0) return;
        const left = deadline - performance.now();
        if (left <= 0) throw new CallRecordWriteError(`the call-record writer thread did not commit within ${timeoutMs} ms`);
        Atomics.wait(this.#progress, COMMITTED, done, left);
      }
    } finally {
      this.#restoreCheckpoints();
    }
  }

  #restoreCheckpoints(): void {
    if (this.#autoCheckpoint !== null && this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${this.#autoCheckpoint}`);
  }
}

/** The columns that change while a call runs and call_id, in the order of call-record-writer.ts's rows; the state is left to the caller. */
function changingColumns(record: CallRecord): CallRecordRow {
  const s = record.state;
  const { first, second } = s.legs;
  return [
    s.phase,
    s.phase === 'ended' ? 0 : 1,
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
    null,
    record.callId,
  ];
}

function fullRow(record: CallRecord, changing: CallRecordRow): CallRecordRow {
  const s = record.state;
  changing.push(record.accountId, record.requestedBy, record.method, JSON.stringify(record.request), s.legs.first.dialed, s.legs.second.dialed, s.createdAt);
  return changing;
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
