/**
 * The one place the current directory snapshot lives. Readers call `current()` on every request rather than
 * keeping a Directory, so a reload reaches them without restarts; a reader that needs one consistent view for a
 * whole operation (routing both legs of a call) takes the snapshot once and uses it throughout.
 */
import type { Directory } from './directory.ts';

export type DirectoryListener = (next: Directory, previous: Directory) => void;

export class DirectoryHolder {
  #current: Directory;
  readonly #listeners = new Set<DirectoryListener>();

  constructor(initial: Directory) {
    this.#current = initial;
  }

  current(): Directory {
    return this.#current;
  }

  replace(next: Directory): void {
    const previous = this.#current;
    this.#current = next;
    for (const listener of this.#listeners) listener(next, previous);
  }

  /** Called after every replacement; returns the unsubscribe function. */
  onChange(listener: DirectoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
