/**
 * The serialization point of ref transactions. Every transaction on a repository runs inside
 * `lock.run(repoId, fn)`. The default is an in-process FIFO mutex per repository, correct for
 * any number of concurrent callers in one process. A backend shared by several processes
 * supplies its own `RefLock` (a lease in the database, an advisory lock, ...).
 */

/** Runs critical sections one at a time per key. */
export interface RefLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** An in-process FIFO mutex per key. */
export class InProcessLock implements RefLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    try {
      await prev;
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
