/**
 * Delta bases for a thin pack, found by path: between a tree the client has (an edge commit's)
 * and a tree the pack sends (a wanted commit's), every entry that changed id under the same
 * name, both trees or both blobs, pairs the new object with the client's version of it
 * (`pairByPath`); between two trees the pack sends (a commit's and its parent's), the older
 * version with the newer one. Pack writing (pack-out.ts) sends such an object that would go
 * whole as a delta against its pair instead (`deltasAgainst`), when that is much smaller: what
 * git's pack-objects does with the trees at the client's edge. In a pushed
 * history the newest version of a file is usually the one stored whole (older ones are deltas
 * of it), so without this a fetch of a few commits sends every changed file whole.
 *
 * Pairing opens only changed subtrees, level by level (one batched read per level), at most
 * `maxTrees` trees in all; what is left past that is simply not paired. Making the deltas
 * (`deltasAgainst`) is bounded too: objects of 64 bytes to 1 MiB, 32 MiB of bodies per pack.
 */
import { type Oid, oidToBytes } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { encodeRefDelta } from '../object/packed.js';
import { type TreeEntry, isGitlinkMode, isTreeMode } from '../object/tree.js';
import { createDelta } from '../pack/delta.js';

/** Default bound on the trees one pairing reads. */
export const MAX_PAIRING_TREES = 4096;

/** Sent object id -> the object at the same path in the other tree, for each [base tree, sent tree] (root trees paired too). */
export async function pairByPath(
  store: ObjectStore,
  roots: readonly (readonly [have: Oid, send: Oid])[],
  maxTrees = MAX_PAIRING_TREES,
): Promise<Map<Oid, Oid>> {
  const out = new Map<Oid, Oid>();
  let level = roots.filter(([a, b]) => a !== b);
  // The root trees pair too (a commit's tree with its parent's).
  for (const [a, b] of level) if (!out.has(b)) out.set(b, a);
  let read = 0;
  while (level.length > 0 && read < maxTrees) {
    const ids = [...new Set(level.flat())].slice(0, maxTrees - read);
    read += ids.length;
    const decoded = await store.decodeMany(ids);
    const trees = new Map<Oid, readonly TreeEntry[]>();
    ids.forEach((o, i) => {
      const d = decoded[i]!;
      if (d.type === 'tree') trees.set(o, d.entries);
    });
    const next: [Oid, Oid][] = [];
    for (const [a, b] of level) {
      const have = trees.get(a);
      const send = trees.get(b);
      if (have === undefined || send === undefined) continue;
      const old = new Map(have.map((e) => [e.name, e]));
      for (const e of send) {
        const x = old.get(e.name);
        if (x === undefined || x.oid === e.oid || isGitlinkMode(x.mode) || isGitlinkMode(e.mode)) continue;
        const tree = isTreeMode(e.mode);
        if (tree !== isTreeMode(x.mode)) continue;
        if (!out.has(e.oid)) out.set(e.oid, x.oid);
        if (tree) next.push([x.oid, e.oid]);
      }
    }
    level = next;
  }
  return out;
}

/** Objects diffed against their pair are at most this large, and at least THIN_MIN_OBJECT. */
const THIN_MAX_OBJECT = 1 << 20;
const THIN_MIN_OBJECT = 64;
/** Bytes of bodies (targets and bases) one pack may diff in all. */
const THIN_MAX_TOTAL = 32 << 20;

/**
 * A ref-delta entry of each of `targets` against `bases[i]` (the client's object or another of
 * the pack's), where the delta is under half the object; undefined where not (or past the bounds above: that object simply
 * goes whole). Bodies are read resolved, in one `readMany`.
 */
export async function deltasAgainst(store: ObjectStore, targets: readonly Oid[], bases: readonly Oid[]): Promise<(Uint8Array | undefined)[]> {
  const out: (Uint8Array | undefined)[] = new Array(targets.length);
  const infos = await store.info([...targets, ...bases]);
  const chosen: number[] = [];
  let budget = THIN_MAX_TOTAL;
  for (let i = 0; i < targets.length; i++) {
    const t = infos[i];
    const b = infos[targets.length + i];
    if (t === undefined || b === undefined || t.type !== b.type) continue;
    if (t.size < THIN_MIN_OBJECT || t.size > THIN_MAX_OBJECT || b.size > THIN_MAX_OBJECT) continue;
    budget -= t.size + b.size;
    if (budget < 0) break;
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
