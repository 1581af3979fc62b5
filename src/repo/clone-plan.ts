/**
 * Clone plans: what a full clone of a tip set sends, as the object ids the planner chooses, in
 * its order, stored under `'M'` beside full-clone packs (full-pack-store.ts, record kind `plan`:
 * a series of ids only, 20 bytes per object, no entry bytes). A full clone (full-pack.ts
 * `isFullClone`) that finds one for exactly its wants reads the ids and goes straight to the
 * pack writer (pack-out.ts `packBytes`): no commit, commit-graph record or tree of the history
 * is read, and the pack is the planner's byte for byte (an extended plan holds the same objects
 * in another order). A cheap stand-in for reachability bitmaps: one list per tip set, kept
 * current as branches move.
 *
 * Made on first need: by a full clone that finds none, once the history has `minCommits`
 * commits (the clone's own plan is stored, then served: no walk beyond the planner's). Kept
 * current in the background after a branch moves (serve-packs.ts `warmClonePack`), but only
 * where a plan is stored already and can be extended: by the fetch plan of what changed when
 * every old tip is reachable from the new tips (a force push waits for the next full clone).
 * A pool never fully cloned stores none: a platform importing many long histories pays neither
 * the 20 bytes per object nor a planned clone's CPU after each import. Bounded, extended and
 * dropped like full-clone packs (full-pack.ts `ensureRecord`): at most MAX_RECORDS per pool,
 * dropped by the sweep with their tips (`dropFullPacks`). Unused while full-clone packs are on (they answer without planning or
 * reading objects one by one).
 *
 * A plan never makes a clone wrong: its objects are read from the store like the planner's, so
 * ids whose rows are gone, a record dropped by a sweep meanwhile, or an object missing from
 * the first entries (the header waits for them) fall back to the planner before a byte leaves.
 */
import { NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { oidToBytes } from '../object/oid.js';
import type { RepoContext } from './context.js';
import { type RecordBuilder, cloneTips, ensureRecord, fullPackOptions, isFullClone, recordOptions } from './full-pack.js';
import { usableRecord } from './sweep-record.js';
import { type FullPackRecord, type RecordKind, SeriesWriter, holdSeries, idsOf, listRecords, normalTips, readRecord, recordIds } from './full-pack-store.js';
import { importPlanIds, importRecordFor } from './import-plan.js';
import { OidMap } from './oid-set.js';
import { packBytes } from './pack-out.js';
import type { PackAnswer } from './pack-cache.js';
import { planObjects, type ObjectPlanInput } from './walk.js';

/** Whether clone plans are on when `packCache.clonePlans` is not given (docs/storage.md, "Clone plans"). */
export const CLONE_PLANS_DEFAULT = true;

/** Options of clone plans (`PackCacheOptions.clonePlans`). */
export interface ClonePlanOptions {
  /** Histories shorter than this (the longest chain of commits under the tips) get none. Default 1,000. */
  minCommits?: number;
}

/** The options in force, or undefined when clone plans are off (or full-clone packs answer instead). */
export function clonePlanOptions(ctx: RepoContext): Required<ClonePlanOptions> | undefined {
  if (fullPackOptions(ctx) !== undefined) return undefined;
  return recordOptions(ctx.packCache?.options.clonePlans ?? CLONE_PLANS_DEFAULT);
}

/**
 * The answer to a full clone from its stored plan, made first when missing; undefined when the
 * request is no full clone, plans are off or the history is too short for one. `planned` is
 * the planner's pack, the fallback (see the module comment).
 */
export async function serveClonePlan(
  ctx: RepoContext,
  input: ObjectPlanInput,
  planned: () => Promise<AsyncIterable<Uint8Array>>,
): Promise<PackAnswer | undefined> {
  const options = clonePlanOptions(ctx);
  if (options === undefined || !isFullClone(input)) return undefined;
  const tips = normalTips(input.wants);
  let record: FullPackRecord | undefined;
  try {
    record = await readRecord(ctx.kv, ctx.poolId, tips, 'plan');
    // A stored plan is read into memory whole: its ids count against the request's maxPackObjects
    // as the planner's would (a plan built now was charged while it was planned).
    if (record !== undefined) input.walk?.objects(record.count);
    else record = await ensureClonePlan(ctx, tips, options.minCommits, { walk: input.walk });
  } catch (err) {
    // An object gone while the plan was made (a ref moved and a sweep ran): the planner answers.
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  if (record === undefined) return undefined;
  const served = () => ctx.packCache && ctx.packCache.stats.planServed++;
  return { shallow: [], unshallow: [], pack: streamPlan(ctx, record, planned, { kind: 'plan', deltas: true, scanDeltas: true, ofsDelta: true, served }) };
}

/** A record's ids in pack order as one table of raw ids, 20 bytes each (its series held while they are read). */
async function readIds(ctx: RepoContext, r: FullPackRecord): Promise<Uint8Array> {
  const hold = holdSeries(ctx.kv, ctx.poolId, r.series);
  try {
    const ids = new Uint8Array(r.count * 20);
    let at = 0;
    for await (const chunk of recordIds(ctx.kv, ctx.poolId, r)) {
      ids.set(chunk, at);
      at += chunk.length;
    }
    return ids;
  } finally {
    hold();
  }
}

/**
 * How a plan of ids is packed (`streamPlan`): its kind, whether stored deltas may go, whether
 * they are found by one key-ordered read of the `D` range (a pack of most of the store: a full
 * clone; pack-out.ts `scanDeltas`), and what counts a served pack.
 */
export interface PlanPacking {
  kind: RecordKind;
  deltas: boolean;
  scanDeltas: boolean;
  ofsDelta: boolean;
  served: () => void;
}

/**
 * The pack of a plan (a clone plan, or a depth-1 plan: depth1-plan.ts): every id pinned while it
 * streams (its entries are read from the store as it goes), the header held back until the first
 * entries are read, the planner's pack instead when anything is missing before then.
 */
export async function* streamPlan(
  ctx: RepoContext,
  r: FullPackRecord,
  planned: () => Promise<AsyncIterable<Uint8Array>>,
  how: PlanPacking,
): AsyncGenerator<Uint8Array> {
  let ids: Uint8Array | undefined;
  try {
    ids = await readIds(ctx, r);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  if (ids !== undefined && (yield* packPlan(ctx, r, ids, how))) return;
  yield* await planned();
}

/**
 * Streams the pack of `ids` (raw, as stored: pinned, read and placed without a hex id); false
 * (nothing yielded) when the plan cannot serve.
 */
async function* packPlan(ctx: RepoContext, r: FullPackRecord, ids: Uint8Array, how: PlanPacking): AsyncGenerator<Uint8Array, boolean> {
  const release = await ctx.guard.pin(ids);
  const chunks = packBytes(ctx.objects, ids, how.deltas, undefined, { ofsDelta: how.ofsDelta, scanDeltas: how.scanDeltas });
  try {
    // Still stored once pinned: a sweep that deleted one of its tips meanwhile dropped it.
    if ((await readRecord(ctx.kv, ctx.poolId, r.tips, how.kind))?.series !== r.series) return false;
    const first: Uint8Array[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await chunks.next();
        if (c.done) break;
        first.push(c.value);
      }
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
    how.served();
    yield* first;
    yield* chunks;
    return true;
  } finally {
    await chunks.return(undefined);
    release();
  }
}

/**
 * After a branch moved to `tip`: makes the plan of the regular refs' branches and tags (what
 * `git clone` wants) when one is stored for the pool already or the history is long enough.
 */
export async function refreshClonePlan(ctx: RepoContext): Promise<void> {
  const options = clonePlanOptions(ctx);
  if (options === undefined) return;
  // Only a pool that was fully cloned has a plan: every other ref move costs one empty range read.
  if ((await listRecords(ctx.kv, ctx.poolId, 'plan')).length === 0) return;
  const tips = await cloneTips(ctx);
  if (tips.length === 0 || (await readRecord(ctx.kv, ctx.poolId, tips, 'plan')) !== undefined) return;
  await ensureClonePlan(ctx, tips, options.minCommits, { extendOnly: true });
}

/**
 * Stores the plan of a full clone of the branches and tags before the first clone asks, where the
 * pool's import record answers it (import-plan.ts): the warm-up after an import whose pack is
 * larger than the pack cache keeps (serve-packs.ts `warmImportClone`). The first clone then reads
 * the stored ids instead of scanning the pool's keys and writing them while the client waits.
 * Nothing when clone plans are off, a plan of these tips is stored, or the record does not answer
 * them: the history is never walked for this.
 */
export async function planImportClone(ctx: RepoContext): Promise<void> {
  const options = clonePlanOptions(ctx);
  if (options === undefined) return;
  const tips = await cloneTips(ctx);
  if (tips.length === 0 || (await importRecordFor(ctx, tips)) === undefined) return;
  await ensureRecord(ctx, 'plan', tips, options.minCommits, buildImportPlan);
}

/** The plan of `tips` (see ensureRecord: `extendOnly`, none unless a stored plan can be extended; `walk`, the request's budget). */
function ensureClonePlan(ctx: RepoContext, tips: Oid[], minCommits: number, how: Parameters<typeof ensureRecord>[5] = {}): Promise<FullPackRecord | undefined> {
  return ensureRecord(ctx, 'plan', tips, minCommits, buildPlan, how);
}

/**
 * Writes the plan of `tips`: `base`'s ids (in place when `base` ends its series, else copied
 * into a new one), then the fetch plan with `base`'s commits as haves minus those ids; or the
 * whole plan, in the planner's order. The old ids are scanned against a map of the new plan
 * (what changed: small), not gathered into a set of the whole history. Without a plan to extend,
 * the sweep's mark record of the regular refs (sweep-record.ts: every object its tips reach)
 * stands in for one when the tips reach all of its tips, always copied (the sweep appends to its
 * series): the first full clone of a long history swept once does not walk it. Without either,
 * the pool's import record (import-plan.ts) stands in for the walk when it answers the tips: the
 * first full clone of a history pushed into an empty pool does not walk it either. `importOnly`:
 * builds nothing where it would walk the whole history (no plan, mark or import record to start from).
 */
const planBuilder =
  (importOnly: boolean): RecordBuilder =>
  async (ctx, tips, commits, base, records, walk) => {
    const { kv, poolId } = ctx;
    const mark = base === undefined ? await usableRecord(ctx, tips, commits) : undefined;
    const from = base ?? mark;
    const release = mark === undefined ? undefined : holdSeries(kv, poolId, mark.series);
    const haves = from === undefined ? [] : from.commits.filter((c): c is Oid => c !== null);
    try {
      // Raw ids from the import record, or the planner's (hex).
      const imported = from === undefined ? await importPlanIds(ctx, tips, walk) : undefined;
      if (importOnly && from === undefined && imported === undefined) return undefined;
      const plan = imported !== undefined ? [] : (await planObjects(ctx.objects, { wants: tips, haves, ofsDelta: true, ...(walk ? { walk } : {}) })).oids;
      const atEnd = base !== undefined && records.every((r) => r.series !== base.series || r.count <= base.count);
      const writer = atEnd ? await SeriesWriter.after(kv, poolId, base) : await SeriesWriter.create(kv, poolId);
      try {
        let fresh = plan;
        if (from !== undefined) {
          const index = new OidMap(plan.length);
          plan.forEach((o, i) => index.set(oidToBytes(o), 0, i));
          const stored = new Uint8Array(plan.length);
          for await (const ids of recordIds(kv, poolId, from)) {
            for (let o = 0; o < ids.length; o += 20) {
              const i = index.get(ids, o);
              if (i >= 0) stored[i] = 1;
            }
            if (!atEnd) await writer.ids(idsOf(ids));
          }
          fresh = plan.filter((_, i) => stored[i] === 0);
        }
        await (imported !== undefined ? writer.rawIds(imported) : writer.ids(fresh));
        ctx.assertLive();
        const record = await writer.finish(tips, commits, 'plan');
        if (ctx.packCache)
          ctx.packCache.stats[
            mark !== undefined ? 'planFromMark' : imported !== undefined ? 'planFromImport' : base === undefined ? 'planBuilt' : 'planExtended'
          ]++;
        return record;
      } finally {
        writer.close();
      }
    } finally {
      release?.();
    }
  };
const buildPlan = planBuilder(false);
const buildImportPlan = planBuilder(true);
