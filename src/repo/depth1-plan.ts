/**
 * Depth-1 plans: what a depth-1 clone of a tip sends (`git clone --depth 1`: its commit, tree and
 * blobs, the tags include-tag adds), as the object ids the planner chooses, in its order, stored
 * under `'M'` beside clone plans (full-pack-store.ts, record kind `depth1`: a series of ids, 20
 * bytes per object, and in the record the shallow boundary and the include-tag list it was
 * planned for). A depth-1 clone that finds the plan of exactly its wants and tags reads the ids
 * and goes straight to the pack writer as a clone plan does (clone-plan.ts `streamPlan`, then
 * pack-out.ts `packBytes`): no commit-graph record or tree is read, byte for byte the planner's pack.
 *
 * What it saves is a fresh process's first depth-1 clone (the pack cache is empty there, and
 * the JIT and LevelDB's table pages are cold): the tree walk (40–110 ms in a fresh process at
 * 20,000 commits, 3–7 ms warm) and, where no object of the plan is stored as a delta of
 * another object of the plan (`deltas` 0, the usual case once a tip is materialized), the `D`
 * lookup of every object (another 60–110 ms there): the pack is then every object whole, in
 * plan order, which is what the planner's pack is when no delta can go (pack-out.ts). Only
 * `reverseTipDeltas` (materialize.ts) gives a stored object a delta later, and only against an
 * object whose own delta named it, which a plan holding both would have counted. With `deltas`
 * above 0 the lookups run as the planner's do.
 *
 * Made in the background after a branch moves (serve-packs.ts `warmClonePack`, after the tip is
 * materialized), and by a depth-1 clone that planned without one (once its pack was sent), for
 * tips of at least `minObjects` objects (a small tree plans in a few milliseconds even cold).
 * At most MAX_RECORDS per pool (the oldest go first: a branch that moves leaves its old tip's
 * plan to them); dropped by the sweep with their tips (full-pack.ts `dropFullPacks`). A plan
 * never makes a clone wrong: ids whose rows are gone, a record dropped meanwhile, or an object
 * missing from the first entries fall back to the planner before a byte leaves.
 */
import type { Oid } from '../object/oid.js';
import type { RepoContext } from './context.js';
import { type PlanPacking, streamPlan } from './clone-plan.js';
import { serial } from './full-pack.js';
import { type FullPackRecord, SeriesWriter, collect, normalTips, readRecord } from './full-pack-store.js';
import { type PackAnswer, includeTagsKey } from './pack-cache.js';
import { peel } from './revision.js';
import type { ObjectPlan, ObjectPlanInput } from './walk.js';

/** Whether depth-1 plans are on when `packCache.depth1Plans` is not given. */
export const DEPTH1_PLANS_DEFAULT = true;
/** Default of `Depth1PlanOptions.minObjects`. */
export const DEFAULT_MIN_OBJECTS = 1000;
/** Depth-1 plans kept per object pool (the oldest go first). */
export const MAX_RECORDS = 4;
/** Ids looked up per batch when a plan is stored. */
const BATCH = 512;

/** Options of depth-1 plans (`PackCacheOptions.depth1Plans`). */
export interface Depth1PlanOptions {
  /** Tips whose depth-1 clone sends fewer objects get none. Default 1,000. */
  minObjects?: number;
}

/** A stored depth-1 plan: a clone-plan record with what else the answer holds. */
export interface Depth1Record extends FullPackRecord {
  /** The shallow boundary the planner answered with. */
  shallow: Oid[];
  /** The include-tag list it was planned for (pack-cache.ts `includeTagsKey`). */
  tags: string;
  /** Objects of the plan stored as a delta of another object of the plan (0: no `D` lookup when served). */
  deltas: number;
}

/** The options in force, or undefined when depth-1 plans are off. */
function planOptions(ctx: RepoContext): Required<Depth1PlanOptions> | undefined {
  const o = ctx.packCache?.options.depth1Plans ?? DEPTH1_PLANS_DEFAULT;
  if (o === false) return undefined;
  return { minObjects: (o === true ? undefined : o.minObjects) ?? DEFAULT_MIN_OBJECTS };
}

/** Whether a request is a depth-1 clone (depth 1 and nothing of the client's state: no haves, shallows, other deepen or filter). */
export function isDepth1Clone(input: ObjectPlanInput): boolean {
  if (input.wants.length === 0 || input.depth !== 1 || input.deepenRelative || input.deepenSince !== undefined) return false;
  if ((input.haves?.length ?? 0) > 0 || (input.clientShallows?.length ?? 0) > 0 || (input.deepenNot?.length ?? 0) > 0) return false;
  return input.filter === undefined;
}

async function readDepth1(ctx: RepoContext, tips: readonly Oid[]): Promise<Depth1Record | undefined> {
  const r = (await readRecord(ctx.kv, ctx.poolId, tips, 'depth1')) as Depth1Record | undefined;
  return r !== undefined && Array.isArray(r.shallow) && typeof r.tags === 'string' && typeof r.deltas === 'number' ? r : undefined;
}

/**
 * The answer to a depth-1 clone from its stored plan; undefined when the request is no depth-1
 * clone, plans are off or none is stored for its wants and tags. `planned` is the planner's
 * pack, the fallback (see the module comment).
 */
export async function serveDepth1Plan(
  ctx: RepoContext,
  input: ObjectPlanInput,
  planned: () => Promise<AsyncIterable<Uint8Array>>,
): Promise<PackAnswer | undefined> {
  if (planOptions(ctx) === undefined || !isDepth1Clone(input)) return undefined;
  const record = await readDepth1(ctx, normalTips(input.wants));
  if (record === undefined || record.tags !== includeTagsKey(input.includeTags)) return undefined;
  // Its ids are held in memory while the pack is sent, as the planner's would be (maxPackObjects).
  input.walk?.objects(record.count);
  // No object of the plan a delta of another: every one goes whole, no `D` lookup (see the module comment).
  const how: PlanPacking = {
    kind: 'depth1',
    deltas: record.deltas > 0,
    // A tip's objects are a small part of a long history's store: looked up, not scanned for.
    scanDeltas: false,
    ofsDelta: input.ofsDelta === true,
    served: () => ctx.packCache && ctx.packCache.stats.depth1Served++,
  };
  return { shallow: [...record.shallow], unshallow: [], pack: streamPlan(ctx, record, planned, how) };
}

/**
 * Stores `plan`, the planner's answer to the depth-1 clone `input`, unless plans are off, the
 * request is no depth-1 clone, the plan is smaller than `minObjects` or one is stored for the
 * same wants and tags already. One build per pool at a time (full-pack.ts `serial`).
 */
export function storeDepth1Plan(ctx: RepoContext, input: ObjectPlanInput, plan: ObjectPlan): Promise<Depth1Record | undefined> {
  const options = planOptions(ctx);
  if (options === undefined || !isDepth1Clone(input) || plan.oids.length < options.minObjects) return Promise.resolve(undefined);
  const tips = normalTips(input.wants);
  const tags = includeTagsKey(input.includeTags);
  return serial(ctx, async () => {
    ctx.assertLive();
    const stored = await readDepth1(ctx, tips);
    if (stored?.tags === tags) return stored;
    const deltas = await deltasWithin(ctx, plan.oids);
    const commits = (await peel(ctx.objects, tips)).map((p) => (p.type === 'commit' ? p.oid : null));
    const writer = await SeriesWriter.create(ctx.kv, ctx.poolId);
    try {
      await writer.ids(plan.oids);
      ctx.assertLive();
      const record = await writer.finish<Depth1Record>(tips, commits, 'depth1', { shallow: plan.shallow, tags, deltas });
      if (ctx.packCache) ctx.packCache.stats.depth1Built++;
      await collect(ctx.kv, ctx.poolId, (r, all) => r.series !== record.series && all.filter((x) => x.at >= r.at).length > MAX_RECORDS, 'depth1');
      return record;
    } finally {
      writer.close();
    }
  });
}

/** Whether depth-1 plans are on and `input`'s plan is not stored yet (the background job's cheap check before planning). */
export async function needsDepth1Plan(ctx: RepoContext, input: ObjectPlanInput): Promise<boolean> {
  if (planOptions(ctx) === undefined || !isDepth1Clone(input)) return false;
  return (await readDepth1(ctx, normalTips(input.wants)))?.tags !== includeTagsKey(input.includeTags);
}

/** How many of `oids` are stored as a delta of another of them (what the planner's pack could send as deltas). */
async function deltasWithin(ctx: RepoContext, oids: readonly Oid[]): Promise<number> {
  const inPlan = new Set(oids);
  let n = 0;
  for (let i = 0; i < oids.length; i += BATCH) {
    ctx.assertLive();
    for (const d of await ctx.objects.getDeltas(oids.slice(i, i + BATCH))) if (d !== undefined && inPlan.has(d.base as Oid)) n++;
  }
  return n;
}
