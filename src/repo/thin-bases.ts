/**
 * Delta bases for a thin pack, found by path: between a tree the client has (an edge commit's)
 * and a tree the pack sends (a wanted commit's), every entry that changed id under the same
 * name, both trees or both blobs, pairs the new object with the client's version of it. Pack
 * writing (pack-out.ts) sends such an object that would go whole as a delta against the
 * client's version instead, when that is much smaller: what git's pack-objects does with the
 * trees at the client's edge. In a pushed history the newest version of a file is usually the
 * one stored whole (older ones are deltas of it), so without this a fetch of a few commits
 * sends every changed file whole.
 *
 * Only changed subtrees are opened, level by level (one batched read per level), at most
 * `maxTrees` trees in all; what is left past that is simply not paired.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { type TreeEntry, isGitlinkMode, isTreeMode } from '../object/tree.js';

/** Default bound on the trees one pairing reads. */
export const MAX_PAIRING_TREES = 4096;

/** New object id -> the client's object at the same path, for each [client tree, sent tree]. */
export async function pairByPath(
  store: ObjectStore,
  roots: readonly (readonly [have: Oid, send: Oid])[],
  maxTrees = MAX_PAIRING_TREES,
): Promise<Map<Oid, Oid>> {
  const out = new Map<Oid, Oid>();
  let level = roots.filter(([a, b]) => a !== b);
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
