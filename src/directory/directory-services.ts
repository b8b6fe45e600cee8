/**
 * The directory layer assembled for app wiring: one holder of the current directory (reloaded from the config
 * file), the registrar on the user agent, the location service, trunk registrations and call limits, and the
 * inbound INVITE authorizer. Nothing starts until `start()`; `close()` un-registers trunks and stops the timers.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { generatePassword, type Credentials } from '../config/credentials.ts';
import type { Config } from '../config/schema.ts';
import type { UserAgent } from '../sip/ua/user-agent.ts';
import { RegistrationStore } from '../store/registration-store.ts';
import type { SecretStore } from '../store/secret-store.ts';
import { Directory } from './directory.ts';
import { DirectoryHolder } from './directory-holder.ts';
import { InboundAuthorizer } from './inbound-authorizer.ts';
import { attachRegistrar } from './registrar/register-handler.ts';
import { LocationService } from './registrar/location-service.ts';
import { Registrar } from './registrar/registrar.ts';
import { Reloader } from './reloader.ts';
import { TrunkManager, type TrunkStatus } from './trunks/trunk-manager.ts';
import { uaRegisterPort } from './trunks/ua-register-port.ts';

export interface DirectoryServicesOptions {
  readonly config: Config;
  /** The file to reload on SIGHUP and on change; absent for a config that is not a file (embedded default). */
  readonly configPath?: string;
  readonly db: Database;
  /** Passwords in force for a config (configured or generated): `resolveCredentials(config, secrets).credentials`. */
  readonly credentialsFor: (config: Config) => Pick<Credentials, 'sipPassword'>;
  /** Keeps the SIP Digest nonce key across restarts, so phones' nonces stay valid. */
  readonly secrets: SecretStore;
  readonly ua: Pick<UserAgent, 'onRequest' | 'request' | 'contact'>;
  readonly logger: Logger;
  /** Reload debounce; how often expired bindings are swept. */
  readonly reloadDebounceMs?: number;
  readonly sweepIntervalMs?: number;
  readonly sighup?: boolean;
  /** Told when a trunk registration settles (for the API's status view, or tests). */
  readonly onTrunkStatus?: (status: TrunkStatus) => void;
}

export interface DirectoryServices {
  readonly holder: DirectoryHolder;
  readonly locations: LocationService;
  readonly registrar: Registrar;
  readonly trunks: TrunkManager;
  readonly inbound: InboundAuthorizer;
  readonly reloader: Reloader | null;
  /** Told after every change of an account's bindings (REGISTER, expiry); returns the function that stops it. */
  onRegistrationChange(listener: (accountId: string) => void): () => void;
  start(): void;
  close(): Promise<void>;
}

export function createDirectoryServices(options: DirectoryServicesOptions): DirectoryServices {
  const logger = options.logger.child({ layer: 'directory' });
  const holder = new DirectoryHolder(new Directory(options.config, options.credentialsFor(options.config)));
  const store = new RegistrationStore(options.db);
  const locations = new LocationService(store);
  const nonceSecret = options.secrets.putIfAbsent('sip.nonce_secret', generatePassword());
  const registrationListeners = new Set<(accountId: string) => void>();
  const registrar = new Registrar({
    directory: holder,
    store,
    logger: logger.child({ component: 'registrar' }),
    nonceSecret,
    onChange: (accountId) => {
      for (const listener of registrationListeners) listener(accountId);
    },
  });
  const inbound = new InboundAuthorizer({ directory: holder, logger: logger.child({ component: 'inbound' }), nonceSecret });
  const trunks = new TrunkManager({
    directory: holder,
    port: uaRegisterPort(options.ua),
    logger: logger.child({ component: 'trunks' }),
    ...(options.onTrunkStatus === undefined ? {} : { onStatus: options.onTrunkStatus }),
  });
  const reloader =
    options.configPath === undefined
      ? null
      : new Reloader(options.configPath, holder, logger, {
          credentialsFor: options.credentialsFor,
          running: options.config,
          ...(options.reloadDebounceMs === undefined ? {} : { debounceMs: options.reloadDebounceMs }),
          ...(options.sighup === undefined ? {} : { sighup: options.sighup }),
        });
  return {
    holder,
    locations,
    registrar,
    trunks,
    inbound,
    reloader,
    onRegistrationChange(listener) {
      registrationListeners.add(listener);
      return () => registrationListeners.delete(listener);
    },
    start() {
      attachRegistrar(options.ua, registrar);
      locations.startSweeping(options.sweepIntervalMs ?? 60_000, logger);
      trunks.start();
      reloader?.start();
    },
    async close() {
      reloader?.close();
      locations.stop();
      await trunks.stop();
    },
  };
}
