/**
 * The sweep's mark record (`M` `0x06`, full-pack-store.ts kind `mark`): the ids of every object
 * the pool's regular refs reached when a sweep last marked them, kept so the next sweep walks
 * only what changed. Sweeps come after an ephemeral ref expired, a branch was rewound or
 * deleted, or a push failed; in the first case (a sandbox's branch, every interval) the regular
 * refs still reach every tip of the record, so its ids are taken as marked with all they reach
 * (sweep-mark.ts `premark`) and the walk stops at them: it reads the commits and trees added
 * since, not the history. What the walk marks is appended to the record's series (as a clone
 * plan is extended), under the new tips: commits, then trees, then blobs, the planner's order,
 * since the first full clone of a pool with a record but no clone plan makes its plan from it
 * (clone-plan.ts).
 *
 * The record is a condition for deleting objects, so it is written only when it is exactly
 * what the tips reach: from a walk that met no missing tip and no tree it could not read, in a
 * pool without shallow boundaries (a commit stored without its parents reaches more once they
 * arrive; such a pool is marked whole every time). A record the tips do not reach (a branch
 * rewound or deleted), or one that cannot be read whole, is not used: the sweep marks
 * everything and writes a new one. Histories under MIN_OBJECTS objects get none (their mark is
 * cheap); the record costs 20 bytes per object.
 */
import { NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import type { RepoContext } from './context.js';
import { type FullPackRecord, SeriesWriter, collect, holdSeries, listRecords, normalTips, recordIds } from './full-pack-store.js';
import { pickBase, sameTips } from './full-pack.js';
import { peel } from './revision.js';
import { Marker, type Pacer } from './sweep-mark.js';

/** Fewest objects reachable from the regular refs for a record to be kept. */
export const MIN_OBJECTS = 50_000;

/**
 * Marks everything `tips` (the regular refs of the pool) reach, starting from the mark record
 * they reach when there is one, and stores the record of these tips; returns the marker, to go
 * on with the other tips. `minObjects`: for tests.
 */
export async function markRegularTips(ctx: RepoContext, pacer: Pacer, tips: readonly Oid[], minObjects = MIN_OBJECTS): Promise<Marker> {
  const normal = normalTips(tips);
  const commits = (await peel(ctx.objects, normal)).map((p) => (p.type === 'commit' ? p.oid : null));
  let base = await usableRecord(ctx, normal, commits);
  let marker = new Marker(ctx.objects, pacer);
  const release = base === undefined ? undefined : holdSeries(ctx.kv, ctx.poolId, base.series);
  try {
    if (base !== undefined) {
      try {
        for await (const chunk of recordIds(ctx.kv, ctx.poolId, base)) {
          marker.premark(chunk);
          await pacer.tick();
        }
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        // A chunk is gone: what was taken as marked is part of a record, so start over without it.
        marker = new Marker(ctx.objects, pacer);
        base = undefined;
      }
    }
    const journal = marker.journal();
    await marker.markFrom(normal);
    const whole = marker.endJournal();
    const added = journal.reduce((n, list) => n + list.length, 0);
    const count = (base?.count ?? 0) + added;
    if (!whole || count < minObjects) {
      // Nothing true to keep: a record left would still name these objects after they go.
      await dropMarkRecords(ctx);
      return marker;
    }
    if (base !== undefined && added === 0 && sameTips(base, { tips: normal })) return marker;
    const writer = base === undefined ? await SeriesWriter.create(ctx.kv, ctx.poolId) : await SeriesWriter.after(ctx.kv, ctx.poolId, base);
    try {
      // Commits first, then trees, then blobs, as the planner orders a full clone (a clone plan
      // may be made from this record: clone-plan.ts).
      for (const list of journal) {
        for (const id of list) {
          const full = writer.rawId(id);
          if (full !== undefined) {
            await full;
            await pacer.tick();
          }
        }
      }
      const record = await writer.finish(normal, commits, 'mark');
      await collect(ctx.kv, ctx.poolId, (r) => !sameTips(r, record), 'mark');
    } finally {
      writer.close();
    }
    return marker;
  } finally {
    release?.();
  }
}

/** Drops the pool's mark records (a pool marked whole from now on: shallow, or records turned off). */
export async function dropMarkRecords(ctx: RepoContext): Promise<void> {
  if ((await listRecords(ctx.kv, ctx.poolId, 'mark')).length > 0) await collect(ctx.kv, ctx.poolId, () => true, 'mark');
}

/**
 * The largest mark record every tip of which `tips` reach (its objects are then all reachable
 * from them), if any; none when a tip commit of it is gone. Also a clone plan's base (clone-plan.ts).
 */
export async function usableRecord(ctx: RepoContext, tips: Oid[], commits: (Oid | null)[]): Promise<FullPackRecord | undefined> {
  const records = await listRecords(ctx.kv, ctx.poolId, 'mark');
  if (records.length === 0) return undefined;
  try {
    return await pickBase(ctx, records, tips, commits);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
