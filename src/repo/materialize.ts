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

/**
 * zlib level of entries materialized in the background: git's default. They stay as long as the
 * object does, beside its delta, so their size counts (level 1 made a 5,000-file tip's entries
 * NN% larger); nobody waits for them. A clone that comes first materializes at level 1 (pack-out.ts).
 */
const LEVEL = 6;

/** Gives every object a depth-1 clone of `tip` sends a whole entry; see the module comment. */
export async function materializeTip(ctx: RepoContext, tip: Oid): Promise<void> {
  ctx.assertLive();
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
}
