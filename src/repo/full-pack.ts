/**
 * Full-clone packs: a full clone (no haves, no shallow, no deepen, no filter, `ofs-delta`) of a
 * set of tips is answered from a pack stored for exactly that tip set (full-pack-store.ts),
 * streamed with a fresh header and SHA-1 trailer, without planning: no commit and no tree of the
 * history is read. Like C git's pack reuse after gc, but kept current as refs move.
 *
 * A stored pack holds exactly the objects reachable from its tips (each once, ofs-deltas against
 * earlier entries, ref-deltas only against earlier entries too). It is made:
 *   - by extension, when every tip of a stored pack is reachable from the new tips (a
 *     fast-forward, a new branch or tag): the ordinary fetch plan with the old tips' commits as
 *     haves (the commit-graph planner costs what changed), minus the ids already stored, appended
 *     after the stored entries (copied into a new series first when another record already
 *     extended that one);
 *   - from nothing otherwise (the whole plan, as a clone without it would make).
 * Off unless `packCache.fullPacks` is set (a second copy of the history's objects).
 * Made in the background after a branch moves (serve-packs.ts `warmClonePack`) where a pack is
 * stored already or the history reaches `minCommits`, and on a full clone that finds none. Only
 * histories of at least `minCommits` commits get one (a short history plans in milliseconds and
 * is not worth its stored bytes).
 *
 * Correctness does not depend on refs: the wants of a request are checked against its view first
 * (upload-pack), and a stored pack is the closure of exactly those wants. The sweep drops the
 * records one of whose tips it deletes (`dropFullPacks`), so nothing unreachable stays stored;
 * a stream pins its tips meanwhile. Clone plans (clone-plan.ts, ids only) share the building,
 * bounding and dropping here (`ensureRecord`, `dropFullPacks`).
 */
import { NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { isOid, oidToBytes } from '../object/oid.js';
import { encodePackHeader } from '../pack/pack-writer.js';
import { platform } from '../platform/index.js';
import { toHex } from '../platform/bytes.js';
import type { RepoContext } from './context.js';
import { commitGraph } from './commit-graph.js';
import type { WalkBudget } from '../protocol/walk-budget.js';
import { isAncestor } from './commit-walk.js';
import {
  type FullPackRecord,
  type RecordKind,
  SeriesWriter,
  collect,
  holdSeries,
  idsOf,
  listRecords,
  normalTips,
  readRecord,
  recordBytes,
  recordIds,
} from './full-pack-store.js';
import { OidSet } from './oid-set.js';
import { packBytes } from './pack-out.js';
import { type PackAnswer, includeTagAddsNothing } from './pack-cache.js';
import { listView, peel } from './revision.js';
import { planObjects, type ObjectPlanInput } from './walk.js';

/** Records kept per object pool (the oldest go first). */
export const MAX_RECORDS = 3;
/** Default of `FullPackOptions.minCommits`. */
export const DEFAULT_MIN_COMMITS = 1000;

/** Options of full-clone packs (`PackCacheOptions.fullPacks`). */
export interface FullPackOptions {
  /** Histories shorter than this (the longest chain of commits under the tips) get none. Default 1,000. */
  minCommits?: number;
}

/**
 * The options in force, or undefined when full-clone packs are off: the default, since a stored
 * pack is a second copy of the history (stored bytes about 2x C git's instead of 1.25x); a
 * server that serves full clones of long histories turns them on (docs/storage.md).
 */
export function fullPackOptions(ctx: RepoContext): Required<FullPackOptions> | undefined {
  return recordOptions(ctx.packCache?.options.fullPacks);
}

/** A kind of record's option as given (`true`, `{ minCommits }`, off) with its default filled in; undefined when off. */
export function recordOptions(o: FullPackOptions | boolean | undefined): Required<FullPackOptions> | undefined {
  if (o === undefined || o === false) return undefined;
  return { minCommits: (o === true ? undefined : o.minCommits) ?? DEFAULT_MIN_COMMITS };
}

/** Whether a request is a full clone a stored pack answers exactly (see the module comment). */
export function isFullClone(input: ObjectPlanInput): boolean {
  if (input.wants.length === 0 || !input.ofsDelta) return false;
  if ((input.haves?.length ?? 0) > 0 || (input.clientShallows?.length ?? 0) > 0) return false;
  if (input.depth !== undefined || input.deepenRelative || input.deepenSince !== undefined || (input.deepenNot?.length ?? 0) > 0) return false;
  if (input.filter !== undefined) return false;
  // include-tag adds tags the wants do not name: only when it can add none (every tag wanted).
  return includeTagAddsNothing(input);
}

/** One build at a time per pool (a second request for the same tips then finds the first's record). */
const queues = new WeakMap<object, Map<number, Promise<unknown>>>();

/** Runs `fn` after the pool's record builds queued before it (every kind: full-clone packs, clone and depth-1 plans). */
export function serial<T>(ctx: RepoContext, fn: () => Promise<T>): Promise<T> {
  let m = queues.get(ctx.kv);
  if (m === undefined) queues.set(ctx.kv, (m = new Map()));
  const prev = m.get(ctx.poolId) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  m.set(ctx.poolId, tail);
  void tail.then(() => {
    if (m.get(ctx.poolId) === tail) m.delete(ctx.poolId);
  });
  return run;
}

/**
 * The answer to a full clone from a stored pack, made first when missing; undefined when the
 * request is no full clone, full packs are off or the history is too short for one.
 */
export async function serveFullPack(ctx: RepoContext, input: ObjectPlanInput): Promise<PackAnswer | undefined> {
  const options = fullPackOptions(ctx);
  if (options === undefined || !isFullClone(input)) return undefined;
  const tips = normalTips(input.wants);
  let record = await readRecord(ctx.kv, ctx.poolId, tips);
  try {
    record ??= await ensureFullPack(ctx, tips, options.minCommits, input.walk);
  } catch (err) {
    // An object gone while it was being stored (a ref moved and a sweep ran): the planner answers.
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  if (record === undefined) return undefined;
  if (ctx.packCache) ctx.packCache.stats.fullServed++;
  return { shallow: [], unshallow: [], pack: streamRecord(ctx, record) };
}

/** The pack of a record: header, stored entries, trailer; its tips pinned and its series held while it streams. */
async function* streamRecord(ctx: RepoContext, r: FullPackRecord): AsyncGenerator<Uint8Array> {
  const release = await ctx.guard.pin(r.tips);
  const hold = holdSeries(ctx.kv, ctx.poolId, r.series);
  try {
    // A record built from nothing stored its trailer: the stream is then a copy, no SHA-1 pass
    // (6.5% of the server's samples for git's history over HTTP). A client checks it as any trailer.
    const trailer = storedTrailer(r);
    const hash = trailer === undefined ? platform().createSha1() : undefined;
    const header = encodePackHeader(r.count);
    hash?.update(header);
    yield header;
    for await (const chunk of recordBytes(ctx.kv, ctx.poolId, r)) {
      hash?.update(chunk);
      yield chunk;
    }
    yield trailer ?? hash!.digest();
  } finally {
    hold();
    release();
  }
}

/** The trailer a record stored, if it holds a well-formed one (a SHA-1 in hex, as an object id is). */
function storedTrailer(r: FullPackRecord): Uint8Array | undefined {
  return isOid(r.trailer) ? oidToBytes(r.trailer) : undefined;
}

/**
 * After a branch moved: makes the stored pack of the regular refs' branches and tags (what
 * `git clone` wants) when one is stored for the pool already or the history is long enough.
 */
export async function refreshFullPack(ctx: RepoContext): Promise<void> {
  const options = fullPackOptions(ctx);
  if (options === undefined) return;
  const tips = await cloneTips(ctx);
  if (tips.length === 0 || (await readRecord(ctx.kv, ctx.poolId, tips)) !== undefined) return;
  await ensureFullPack(ctx, tips, options.minCommits);
}

/** What `git clone` wants: the ids of the regular refs' branches and tags, sorted, distinct. */
export async function cloneTips(ctx: RepoContext): Promise<Oid[]> {
  const refs = await listView(ctx.refs, 'regular', 'refs/');
  return normalTips(refs.filter(([n]) => n.startsWith('refs/heads/') || n.startsWith('refs/tags/')).map(([, v]) => v.oid));
}

/** The record of `tips`: stored, extended from another, or built (its plan charged to `walk`); undefined below `minCommits`. */
function ensureFullPack(ctx: RepoContext, tips: Oid[], minCommits: number, walk?: WalkBudget): Promise<FullPackRecord | undefined> {
  return ensureRecord(ctx, 'pack', tips, minCommits, build, { walk });
}

/**
 * Writes the record of `kind` for `tips`, after `base` (a record of the same kind the tips reach)
 * or from nothing; undefined when it builds none (a builder that may not walk the history).
 */
export type RecordBuilder = (
  ctx: RepoContext,
  tips: Oid[],
  commits: (Oid | null)[],
  base: FullPackRecord | undefined,
  records: FullPackRecord[],
  walk: WalkBudget | undefined,
) => Promise<FullPackRecord | undefined>;

/**
 * The record of `kind` for `tips` (one build per pool at a time): stored, extended from another
 * of its kind, or built; undefined when none is stored and the history is shorter than `minCommits`,
 * (`extendOnly`) when no stored record of its kind can be extended, or when `make` built none. `walk`: the budget of the
 * request that builds it (its plan is charged like the planner's: maxPackObjects, maxWalkCommits).
 */
export function ensureRecord(
  ctx: RepoContext,
  kind: RecordKind,
  tips: Oid[],
  minCommits: number,
  make: RecordBuilder,
  { extendOnly = false, walk }: { extendOnly?: boolean; walk?: WalkBudget | undefined } = {},
): Promise<FullPackRecord | undefined> {
  return serial(ctx, async () => {
    ctx.assertLive();
    const stored = await readRecord(ctx.kv, ctx.poolId, tips, kind);
    if (stored !== undefined) return stored;
    const peeled = await peel(ctx.objects, tips);
    const commits = peeled.map((p) => (p.type === 'commit' ? p.oid : null));
    const records = await listRecords(ctx.kv, ctx.poolId, kind);
    const base = await pickBase(ctx, records, tips, commits);
    if (base === undefined) {
      if (extendOnly) return undefined;
      const graph = commitGraph(ctx.objects);
      const recs = await graph.records(commits.filter((c): c is Oid => c !== null));
      const longest = Math.max(0, ...recs.map((r) => r?.generation ?? 0));
      if (longest < minCommits) return undefined;
    }
    const record = await make(ctx, tips, commits, base, records, walk);
    if (record === undefined) return undefined;
    const tooMany = (r: FullPackRecord, all: FullPackRecord[]) => r !== record && !sameTips(r, record) && all.filter((x) => x.at >= r.at).length > MAX_RECORDS;
    await collect(ctx.kv, ctx.poolId, tooMany, kind);
    return record;
  });
}

export function sameTips(a: Pick<FullPackRecord, 'tips'>, b: Pick<FullPackRecord, 'tips'>): boolean {
  return a.tips.length === b.tips.length && a.tips.every((t, i) => t === b.tips[i]);
}

/** The largest stored record every tip of which the new tips reach (its objects are then all wanted). */
export async function pickBase(ctx: RepoContext, records: FullPackRecord[], tips: Oid[], commits: (Oid | null)[]): Promise<FullPackRecord | undefined> {
  const tipSet = new Set(tips);
  const heads = commits.filter((c): c is Oid => c !== null);
  const known = new Map<Oid, boolean>();
  const reached = async (oid: Oid): Promise<boolean> => {
    let r = known.get(oid);
    if (r === undefined) {
      r = false;
      for (const h of heads) if ((r = await isAncestor(ctx.objects, oid, h))) break;
      known.set(oid, r);
    }
    return r;
  };
  const sorted = [...records].sort((a, b) => b.count - a.count);
  next: for (const r of sorted) {
    for (let i = 0; i < r.tips.length; i++) {
      const t = r.tips[i]!;
      if (tipSet.has(t)) continue;
      // A tip that is a commit may have been passed by the new tips; anything else must be one of them.
      if (r.commits[i] !== t || !(await reached(t))) continue next;
    }
    return r;
  }
  return undefined;
}

/**
 * Writes the record of `tips`: after `base` (appending in place when `base` ends its series,
 * else on a copy of it) or from nothing.
 */
const build: RecordBuilder = async (ctx, tips, commits, base, records, walk) => {
  const kv = ctx.kv;
  const pool = ctx.poolId;
  let writer: SeriesWriter;
  const have = new OidSet();
  if (base === undefined) writer = await SeriesWriter.create(kv, pool);
  else {
    const atEnd = records.every((r) => r.series !== base.series || r.bytes <= base.bytes);
    writer = atEnd ? await SeriesWriter.after(kv, pool, base) : await SeriesWriter.create(kv, pool);
    try {
      for await (const ids of recordIds(kv, pool, base)) {
        for (let o = 0; o < ids.length; o += 20) have.add(ids, o);
        if (!atEnd) await writer.ids(idsOf(ids));
      }
      if (!atEnd) for await (const chunk of recordBytes(kv, pool, base)) await writer.bytes(chunk);
    } catch (err) {
      writer.close();
      throw err;
    }
  }
  let oids: Oid[] = [];
  let trailer: string | undefined;
  try {
    const haves = base === undefined ? [] : base.commits.filter((c): c is Oid => c !== null);
    const plan = await planObjects(ctx.objects, { wants: tips, haves, ofsDelta: true, ...(walk ? { walk } : {}) });
    oids = have.size === 0 ? plan.oids : plan.oids.filter((o) => !have.has(oidToBytes(o)));
    // Pinned while read: a sweep meanwhile does not take what is being copied.
    const release = await ctx.guard.pin(oids);
    try {
      // Deltas against stored entries stay ref-deltas (their base is earlier in the pack).
      const thin = have.size === 0 ? undefined : ({ has: (o: Oid) => have.has(oidToBytes(o)) } as ReadonlySet<Oid>);
      let pending: Oid[] = [];
      const chunks = packBytes(ctx.objects, oids, true, thin, { ofsDelta: true, onBatch: (ids) => pending.push(...ids) });
      let first = true;
      let last: Uint8Array | undefined;
      for await (const chunk of chunks) {
        if (first) {
          first = false; // the header: the stored pack has none
          continue;
        }
        if (last !== undefined) await writer.bytes(last);
        last = chunk;
        if (pending.length > 0) {
          const ids = pending;
          pending = [];
          await writer.ids(ids);
        }
      }
      await writer.ids(pending); // `last` is the trailer: the stored pack has none
      // Built from nothing, the pack written is the record's pack, header to trailer: its
      // trailer is the record's. An extension's covers only what it appended.
      if (base === undefined && last?.length === 20) trailer = toHex(last);
    } finally {
      release();
    }
    ctx.assertLive();
    // The ids written are the entries written: anything else is a bug, and the record must not serve.
    if (writer.count !== (base?.count ?? 0) + oids.length) throw new Error(`full-clone pack of ${writer.count} ids for ${oids.length} new objects`);
    const record = await writer.finish(tips, commits, 'pack', { trailer });
    if (ctx.packCache) ctx.packCache.stats[base === undefined ? 'fullBuilt' : 'fullExtended']++;
    return record;
  } finally {
    writer.close();
  }
};

/**
 * The sweep's hook: drops every record of the pool, full-clone pack, clone plan (clone-plan.ts)
 * or depth-1 plan (depth1-plan.ts), one of whose tips it deleted; returns how many.
 */
export async function dropFullPacks(ctx: Pick<RepoContext, 'kv' | 'poolId'>, dead: readonly Oid[]): Promise<number> {
  if (dead.length === 0) return 0;
  const gone = new Set(dead);
  let dropped = 0;
  for (const kind of ['pack', 'plan', 'depth1'] as const) {
    const records = await listRecords(ctx.kv, ctx.poolId, kind);
    if (records.length === 0) continue;
    const kept = await collect(ctx.kv, ctx.poolId, (r) => r.tips.some((t) => gone.has(t)), kind);
    dropped += records.length - kept.length;
  }
  return dropped;
}
