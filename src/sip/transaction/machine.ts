import type { TimerHandle, TimerName, TimerPort, TimerTarget } from './timer-port.ts';

/** RFC 3261 §17.1.1.1 / §17.1.2.1 / Table 4: T1, T2, T4, and whether the transport is reliable. */
export interface TransactionTimerConfig {
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t4Ms: number;
  readonly reliable: boolean;
}

/** A move the allowed-moves table forbids: always a bug in the machine, never caused by the network. */
export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
  constructor(machine: string, from: string, to: string) {
    super(`${machine}: invalid transition ${from} -> ${to}`);
  }
}

/**
 * What the four machines share: the current state, the one `transition()` that checks the allowed-moves table,
 * and the timers, which the machine owns so that reaching Terminated always releases every one of them.
 *
 * Ports never call back into the machine synchronously: a send failure arrives later as a `transportError` input,
 * so a branch runs to its end before the next input is handled.
 */
export abstract class TransactionMachine<S extends string> implements TimerTarget {
  #state: S;
  readonly #moves: Readonly<Record<S, readonly S[]>>;
  readonly #timers: TimerPort;
  readonly #handles: Partial<Record<TimerName, TimerHandle>> = {};
  protected readonly cfg: TransactionTimerConfig;

  protected constructor(initial: S, moves: Readonly<Record<S, readonly S[]>>, timers: TimerPort, cfg: TransactionTimerConfig) {
    this.#state = initial;
    this.#moves = moves;
    this.#timers = timers;
    this.cfg = cfg;
  }

  get state(): S {
    return this.#state;
  }

  abstract onTimer(name: TimerName): void;

  /** Names of the timers currently running (tests assert that Terminated leaves none). */
  runningTimers(): TimerName[] {
    return (Object.keys(this.#handles) as TimerName[]).filter((n) => this.#handles[n] !== undefined);
  }

  protected transition(to: S): void {
    if (!this.#moves[this.#state].includes(to)) throw new InvalidTransitionError(this.constructor.name, this.#state, to);
    this.#state = to;
  }

  protected startTimer(name: TimerName, ms: number): void {
    this.cancelTimer(name);
    this.#handles[name] = this.#timers.start(ms, this, name);
  }

  protected cancelTimer(name: TimerName): void {
    const h = this.#handles[name];
    if (h !== undefined) {
      this.#timers.cancel(h);
      this.#handles[name] = undefined;
    }
  }

  /** Called by the timer port: the handle is spent, forget it before the machine reacts. */
  protected timerFired(name: TimerName): void {
    this.#handles[name] = undefined;
  }

  /** Releases the timers without a transition: the owner is being torn down (layer close), nobody is told. */
  dispose(): void {
    this.cancelAllTimers();
  }

  protected cancelAllTimers(): void {
    for (const name of Object.keys(this.#handles) as TimerName[]) this.cancelTimer(name);
  }
}
