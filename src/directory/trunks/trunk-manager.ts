/**
 * Everything the PBX keeps per trunk while it runs: the outbound registration of trunks with `register: true`,
 * the concurrent call counter behind `max_calls`, and the credentials the user agent answers a trunk's 401/407
 * with. Follows directory reloads: a trunk added starts, a trunk removed un-registers, a trunk whose SIP settings
 * changed registers again; call counters survive reloads (calls in progress do not vanish with an edit).
 */
import type { Logger } from 'pino';
import type { Trunk } from '../../config/schema.ts';
import type { Directory } from '../directory.ts';
import type { DirectoryHolder } from '../directory-holder.ts';
import type { RegisterPort } from './register-port.ts';
import {
  DEFAULT_BACKOFF,
  nodeTrunkTimers,
  TrunkRegistration,
  type BackoffPolicy,
  type RegistrationStatus,
  type TrunkTimers,
} from './trunk-registration.ts';

export interface TrunkStatus extends Omit<RegistrationStatus, 'state'> {
  readonly name: string;
  /** `not_registering` for trunks configured with register: false. */
  readonly state: RegistrationStatus['state'] | 'not_registering';
  readonly activeCalls: number;
  /** 0: no limit. */
  readonly maxCalls: number;
}

export interface TrunkCredentials {
  /** Digest user name: auth_username when set, else username. */
  readonly username: string;
  readonly password: string;
}

export interface TrunkManagerOptions {
  readonly directory: Pick<DirectoryHolder, 'current' | 'onChange'>;
  readonly port: RegisterPort;
  readonly logger: Logger;
  readonly timers?: TrunkTimers;
  readonly now?: () => number;
  readonly backoff?: BackoffPolicy;
  /** Told when a trunk's registration state settles (registered, failed, stopped). */
  readonly onStatus?: (status: TrunkStatus) => void;
}

/** Releases one call slot; calling it again does nothing. */
export type ReleaseTrunk = () => void;

export class TrunkManager {
  readonly #options: TrunkManagerOptions;
  readonly #registrations = new Map<string, TrunkRegistration>();
  readonly #activeCalls = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: TrunkManagerOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#unsubscribe !== undefined) return;
    this.#reconcile(this.#options.directory.current());
    this.#unsubscribe = this.#options.directory.onChange((next) => this.#reconcile(next));
  }

  /** Stops refreshing and un-registers every registered trunk. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const all = [...this.#registrations.values()];
    this.#registrations.clear();
    await Promise.all(all.map((r) => r.stop()));
  }

  trunkStatus(): TrunkStatus[] {
    return this.#options.directory.current().trunks.map((trunk) => this.#status(trunk, this.#registrations.get(trunk.name)?.status()));
  }

  #status(trunk: Trunk, registration: RegistrationStatus | undefined): TrunkStatus {
    const base = registration ?? { state: 'not_registering' as const, lastStatus: null, lastReason: null, expiresAt: null, nextAttemptAt: null, failures: 0 };
    return { ...base, name: trunk.name, activeCalls: this.#activeCalls.get(trunk.name) ?? 0, maxCalls: trunk.max_calls };
  }

  /** Takes a call slot on the trunk: null when the trunk is unknown or at its max_calls. */
  acquire(name: string): ReleaseTrunk | null {
    const trunk = this.#options.directory.current().trunk(name);
    if (trunk === undefined) return null;
    const active = this.#activeCalls.get(name) ?? 0;
    if (trunk.max_calls > 0 && active >= trunk.max_calls) return null;
    this.#activeCalls.set(name, active + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.#activeCalls.get(name) ?? 1) - 1;
      if (now > 0) this.#activeCalls.set(name, now);
      else this.#activeCalls.delete(name);
    };
  }

  /** What the user agent answers this trunk's challenges with; undefined when the trunk has none. */
  credentials(name: string): TrunkCredentials | undefined {
    return trunkCredentials(this.#options.directory.current().trunk(name));
  }

  #reconcile(directory: Directory): void {
    const wanted = new Map(directory.trunks.filter((t) => t.register).map((t) => [t.name, t]));
    for (const [name, registration] of this.#registrations) {
      const next = wanted.get(name);
      if (next !== undefined && sameRegistration(registration.trunk, next)) continue;
      this.#registrations.delete(name);
      void registration.stop();
    }
    for (const [name, trunk] of wanted) {
      if (this.#registrations.has(name)) continue;
      if (trunkCredentials(trunk) === undefined) {
        this.#options.logger.warn({ trunk: name }, 'trunk has register: true but no username and password; not registering');
        continue;
      }
      const registration = new TrunkRegistration(trunk, this.#options.port, {
        logger: this.#options.logger.child({ trunk: name }),
        timers: this.#options.timers ?? nodeTrunkTimers,
        now: this.#options.now ?? Date.now,
        backoff: this.#options.backoff ?? DEFAULT_BACKOFF,
        onChange: (status) => this.#options.onStatus?.(this.#status(trunk, status)),
      });
      this.#registrations.set(name, registration);
      registration.start();
    }
  }
}

export function trunkCredentials(trunk: Trunk | undefined): TrunkCredentials | undefined {
  if (trunk?.password === undefined) return undefined;
  const username = trunk.auth_username ?? trunk.username;
  return username === undefined ? undefined : { username, password: trunk.password };
}

function sameRegistration(a: Trunk, b: Trunk): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.transport === b.transport &&
    a.username === b.username &&
    a.auth_username === b.auth_username &&
    a.password === b.password &&
    a.domain === b.domain &&
    a.register_expires === b.register_expires
  );
}
