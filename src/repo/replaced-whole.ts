/**
 * Whole entries of replaced versions, let go. A version a tip materialized (materialize.ts) keeps
 * its whole entry (`O`) beside the delta it arrived as, or the delta an API commit kept for it
 * (commit-deltas.ts), after the branch moves past it: a repository pushed or committed a few
 * files at a time then holds every version of a file whole (300 agent turns on sixty files: 2.05
 * of 2.25 MB stored, 6.9x git's pack). Here such a version B, once replaced, drops its `O` and is
 * read through its delta again; its delta stays as it is, so full clones send what they sent and
 * no other object is made to depend on it (unlike the reversal, materialize.ts).
 *
 * Chains: objects whose chain ended at B (its reach, chain-reach.ts) now go on through B's own
 * chain, so B keeps its `O` unless its reach plus the length of its chain stays within
 * MAX_CHAIN, and the reach of that chain's root is raised to the sum. A file's versions then
 * chain back to an older whole one, a new chain starting when one would pass 50, as git's
 * `pack.depth` does.
 *
 * Which versions: those a push's new tip version arrived as a delta of (reverseTipDeltas's
 * pairs) and those API commits on an existing regular branch replaced (noted in memory), except
 * any a depth-1 clone of another branch of the pool sends (a branch made from `main` does not
 * drop main's versions); past MAX_TIPS branch tips, only the default branches' are walked (a
 * repository with a branch per agent task would otherwise keep every version whole): a depth-1
 * clone of another branch materializes a dropped version it sends, once. One the warmed tip still has
 * elsewhere (the same content at a second path) is materialized again by its next depth-1 pack
 * (pack-out.ts).
 */
import { type Oid, oidToBytes } from '../object/oid.js';
import { decodeStoredDelta, isStoredDelta } from '../object/packed.js';
import { isChunked } from '../object/chunked.js';
import type { KvOp } from '../storage/kv.js';
import { deltaKey, objectKey, reachKey } from '../storage/keys.js';
import { MAX_STORED_CHAIN, RECORDED_FROM, decodeReach, encodeReach } from './chain-reach.js';
import type { RepoContext } from './context.js';
import { planObjects } from './walk.js';

/** Longest stored chain this may make. */
const MAX_CHAIN = MAX_STORED_CHAIN;

/** Versions handled per batch (one gate, one write). */
const BATCH = 256;

/** Replaced versions noted by commits, per database and pool, waiting for the next warm-up; at most NOTED_KEPT. */
const noted = new WeakMap<object, Map<number, Oid[]>>();
const NOTED_KEPT = 4096;

/** Notes versions a commit replaced, for the next warm-up of the pool (`takeReplaced`). */
export function noteReplaced(ctx: RepoContext, oids: readonly Oid[]): void {
  if (oids.length === 0) return;
  let pools = noted.get(ctx.kv);
  if (pools === undefined) noted.set(ctx.kv, (pools = new Map()));
  const list = [...(pools.get(ctx.objects.repoId) ?? []), ...oids];
  pools.set(ctx.objects.repoId, list.slice(-NOTED_KEPT));
}

/** The versions noted so far (and forgets them). */
export function takeReplaced(ctx: RepoContext): Oid[] {
  const pools = noted.get(ctx.kv);
  const list = pools?.get(ctx.objects.repoId) ?? [];
  pools?.delete(ctx.objects.repoId);
  return list;
}

/** Drops of a pool, one at a time (each measures chains the previous may have lengthened). */
const running = new WeakMap<object, Map<number, Promise<unknown>>>();

/**
 * Drops the whole entry of each of `versions` stored whole and as a delta (see the module
 * comment), under the sweep guard's gate, skipping objects pinned by packs being sent and
 * re-checking every key it changes. Returns how many.
 */
export function dropReplacedWhole(ctx: RepoContext, versions: readonly Oid[], tip?: Oid): Promise<number> {
  let pools = running.get(ctx.kv);
  if (pools === undefined) running.set(ctx.kv, (pools = new Map()));
  const pool = ctx.objects.repoId;
  const next = (pools.get(pool) ?? Promise.resolve()).catch(() => undefined).then(() => dropAll(ctx, [...new Set(versions)], tip));
  pools.set(pool, next);
  const settled = () => {
    if (pools.get(pool) === next) pools.delete(pool);
  };
  next.then(settled, settled);
  return next;
}

async function dropAll(ctx: RepoContext, versions: readonly Oid[], tip: Oid | undefined): Promise<number> {
  const found: Measured[] = [];
  for (let i = 0; i < versions.length; i += BATCH) {
    ctx.assertLive();
    for (const m of await measured(ctx, versions.slice(i, i + BATCH))) found.push(m);
  }
  if (found.length === 0) return 0;
  const live = await liveTipObjects(ctx, tip);
  const candidates = found.filter((m) => !live.has(m.oid));
  let dropped = 0;
  let bytes = 0;
  for (let i = 0; i < candidates.length; i += BATCH) {
    ctx.assertLive();
    const batch = candidates.slice(i, i + BATCH);
    const done = await ctx.guard.exclusive(ctx.sweepWaitMs ?? 10_000, async (pinned) => {
      const held = await pinned();
      // Pinned by a pack being sent (or a warm-up of an older tip): tried again next time.
      noteReplaced(
        ctx,
        batch.filter((v) => held.has(v.oid)).map((v) => v.oid),
      );
      const ready = batch.filter((v) => !held.has(v.oid));
      return ready.length === 0 ? { count: 0, bytes: 0 } : dropBatch(ctx, ready);
    });
    // The gate did not close in time: all of them next time.
    if (done === undefined)
      noteReplaced(
        ctx,
        batch.map((v) => v.oid),
      );
    dropped += done?.count ?? 0;
    bytes += done?.bytes ?? 0;
  }
  const pool = ctx.objects.repoId;
  // What was dropped stays on disk until the database compacts its range (storage/compaction.ts).
  if (bytes > 0) ctx.kv.compactor.dropped(objectKey(pool, new Uint8Array(20)), bytes);
  return dropped;
}

/** Branch tips past which only the default branches' tips are walked. */
const MAX_TIPS = 32;

/**
 * What a depth-1 clone of any branch of the pool (every member's regular `refs/heads/`) sends,
 * but the tip being warmed (its versions were measured against it already: a push's pairs are
 * outside it, and an API commit replaced its versions in it): those keep their whole entries.
 * A repository with one branch walks nothing. Past MAX_TIPS branch tips, walking them all at
 * every warm-up would cost more than what it saves: only each member's default branch (what
 * `HEAD` names, the one clones ask for unless told otherwise) is walked, for MAX_TIPS members at
 * most; a depth-1 clone of another branch materializes what it sends without a whole entry
 * (object-store.ts `materialize`), once.
 */
async function liveTipObjects(ctx: RepoContext, tip: Oid | undefined): Promise<Set<Oid>> {
  const stores = await ctx.poolRefs();
  let wants = new Set<Oid>();
  for (const refs of stores) for (const [, v] of await refs.list('regular', 'refs/heads/')) wants.add(v.oid);
  if (tip !== undefined) wants.delete(tip);
  if (wants.size > MAX_TIPS) {
    wants = new Set();
    for (const refs of stores.slice(0, MAX_TIPS)) {
      const v = await refs.get('HEAD');
      if (v !== undefined && v.oid !== tip) wants.add(v.oid);
    }
  }
  if (wants.size === 0) return new Set();
  return new Set((await planObjects(ctx.objects, { wants: [...wants], depth: 1 })).oids);
}

/** A version with both forms and the chain its delta starts: its base, length and root. */
interface Measured {
  oid: Oid;
  base: Oid;
  depth: number;
  root: Oid;
}

/**
 * Those of `oids` stored as a (new-layout) delta with a whole entry (a chunked one is left out
 * under the gate), with the chain their delta starts followed to the first object stored whole
 * (a batched lookup per link; a chain past MAX_CHAIN or broken is left out).
 */
async function measured(ctx: RepoContext, oids: readonly Oid[]): Promise<Measured[]> {
  const pool = ctx.objects.repoId;
  const ids = oids.map(oidToBytes);
  // Whether each has a whole entry, not the entry: the gate reads it again anyway (dropBatch).
  const [whole, deltas] = await Promise.all([ctx.kv.hasMany(ids.map((b) => objectKey(pool, b))), ctx.kv.getMany(ids.map((b) => deltaKey(pool, b)))]);
  const walking: { oid: Oid; base: Oid; depth: number; at: Oid }[] = [];
  oids.forEach((oid, i) => {
    const d = deltas[i];
    if (!whole[i] || d === undefined || !isStoredDelta(d)) return;
    const base = decodeStoredDelta(d).base as Oid;
    walking.push({ oid, base, depth: 1, at: base });
  });
  const out: Measured[] = [];
  let level = walking;
  while (level.length > 0) {
    const forms = await ctx.objects.forms(level.map((w) => w.at));
    const next: typeof walking = [];
    level.forEach((w, i) => {
      const f = forms[i];
      if (f?.whole !== undefined) out.push({ oid: w.oid, base: w.base, depth: w.depth, root: w.at });
      else if (f?.delta !== undefined && w.depth < MAX_CHAIN) next.push({ ...w, depth: w.depth + 1, at: decodeStoredDelta(f.delta).base as Oid });
    });
    level = next;
  }
  return out;
}

/** Under the gate: re-reads each version's keys and its root's record, drops what still fits. */
async function dropBatch(ctx: RepoContext, batch: readonly Measured[]): Promise<{ count: number; bytes: number }> {
  const pool = ctx.objects.repoId;
  const keys = batch.flatMap((v) => {
    const b = oidToBytes(v.oid);
    return [objectKey(pool, b), deltaKey(pool, b), reachKey(pool, b), reachKey(pool, oidToBytes(v.root))];
  });
  const now = await ctx.kv.getMany(keys);
  const ops: KvOp[] = [];
  // Versions this batch dropped, by id: a chain measured to end at one goes on down its chain.
  // A version that is the root of one dropped before it has the reach that one gave it.
  const gone = new Map<Oid, { depth: number; root: Oid }>();
  const raised = new Map<Oid, number>();
  // Every root's record as read (a chain that goes on ends at the root of another version here).
  const records = new Map<Oid, number>();
  batch.forEach((v, j) => {
    const r = now[j * 4 + 3];
    if (r !== undefined) records.set(v.root, decodeReach(r));
  });
  let count = 0;
  let bytes = 0;
  batch.forEach((v, j) => {
    const [o, d, own] = now.slice(j * 4, j * 4 + 3);
    if (o === undefined || d === undefined || isChunked(o) || !isStoredDelta(d) || decodeStoredDelta(d).base !== v.base) return;
    let depth = v.depth;
    let root = v.root;
    for (let g = gone.get(root); g !== undefined && depth <= MAX_CHAIN; g = gone.get(root)) {
      depth += g.depth;
      root = g.root;
    }
    const reach = Math.max(decodeReach(own), raised.get(v.oid) ?? 0) + depth;
    if (reach > MAX_CHAIN) return;
    ops.push({ type: 'del', key: objectKey(pool, oidToBytes(v.oid)) });
    if (own !== undefined || raised.has(v.oid)) ops.push({ type: 'del', key: reachKey(pool, oidToBytes(v.oid)) });
    const before = raised.get(root) ?? records.get(root) ?? 0;
    if (reach >= RECORDED_FROM && reach > before) {
      ops.push({ type: 'put', key: reachKey(pool, oidToBytes(root)), value: encodeReach(reach) });
      raised.set(root, reach);
    }
    gone.set(v.oid, { depth, root });
    bytes += o.length;
    count++;
  });
  if (ops.length > 0) await ctx.kv.batch(ops);
  return { count, bytes };
}
