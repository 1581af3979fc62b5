/**
 * Reachability walks: which commits a fetch sends (wants minus what the client has, cut at a
 * depth, a date or other refs, with the resulting shallow boundary), and which trees and blobs
 * those commits bring (minus the client's, through an object filter). Trees are read a level
 * at a time with one batched read per level, and decoded trees come from the cache.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ObjectType, Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { Commit } from '../object/commit.js';
import { isGitlinkMode, isTreeMode } from '../object/tree.js';
import { peel } from './revision.js';
import type { ObjectFilter } from '../protocol/backend.js';

/** What to send. */
export interface ObjectPlanInput {
  wants: readonly Oid[];
  haves?: readonly Oid[];
  clientShallows?: readonly Oid[];
  depth?: number;
  deepenRelative?: boolean;
  deepenSince?: number;
  /** Commits whose history is excluded (`deepen-not`, already resolved). */
  deepenNot?: readonly Oid[];
  filter?: ObjectFilter;
  /** Annotated tags to add when they point at a sent object (`include-tag`): tag object id and peeled target. */
  includeTags?: readonly { oid: Oid; peeled: Oid }[];
  /** `thin-pack`: deltas may use bases the client has and the pack does not carry. */
  thinPack?: boolean;
  /** `ofs-delta`: deltas whose base is in the pack may be written as offset deltas. */
  ofsDelta?: boolean;
}

/** The plan: objects in pack order, and the shallow boundary changes. */
export interface ObjectPlan {
  oids: Oid[];
  shallow: Oid[];
  unshallow: Oid[];
  /** With `thinPack`: trees and blobs the client is known to have (bases a thin pack may use). */
  clientObjects?: Set<Oid>;
}

/**
 * Walks commits breadth-first from `starts`, one batched read per generation, each commit once
 * (`starts` are generation 1). `visit` sees each commit and returns whether to follow its
 * parents; objects that are not commits are passed over.
 */
async function walkCommitLevels(
  store: ObjectStore,
  starts: Iterable<Oid>,
  visit: (oid: Oid, commit: Commit, generation: number) => boolean,
  skip: (oid: Oid) => boolean = () => false,
): Promise<void> {
  const seen = new Set<Oid>();
  let level: Oid[] = [];
  for (const o of starts) if (!seen.has(o) && !skip(o)) seen.add(o), level.push(o);
  for (let generation = 1; level.length > 0; generation++) {
    const decoded = await store.decodeMany(level);
    const next: Oid[] = [];
    level.forEach((oid, i) => {
      const obj = decoded[i]!;
      if (obj.type !== 'commit' || !visit(oid, obj.commit, generation)) return;
      for (const p of obj.commit.parents) if (!seen.has(p) && !skip(p)) seen.add(p), next.push(p);
    });
    level = next;
  }
}

/**
 * Commits reachable from `starts`, not walking past `stops` (their parents are not visited)
 * nor past commits older than `floor` (seconds; they are included, their parents are not).
 */
async function closure(store: ObjectStore, starts: readonly Oid[], stops: ReadonlySet<Oid> = new Set(), floor = -Infinity): Promise<Set<Oid>> {
  const found = new Set<Oid>();
  await walkCommitLevels(store, starts, (oid, c) => {
    found.add(oid);
    return !stops.has(oid) && c.committer.timestamp >= floor;
  });
  return found;
}

/** True when `ancestor` is reachable from `descendant` (walks back no further than `ancestor`'s date allows, with slack). */
export async function isAncestor(store: ObjectStore, ancestor: Oid, descendant: Oid): Promise<boolean> {
  if (ancestor === descendant) return true;
  const target = await store.commit(ancestor);
  const floor = target.committer.timestamp - 86_400; // tolerate a day of clock skew
  let found = false;
  await walkCommitLevels(store, [descendant], (oid, c) => {
    if (oid === ancestor) found = true;
    return !found && c.committer.timestamp >= floor;
  });
  return found;
}

/**
 * git's test for ending a negotiation ("ready"): every wanted commit reaches one of `common`,
 * walking back no further than the oldest common commit's date (less a day of clock skew).
 * Wants that do not peel to a commit need no ancestor. Past `budget` commits walked it answers
 * true, so a huge history cannot make a negotiation round expensive.
 */
export async function wantsReachCommon(store: ObjectStore, wants: readonly Oid[], common: readonly Oid[], budget = 10_000): Promise<boolean> {
  if (common.length === 0) return false;
  const commonSet = new Set(common);
  let floor = Infinity;
  for (const d of await store.decodeMany(common)) if (d.type === 'commit') floor = Math.min(floor, d.commit.committer.timestamp);
  if (floor === Infinity) return false;
  floor -= 86_400;
  const { commits } = await classifyWants(store, wants);
  let walked = 0;
  for (const want of commits) {
    let found = false;
    await walkCommitLevels(store, [want], (oid, c) => {
      if (commonSet.has(oid)) found = true;
      walked++;
      return !found && walked <= budget && c.committer.timestamp >= floor;
    });
    if (walked > budget) return true;
    if (!found) return false;
  }
  return true;
}

/** The depth git sends for `--unshallow` (and `--depth` of 2^31 - 1 or more). */
export const INFINITE_DEPTH = 0x7fffffff;

/**
 * Wanted objects by type, each tag chain peeled (revision.ts) and the tags themselves included.
 * Each object once, however many wants reach it (a tag of a tag and the tag itself, say), in
 * breadth-first order: the wants, then what their tags name, and so on.
 */
async function classifyWants(store: ObjectStore, wants: readonly Oid[]) {
  const commits: Oid[] = [];
  const trees: Oid[] = [];
  const blobs: Oid[] = [];
  const tags: Oid[] = [];
  const unique = [...new Set(wants)];
  const peeled = await peel(store, unique);
  // Every object along each chain, with its depth: ordered by depth, then by want.
  const reached = peeled.flatMap((p, w) => {
    const chain: [Oid, ObjectType | undefined][] = [...p.tags.map((t): [Oid, ObjectType] => [t, 'tag']), [p.oid, p.type]];
    return chain.map(([oid, type], depth) => ({ oid, type, depth, w }));
  });
  reached.sort((a, b) => a.depth - b.depth || a.w - b.w);
  const met = new Set<Oid>();
  for (const { oid, type } of reached) {
    if (met.has(oid)) continue;
    met.add(oid);
    if (type === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    if (type === 'commit') commits.push(oid);
    else if (type === 'tree') trees.push(oid);
    else if (type === 'blob') blobs.push(oid);
    else tags.push(oid);
  }
  return { commits, trees, blobs, tags };
}

/**
 * The new shallow boundary of a deepen request (gitprotocol-v2 "deepen", technical/shallow):
 * commits at `depth` generations from `heads` (a head is generation 1), each commit counted at
 * its smallest generation. `boundary` are the commits at the limit; `inside` every commit above it.
 */
async function shallowByDepth(store: ObjectStore, heads: readonly Oid[], depth: number): Promise<{ boundary: Set<Oid>; inside: Set<Oid> }> {
  const boundary = new Set<Oid>();
  const inside = new Set<Oid>();
  await walkCommitLevels(store, heads, (oid, _c, generation) => {
    (generation >= depth ? boundary : inside).add(oid);
    return generation < depth;
  });
  return { boundary, inside };
}

/**
 * The new shallow boundary of `deepen-since` / `deepen-not`: the commits reachable from the
 * wants through commits no older than `since` and not reachable from the `not` refs; those with
 * a parent left out are the boundary.
 */
async function shallowByRevList(store: ObjectStore, wants: readonly Oid[], since: number | undefined, notSet: ReadonlySet<Oid> | undefined) {
  const kept = new Map<Oid, Commit>();
  await walkCommitLevels(
    store,
    wants,
    (oid, c) => {
      if (since !== undefined && c.committer.timestamp < since) return false;
      kept.set(oid, c);
      return true;
    },
    (oid) => notSet?.has(oid) ?? false,
  );
  if (kept.size === 0) throw new InvalidArgumentError('no commits selected for shallow requests');
  const boundary = new Set<Oid>();
  const inside = new Set<Oid>();
  for (const [oid, c] of kept) {
    if (c.parents.some((p) => !kept.has(p))) boundary.add(oid);
    else inside.add(oid);
  }
  return { boundary, inside };
}

/** Commits reachable from `from`, not past `grafts`, not into `has`; with the oldest committer time met. */
async function walkCommits(store: ObjectStore, from: readonly Oid[], grafts: ReadonlySet<Oid>, has: ReadonlySet<Oid>) {
  const included: Oid[] = [];
  let oldest = Infinity;
  await walkCommitLevels(
    store,
    from,
    (oid, c) => {
      included.push(oid);
      oldest = Math.min(oldest, c.committer.timestamp);
      return !grafts.has(oid);
    },
    (oid) => has.has(oid),
  );
  return { included, oldest };
}

/**
 * Decides which commits to send and the shallow boundary changes, the way git's upload-pack
 * does: compute the new boundary (from the wants, or from the client's shallows for
 * deepen-relative); client shallows now above it are unshallowed and their parents wanted;
 * then walk from the wants, not past any boundary (new or the client's), not into what the
 * client has (the haves and their ancestry down to its shallows).
 */
async function planCommits(store: ObjectStore, input: ObjectPlanInput, wantCommits: Oid[]) {
  const clientShallows = new Set(input.clientShallows ?? []);
  const haves = input.haves ?? [];
  const deepen = input.depth !== undefined || input.deepenSince !== undefined || (input.deepenNot?.length ?? 0) > 0;

  const shallow: Oid[] = [];
  const unshallow: Oid[] = [];
  const grafts = new Set<Oid>(clientShallows);
  const walkFrom = [...wantCommits];
  if (deepen) {
    let cut: { boundary: Set<Oid>; inside: Set<Oid> };
    if (input.depth !== undefined && input.deepenRelative) {
      const known = [...clientShallows];
      const infos = await store.info(known);
      cut = await shallowByDepth(
        store,
        known.filter((_, i) => infos[i]?.type === 'commit'),
        input.depth + 1,
      );
    } else if (input.depth !== undefined && input.depth >= INFINITE_DEPTH) {
      // --unshallow: every shallow commit of the client goes, reached from the wants or not
      // (git leaves branches that are up to date out of the wants).
      const known = [...clientShallows];
      const infos = await store.info(known);
      cut = { boundary: new Set(), inside: new Set(known.filter((_, i) => infos[i]?.type === 'commit')) };
    } else if (input.depth !== undefined) {
      cut = await shallowByDepth(store, wantCommits, input.depth);
    } else {
      const notSet = input.deepenNot && input.deepenNot.length > 0 ? await closure(store, input.deepenNot) : undefined;
      cut = await shallowByRevList(store, wantCommits, input.deepenSince, notSet);
    }
    for (const o of cut.boundary) {
      grafts.add(o);
      if (!clientShallows.has(o)) shallow.push(o);
    }
    const decoded = await store.decodeMany([...clientShallows].filter((o) => cut.inside.has(o)));
    for (const d of decoded) {
      if (d.type !== 'commit') continue;
      walkFrom.push(...d.commit.parents);
    }
    for (const o of clientShallows) if (cut.inside.has(o)) unshallow.push(o);
  }

  // What the client has: its haves and their ancestry, cut at its shallow commits.
  // What the client has: its haves and their ancestry, cut at its shallow commits. Walking a
  // long history for every incremental fetch would cost more than the fetch, so first walk
  // from the wants stopping at the haves themselves; then walk the haves' ancestry only down
  // to the oldest commit that walk met (less a day of clock skew); then walk the wants again.
  const haveSet = new Set<Oid>(haves);
  let clientHas: Set<Oid> = haveSet;
  let walk = await walkCommits(store, walkFrom, grafts, haveSet);
  if (haves.length > 0 && walk.included.length > 0) {
    clientHas = await closure(store, haves, clientShallows, walk.oldest - 86_400);
    walk = await walkCommits(store, walkFrom, grafts, clientHas);
  }
  const { included } = walk;

  // Commits the client has right below what we send (and unshallowed ones): their trees are the client's.
  const edges = new Set<Oid>(unshallow);
  if (clientHas.size > 0 && included.length > 0) {
    const decoded = await store.decodeMany(included);
    included.forEach((oid, i) => {
      const d = decoded[i]!;
      if (d.type !== 'commit' || grafts.has(oid)) return;
      for (const p of d.commit.parents) if (clientHas.has(p)) edges.add(p);
    });
  }
  return { included, shallow, unshallow, edges: [...edges] };
}

/** Walks trees breadth-first, calling `visit` for every entry not in `skip`; returns trees in walk order. */
async function walkTrees(
  store: ObjectStore,
  roots: readonly Oid[],
  seen: Set<Oid>,
  visit: (oid: Oid, mode: string, depth: number) => boolean,
  maxTreeDepth = Infinity,
  forceRoots = false,
): Promise<void> {
  let level: Oid[] = [];
  for (const r of roots) if (forceRoots || !seen.has(r)) seen.add(r), level.push(r);
  let depth = 0;
  while (level.length > 0 && depth < maxTreeDepth) {
    const decoded = await store.decodeMany(level);
    const next: Oid[] = [];
    for (const d of decoded) {
      if (d.type !== 'tree') continue;
      for (const e of d.entries) {
        if (isGitlinkMode(e.mode) || seen.has(e.oid)) continue;
        if (!visit(e.oid, e.mode, depth + 1)) continue;
        seen.add(e.oid);
        if (isTreeMode(e.mode)) next.push(e.oid);
      }
    }
    level = next;
    depth++;
  }
}

/**
 * Every object reachable from `tips` (commits, tags, trees, blobs), a commit generation at a
 * time, each subtree walked once. Stops early, returning `complete: false`, when `until` says
 * so after a generation or more than `budget` objects were reached.
 */
export async function reachableObjects(
  store: ObjectStore,
  tips: Iterable<Oid>,
  options: { until?: (reached: ReadonlySet<Oid>) => boolean; budget?: number } = {},
): Promise<{ reached: Set<Oid>; complete: boolean }> {
  const reached = new Set<Oid>();
  const budget = options.budget ?? Infinity;
  let frontier = [...new Set(tips)];
  while (frontier.length > 0) {
    frontier = frontier.filter((o) => !reached.has(o));
    const infos = await store.info(frontier);
    const walk: Oid[] = [];
    const roots: Oid[] = [];
    frontier.forEach((o, i) => {
      const type = infos[i]?.type;
      if (type === 'tree') roots.push(o);
      else if (type !== undefined) {
        reached.add(o);
        if (type !== 'blob') walk.push(o);
      }
    });
    const next: Oid[] = [];
    for (const d of await store.decodeMany(walk)) {
      if (d.type === 'commit') {
        roots.push(d.commit.tree);
        next.push(...d.commit.parents);
      } else if (d.type === 'tag') next.push(d.tag.object);
    }
    await walkTrees(store, roots, reached, () => true);
    if (options.until?.(reached) || reached.size > budget) return { reached, complete: false };
    frontier = next;
  }
  return { reached, complete: true };
}

/** Only the shallow boundary changes of a fetch (no object walk): v0's first deepen round. */
export async function planShallow(store: ObjectStore, input: ObjectPlanInput): Promise<{ shallow: Oid[]; unshallow: Oid[] }> {
  const wants = await classifyWants(store, input.wants);
  const { shallow, unshallow } = await planCommits(store, input, wants.commits);
  return { shallow, unshallow };
}

/** Plans the objects of a fetch: see ObjectPlanInput. */
export async function planObjects(store: ObjectStore, input: ObjectPlanInput): Promise<ObjectPlan> {
  const wants = await classifyWants(store, input.wants);
  const { included, shallow, unshallow, edges } = await planCommits(store, input, wants.commits);

  const commits = await store.decodeMany(included);
  // Commits may share a root tree (an empty commit, a revert): each goes in the pack once.
  const roots = [...new Set(commits.map((d) => (d.type === 'commit' ? d.commit.tree : undefined)).filter((o): o is Oid => o !== undefined))];

  // What the client has: the trees of the commits our commits build on.
  const seen = new Set<Oid>(input.haves ?? []);
  if (edges.length > 0) {
    const edgeCommits = await store.decodeMany(edges);
    const edgeRoots = edgeCommits.map((d) => (d.type === 'commit' ? d.commit.tree : undefined)).filter((o): o is Oid => o !== undefined);
    await walkTrees(store, edgeRoots, seen, () => true);
  }
  const clientObjects = input.thinPack && edges.length > 0 ? new Set(seen) : undefined;
  const clientHas = wants.trees.length + wants.blobs.length === 0 ? undefined : (clientObjects ?? new Set(seen));

  const filter = input.filter;
  const trees: Oid[] = [];
  const blobs: Oid[] = [];
  const treeDepth = filter?.kind === 'tree' ? filter.depth : Infinity;
  // Collects what a tree walk reaches, as the filter allows; `offset` is the walk depth of a
  // root's entries minus their depth for tree:<n> (0 under a commit, 1 under a wanted tree).
  const collect = (offset: number) => (oid: Oid, mode: string, depth: number) => {
    if (depth - offset >= treeDepth) return false;
    if (isTreeMode(mode)) trees.push(oid);
    else if (filter?.kind !== 'blob:none') blobs.push(oid);
    return isTreeMode(mode) || filter?.kind !== 'blob:none';
  };
  if (treeDepth > 0) {
    for (const r of roots) if (!seen.has(r)) trees.push(r);
    await walkTrees(store, roots, seen, collect(0), treeDepth);
  } else {
    roots.forEach((r) => seen.add(r));
  }
  // Explicitly wanted trees and blobs go unless the client has them, whatever the filter says
  // of themselves; what is under a wanted tree is filtered as under a root of its own, its
  // entries counting as depth 0 for tree:<n> (git's list-objects does the same).
  if (clientHas !== undefined && wants.trees.length > 0) {
    const inPack = new Set(trees);
    for (const t of wants.trees) {
      if (clientHas.has(t)) continue;
      if (!inPack.has(t)) inPack.add(t), trees.push(t);
      // Walked even when the commits' walk met it: a tree:<n> cut may have left its entries out.
      await walkTrees(store, [t], seen, collect(1), Infinity, true);
    }
  }
  let sentBlobs = blobs;
  if (filter?.kind === 'blob:limit') {
    const infos = await store.info(blobs);
    sentBlobs = blobs.filter((_, i) => (infos[i]?.size ?? 0) < filter.limit); // git omits blobs of at least the limit
  }
  const blobSet = new Set(sentBlobs);
  for (const b of wants.blobs) if (!blobSet.has(b) && !clientHas!.has(b)) blobSet.add(b), sentBlobs.push(b);

  const tags = [...wants.tags];
  if (input.includeTags && input.includeTags.length > 0) {
    // include-tag (as pack-objects --include-tag): a tag whose peeled object goes in this pack,
    // commit, tree or blob, goes too, with every tag along its chain.
    const sent = new Set<Oid>([...included, ...trees, ...sentBlobs]);
    const haveSet = new Set(input.haves ?? []);
    const tagSet = new Set(tags);
    const candidates = input.includeTags.filter((t) => sent.has(t.peeled) && !haveSet.has(t.oid));
    const chains = await peel(
      store,
      candidates.map((t) => t.oid),
    );
    candidates.forEach((t, i) => {
      if (tagSet.has(t.oid)) return;
      // The tags along the chain, up to one already going.
      const p = chains[i]!;
      for (const oid of p.type === 'tag' ? [...p.tags, p.oid] : p.tags) {
        if (tagSet.has(oid)) break;
        tagSet.add(oid);
        tags.push(oid);
      }
    });
  }
  return { oids: [...included, ...tags, ...trees, ...sentBlobs], shallow, unshallow, ...(clientObjects ? { clientObjects } : {}) };
}
