/**
 * Serving packs: plan (walk.ts decides which objects), cache (finished packs of requests that
 * do not depend on the client's state, and the warm-up of a branch's depth-1 clone), pins (the
 * objects of a pack being sent are pinned against the sweep until the stream ends), stream
 * (pack-out.ts copies the stored entries), and materialization after a branch moves.
 */
import { InvalidArgumentError } from '../errors.js';
import { type Oid, parseOid } from '../object/oid.js';
import type { View } from '../refs/space.js';
import type { ObjectFilter } from '../protocol/backend.js';
import type { RepoContext } from './context.js';
import { materializeTip } from './materialize.js';
import { cloneTips, isFullClone, refreshFullPack, serveFullPack } from './full-pack.js';
import { clonePlanOptions, planImportClone, refreshClonePlan, serveClonePlan } from './clone-plan.js';
import { readImportRecord } from './full-pack-store.js';
import { importPlanIds } from './import-plan.js';
import { installedService } from './services.js';
import type * as Depth1 from './depth1-plan.js';
import { packBytes } from './pack-out.js';
import { packCacheKey, type PackAnswer } from './pack-cache.js';
import { listView } from './revision.js';
import { planObjects, type ObjectPlan, type ObjectPlanInput } from './walk.js';

/** Options of `packObjects`: ids as hex strings; see ObjectPlanInput for the meaning of each. */
export interface PackObjectsOptions {
  wants: readonly string[];
  haves?: readonly string[];
  /** Commits the client has as shallow boundaries. */
  shallows?: readonly string[];
  depth?: number;
  deepenRelative?: boolean;
  deepenSince?: number;
  filter?: ObjectFilter;
  /** Add annotated tags pointing at sent commits. */
  includeTags?: boolean;
}

/** Plans a pack: object ids in pack order and the shallow boundary (see walk.ts). */
export function planPack(ctx: RepoContext, input: ObjectPlanInput): Promise<ObjectPlan> {
  ctx.assertLive();
  return planObjects(ctx.objects, input);
}

/** How `streamPack` writes a pack (see pack-out.ts `packBytes` and `PackBytesOptions`). */
export interface StreamPackOptions {
  /** Stored deltas go out as deltas where their base travels too (else every object whole). */
  deltas?: boolean;
  /** A thin pack: objects the client has, which deltas may name as bases. */
  thinBases?: ReadonlySet<Oid>;
  /** With `thinBases`: new object -> the client's object at its path (thin-bases.ts). */
  preferredBases?: ReadonlyMap<Oid, Oid>;
  /** With `preferredBases`: the client's object to try where the preferred base fails (thin-bases.ts `ThinPairs.client`). */
  clientBases?: ReadonlyMap<Oid, Oid>;
  ofsDelta?: boolean;
  scanDeltas?: boolean;
}

/**
 * Streams a pack of exactly these stored objects: header, then each batch of stored entries
 * (one batched read, one chunk), then the SHA-1 trailer. No per-object await; no inflate or
 * deflate except for objects stored only as deltas that go whole, and deltas against the
 * client's objects (`preferredBases`).
 */
export function streamPack(ctx: RepoContext, oids: readonly Oid[] | Uint8Array, options: StreamPackOptions = {}): AsyncIterable<Uint8Array> {
  return (async function* () {
    // Pinned while it streams: a ref that moves away mid-clone does not pull the objects
    // out from under it, and a sweep meanwhile still collects everything else.
    const release = await ctx.guard.pin(oids);
    try {
      yield* packBytes(ctx.objects, oids, options.deltas === true, options.thinBases, {
        ofsDelta: options.ofsDelta,
        scanDeltas: options.scanDeltas,
        preferredBases: options.preferredBases,
        clientBases: options.clientBases,
      });
    } finally {
      release();
    }
  })();
}

/**
 * The answer to a fetch: the shallow boundary changes and the pack, served from the pack
 * cache when the request does not depend on the client's state.
 */
export async function fetchPack(ctx: RepoContext, input: ObjectPlanInput): Promise<PackAnswer> {
  ctx.assertLive();
  const generate = async (): Promise<PackAnswer> => {
    // A full clone of a long history: its stored pack, no plan (full-pack.ts).
    const full = await serveFullPack(ctx, input);
    if (full !== undefined) return full;
    // ...or its stored plan: the planner's ids without the history walk (clone-plan.ts).
    const stored = await serveClonePlan(ctx, input, () => planned().then((a) => a.pack));
    if (stored !== undefined) return stored;
    // A depth-1 clone: its stored plan, no tree walk (depth1-plan.ts, where installed).
    const depth1 = input.depth === 1 ? await installedService('depth1') : undefined;
    return (await depth1?.serveDepth1Plan(ctx, input, () => planned().then((a) => a.pack))) ?? planned();
  };
  const planned = async (): Promise<PackAnswer> => {
    const plan = await planObjects(ctx.objects, input);
    // Deltas kept from pushes go out whenever their base travels too: across history, and
    // within one tree (git push deltas similar files of the same commit against each other).
    // A full clone reads most of the store: its deltas in one key-ordered read (pack-out.ts scanDeltas).
    const pack = streamPack(ctx, plan.oids, {
      deltas: true,
      thinBases: plan.clientObjects,
      preferredBases: plan.preferredBases,
      clientBases: plan.clientBases,
      ofsDelta: input.ofsDelta,
      scanDeltas: isFullClone(input),
    });
    const depth1 = input.depth === 1 ? installedService('depth1') : undefined;
    return { shallow: plan.shallow, unshallow: plan.unshallow, pack: depth1 ? thenStoreDepth1(depth1, ctx, input, plan, pack) : pack };
  };
  const cache = ctx.packCache;
  const key = cache?.enabled ? packCacheKey(ctx.repoId, input) : undefined;
  return key === undefined ? generate() : cache!.serve(key, generate);
}

/**
 * A depth-1 clone's pack that, once sent whole, stores its plan (depth1-plan.ts) in the
 * background: a fresh process's next depth-1 clone of that tip then skips the walk.
 */
async function* thenStoreDepth1(
  depth1: Promise<typeof Depth1>,
  ctx: RepoContext,
  input: ObjectPlanInput,
  plan: ObjectPlan,
  pack: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield* pack;
  // Nobody waits for it; a failure (the engine closing meanwhile) only means the next clone plans.
  void depth1.then((m) => m.storeDepth1Plan(ctx, input, plan)).catch(() => undefined);
}

/**
 * After a branch moved to `tip`: gives what a depth-1 clone of it sends whole entries
 * (materialize.ts), extends or builds the stored full-clone pack (full-pack.ts), stores the
 * depth-1 plan of the tip (depth1-plan.ts, where installed: after materializing, which may
 * change which objects are deltas), pre-builds the pack a `git clone --depth 1` of it will ask
 * for (from the same plan), pre-builds a full clone's pack where the history was just imported
 * (`warmImportClone`), then extends or builds the clone plan (clone-plan.ts: last, since a
 * first plan of a long history costs a planned full clone).
 */
export async function warmClonePack(ctx: RepoContext, tip: Oid): Promise<void> {
  await materializeTip(ctx, tip);
  await refreshFullPack(ctx);
  const cache = ctx.packCache;
  const warm = cache?.enabled === true && cache.options.warm;
  // As `git clone --depth 1` asks: include-tag and ofs-delta.
  const input: ObjectPlanInput = { wants: [tip], depth: 1, includeTags: await annotatedTags(ctx, 'regular'), ofsDelta: true };
  let plan: Promise<ObjectPlan> | undefined;
  const planOnce = () => (plan ??= planObjects(ctx.objects, input));
  const depth1 = await installedService('depth1');
  if (depth1 !== undefined && (await depth1.needsDepth1Plan(ctx, input))) await depth1.storeDepth1Plan(ctx, input, await planOnce());
  if (warm) {
    await cache!.warm(packCacheKey(ctx.repoId, input)!, async () => {
      const p = await planOnce();
      return { shallow: p.shallow, unshallow: p.unshallow, pack: streamPack(ctx, p.oids, { deltas: true, ofsDelta: true }) };
    });
    await warmImportClone(ctx, input.includeTags);
  }
  await refreshClonePlan(ctx);
}

/**
 * Where a long history was pushed into the empty pool and nothing changed since (its import
 * record still answers a full clone of the branches and tags: import-plan.ts), builds the pack
 * `git clone` asks for (every branch and tag, include-tag, ofs-delta) into the pack cache, as
 * `git gc --auto` repacks after a push that brought many objects. The first clone of an import
 * is then a copy of finished chunks, as every later one is while it stays cached. Only with clone
 * plans on (full-clone packs off) and for a history of their `minCommits`; one at a time across
 * repositories; nothing is stored. A pushed pack larger than the cache keeps (`maxEntryBytes`)
 * gets its clone plan stored instead (clone-plan.ts `planImportClone`).
 */
async function warmImportClone(ctx: RepoContext, includeTags: ObjectPlanInput['includeTags']): Promise<void> {
  const cache = ctx.packCache!;
  const plans = clonePlanOptions(ctx);
  if (plans === undefined) return;
  const record = await readImportRecord(ctx.kv, ctx.poolId);
  if (record?.bytes === undefined || record.commits < plans.minCommits) return;
  // Larger than the cache keeps: the clone's plan instead (20 bytes per object), so the first
  // clone reads its ids rather than scanning the pool's keys and writing them while it waits.
  if (record.bytes > cache.options.maxEntryBytes) return planImportClone(ctx);
  const input: ObjectPlanInput = { wants: await cloneTips(ctx), includeTags, ofsDelta: true };
  const key = packCacheKey(ctx.repoId, input);
  if (key === undefined || !isFullClone(input)) return;
  // One warm-up per key (an import of many branches moves them all at once), and one such pack
  // at a time across repositories (many imports at once).
  await cache.warm(
    key,
    async () => {
      const ids = await importPlanIds(ctx, input.wants);
      return ids === undefined ? undefined : { shallow: [], unshallow: [], pack: streamPack(ctx, ids, { deltas: true, ofsDelta: true, scanDeltas: true }) };
    },
    { alone: true },
  );
}

/** Annotated tags visible in a view, with their peeled targets (for include-tag). */
export async function annotatedTags(ctx: RepoContext, view: View): Promise<{ oid: Oid; peeled: Oid }[]> {
  const tags = await listView(ctx.refs, view, 'refs/tags/');
  return tags.filter(([, v]) => v.peeled !== undefined).map(([, v]) => ({ oid: v.oid, peeled: v.peeled! }));
}

/** One complete pack of the objects `options` select (e.g. `{ wants: [sha], depth: 1 }`), streamed. */
export function packObjects(ctx: RepoContext, options: PackObjectsOptions): AsyncIterable<Uint8Array> {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.wants)) throw new InvalidArgumentError('packObjects needs { wants: [...] }');
  const ids = (list: readonly string[] | undefined, what: string) => (list ?? []).map((w) => parseOid(w, what));
  if (options.depth !== undefined && (!Number.isInteger(options.depth) || options.depth < 1))
    throw new InvalidArgumentError('depth must be a positive integer');
  const input: ObjectPlanInput = {
    wants: ids(options.wants, 'want'),
    haves: ids(options.haves, 'have'),
    clientShallows: ids(options.shallows, 'shallow'),
    depth: options.depth,
    deepenRelative: options.deepenRelative,
    deepenSince: options.deepenSince,
    filter: options.filter,
  };
  return (async function* () {
    if (options.includeTags) input.includeTags = await annotatedTags(ctx, 'regular');
    const answer = await fetchPack(ctx, input);
    yield* answer.pack;
  })();
}
