/**
 * The record-writer thread: its own connection to the server's database file, on which it commits the batches the
 * main thread's CallRecordStore posts, in the order posted, and runs the WAL checkpoints its commits trigger. The
 * main thread keeps every row it posted readable until this thread reports the batch committed.
 *
 * Reporting is done twice: a message per batch (the main thread lets go of the batch's rows) and the batch number
 * in shared memory, which the main thread can wait on synchronously at shutdown (Atomics.wait).
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { CallRecordWriter, COMMITTED, FAILED, READY, rowsOfText, type WriterBatch, type WriterData } from './call-record-writer.ts';

if (parentPort === null) throw new Error('call-record-worker.ts runs as a worker thread');
const port = parentPort;
const { file, progress } = workerData as WriterData;

/**
 * Marks the thread failed for a main thread blocked in flush(), and ends the thread with an Error: what a thread
 * throws reaches the main thread as a structured clone, and better-sqlite3's SqliteError would arrive as a bare
 * `{ code }`.
 */
function fail(err: unknown): never {
  Atomics.store(progress, FAILED, 1);
  Atomics.notify(progress, COMMITTED);
  const e = err as { code?: unknown; message?: unknown };
  throw new Error(`${typeof e.code === 'string' ? `${e.code}: ` : ''}${String(e.message ?? err)}`);
}

function open(): { db: BetterSqlite3.Database; writer: CallRecordWriter } {
  try {
    const db = new BetterSqlite3(file, { fileMustExist: true });
    // The same durability as the main connection (open-database.ts); the schema is the main thread's business.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    return { db, writer: new CallRecordWriter(db) };
  } catch (err) {
    return fail(err);
  }
}

const { db, writer } = open();
port.postMessage(READY);

port.on('message', (batch: WriterBatch) => {
  try {
    writer.write(rowsOfText(batch.text));
    if (batch.last) db.close();
  } catch (err) {
    fail(err);
  }
  Atomics.store(progress, COMMITTED, batch.seq);
  Atomics.notify(progress, COMMITTED);
  port.postMessage(batch.seq);
  if (batch.last) port.close();
});
