/**
 * Registrar bindings in SQLite, so a restart of the PBX loses no registered phone. Keyed by (account, contact key);
 * every write is one statement, so concurrent REGISTERs of one phone cannot leave half a refresh behind.
 * Table: migrations/020_registrations.sql.
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
    return this.#list.all(accountId, now).map(fromRow);
  }

  listAll(now: number): StoredBinding[] {
    return this.#listAll.all(now).map(fromRow);
  }

  has(accountId: string, now: number): boolean {
    return (this.#has.get(accountId, now)?.n ?? 0) > 0;
  }

  put(binding: StoredBinding): void {
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
    this.#remove.run(accountId, contactKey);
  }

  removeAccount(accountId: string): void {
    this.#removeAccount.run(accountId);
  }

  /** Deletes bindings expired at `now`; returns how many. */
  removeExpired(now: number): number {
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
