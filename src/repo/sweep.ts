/**
 * Object garbage collection: marks everything reachable from the given tips (commits, tags,
 * trees, blobs) and deletes every other object of the repository, except objects a pack being
 * sent has pinned. `SweepGuard` keeps the mark and the delete safe against the repository's
 * own writers: a sweep waits for a moment with no write in flight, closes the gate (new writes
 * wait for it to open), and only then marks, so nothing can start pointing at an object between
 * the mark and the delete.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { RepoCore } from './context.js';
import { expireRefs } from './ref-updates.js';
import { reachableObjects } from './walk.js';

/** Writes in flight, packs being streamed, and the gate a running sweep closes. One per repository. */
export class SweepGuard {
  #writes = 0;
  #gate: Promise<void> | undefined;
  #pins = new Set<{ oids: readonly Oid[] }>();
  #idle: (() => void)[] = [];

  /** Counts a write in flight (objects stored before a ref points at them), after any running sweep. */
  async beginWrite(): Promise<void> {
    while (this.#gate) await this.#gate;
    this.#writes++;
  }

  endWrite(): void {
    if (--this.#writes > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const wake of idle) wake();
  }

  /** Runs `fn` as one write. */
  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.beginWrite();
    try {
      return await fn();
    } finally {
      this.endWrite();
    }
  }

  /**
   * Keeps `oids` from being swept until the returned release is called (a pack being sent: a
   * ref that moves away mid-clone must not pull its objects out from under it). Pins do not hold
   * a sweep back; they only shrink what it deletes.
   */
  async pin(oids: readonly Oid[]): Promise<() => void> {
    while (this.#gate) await this.#gate;
    const token = { oids };
    this.#pins.add(token);
    return () => void this.#pins.delete(token);
  }

  /**
   * Waits (up to `waitMs`) for a moment with no write in flight and no other sweep, then runs
   * `fn` with the gate closed; `fn` gets a test for pinned objects. Returns undefined when the
   * repository stayed busy the whole time (the next sweep collects what this one could not).
   */
  async exclusive<T>(waitMs: number, fn: (pinned: () => ReadonlySet<Oid>) => Promise<T>): Promise<T | undefined> {
    const deadline = Date.now() + waitMs;
    while (this.#writes > 0 || this.#gate) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const quiet = this.#gate ?? new Promise<void>((r) => this.#idle.push(r));
      await Promise.race([quiet, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    // Closed before the first await: a write starting now waits until the sweep is done.
    let open!: () => void;
    this.#gate = new Promise<void>((r) => (open = r));
    try {
      return await fn(() => {
        const pinned = new Set<Oid>();
        for (const p of this.#pins) for (const oid of p.oids) pinned.add(oid);
        return pinned;
      });
    } finally {
      this.#gate = undefined;
      open();
    }
  }
}

/** Deletes objects not reachable from `tips` and not pinned; returns how many. */
export async function sweepObjects(objects: ObjectStore, tips: readonly Oid[], pinned: () => ReadonlySet<Oid> = () => new Set()): Promise<number> {
  const { reached } = await reachableObjects(objects, tips);
  let dead: Oid[] = [];
  for await (const oid of objects.allOids()) if (!reached.has(oid)) dead.push(oid);
  if (dead.length > 0) {
    const keep = pinned();
    if (keep.size > 0) dead = dead.filter((oid) => !keep.has(oid));
  }
  // An object stored only as a delta needs its base, reachable or not.
  if (dead.length > 0) {
    const bases = await objects.deltaBasesToKeep(new Set(dead));
    if (bases.size > 0) dead = dead.filter((oid) => !bases.has(oid));
  }
  for (let i = 0; i < dead.length; i += 1000) await objects.delete(dead.slice(i, i + 1000));
  return dead.length;
}

/** What a sweep removed; `busy` when writes kept the repository busy past the wait and the object phase was skipped. */
export interface SweepResult {
  refs: number;
  objects: number;
  busy?: true;
}

/**
 * Sweeps one repository: expired ephemeral refs first (through the ref-update pipeline's
 * expiry), then, at a moment with no write in flight (waiting up to `waitMs`), every object no
 * ref of either space reaches and no pack being sent still needs.
 */
export async function sweepRepository(core: RepoCore, waitMs: number): Promise<SweepResult> {
  const { ctx } = core;
  ctx.assertLive();
  const expired = await expireRefs(core);
  const objects = await ctx.guard.exclusive(waitMs, (pinned) =>
    // Under the ref lock too: a ref-only update (a branch made from a raw sha) checks the
    // object exists and moves the ref as one step, never between the mark and the delete.
    ctx.refs.withLock(async () => {
      const tips = [...(await ctx.refs.list('regular')), ...(await ctx.refs.list('ephemeral'))].map(([, v]) => v.oid);
      return sweepObjects(ctx.objects, tips, pinned);
    }),
  );
  return objects === undefined ? { refs: expired.length, objects: 0, busy: true } : { refs: expired.length, objects };
}
