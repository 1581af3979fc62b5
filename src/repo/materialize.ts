/**
 * Materializing what depth-1 clones need. Objects that arrived as deltas are stored as deltas
 * only (ingest.ts); the depth-1 hot path wants whole entries to concatenate. After a branch
 * moves, the trees and blobs of its new tip (exactly what a depth-1 clone of it sends) get
 * whole entries (`O`) beside their deltas, in bounded batches, in the background. Pack writing
 * materializes lazily too (pack-out.ts), so a clone that comes first is still served.
 */
import type { Oid } from '../object/oid.js';
import type { RepoContext } from './context.js';
import { planObjects } from './walk.js';

/** Objects materialized per batch (one batched read of their chains, one deflate each, one write). */
const BATCH = 256;

/** Gives every object a depth-1 clone of `tip` sends a whole entry; see the module comment. */
export async function materializeTip(ctx: RepoContext, tip: Oid): Promise<void> {
  ctx.assertLive();
  if (isWholeTip(ctx, tip)) return;
  const plan = await planObjects(ctx.objects, { wants: [tip], depth: 1 });
  // Pinned: a sweep meanwhile does not remove what is being written back.
  const release = await ctx.guard.pin(plan.oids);
  try {
    for (let i = 0; i < plan.oids.length; i += BATCH) {
      ctx.assertLive();
      await ctx.objects.materializeMissing(plan.oids.slice(i, i + BATCH));
    }
  } finally {
    release();
  }
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
