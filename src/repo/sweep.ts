/**
 * Object garbage collection, run only when something may have become unreachable (a marker of
 * sweep-state.ts, or a repository never swept), in three phases:
 *   1. mark, with writes going on: every object reachable from the refs as they are now
 *      (sweep-mark.ts: compact sets, bounded slices of work, abortable), the regular refs' part
 *      from their mark record when they reach it (sweep-record.ts: after an ephemeral ref
 *      expired, only what changed since the last sweep is walked);
 *   2. list, still with writes going on: the stored objects (whole entries and kept deltas)
 *      that phase 1 did not mark are the candidates; a marked object stored as a delta of an
 *      unmarked one (an orphan) gets a whole entry (sweep-orphans.ts);
 *   3. collect, with the gate closed (`SweepGuard`: at a moment with no write in flight, new
 *      writes wait) and the ref lock held: mark what the refs reach *now* that phase 1 did not
 *      (the writes that landed meanwhile: a walk that stops at marked objects, so it costs what
 *      changed), drop the orphans' deltas, then delete the candidates still unmarked and not
 *      pinned by a pack being sent (nor needed by one as the base of a delta it may send).
 * Every write that was in flight during phases 1–2 has ended by phase 3: its objects are either
 * reachable from a ref then, or garbage. An object written after phase 2 listed its key is no
 * candidate at all. So the long work runs with the gate open, and the gate is closed only for
 * the short last step. Nothing is deleted before marking completed: an aborted sweep (the
 * engine closing) leaves the store as it was.
 * With several processes over one database (`coordination: 'database'`), the guard also
 * records its writes, pins and gate there (`remote`, sweep-leases.ts): the gate closes only at a
 * moment with no write in flight in any process, and pins of every process are kept.
 *
 * Repositories that share an object pool (a fork and its source) share one guard, one sweep
 * state and one set of objects: a sweep of any member marks from the refs of every member.
 */
import { shallowParents } from './shallow.js';
import type { Oid } from '../object/oid.js';
import type { RepoContext, RepoCore } from './context.js';
import { expireRefs } from './ref-updates.js';
import { Marker, Pacer } from './sweep-mark.js';
import { OidList, OidSet } from './oid-set.js';
import { markSweepNeeded, needsObjectSweep, readSweepState, sweepCompleted, type SweepState } from './sweep-state.js';
import { oidFromBytes, oidToBytes } from '../object/oid.js';
import { TAG, repoRange } from '../storage/keys.js';
import type { PinnedIds, PinnedTest, RemoteGuard } from './sweep-leases.js';
import { dropFullPacks } from './full-pack.js';
import { dropDeltaOps, settleOrphans, storeWhole } from './sweep-orphans.js';
import { findOrphanStreams, reclaimOrphanStreams } from '../object/chunk-orphans.js';
import { dropMarkRecords, markRegularTips } from './sweep-record.js';

/** A pack's pinned ids, with the test over them made on first need and kept while the pin lasts. */
interface Pin {
  oids: PinnedIds;
  test: OidSet | ReadonlySet<Oid> | undefined;
}

/**
 * Whether `p` pins `oid`. A clone plan's raw ids are tested in an OidSet built once per pin:
 * making them hex for every batch of a background job (a tip reversal asks before each batch)
 * cost a full clone's worth of strings each time, seconds next to a large first clone.
 */
function pinHolds(p: Pin, oid: Oid): boolean {
  let t = p.test;
  if (t === undefined) {
    const ids = p.oids;
    if (ids instanceof Uint8Array) {
      const set = new OidSet(ids.length / 20);
      for (let at = 0; at + 20 <= ids.length; at += 20) set.add(ids, at);
      t = set;
    } else t = new Set(ids);
    p.test = t;
  }
  return t instanceof OidSet ? t.has(oidToBytes(oid)) : t.has(oid);
}

/** Writes in flight, packs being streamed, and the gate a running sweep closes. One per repository. */
export class SweepGuard {
  /** Fires when the engine closes: a running sweep stops at its next check. */
  readonly signal: AbortSignal | undefined;
  #writes = 0;
  /** Writes begun in this process since the guard was made. */
  #begun = 0;
  #gate: Promise<void> | undefined;
  #pins = new Set<Pin>();
  #idle: (() => void)[] = [];
  #sweeps: Promise<unknown> = Promise.resolve();
  readonly #remote: RemoteGuard | undefined;
  /** Releases of this process's write records in the database (all alike: any one may go first). */
  readonly #remoteWrites: (() => void)[] = [];

  constructor(options: { signal?: AbortSignal; remote?: RemoteGuard } = {}) {
    this.signal = options.signal;
    this.#remote = options.remote;
  }

  /** True when no write is in flight. */
  get idle(): boolean {
    return this.#writes === 0;
  }

  /** Runs `fn` after every sweep of this repository started before it (one sweep at a time). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#sweeps.then(fn, fn);
    this.#sweeps = run.catch(() => undefined);
    return run;
  }
  /** Counts a write in flight (objects stored before a ref points at them), after any running sweep. */
  async beginWrite(): Promise<void> {
    while (this.#gate) await this.#gate;
    this.#writes++;
    this.#begun++;
    if (this.#remote === undefined) return;
    try {
      this.#remoteWrites.push(await this.#remote.beginWrite());
    } catch (err) {
      this.#leave();
      throw err;
    }
  }

  /** Ends a write begun by `beginWrite`. */
  endWrite(): void {
    this.#remoteWrites.pop()?.();
    this.#leave();
  }

  #leave(): void {
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
   * Taken inside a write that stores objects no ref names yet (a large pack landing early,
   * ingest-promote.ts): a function that runs `undo` (deleting them again) only if this write
   * has been the only one of the pool all along, so no other write can have found them stored
   * and relied on them. Writes that begin meanwhile wait until `undo` is done. With database
   * coordination another process may be writing unseen, so it never runs `undo` then; nor when
   * another write of this process was in flight or has begun since. Returns whether it ran.
   */
  alone(): (undo: () => Promise<void>) => Promise<boolean> {
    const begun = this.#begun;
    const sole = this.#writes === 1 && this.#remote === undefined;
    return async (undo) => {
      if (!sole || this.#begun !== begun || this.#gate !== undefined) return false;
      let open!: () => void;
      this.#gate = new Promise<void>((r) => (open = r));
      try {
        await undo();
        return true;
      } finally {
        this.#gate = undefined;
        open();
      }
    };
  }

  /**
   * Keeps `oids` from being swept until the returned release is called (a pack being sent: a
   * ref that moves away mid-clone must not pull its objects out from under it). Pins do not hold
   * a sweep back; they only shrink what it deletes.
   */
  async pin(oids: PinnedIds): Promise<() => void> {
    while (this.#gate) await this.#gate;
    const token: Pin = { oids, test: undefined };
    this.#pins.add(token);
    if (this.#remote === undefined) return () => void this.#pins.delete(token);
    let release: () => void;
    try {
      release = await this.#remote.pin(oids);
    } catch (err) {
      this.#pins.delete(token);
      throw err;
    }
    return () => {
      this.#pins.delete(token);
      release();
    };
  }

  /**
   * Waits (up to `waitMs`) for a moment with no write in flight and no other sweep, then runs
   * `fn` with the gate closed; `fn` gets a test for pinned objects. Returns undefined when the
   * repository stayed busy the whole time (the next sweep collects what this one could not).
   */
  async exclusive<T>(waitMs: number, fn: (pinned: () => Promise<PinnedTest>) => Promise<T>): Promise<T | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (!(await this.#quiet(deadline))) return undefined;
      if (this.#writes > 0 || this.#gate) continue; // a write began as #quiet returned
      // Closed before the next await: a write starting now waits until the sweep is done.
      let open!: () => void;
      this.#gate = new Promise<void>((r) => (open = r));
      let busy = false;
      try {
        // Other processes: closed only at a moment with no write in flight in any of them.
        busy = this.#remote !== undefined && !(await this.#remote.tryClose());
        if (!busy) {
          try {
            return await fn(async () => {
              const remote = await this.#remote?.pinned();
              const pins = [...this.#pins];
              return { has: (oid) => remote?.has(oid) === true || pins.some((p) => pinHolds(p, oid)) };
            });
          } finally {
            await this.#remote?.open();
          }
        }
      } finally {
        this.#gate = undefined;
        open();
      }
      // Another process is writing: look again shortly, this process's writes going on meanwhile.
      if (Date.now() >= deadline || this.signal?.aborted) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Waits (until `deadline`) for no write in flight and no gate in this process; false if it never came. */
  async #quiet(deadline: number): Promise<boolean> {
    const signal = this.signal;
    while (this.#writes > 0 || this.#gate) {
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort: (() => void) | undefined;
      const quiet = this.#gate ?? new Promise<void>((r) => this.#idle.push(r));
      const aborted = new Promise<void>((r) => signal?.addEventListener('abort', (onAbort = () => r()), { once: true }));
      await Promise.race([quiet, aborted, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    return true;
  }
}

/** What a sweep removed; `busy` when writes kept the repository busy past the wait and the object phase was skipped. */
export interface SweepResult {
  refs: number;
  objects: number;
  busy?: true;
}

/**
 * Tips of both ref spaces of every member of the repository's object pool (a fork's refs keep
 * the source's objects), and the parents shallow fetches left out (tips that may be missing:
 * shallow.ts).
 */
async function tipSets(ctx: RepoContext): Promise<{ regular: Oid[]; ephemeral: Oid[]; shallow: Oid[] }> {
  const regular: Oid[] = [];
  const ephemeral: Oid[] = [];
  for (const refs of await ctx.poolRefs()) {
    for (const [, v] of await refs.list('regular')) regular.push(v.oid);
    for (const [, v] of await refs.list('ephemeral')) ephemeral.push(v.oid);
  }
  return { regular, ephemeral, shallow: await shallowParents(ctx.kv, ctx.poolId) };
}

/** Every tip of `tipSets`. */
async function tips(ctx: RepoContext): Promise<Oid[]> {
  const { regular, ephemeral, shallow } = await tipSets(ctx);
  return [...regular, ...ephemeral, ...shallow];
}

/**
 * Phase 1: marks what every tip reaches. The regular refs' part from their mark record
 * (sweep-record.ts) when the pool has no shallow boundary; then the rest.
 */
async function markAll(ctx: RepoContext, pacer: Pacer): Promise<Marker> {
  const { regular, ephemeral, shallow } = await tipSets(ctx);
  const records = ctx.sweepMarkRecords;
  if (shallow.length > 0 || records === false) {
    await dropMarkRecords(ctx);
    const marker = new Marker(ctx.objects, pacer);
    await marker.markFrom([...regular, ...ephemeral, ...shallow]);
    return marker;
  }
  const marker = await markRegularTips(ctx, pacer, regular, records?.minObjects);
  await marker.markFrom(ephemeral);
  return marker;
}

/** Runs `fn` holding the ref locks of every member of the pool (in id order, the only place that takes more than one). */
async function withPoolLocks<T>(ctx: RepoContext, fn: () => Promise<T>): Promise<T> {
  const stores = await ctx.poolRefs();
  const run = (i: number): Promise<T> => (i === stores.length ? fn() : stores[i]!.withLock(() => run(i + 1)));
  return run(0);
}

/**
 * Sweeps one repository: expired ephemeral refs first (through the ref-update pipeline's
 * expiry), then, when a marker says objects may have become unreachable, the object phases
 * of the module comment (the last waits up to `waitMs` for a moment with no write in flight).
 */
export function sweepRepository(core: RepoCore, waitMs: number): Promise<SweepResult> {
  const { ctx } = core;
  ctx.assertLive();
  return ctx.guard.serial(async () => {
    ctx.assertLive();
    // The markers are read before the tips: one written from here on survives this sweep.
    const state = await readSweepState(ctx.kv, ctx.poolId);
    const expired = await expireRefs(core);
    if (expired.length > 0) state.markers.push(await markSweepNeeded(ctx.kv, ctx.poolId));
    if (!needsObjectSweep(state)) return { refs: expired.length, objects: 0 };
    const objects = await sweepObjects(ctx, state, waitMs);
    return objects === undefined ? { refs: expired.length, objects: 0, busy: true } : { refs: expired.length, objects };
  });
}

/** The three object phases; undefined when the repository stayed busy past `waitMs` (nothing deleted). */
async function sweepObjects(ctx: RepoContext, state: SweepState, waitMs: number): Promise<number | undefined> {
  const pacer = new Pacer(ctx.guard.signal);
  const marker = await markAll(ctx, pacer);
  const seen = new OidSet();
  const candidates = new OidList();
  const kept = new OidList();
  const orphanIds = new OidList();
  await marker.scanDeltaLinks(kept, orphanIds);
  for (const b of kept) if (!marker.marked.has(b) && seen.add(b)) candidates.push(b);
  // Live objects stored as deltas of dead ones: stored whole now, their deltas dropped below.
  const orphans = await storeWhole(ctx, orphanIds, pacer);
  // Every object stored whole; those stored only as deltas came with the delta links above.
  for await (const keys of ctx.objects.wholeKeyBatches()) {
    for (const key of keys) if (!marker.marked.has(key, 5) && seen.add(key, 5)) candidates.push(key, 5);
    await pacer.tick();
  }
  // Chunk streams no marker names (object/chunk-orphans.ts), looked at again under the gate.
  const streams = await findOrphanStreams(ctx.kv, ctx.poolId);
  return ctx.guard.exclusive(waitMs, (pinned) =>
    // Under the ref locks too: a ref-only update (a branch made from a raw sha) checks the
    // object exists and moves the ref as one step, never between the last mark and the delete.
    withPoolLocks(ctx, async () => {
      await marker.markFrom((await tips(ctx)).filter((t) => !marker.has(t)));
      const keep = await pinned();
      let dead: Oid[] = [];
      const held: Oid[] = [];
      for (const b of candidates) {
        if (marker.marked.has(b)) continue;
        const oid = oidFromBytes(b);
        if (keep.has(oid)) held.push(oid);
        else dead.push(oid);
      }
      // A pack being sent may send a held object as the delta it is stored as: keep what that is
      // rebuilt from, as for orphans that keep their delta (sweep-orphans.ts `settleOrphans`).
      const { loose, bound: boundOrphans, again } = await settleOrphans(ctx, orphans, keep);
      const bound = [...held, ...boundOrphans];
      if (bound.length > 0) {
        marker.recordFresh();
        await marker.keepDeltaBases(bound);
        dead = dead.filter((oid) => !marker.has(oid));
      }
      pacer.check();
      for (let i = 0; i < loose.length; i += 1000) await ctx.kv.batch(dropDeltaOps(ctx, loose.slice(i, i + 1000)));
      for (let i = 0; i < dead.length; i += 1000) {
        await ctx.objects.delete(dead.slice(i, i + 1000));
        await pacer.tick();
      }
      // A stored full-clone pack whose tips died holds nothing reachable any more (full-pack.ts).
      await dropFullPacks(ctx, dead);
      // No ingest is in flight under the gate: a quarantine range left is a crashed one's.
      await ctx.kv.clear(repoRange(TAG.quarantine, ctx.poolId));
      // ...and so are chunk streams no marker names (past their grace).
      await reclaimOrphanStreams(ctx.kv, ctx.poolId, streams.candidates);
      await sweepCompleted(ctx.kv, ctx.poolId, state);
      // Objects held by a pack being sent are garbage once it ends (and orphans it held can be
      // let go of their bases): the next sweep looks again.
      if (held.length > 0 || again || streams.young) await markSweepNeeded(ctx.kv, ctx.poolId);
      return dead.length;
    }),
  );
}
