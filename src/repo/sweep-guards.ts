/**
 * The engine's sweep guards, one per object pool, held weakly. A guard must be one object per
 * pool for as long as anything can use it (a repository object a caller keeps, a write or a
 * stream in flight, a running sweep: each holds it), or a sweep would not see a write begun
 * through another. Once nothing holds it, it has no write, pin or sweep left, so forgetting it
 * loses nothing and the next use makes a fresh one. A plain map kept one per pool ever touched
 * for the life of the process (about 600 bytes each: 60 MB over 100,000 repositories).
 */
import type { SweepGuard } from './sweep.js';

/** Sweep guards by pool id; an entry lives as long as its guard is reachable from elsewhere. */
export class GuardTable {
  readonly #refs = new Map<number, WeakRef<SweepGuard>>();
  readonly #gone = new FinalizationRegistry<number>((id) => {
    // A guard made for the same id since is kept.
    if (this.#refs.get(id)?.deref() === undefined) this.#refs.delete(id);
  });
  readonly #make: (id: number) => SweepGuard;

  constructor(make: (id: number) => SweepGuard) {
    this.#make = make;
  }

  /** The guard of pool `id`, made when none is held. */
  of(id: number): SweepGuard {
    let guard = this.#refs.get(id)?.deref();
    if (guard === undefined) {
      guard = this.#make(id);
      this.#refs.set(id, new WeakRef(guard));
      this.#gone.register(guard, id);
    }
    return guard;
  }

  /** The guard of pool `id` when one is held, without making one. */
  peek(id: number): SweepGuard | undefined {
    return this.#refs.get(id)?.deref();
  }

  /** Forgets pool `id`'s guard (its last member was deleted): a later use makes a new one. */
  delete(id: number): void {
    this.#refs.delete(id);
  }

  /** Entries not yet collected (for tests and measurements). */
  get size(): number {
    return this.#refs.size;
  }
}
