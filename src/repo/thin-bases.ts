/**
 * Delta bases for a thin pack, found by path: between a tree the client has (an edge commit's)
 * and a tree the pack sends (a wanted commit's), every entry that changed id under the same
 * name, both trees or both blobs, pairs the new object with the client's version of it
 * (`pairByPath`); between two trees the pack sends (a commit's and its parent's), the older
 * version with the newer one. Pack writing (pack-out.ts) sends such an object that would go
 * whole as a delta against its pair instead (`thinDeltas`), when that is much smaller: what
 * git's pack-objects does with the trees at the client's edge. In a pushed
 * history the newest version of a file is usually the one stored whole (older ones are deltas
 * of it), so without this a fetch of a few commits sends every changed file whole.
 *
 * A sent object whose first base is another sent object also keeps the client's version at its
 * path, when a pairing with a client's tree met one (`ThinPairs.client`): pack writing tries it
 * when the first base gives no delta worth sending or would close a cycle (that base is stored
 * as a delta of the object), so such an object still goes as a small delta instead of whole.
 *
 * Pairing opens only changed subtrees, level by level (one batched read per level), at most
 * `maxTrees` trees in all; what is left past that is simply not paired. Making the deltas
 * (`thinDeltas`) is bounded too: objects of 64 bytes to 1 MiB, 32 MiB of bodies per pack.
 */
import { type Oid, oidToBytes } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { encodeRefDelta } from '../object/packed.js';
import { type TreeEntry, isGitlinkMode, isTreeMode } from '../object/tree.js';
import { createDelta } from '../pack/delta.js';

/** Default bound on the trees one pairing reads. */
export const MAX_PAIRING_TREES = 4096;

/** What `pairByPath` found: per sent object its first base, and the client's version where that base is another sent object. */
export interface ThinPairs {
  /** Sent object id -> the object at the same path in the other tree of the first pairing that met it. */
  bases: Map<Oid, Oid>;
  /** Sent object id -> the client's object at the same path, for sent objects whose `bases` entry is not the client's. */
  client: Map<Oid, Oid>;
}

/** A pairing of two trees: [base tree, sent tree, whether the client has the base tree (then every object under it)]. */
export type TreePair = readonly [have: Oid, send: Oid, client: boolean];

/** Sent object id -> the object at the same path in the other tree, for each pair of trees (root trees paired too). */
export async function pairByPath(store: ObjectStore, roots: readonly TreePair[], maxTrees = MAX_PAIRING_TREES): Promise<ThinPairs> {
  const bases = new Map<Oid, Oid>();
  const client = new Map<Oid, Oid>();
  const clientFirst = new Set<Oid>(); // sent objects whose first base is the client's: no fallback needed
  // The first pairing of an object sets its base; a later one from the client's side, the fallback.
  const pair = (send: Oid, have: Oid, fromClient: boolean) => {
    if (!bases.has(send)) {
      bases.set(send, have);
      if (fromClient) clientFirst.add(send);
    } else if (fromClient && !clientFirst.has(send) && !client.has(send)) client.set(send, have);
  };
  // Each pair of trees once (many sent commits share a subtree; every one pairs with the client's root).
  const distinct = (pairs: readonly TreePair[]): TreePair[] => {
    const met = new Set<string>();
    return pairs.filter(([a, b, c]) => {
      const key = `${a}${b}${c ? 1 : 0}`;
      if (a === b || met.has(key)) return false;
      met.add(key);
      return true;
    });
  };
  // The entries of a base tree by name, made once per tree (the client's root pairs with every sent root).
  const byName = new Map<Oid, Map<string, TreeEntry>>();
  let level = distinct(roots);
  // The root trees pair too (a commit's tree with its parent's).
  for (const [a, b, c] of level) pair(b, a, c);
  let read = 0;
  while (level.length > 0 && read < maxTrees) {
    const met = new Set<Oid>();
    for (const [a, b] of level) met.add(a).add(b);
    const ids = [...met].slice(0, maxTrees - read);
    read += ids.length;
    const decoded = await store.decodeMany(ids);
    const trees = new Map<Oid, readonly TreeEntry[]>();
    ids.forEach((o, i) => {
      const d = decoded[i]!;
      if (d.type === 'tree') trees.set(o, d.entries);
    });
    const next: TreePair[] = [];
    for (const [a, b, fromClient] of level) {
      const have = trees.get(a);
      const send = trees.get(b);
      if (have === undefined || send === undefined) continue;
      let old = byName.get(a);
      if (old === undefined) byName.set(a, (old = new Map(have.map((e) => [e.name, e]))));
      for (const e of send) {
        const x = old.get(e.name);
        if (x === undefined || x.oid === e.oid || isGitlinkMode(x.mode) || isGitlinkMode(e.mode)) continue;
        const tree = isTreeMode(e.mode);
        if (tree !== isTreeMode(x.mode)) continue;
        pair(e.oid, x.oid, fromClient);
        if (tree) next.push([x.oid, e.oid, fromClient]);
      }
    }
    level = distinct(next);
  }
  return { bases, client };
}

/** Objects diffed against their pair are at most this large, and at least THIN_MIN_OBJECT. */
const THIN_MAX_OBJECT = 1 << 20;
const THIN_MIN_OBJECT = 64;
/** Bytes of bodies (targets and bases) one pack may diff in all. */
const THIN_MAX_TOTAL = 32 << 20;

/**
 * The thin-pack deltas of one pack's `targets`: each made against `first[i]` (the client's object
 * or another of the pack's) and, where that gives none worth sending or `accept` refuses it (a base
 * in the pack whose chain leads back to the target), against `fallback[i]` (the client's version,
 * ThinPairs.client) when there is one. `accept(i, entry)` takes a delta of `targets[i]` or refuses
 * it. Returns the indexes that took none (they go whole). Bounded by THIN_MAX_TOTAL for the pack.
 */
export async function thinDeltas(
  store: ObjectStore,
  targets: readonly Oid[],
  first: readonly Oid[],
  fallback: readonly (Oid | undefined)[],
  accept: (i: number, entry: Uint8Array) => boolean,
): Promise<number[]> {
  const budget = { bytes: THIN_MAX_TOTAL };
  const round = async (at: number[], bases: (i: number) => Oid): Promise<number[]> => {
    const made = await deltasAgainst(
      store,
      at.map((i) => targets[i]!),
      at.map(bases),
      budget,
    );
    return at.filter((i, k) => made[k] === undefined || !accept(i, made[k]!));
  };
  const failed = await round(
    targets.map((_, i) => i),
    (i) => first[i]!,
  );
  const again = failed.filter((i) => fallback[i] !== undefined);
  if (again.length === 0) return failed;
  const still = new Set(await round(again, (i) => fallback[i]!));
  return failed.filter((i) => fallback[i] === undefined || still.has(i));
}

/**
 * A ref-delta entry of each of `targets` against `bases[i]`, where the delta is under half the
 * object; undefined where not (or past the bounds above: that object simply goes whole). Bodies
 * are read resolved, in one `readMany`. `budget.bytes`: the bodies the pack may still diff.
 */
async function deltasAgainst(
  store: ObjectStore,
  targets: readonly Oid[],
  bases: readonly Oid[],
  budget: { bytes: number },
): Promise<(Uint8Array | undefined)[]> {
  const out: (Uint8Array | undefined)[] = new Array(targets.length);
  const infos = await store.info([...targets, ...bases]);
  const chosen: number[] = [];
  for (let i = 0; i < targets.length; i++) {
    const t = infos[i];
    const b = infos[targets.length + i];
    if (t === undefined || b === undefined || t.type !== b.type) continue;
    if (t.size < THIN_MIN_OBJECT || t.size > THIN_MAX_OBJECT || b.size > THIN_MAX_OBJECT) continue;
    if (budget.bytes < t.size + b.size) break;
    budget.bytes -= t.size + b.size;
    chosen.push(i);
  }
  if (chosen.length === 0) return out;
  const wanted = [...new Set(chosen.flatMap((i) => [targets[i]!, bases[i]!]))];
  const raws = await store.readMany(wanted);
  const bodies = new Map(wanted.map((o, j) => [o, raws[j]]));
  for (const i of chosen) {
    const target = bodies.get(targets[i]!);
    const from = bodies.get(bases[i]!);
    if (target === undefined || from === undefined) continue;
    const delta = createDelta(from.body, target.body, Math.ceil(target.body.length / 2) - 1);
    if (delta !== undefined) out[i] = encodeRefDelta(oidToBytes(bases[i]!), delta);
  }
  return out;
}
