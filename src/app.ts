/**
 * Wires the layers into one server; no logic of its own. Order: store and credentials, then SIP (transport and
 * user agent), the directory services on it (registrar, trunks, reload), media and the origination engine, and
 * the API on top. Each part adds its close() to the list, closed in reverse.
 */
import type { AddressInfo } from 'node:net';
import type { Database } from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ApiAuthenticator } from './api/api-authenticator.ts';
import { createApiServer } from './api/api-server.ts';
import type { ApiServices } from './api/methods/api-method.ts';
import { loadOrCreateCertificate } from './api/tls-certificate.ts';
import { createOriginator, type OriginationEngine } from './calls/create-originator.ts';
import type { Originator } from './calls/originator.ts';
import { generatePassword, resolveCredentials, type Credentials, type GeneratedSecret } from './config/credentials.ts';
import type { Config } from './config/schema.ts';
import { createDirectoryServices, type DirectoryServices } from './directory/directory-services.ts';
import { Directory } from './directory/directory.ts';
import { createMediaEngine } from './media/media-engine.ts';
import { TransportLayer } from './sip/transport/transport-layer.ts';
import { UserAgent } from './sip/ua/user-agent.ts';
import { openDatabase } from './store/open-database.ts';
import type { SecretStore } from './store/secret-store.ts';
import { SqliteSecretStore } from './store/sqlite-secret-store.ts';

export interface BuildAppOptions {
  /** Folder of the SQLite file and the generated certificate. */
  readonly dataDir: string;
  readonly logger?: Logger;
  /** The config file, watched and reloaded on change and SIGHUP (absent: no reload). */
  readonly configPath?: string;
  /**
   * The call layer. Absent: the server runs SIP and its own origination engine. Given: the API uses it and no
   * SIP is started (API tests); 'none': no call layer at all, origination methods answer 10008.
   */
  readonly originator?: Originator | 'none';
  /** Told of passwords a config reload generated for new accounts (main prints them once). */
  readonly onGeneratedSecrets?: (secrets: readonly GeneratedSecret[]) => void;
}

export interface ListenAddresses {
  readonly https?: AddressInfo;
  readonly http?: AddressInfo;
}

/** The SIP side of a full server. */
export interface SipParts {
  readonly transport: TransportLayer;
  readonly ua: UserAgent;
  readonly directory: DirectoryServices;
  readonly engine: OriginationEngine;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly secrets: SecretStore;
  readonly credentials: Credentials;
  /** Passwords this start generated: main prints them once. */
  readonly generatedSecrets: readonly GeneratedSecret[];
  /** The directory in force (replaced by config reloads). */
  readonly directory: Directory;
  /** Present when the server runs its own SIP side. */
  readonly sip: SipParts | null;
  /** The API listeners as configured (api.https, api.http); null when switched off. */
  readonly http: { readonly https: FastifyInstance | null; readonly http: FastifyInstance | null };
  listen(): Promise<ListenAddresses>;
  close(): Promise<void>;
}

export async function buildApp(config: Config, opts: BuildAppOptions): Promise<App> {
  const logger = opts.logger ?? pino({ level: 'info' });
  const db = openDatabase(opts.dataDir);
  const secrets = new SqliteSecretStore(db);
  const first = resolveCredentials(config, secrets);
  let credentials = first.credentials;
  // A reload may add accounts: their generated passwords are stored and shown once, like on first start.
  const credentialsFor = (c: Config): Credentials => {
    const r = resolveCredentials(c, secrets);
    if (r.generated.length > 0) opts.onGeneratedSecrets?.(r.generated);
    credentials = r.credentials;
    return r.credentials;
  };
  const currentCredentials: Credentials = {
    adminUsername: first.credentials.adminUsername,
    adminPassword: () => credentials.adminPassword(),
    sipPassword: (id) => credentials.sipPassword(id),
    apiPassword: (id) => credentials.apiPassword(id),
  };
  const closers: (() => unknown)[] = [() => db.close()];

  let sip: SipParts | null = null;
  let currentDirectory: () => Directory;
  let originator: Originator | undefined = opts.originator === 'none' ? undefined : opts.originator;
  if (opts.originator === undefined) {
    sip = await startSip(config, { db, secrets, credentials: first.credentials, credentialsFor, logger, configPath: opts.configPath, dataDir: opts.dataDir });
    const parts = sip;
    closers.push(() => parts.transport.close(), () => parts.ua.close(), () => parts.directory.close(), () => parts.engine.close());
    currentDirectory = () => parts.directory.holder.current();
    originator = parts.engine.originator;
  } else {
    const directory = new Directory(config, first.credentials);
    currentDirectory = () => directory;
  }

  const authenticator = new ApiAuthenticator({
    auth: config.api.auth,
    credentials: currentCredentials,
    directory: { current: currentDirectory },
    nonceSecret: secrets.putIfAbsent('api.nonce_secret', generatePassword()),
  });
  const services: ApiServices = {
    config,
    get directory() {
      return currentDirectory();
    },
    ...(originator === undefined ? {} : { originator }),
  };
  const apiLogger = logger.child({ layer: 'api' });
  const https =
    config.api.https === null
      ? null
      : createApiServer({ services, authenticator, logger: apiLogger, tls: await loadOrCreateCertificate(opts.dataDir, config.api.https) });
  const http = config.api.http === null ? null : createApiServer({ services, authenticator, logger: apiLogger });
  closers.push(() => https?.close(), () => http?.close());

  return {
    config,
    logger,
    db,
    secrets,
    credentials: currentCredentials,
    generatedSecrets: first.generated,
    get directory() {
      return currentDirectory();
    },
    sip,
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
      // Reverse order: the API stops taking calls, calls are hung up, then SIP and the store go.
      for (const close of closers.reverse()) await close();
    },
  };
}

async function startSip(
  config: Config,
  deps: {
    db: Database;
    secrets: SecretStore;
    credentials: Credentials;
    credentialsFor: (c: Config) => Credentials;
    logger: Logger;
    configPath: string | undefined;
    dataDir: string;
  },
): Promise<SipParts> {
  const logger = deps.logger;
  const transport = await TransportLayer.fromConfig(config.sip, logger.child({ layer: 'sip-transport' }));
  const ua = UserAgent.fromConfig(transport, config.sip, {
    publicHost: config.sip.public_host,
    nonceSecret: deps.secrets.putIfAbsent('sip.nonce_secret', generatePassword()),
    logger,
  });
  let first = true;
  const directory = createDirectoryServices({
    config,
    ...(deps.configPath === undefined ? {} : { configPath: deps.configPath }),
    db: deps.db,
    // The start's own credentials are already resolved (and printed by main); reloads resolve again.
    credentialsFor: (c) => {
      if (first) {
        first = false;
        return deps.credentials;
      }
      return deps.credentialsFor(c);
    },
    secrets: deps.secrets,
    ua,
    logger,
  });
  const engine = createOriginator({
    calls: config.calls,
    directory: () => directory.holder.current(),
    locations: directory.locations,
    media: createMediaEngine(config.media),
    db: deps.db,
    ua,
    publicHost: config.sip.public_host,
    logger,
    dataDir: deps.dataDir,
  });
  directory.start();
  const closed = await engine.recover();
  if (closed > 0) logger.warn({ calls: closed }, 'closed calls a previous run left open');
  return { transport, ua, directory, engine };
}
