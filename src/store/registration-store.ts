/**
 * Registrar bindings in SQLite, so a restart of the PBX loses no registered phone. Keyed by (account, contact key);
 * every write is one statement, so concurrent REGISTERs of one phone cannot leave half a refresh behind.
 * Table: migrations/020_registrations.sql.
 *
 * Every origination reads the bindings of the extension it rings, and REGISTERs are rare next to that: reads are
 * served from a per-account copy that every write through this store drops. The database file belongs to one
 * server process; a store shared by several nodes is another implementation of the registrar's store.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Binding } from '../directory/registrar/binding.ts';
import type { TransportProtocol } from '../sip/transport/endpoint.ts';

interface Row {
  account_id: string;
  contact_key: string;
  contact: string;
  call_id: string;
  cseq: number;
  expires_at: number;
  registered_at: number;
  source_transport: string;
  source_host: string;
  source_port: number;
  q: number | null;
  user_agent: string | null;
}

export interface StoredBinding extends Binding {
  readonly contactKey: string;
}

export class RegistrationStore {
  readonly #list: Statement<[string, number], Row>;
  readonly #listAll: Statement<[number], Row>;
  readonly #has: Statement<[string, number], { n: number }>;
  readonly #upsert: Statement<[Record<string, unknown>]>;
  readonly #remove: Statement<[string, string]>;
  readonly #removeAccount: Statement<[string]>;
  readonly #removeExpired: Statement<[number]>;
  /** Bindings per account as last read, expired ones included (filtered at read time). */
  readonly #cache = new Map<string, StoredBinding[]>();

  constructor(db: Database) {
    this.#list = db.prepare<[string, number], Row>('SELECT * FROM registrations WHERE account_id = ? AND expires_at > ? ORDER BY registered_at, contact_key');
    this.#listAll = db.prepare<[number], Row>('SELECT * FROM registrations WHERE expires_at > ? ORDER BY account_id, registered_at');
    this.#has = db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM registrations WHERE account_id = ? AND expires_at > ?');
    this.#upsert = db.prepare(`
      INSERT INTO registrations (account_id, contact_key, contact, call_id, cseq, expires_at, registered_at,
                                 source_transport, source_host, source_port, q, user_agent)
      VALUES (@accountId, @contactKey, @contact, @callId, @cseq, @expiresAt, @registeredAt,
              @sourceTransport, @sourceHost, @sourcePort, @q, @userAgent)
      ON CONFLICT (account_id, contact_key) DO UPDATE SET
        contact = excluded.contact, call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at,
        registered_at = excluded.registered_at, source_transport = excluded.source_transport,
        source_host = excluded.source_host, source_port = excluded.source_port, q = excluded.q, user_agent = excluded.user_agent`);
    this.#remove = db.prepare('DELETE FROM registrations WHERE account_id = ? AND contact_key = ?');
    this.#removeAccount = db.prepare('DELETE FROM registrations WHERE account_id = ?');
    this.#removeExpired = db.prepare('DELETE FROM registrations WHERE expires_at <= ?');
  }

  /** Unexpired bindings of an account at `now` (epoch ms). */
  list(accountId: string, now: number): StoredBinding[] {
    let all = this.#cache.get(accountId);
    if (all === undefined) {
      // Read without the time bound, so that the copy stays right as bindings expire.
      all = this.#list.all(accountId, Number.MIN_SAFE_INTEGER).map(fromRow);
      this.#cache.set(accountId, all);
    }
    return all.filter((b) => b.expiresAt > now);
  }

  listAll(now: number): StoredBinding[] {
    return this.#listAll.all(now).map(fromRow);
  }

  has(accountId: string, now: number): boolean {
    const cached = this.#cache.get(accountId);
    if (cached !== undefined) return cached.some((b) => b.expiresAt > now);
    return (this.#has.get(accountId, now)?.n ?? 0) > 0;
  }

  put(binding: StoredBinding): void {
    this.#cache.delete(binding.accountId);
    this.#upsert.run({
      accountId: binding.accountId,
      contactKey: binding.contactKey,
      contact: binding.contact,
      callId: binding.callId,
      cseq: binding.cseq,
      expiresAt: binding.expiresAt,
      registeredAt: binding.registeredAt,
      sourceTransport: binding.source.transport,
      sourceHost: binding.source.host,
      sourcePort: binding.source.port,
      q: binding.q,
      userAgent: binding.userAgent,
    });
  }

  remove(accountId: string, contactKey: string): void {
    this.#cache.delete(accountId);
    this.#remove.run(accountId, contactKey);
  }

  removeAccount(accountId: string): void {
    this.#cache.delete(accountId);
    this.#removeAccount.run(accountId);
  }

  /** Deletes bindings expired at `now`; returns how many. */
  removeExpired(now: number): number {
    this.#cache.clear();
    return this.#removeExpired.run(now).changes;
  }
}

function fromRow(row: Row): StoredBinding {
  return {
    accountId: row.account_id,
    contact: row.contact,
    contactKey: row.contact_key,
    callId: row.call_id,
    cseq: row.cseq,
    expiresAt: row.expires_at,
    registeredAt: row.registered_at,
    source: { transport: row.source_transport as TransportProtocol, host: row.source_host, port: row.source_port },
    q: row.q,
    userAgent: row.user_agent,
  };
}
