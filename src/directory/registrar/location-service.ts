/**
 * The location service (RFC 3261 §10.2, "abstract service"): what the call layer asks to find an extension's
 * phones. Reads go to the store and filter by expiry themselves, so a binding is never used after it expired even
 * between sweeps; the sweep only keeps the table small.
 */
import type { Logger } from 'pino';
import type { RegistrationStore } from '../../store/registration-store.ts';
import type { Binding, Location } from './binding.ts';
import { deliveryEndpoint } from './binding.ts';

export class LocationService {
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RegistrationStore,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(accountId: string): Location[] {
    return this.store.list(accountId, this.now()).map(toLocation);
  }

  hasContacts(accountId: string): boolean {
    return this.store.has(accountId, this.now());
  }

  /** Every live binding, e.g. for an admin listing. */
  bindings(): Binding[] {
    return this.store.listAll(this.now());
  }

  /** Deletes expired bindings now; returns how many went. */
  sweep(): number {
    return this.store.removeExpired(this.now());
  }

  /** Sweeps periodically until `stop()`; the timer does not keep the process alive. */
  startSweeping(intervalMs: number, logger: Logger): void {
    this.stop();
    this.#sweepTimer = setInterval(() => {
      const removed = this.sweep();
      if (removed > 0) logger.info({ removed }, 'expired bindings removed');
    }, intervalMs);
    this.#sweepTimer.unref();
  }

  stop(): void {
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }
}

function toLocation(b: Binding): Location {
  return { accountId: b.accountId, contact: b.contact, sendTo: deliveryEndpoint(b), expiresAt: b.expiresAt };
}
