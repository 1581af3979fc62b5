/**
 * Materializing what depth-1 clones need. Objects that arrived as deltas are stored as deltas
 * only (ingest.ts); the depth-1 hot path wants whole entries to concatenate. After a branch
 * moves, the trees and blobs of its new tip (exactly what a depth-1 clone of it sends) get
 * whole entries (`O`) beside their deltas, in bounded batches, in the background. Pack writing
 * materializes lazily too (pack-out.ts), so a clone that comes first is still served.
 *
 * Then one form is dropped where two are kept for nothing (`reverseTipDeltas`): a tip object X
 * now whole that arrived as a delta against an older version B stored whole (git packs deltas
 * that way round when files grow) holds B's bytes twice over. So B becomes a delta against X and
 * X's delta goes: what git's own repack does (newest whole, older versions as deltas). Stored
 * bytes of a history pushed at once drop by about the size of the tip's changed files; full
 * clones still carry one whole entry and one delta per pair.
 */
import { createDelta } from '../pack/delta.js';
import { type Oid, oidToBytes } from '../object/oid.js';
import { decodeStoredDelta, encodeRefDelta, encodeStoredDelta, isStoredDelta } from '../object/packed.js';
import { isChunked } from '../object/chunked.js';
import type { KvOp } from '../storage/kv.js';
import { deltaKey, objectKey, reachKey } from '../storage/keys.js';
import { MAX_STORED_CHAIN, decodeReach, encodeReach, reachOfBases } from './chain-reach.js';
import type { RepoContext } from './context.js';
import { planObjects } from './walk.js';
import { dropReplacedWhole, takeReplaced } from './replaced-whole.js';

/** Objects materialized per batch (one batched read of their chains, one deflate each, one write). */
const BATCH = 256;

/**
 * zlib level of entries materialized in the background: git's default. They stay as long as the
 * object does, so their size counts (level 1 made a 5,134-file tip's entries 7% larger); nobody
 * waits for them. A clone that comes first materializes at level 1 (pack-out.ts).
 */
const LEVEL = 6;

/**
 * Below this many candidate pairs (an agent's push of a few files), nothing is reversed: each
 * reversal closes the sweep gate, and reversing every push's pairs stored nothing less on 300
 * agent turns (docs/storage.md, "Why not every push, nor API commits").
 */
const MIN_REVERSALS = 64;

/** Longest stored chain reversing may build. */
const MAX_CHAIN = MAX_STORED_CHAIN;

/** Objects larger than this are left as they are (the delta search holds both bodies). */
const MAX_REVERSE_BYTES = 1 << 20;

/** Gives every object a depth-1 clone of `tip` sends a whole entry, then reverses deltas; see the module comment. */
export async function materializeTip(ctx: RepoContext, tip: Oid): Promise<void> {
  ctx.assertLive();
  if (isWholeTip(ctx, tip)) {
    await dropReplacedWhole(ctx, takeReplaced(ctx), tip);
    return;
  }
  const plan = await planObjects(ctx.objects, { wants: [tip], depth: 1 });
  // Pinned: a sweep meanwhile does not remove what is being written back.
  const release = await ctx.guard.pin(plan.oids);
  try {
    for (let i = 0; i < plan.oids.length; i += BATCH) {
      ctx.assertLive();
      await ctx.objects.materializeMissing(plan.oids.slice(i, i + BATCH), LEVEL);
    }
  } finally {
    release();
  }
  await reverseTipDeltas(ctx, plan.oids, takeReplaced(ctx), tip);
  rememberWholeTip(ctx, tip);
}

/**
 * Tips whose depth-1 objects this engine knows to have whole entries, a few per database and
 * object pool. Only a hint: a tip wrongly taken for one is still materialized by pack-out.ts.
 */
const wholeTips = new WeakMap<object, Map<number, Oid[]>>();
const WHOLE_TIPS_KEPT = 8;

function isWholeTip(ctx: RepoContext, tip: Oid): boolean {
  return wholeTips.get(ctx.kv)?.get(ctx.objects.repoId)?.includes(tip) === true;
}

function rememberWholeTip(ctx: RepoContext, tip: Oid): void {
  let pools = wholeTips.get(ctx.kv);
  if (pools === undefined) wholeTips.set(ctx.kv, (pools = new Map()));
  const tips = (pools.get(ctx.objects.repoId) ?? []).filter((t) => t !== tip);
  tips.push(tip);
  pools.set(ctx.objects.repoId, tips.slice(-WHOLE_TIPS_KEPT));
}

/**
 * After a commit wrote every object its tree does not share with `parent` whole (an API commit
 * of file contents): when `parent` was materialized (or there is none), so is `tip`, and the
 * re-read of its whole tree after the branch moves is skipped (on IndexedDB it competed with
 * the next operation).
 */
export function noteWholeCommit(ctx: RepoContext, tip: Oid, parent: Oid | undefined): void {
  if (parent === undefined || isWholeTip(ctx, parent)) rememberWholeTip(ctx, tip);
}

/** A tip object (whole and kept as a delta) and the older version its delta names, stored whole only. */
interface Pair {
  x: Oid;
  b: Oid;
}

/**
 * For tip objects X (whole entries, and a kept delta against B) whose base B is stored whole only
 * and is not in the tip: stores B as a delta against X and drops X's delta, where the delta is
 * under half of B's entry and no chain grows past MAX_CHAIN (objects whose chain ends at B end at
 * X one link further: B's reach, chain-reach.ts, becomes X's). Runs only when there are at least
 * MIN_REVERSALS pairs (a push of history, an import), reading one reach record per pair (in a
 * pool without records, an earlier version's, after one pass over the pool that writes them),
 * under the sweep guard's gate, skipping objects pinned by packs being sent and re-checking
 * every key it changes. Then the pairs' older versions and the `replaced` ones commits noted drop
 * the whole entries they keep beside a delta (replaced-whole.ts). Returns how many it reversed.
 */
export async function reverseTipDeltas(ctx: RepoContext, tipOids: readonly Oid[], replaced: readonly Oid[] = [], tip?: Oid): Promise<number> {
  const pairs = await tipPairs(ctx, tipOids);
  const reversed = pairs.length < MIN_REVERSALS ? 0 : await reversePairs(ctx, pairs);
  // The older versions kept whole beside a delta (not reversed: they have one) let their whole entries go.
  const inTip = new Set(tipOids);
  await dropReplacedWhole(ctx, [...pairs.map((p) => p.b), ...replaced.filter((oid) => !inTip.has(oid))], tip);
  return reversed;
}

/** The pairs of a tip: its objects X kept as a delta of an object B not in the tip, one per B. */
async function tipPairs(ctx: RepoContext, tipOids: readonly Oid[]): Promise<Pair[]> {
  const objects = ctx.objects;
  const tipSet = new Set(tipOids);
  const pairs: Pair[] = [];
  const seenBase = new Set<Oid>();
  for (let i = 0; i < tipOids.length; i += BATCH) {
    ctx.assertLive();
    const ids = tipOids.slice(i, i + BATCH);
    const deltas = await objects.getDeltas(ids);
    deltas.forEach((d, j) => {
      const b = d?.base as Oid | undefined;
      if (b === undefined || d?.type === undefined || tipSet.has(b) || seenBase.has(b)) return;
      seenBase.add(b);
      pairs.push({ x: ids[j]!, b });
    });
  }
  return pairs;
}

/** Reverses `pairs`; see reverseTipDeltas. */
async function reversePairs(ctx: RepoContext, pairs: readonly Pair[]): Promise<number> {
  const pool = ctx.objects.repoId;
  const reach = await reachOfBases(
    ctx,
    pairs.map((p) => p.b),
  );
  const usable = pairs.flatMap((p, i) => (reach[i]! >= 0 && reach[i]! + 1 <= MAX_CHAIN ? [{ ...p, reach: reach[i]! }] : []));

  let reversed = 0;
  // Bytes the reversal drops: B's whole entries (`O`) and X's deltas (`D`).
  let droppedWhole = 0;
  let droppedDeltas = 0;
  for (let i = 0; i < usable.length; i += BATCH) {
    ctx.assertLive();
    const batch = usable.slice(i, i + BATCH);
    const values = await reversedValues(ctx, batch);
    if (values.size === 0) continue;
    const done = await ctx.guard.exclusive(ctx.sweepWaitMs ?? 10_000, async (pinned) => {
      const held = await pinned();
      const ready = batch.filter((p) => values.has(p.b) && !held.has(p.x) && !held.has(p.b));
      // Re-read under the gate: X whole with its delta on B, B whole without a delta, their reach.
      const keys = ready.flatMap((p) => {
        const x = oidToBytes(p.x);
        const b = oidToBytes(p.b);
        return [objectKey(pool, x), deltaKey(pool, x), objectKey(pool, b), deltaKey(pool, b), reachKey(pool, x), reachKey(pool, b)];
      });
      const now = await ctx.kv.getMany(keys);
      const ops: KvOp[] = [];
      let n = 0;
      ready.forEach((p, j) => {
        const [xo, xd, bo, bd, xr, br] = now.slice(j * 6, j * 6 + 6);
        if (xo === undefined || xd === undefined || bo === undefined || bd !== undefined || isChunked(xo) || isChunked(bo)) return;
        // A previous layout's delta (no type byte) is left as it is; X's delta must still name B.
        if (!isStoredDelta(xd) || decodeStoredDelta(xd).base !== p.b) return;
        // B's chains end at X one link further, beside those already ending at X.
        const r = Math.max(decodeReach(br), p.reach) + 1;
        if (r > MAX_CHAIN) return;
        const x = oidToBytes(p.x);
        const b = oidToBytes(p.b);
        ops.push({ type: 'put', key: deltaKey(pool, b), value: values.get(p.b)! });
        ops.push({ type: 'del', key: objectKey(pool, b) });
        ops.push({ type: 'del', key: deltaKey(pool, x) });
        // X's own chains do not grow (without a record: shorter than RECORDED_FROM, which r is not).
        if (xr === undefined || r > decodeReach(xr)) ops.push({ type: 'put', key: reachKey(pool, x), value: encodeReach(r) });
        if (br !== undefined) ops.push({ type: 'del', key: reachKey(pool, b) });
        droppedWhole += bo.length;
        droppedDeltas += xd.length;
        n++;
      });
      await ctx.kv.batch(ops);
      return n;
    });
    reversed += done ?? 0;
  }
  // What was dropped stays on disk until the database compacts its range (storage/compaction.ts).
  ctx.kv.compactor.dropped(objectKey(pool, new Uint8Array(20)), droppedWhole);
  ctx.kv.compactor.dropped(deltaKey(pool, new Uint8Array(20)), droppedDeltas);
  return reversed;
}

/** B's new `D` value (a delta against X) for each pair worth reversing, by B. */
async function reversedValues(ctx: RepoContext, pairs: readonly Pair[]): Promise<Map<Oid, Uint8Array>> {
  const out = new Map<Oid, Uint8Array>();
  const ids = pairs.flatMap((p) => [p.x, p.b]);
  const infos = await ctx.objects.info(ids);
  const small = pairs.filter((_, i) => (infos[2 * i]?.size ?? Infinity) <= MAX_REVERSE_BYTES && (infos[2 * i + 1]?.size ?? Infinity) <= MAX_REVERSE_BYTES);
  if (small.length === 0) return out;
  const raws = await ctx.objects.readMany(small.flatMap((p) => [p.x, p.b]));
  const stored = await ctx.kv.getMany(small.map((p) => objectKey(ctx.objects.repoId, oidToBytes(p.b))));
  small.forEach((p, i) => {
    const x = raws[2 * i];
    const b = raws[2 * i + 1];
    const bEntry = stored[i];
    if (x === undefined || b === undefined || bEntry === undefined || x.type !== b.type) return;
    const delta = createDelta(x.body, b.body, Math.ceil(bEntry.length / 2));
    if (delta === undefined) return;
    const value = encodeStoredDelta(b.type, b.body.length, encodeRefDelta(oidToBytes(p.x), delta, LEVEL));
    if (value.length * 2 < bEntry.length) out.set(p.b, value);
  });
  return out;
}
