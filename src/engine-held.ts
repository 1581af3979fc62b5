/**
 * Per-id state the engine shares among everything that uses it, held weakly: one object per id
 * for as long as anything else holds it (a repository object a caller keeps, a write, a stream
 * or a sweep in flight), forgotten once nothing does. The engine keeps two: the sweep guard of
 * each object pool (repo/sweep.ts: write counts, pins, the gate; an old repository object and
 * its reopened successor must share it, or a sweep would not see a write begun through the
 * other), and each repository's liveness (a repository object of a deleted repository fails its
 * next call). Plain maps kept one entry per pool touched and per repository deleted for the
 * life of the process (a guard is about 500 bytes: 50 MB over 100,000 repositories).
 */

/** Objects by id; an entry lives as long as its object is reachable from elsewhere. */
export class HeldTable<T extends object> {
  readonly #refs = new Map<number, WeakRef<T>>();
  readonly #gone = new FinalizationRegistry<number>((id) => {
    // An object made for the same id since is kept.
    if (this.#refs.get(id)?.deref() === undefined) this.#refs.delete(id);
  });
  readonly #make: (id: number) => T;

  constructor(make: (id: number) => T) {
    this.#make = make;
  }

  /** The object of `id`, made when none is held. */
  of(id: number): T {
    let value = this.#refs.get(id)?.deref();
    if (value === undefined) {
      value = this.#make(id);
      this.#refs.set(id, new WeakRef(value));
      this.#gone.register(value, id);
    }
    return value;
  }

  /** The object of `id` when one is held, without making one. */
  peek(id: number): T | undefined {
    return this.#refs.get(id)?.deref();
  }

  /** Forgets `id`'s object: a later `of` makes a new one. */
  delete(id: number): void {
    this.#refs.delete(id);
  }

  /** Entries not yet collected (for tests and measurements). */
  get size(): number {
    return this.#refs.size;
  }
}
