/**
 * Reloads the directory from the config file on SIGHUP and when the file changes. A file that fails validation
 * changes nothing: the running directory stays and the log says exactly which keys are wrong (ConfigError's
 * paths). Only the directory's parts of the file (accounts, trunks, rules, realm, registrar limits) take effect;
 * listeners, the API and media settings are read once at start-up.
 *
 * The folder is watched, not the file: editors save by writing a new file and renaming it over the old one,
 * which ends a watch on the old file's inode.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Credentials } from '../config/credentials.ts';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { Directory } from './directory.ts';
import type { DirectoryHolder } from './directory-holder.ts';

export interface ReloaderOptions {
  /** Quiet time after the last change event before reading the file; editors write in several steps. */
  readonly debounceMs?: number;
  /** Passwords for accounts the new file leaves without one (generated ones are kept in the store). */
  readonly credentialsFor?: (config: Config) => Pick<Credentials, 'sipPassword'>;
  /** Listen for SIGHUP (default true); tests that run several reloaders in one process turn it off. */
  readonly sighup?: boolean;
  /** The configuration the server started with: a reload that changes what only a restart applies says so. */
  readonly running?: Config;
}

/** What a reload cannot change in a running server: the listeners, the API, media and call limits. */
export function sectionsNeedingRestart(running: Config, next: Config): string[] {
  const { realm: _r1, registrar: _g1, ...sipRunning } = running.sip;
  const { realm: _r2, registrar: _g2, ...sipNext } = next.sip;
  const changed: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  // The admin password is read through the credentials, which a reload renews.
  const api = (c: Config) => ({ ...c.api, admin: { username: c.api.admin.username } });
  if (!same(api(running), api(next))) changed.push('api');
  if (!same(sipRunning, sipNext)) changed.push('sip (except realm and registrar)');
  if (!same(running.media, next.media)) changed.push('media');
  if (!same(running.calls, next.calls)) changed.push('calls');
  return changed;
}

export type ReloadResult = { readonly ok: true; readonly directory: Directory } | { readonly ok: false; readonly error: ConfigError };

export interface ReloaderEvents {
  reloaded: [directory: Directory];
  refused: [error: ConfigError];
}

export class Reloader extends EventEmitter<ReloaderEvents> {
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onSighup = () => {
    this.logger.info({ path: this.path }, 'SIGHUP: reloading configuration');
    this.reload();
  };

  constructor(
    readonly path: string,
    private readonly holder: DirectoryHolder,
    private readonly logger: Logger,
    private readonly options: ReloaderOptions = {},
  ) {
    super();
  }

  start(): this {
    const file = basename(this.path);
    this.#watcher = watch(dirname(this.path), (_event, name) => {
      if (name !== null && name.toString() !== file) return;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.reload();
      }, this.options.debounceMs ?? 250);
    });
    this.#watcher.on('error', (err) => this.logger.error({ err, path: this.path }, 'configuration watch failed; SIGHUP still reloads'));
    if (this.options.sighup ?? true) process.on('SIGHUP', this.#onSighup);
    return this;
  }

  /** Reads and validates the file now; on success the holder gets the new directory. */
  reload(): ReloadResult {
    let config: Config;
    try {
      config = loadConfig(this.path);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.logger.error({ path: this.path, problems: err.problems }, `configuration reload refused, the running configuration stays: ${err.message}`);
      this.emit('refused', err);
      return { ok: false, error: err };
    }
    const directory = new Directory(config, this.options.credentialsFor?.(config));
    this.holder.replace(directory);
    this.logger.info(
      { path: this.path, accounts: config.accounts.length, trunks: config.trunks.length, rules: config.outgoing_call_rules.length },
      'configuration reloaded',
    );
    const pending = this.options.running === undefined ? [] : sectionsNeedingRestart(this.options.running, config);
    if (pending.length > 0) {
      this.logger.warn({ path: this.path, sections: pending }, `configuration changes that take effect only after a restart: ${pending.join(', ')}`);
    }
    this.emit('reloaded', directory);
    return { ok: true, directory };
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    process.off('SIGHUP', this.#onSighup);
  }
}

/** What app wiring calls once the first directory is in the holder. */
export function startReloader(path: string, holder: DirectoryHolder, logger: Logger, options?: ReloaderOptions): Reloader {
  return new Reloader(path, holder, logger, options).start();
}
