/**
 * The engine's background work after a branch moved (warming its new tip: depth-1 objects,
 * stored packs and plans), one job per branch at a time: a branch that moves again while its
 * job runs (an agent committing every turn, a history pushed commit by commit) is done once
 * more for its latest tip only, never per commit. A failed job only means the next clone
 * builds its own pack.
 */
import type { Oid } from './object/oid.js';

export class WarmJobs {
  /** Per branch key: the tip to do next, and when the job ends. */
  readonly #jobs = new Map<string, { next?: Oid; done: Promise<void> }>();
  readonly #stopped: () => boolean;

  /** `stopped`: true once the engine closed (no job starts a tip after that). */
  constructor(stopped: () => boolean) {
    this.#stopped = stopped;
  }

  /** Runs `work(tip)` for `key` in the background, after the job of `key` running now (then for its latest tip only). */
  schedule(key: string, tip: Oid, work: (tip: Oid) => Promise<void>): void {
    const job = this.#jobs.get(key);
    if (job) {
      job.next = tip;
      return;
    }
    let finish!: () => void;
    const state: { next?: Oid; done: Promise<void> } = { done: new Promise<void>((r) => (finish = r)) };
    this.#jobs.set(key, state);
    const run = async (oid: Oid) => {
      try {
        if (!this.#stopped()) await work(oid);
      } catch {
        // A failure only means the next clone builds its own pack.
      }
      const next = state.next;
      state.next = undefined;
      if (next !== undefined && next !== oid && !this.#stopped()) return run(next);
      this.#jobs.delete(key);
      finish();
    };
    setTimeout(() => void run(tip), 0);
  }

  /** Resolves once no job runs, jobs scheduled meanwhile included. */
  async settled(): Promise<void> {
    while (this.#jobs.size > 0) await Promise.all([...this.#jobs.values()].map((s) => s.done));
  }
}
