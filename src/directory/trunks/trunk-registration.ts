/**
 * Keeps one trunk registered (RFC 3261 §10.2): REGISTER with its credentials, refresh before the granted expiry,
 * retry with exponential back-off after a failure, and one immediate retry with Min-Expires after a 423.
 *
 * ```
 *   stopped ──start──► registering ──2xx──► registered
 *      ▲                 ▲      │               │
 *      │                 │      │ failure       │ refresh timer
 *     stop          retry timer ▼               │
 *   (any state)          └──── failed           └──► registering
 * ```
 * A registration stays usable until its expiry even while a refresh fails; `status()` shows both.
 */
import type { Logger } from 'pino';
import type { Trunk } from '../../config/schema.ts';
import type { RegisterPort } from './register-port.ts';

export type TrunkRegistrationState = 'stopped' | 'registering' | 'registered' | 'failed';

/** The moves the diagram above allows; anything else is a bug in this file. */
const ALLOWED: Readonly<Record<TrunkRegistrationState, readonly TrunkRegistrationState[]>> = {
  stopped: ['registering', 'stopped'],
  // registering -> registering: the immediate retry after a 423.
  registering: ['registered', 'failed', 'registering', 'stopped'],
  registered: ['registering', 'stopped'],
  failed: ['registering', 'stopped'],
};

export class InvalidTrunkTransitionError extends Error {
  override readonly name = 'InvalidTrunkTransitionError';
}

export interface TrunkTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const nodeTrunkTimers: TrunkTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5_000, maxMs: 600_000 };

export interface RegistrationStatus {
  readonly state: TrunkRegistrationState;
  /** Final status of the last attempt (0: timeout or transport error), null before any. */
  readonly lastStatus: number | null;
  readonly lastReason: string | null;
  /** Epoch ms until which the trunk holds our binding, null when not registered. */
  readonly expiresAt: number | null;
  readonly nextAttemptAt: number | null;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

export interface TrunkRegistrationOptions {
  readonly logger: Logger;
  readonly timers?: TrunkTimers;
  readonly now?: () => number;
  readonly backoff?: BackoffPolicy;
  /** Told after every settled attempt (registered or failed) and on stop. */
  readonly onChange?: (status: RegistrationStatus) => void;
}

/** Seconds before a granted expiry at which to refresh: a minute early, but never before half the time. */
export function refreshDelaySeconds(granted: number): number {
  return Math.max(granted / 2, granted - 60);
}

export function backoffDelayMs(failures: number, policy: BackoffPolicy): number {
  return Math.min(policy.initialMs * 2 ** Math.max(0, failures - 1), policy.maxMs);
}

export class TrunkRegistration {
  #state: TrunkRegistrationState = 'stopped';
  #lastStatus: number | null = null;
  #lastReason: string | null = null;
  #expiresAt: number | null = null;
  #nextAttemptAt: number | null = null;
  #failures = 0;
  #timer: unknown;
  /** Bumped by stop(): answers to requests sent before it are ignored. */
  #generation = 0;

  private readonly logger: Logger;
  private readonly timers: TrunkTimers;
  private readonly now: () => number;
  private readonly backoff: BackoffPolicy;
  private readonly onChange: (status: RegistrationStatus) => void;

  constructor(
    readonly trunk: Trunk,
    private readonly port: RegisterPort,
    options: TrunkRegistrationOptions,
  ) {
    this.logger = options.logger;
    this.timers = options.timers ?? nodeTrunkTimers;
    this.now = options.now ?? Date.now;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.onChange = options.onChange ?? (() => undefined);
  }

  status(): RegistrationStatus {
    const expiresAt = this.#expiresAt !== null && this.#expiresAt > this.now() ? this.#expiresAt : null;
    return {
      state: this.#state,
      lastStatus: this.#lastStatus,
      lastReason: this.#lastReason,
      expiresAt,
      nextAttemptAt: this.#nextAttemptAt,
      failures: this.#failures,
    };
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    this.#attempt(this.trunk.register_expires, true);
  }

  /** Stops refreshing; a live registration is removed with Expires: 0 (its outcome is logged, not awaited by callers that do not care). */
  async stop(): Promise<void> {
    const wasRegistered = this.status().expiresAt !== null;
    this.#generation++;
    this.#clearTimer();
    this.#moveTo('stopped');
    this.#nextAttemptAt = null;
    this.#expiresAt = null;
    this.onChange(this.status());
    if (!wasRegistered) return;
    try {
      const outcome = await this.port.register(this.trunk, 0);
      this.logger.info({ trunk: this.trunk.name, status: outcome.status }, 'trunk un-registered');
    } catch (err) {
      this.logger.warn({ trunk: this.trunk.name, err }, 'trunk un-REGISTER failed');
    }
  }

  #attempt(expires: number, allowMinExpiresRetry: boolean): void {
    const generation = this.#generation;
    this.#moveTo('registering');
    this.#nextAttemptAt = null;
    this.port.register(this.trunk, expires).then(
      (outcome) => {
        if (generation !== this.#generation) return;
        this.#lastStatus = outcome.status;
        this.#lastReason = outcome.reason;
        if (outcome.status >= 200 && outcome.status < 300) {
          this.#registered(outcome.expires ?? expires);
        } else if (outcome.status === 423 && outcome.minExpires !== undefined && allowMinExpiresRetry) {
          // §10.2.8: retry at once with the registrar's minimum.
          this.#attempt(Math.max(outcome.minExpires, expires), false);
        } else {
          this.#failed(`${outcome.status} ${outcome.reason}`);
        }
      },
      (err: unknown) => {
        if (generation !== this.#generation) return;
        this.#lastStatus = 0;
        this.#lastReason = err instanceof Error ? err.message : String(err);
        this.#failed(this.#lastReason);
      },
    );
  }

  #registered(granted: number): void {
    // A routine refresh logs quietly; a first registration or a recovery after failures is news.
    const routine = this.#failures === 0 && this.#expiresAt !== null && this.#expiresAt > this.now();
    this.#moveTo('registered');
    this.#failures = 0;
    this.#expiresAt = this.now() + granted * 1000;
    const delayMs = refreshDelaySeconds(granted) * 1000;
    this.#schedule(delayMs, () => this.#attempt(this.trunk.register_expires, true));
    const log = { trunk: this.trunk.name, expires: granted, refreshInSeconds: delayMs / 1000 };
    if (routine) this.logger.debug(log, 'trunk registration refreshed');
    else this.logger.info(log, 'trunk registered');
    this.onChange(this.status());
  }

  #failed(reason: string): void {
    this.#moveTo('failed');
    this.#failures++;
    const delayMs = backoffDelayMs(this.#failures, this.backoff);
    this.#schedule(delayMs, () => this.#attempt(this.trunk.register_expires, true));
    this.logger.warn({ trunk: this.trunk.name, reason, failures: this.#failures, retryInSeconds: delayMs / 1000 }, 'trunk registration failed');
    this.onChange(this.status());
  }

  #moveTo(next: TrunkRegistrationState): void {
    if (!ALLOWED[this.#state].includes(next)) {
      throw new InvalidTrunkTransitionError(`trunk ${this.trunk.name}: ${this.#state} -> ${next}`);
    }
    this.#state = next;
  }

  #schedule(delayMs: number, fn: () => void): void {
    this.#clearTimer();
    this.#nextAttemptAt = this.now() + delayMs;
    this.#timer = this.timers.set(() => {
      this.#timer = undefined;
      fn();
    }, delayMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.timers.clear(this.#timer);
    this.#timer = undefined;
  }
}
