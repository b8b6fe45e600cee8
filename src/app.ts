/**
 * Wires the layers into one server; no logic of its own. Later layers (SIP, registrar, call engine) plug in here:
 * each takes the config and what it needs from the others, and adds its close() to the list.
 */
import type { AddressInfo } from 'node:net';
import type { Database } from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ApiAuthenticator } from './api/api-authenticator.ts';
import { createApiServer } from './api/api-server.ts';
import { loadOrCreateCertificate } from './api/tls-certificate.ts';
import type { Originator } from './calls/originator.ts';
import { generatePassword, resolveCredentials, type Credentials, type GeneratedSecret } from './config/credentials.ts';
import type { Config } from './config/schema.ts';
import { Directory } from './directory/directory.ts';
import { openDatabase } from './store/open-database.ts';
import type { SecretStore } from './store/secret-store.ts';
import { SqliteSecretStore } from './store/sqlite-secret-store.ts';

export interface BuildAppOptions {
  /** Folder of the SQLite file and the generated certificate. */
  readonly dataDir: string;
  readonly logger?: Logger;
  /** The call layer; without it origination methods answer 10008 (no origination engine). */
  readonly originator?: Originator;
  readonly directory?: Directory;
}

export interface ListenAddresses {
  readonly https?: AddressInfo;
  readonly http?: AddressInfo;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly secrets: SecretStore;
  readonly credentials: Credentials;
  /** Passwords this start generated: main prints them once. */
  readonly generatedSecrets: readonly GeneratedSecret[];
  readonly directory: Directory;
  /** The API listeners as configured (api.https, api.http); null when switched off. */
  readonly http: { readonly https: FastifyInstance | null; readonly http: FastifyInstance | null };
  listen(): Promise<ListenAddresses>;
  close(): Promise<void>;
}

export async function buildApp(config: Config, opts: BuildAppOptions): Promise<App> {
  const logger = opts.logger ?? pino({ level: 'info' });
  const db = openDatabase(opts.dataDir);
  const secrets = new SqliteSecretStore(db);
  const { credentials, generated } = resolveCredentials(config, secrets);
  const directory = opts.directory ?? new Directory(config);
  const authenticator = new ApiAuthenticator({
    auth: config.api.auth,
    credentials,
    directory,
    nonceSecret: secrets.putIfAbsent('api.nonce_secret', generatePassword()),
  });
  const services = { config, directory, ...(opts.originator === undefined ? {} : { originator: opts.originator }) };
  const apiLogger = logger.child({ layer: 'api' });
  const https =
    config.api.https === null
      ? null
      : createApiServer({ services, authenticator, logger: apiLogger, tls: await loadOrCreateCertificate(opts.dataDir, config.api.https) });
  const http = config.api.http === null ? null : createApiServer({ services, authenticator, logger: apiLogger });

  return {
    config,
    logger,
    db,
    secrets,
    credentials,
    generatedSecrets: generated,
    directory,
    http: { https, http },
    async listen() {
      const out: { https?: AddressInfo; http?: AddressInfo } = {};
      if (https !== null && config.api.https !== null) {
        await https.listen({ host: config.api.https.host, port: config.api.https.port });
        out.https = https.server.address() as AddressInfo;
      }
      if (http !== null && config.api.http !== null) {
        await http.listen({ host: config.api.http.host, port: config.api.http.port });
        out.http = http.server.address() as AddressInfo;
      }
      return out;
    },
    async close() {
      await Promise.all([https?.close(), http?.close()]);
      db.close();
    },
  };
}
