/**
 * Fetch planning, the way git's upload-pack does it: which commits a fetch sends and the
 * shallow boundary changes (commit-walk.ts, over the commit graph), then which trees and blobs
 * those commits bring, minus the client's, through an object filter (tree-walk.ts, in bounded
 * batches), then the tags include-tag adds. The walks' entry points are re-exported here.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { isTreeMode } from '../object/tree.js';
import { commitGraph } from './commit-graph.js';
import { classifyWants, type ObjectPlanInput, planCommits } from './commit-walk.js';
import { peel } from './revision.js';
import { walkTrees } from './tree-walk.js';
import { type ThinPairs, type TreePair, pairByPath } from './thin-bases.js';

export { INFINITE_DEPTH, isAncestor, type ObjectPlanInput, wantsReachCommon } from './commit-walk.js';
export { reachableObjects } from './tree-walk.js';

/** The plan: objects in pack order, and the shallow boundary changes. */
export interface ObjectPlan {
  oids: Oid[];
  shallow: Oid[];
  unshallow: Oid[];
  /** With `thinPack`: trees and blobs the client is known to have (bases a thin pack may use). */
  clientObjects?: Set<Oid>;
  /** With `clientObjects`: sent objects -> the client's or another sent object at the same path (thin-bases.ts), bases to try for objects that would go whole. */
  preferredBases?: Map<Oid, Oid>;
  /** Sent objects whose preferred base is another sent object -> the client's version at the same path, the base to try when that one fails. */
  clientBases?: Map<Oid, Oid>;
}

/** Blob sizes read at a time for `blob:limit`. */
const INFO_BATCH = 4096;

/** Only the shallow boundary changes of a fetch (no object walk): v0's first deepen round. */
export async function planShallow(store: ObjectStore, input: ObjectPlanInput): Promise<{ shallow: Oid[]; unshallow: Oid[] }> {
  const wants = await classifyWants(store, input.wants);
  const { shallow, unshallow } = await planCommits(store, input, wants.commits);
  return { shallow, unshallow };
}

/** Plans the objects of a fetch: see ObjectPlanInput. */
export async function planObjects(store: ObjectStore, input: ObjectPlanInput): Promise<ObjectPlan> {
  const wants = await classifyWants(store, input.wants);
  // The commits to send and their root trees (each once), from the commit graph: no commit decoded.
  const { included, roots, shallow, unshallow, edges } = await planCommits(store, input, wants.commits);
  input.walk?.objects(included.length + wants.tags.length); // every planned id is held until the pack is sent (maxPackObjects)

  // What the client has: the trees of the commits our commits build on.
  const seen = new Set<Oid>(input.haves ?? []);
  let edgeRoots: Oid[] = [];
  if (edges.length > 0) {
    edgeRoots = (await commitGraph(store).records(edges)).flatMap((r) => (r === undefined ? [] : [r.tree]));
    await walkTrees(store, edgeRoots, seen, () => true, Infinity, false, input.walk);
  }
  const clientObjects = input.thinPack && edges.length > 0 ? new Set(seen) : undefined;
  // For a thin pack: what replaced the client's objects, path by path, between the first edge's
  // tree and each wanted commit's (the objects a pushed history stores whole, its newest versions);
  // then each sent commit's tree against each sent parent's (the parent's version pairs with the
  // child's: older versions of a pushed history are stored as deltas of newer ones, so this is the
  // same direction) and against its first parent the client has.
  let thinPairs: ThinPairs | undefined;
  if (clientObjects !== undefined && edgeRoots.length > 0 && wants.commits.length > 0) {
    const graph = commitGraph(store);
    const wantRoots = (await graph.records(wants.commits)).flatMap((r) => (r === undefined ? [] : [r.tree]));
    const pairs: TreePair[] = wantRoots.map((w) => [edgeRoots[0]!, w, true] as const);
    const sent = new Set(included);
    const records = await graph.records(included);
    const treeOf = new Map<Oid, Oid>();
    included.forEach((c, i) => records[i] !== undefined && treeOf.set(c, records[i]!.tree));
    const outside = [...new Set(records.flatMap((r) => r?.parents ?? []))].filter((q) => !sent.has(q));
    (await graph.records(outside)).forEach((r, i) => r !== undefined && treeOf.set(outside[i]!, r.tree));
    included.forEach((c, i) => {
      const tree = treeOf.get(c);
      if (tree === undefined) return;
      let client = false;
      for (const q of records[i]!.parents) {
        const parentTree = treeOf.get(q);
        if (parentTree === undefined) continue;
        // Every sent parent (a merged branch's tip too), and the first parent the client has.
        if (sent.has(q)) pairs.push([tree, parentTree, false]);
        else if (!client) pairs.push([parentTree, tree, true]), (client = true);
      }
    });
    // Last, so only as a fallback where a pack pairing met an object first: each sent commit's
    // tree against the client's, so a version that cannot take its pack pair's object as a base
    // (a cycle: that object is stored as a delta of it) still goes as a delta of the client's.
    for (const c of included) {
      const tree = treeOf.get(c);
      if (tree !== undefined) pairs.push([edgeRoots[0]!, tree, true]);
    }
    thinPairs = await pairByPath(store, pairs);
  }
  const clientHas = wants.trees.length + wants.blobs.length === 0 ? undefined : (clientObjects ?? new Set(seen));

  const filter = input.filter;
  const trees: Oid[] = [];
  const blobs: Oid[] = [];
  const treeDepth = filter?.kind === 'tree' ? filter.depth : Infinity;
  // Collects what a tree walk reaches, as the filter allows; `offset` is the walk depth of a
  // root's entries minus their depth for tree:<n> (0 under a commit, 1 under a wanted tree).
  const collect = (offset: number) => (oid: Oid, mode: string, depth: number) => {
    if (depth - offset >= treeDepth) return false;
    if (isTreeMode(mode) || filter?.kind !== 'blob:none') input.walk?.objects(1);
    if (isTreeMode(mode)) trees.push(oid);
    else if (filter?.kind !== 'blob:none') blobs.push(oid);
    return isTreeMode(mode) || filter?.kind !== 'blob:none';
  };
  if (treeDepth > 0) {
    for (const r of roots) if (!seen.has(r)) trees.push(r), input.walk?.objects(1);
    await walkTrees(store, roots, seen, collect(0), treeDepth, false, input.walk);
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
      if (!inPack.has(t)) inPack.add(t), trees.push(t), input.walk?.objects(1);
      // Walked even when the commits' walk met it: a tree:<n> cut may have left its entries out.
      await walkTrees(store, [t], seen, collect(1), Infinity, true, input.walk);
    }
  }
  let sentBlobs = blobs;
  if (filter?.kind === 'blob:limit') {
    sentBlobs = [];
    for (let i = 0; i < blobs.length; i += INFO_BATCH) {
      const chunk = blobs.slice(i, i + INFO_BATCH);
      const infos = await store.info(chunk);
      chunk.forEach((b, j) => (infos[j]?.size ?? 0) < filter.limit && sentBlobs.push(b)); // git omits blobs of at least the limit
    }
  }
  if (wants.blobs.length > 0) {
    // A set of every blob only when some are wanted by id (a full clone of a history holds none).
    const blobSet = new Set(sentBlobs);
    for (const b of wants.blobs) if (!blobSet.has(b) && !clientHas!.has(b)) blobSet.add(b), sentBlobs.push(b), input.walk?.objects(1);
  }

  const tags = [...wants.tags];
  if (input.includeTags && input.includeTags.length > 0) {
    // include-tag (as pack-objects --include-tag): a tag whose peeled object goes in this pack,
    // commit, tree or blob, goes too, with every tag along its chain.
    // Which peeled targets go: one pass over the pack's ids against the few targets, not a set of every id.
    const targets = new Set(input.includeTags.map((t) => t.peeled));
    const sent = new Set<Oid>();
    for (const list of [included, trees, sentBlobs]) for (const o of list) if (targets.has(o)) sent.add(o);
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
        input.walk?.objects(1);
      }
    });
  }
  return {
    oids: [...included, ...tags, ...trees, ...sentBlobs],
    shallow,
    unshallow,
    ...(clientObjects ? { clientObjects } : {}),
    ...(thinPairs && thinPairs.bases.size > 0 ? { preferredBases: thinPairs.bases } : {}),
    ...(thinPairs && thinPairs.client.size > 0 ? { clientBases: thinPairs.client } : {}),
  };
}
