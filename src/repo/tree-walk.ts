/**
 * Tree walks: what trees and blobs a set of root trees brings, breadth-first, in bounded
 * batches (at most `TREE_BATCH` trees decoded at a time, one batched read each), so a full
 * clone of a long history never holds whole levels of decoded trees; and `reachableObjects`,
 * everything reachable from some tips (commits through the commit graph, commit-graph.ts).
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { isGitlinkMode, isTreeMode } from '../object/tree.js';
import { commitGraph } from './commit-graph.js';
import type { WalkBudget } from '../protocol/walk-budget.js';
import { InvalidObjectError, NotFoundError } from '../errors.js';
import { idHex, OidSet } from './oid-set.js';

/** Trees decoded at a time. */
const TREE_BATCH = 2048;
/** Trees a walk decodes (and caches) before it scans raw bodies instead (RawTrees). */
const DECODED_TREES = 4096;

/**
 * Walks trees breadth-first from `roots` (depth 0), calling `visit` for every entry not in
 * `seen` with its depth; what `visit` accepts joins `seen` and, for a tree, the walk. Trees at
 * `maxTreeDepth` or deeper are not opened. With `forceRoots`, roots already seen are opened too.
 */
export async function walkTrees(
  store: ObjectStore,
  roots: readonly Oid[],
  seen: Set<Oid>,
  visit: (oid: Oid, mode: string, depth: number) => boolean,
  maxTreeDepth = Infinity,
  forceRoots = false,
  walk?: WalkBudget,
): Promise<void> {
  // A FIFO of trees to open with their depths: taken in batches, it gives the order a walk
  // level by level would, holding ids only.
  let queue: Oid[] = [];
  let depths: number[] = [];
  let head = 0;
  let opened = 0;
  let raw: RawTrees | undefined;
  for (const r of roots) if (forceRoots || !seen.has(r)) seen.add(r), queue.push(r), depths.push(0);
  while (head < queue.length && depths[head]! < maxTreeDepth) {
    let end = Math.min(queue.length, head + TREE_BATCH);
    while (end > head && depths[end - 1]! >= maxTreeDepth) end--;
    const batch = queue.slice(head, end);
    const batchDepths = depths.slice(head, end);
    head = end;
    if (head > 65_536 && head * 2 > queue.length) {
      queue = queue.slice(head);
      depths = depths.slice(head);
      head = 0;
    }
    walk?.tick();
    opened += batch.length;
    if (opened > DECODED_TREES) {
      // A long walk (a history): bodies scanned for ids, nothing decoded or cached (see RawTrees).
      raw ??= new RawTrees(seen);
      const bodies = await store.readMany(batch);
      bodies.forEach((b, i) => {
        if (b === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${batch[i]} not found`, { details: { oid: batch[i]! } });
        if (b.type !== 'tree') return;
        const depth = batchDepths[i]! + 1;
        raw!.scan(b.body, (oid, tree) => {
          if (!visit(oid, tree ? TREE_MODE : BLOB_MODE, depth)) return false;
          if (tree) queue.push(oid), depths.push(depth);
          return true;
        });
      });
      continue;
    }
    const decoded = await store.decodeMany(batch);
    decoded.forEach((d, i) => {
      if (d.type !== 'tree') return;
      const depth = batchDepths[i]! + 1;
      for (const e of d.entries) {
        if (isGitlinkMode(e.mode) || seen.has(e.oid)) continue;
        if (!visit(e.oid, e.mode, depth)) continue;
        seen.add(e.oid);
        if (isTreeMode(e.mode)) queue.push(e.oid), depths.push(depth);
      }
    });
  }
}

const TREE_MODE = '40000';
const BLOB_MODE = '100644';

/**
 * Tree bodies scanned for their entries' ids without decoding them (no names, no entry
 * objects, nothing put in the decoded-object cache, which a walk of a whole history would only
 * churn). Ids already met in this walk are recognized as raw bytes, so a hex id is made only for
 * an entry not seen before; `seen` stays the walk's one record of what was met.
 */
class RawTrees {
  readonly #seen: Set<Oid>;
  readonly #met = new OidSet();

  constructor(seen: Set<Oid>) {
    this.#seen = seen;
  }

  /** Calls `visit` for every entry (not a gitlink) not met before; what it accepts is met. */
  scan(body: Uint8Array, visit: (oid: Oid, tree: boolean) => boolean): void {
    const n = body.length;
    let i = 0;
    while (i < n) {
      const start = i;
      // Byte loops rather than indexOf: modes and names are a few bytes, shorter than a call.
      let sp = start;
      while (sp < n && body[sp] !== 0x20) sp++;
      let nul = sp + 1;
      while (nul < n && body[nul] !== 0) nul++;
      if (nul + 21 > n) throw new InvalidObjectError('truncated tree entry');
      const at = nul + 1;
      i = at + 20;
      // Modes were checked when the tree was stored: "40000" (or "040000") is a tree, "160000" a gitlink.
      const len = sp - start;
      const c0 = body[start]!;
      if (len === 6 && c0 === 0x31 && body[start + 1] === 0x36) continue;
      if (this.#met.has(body, at)) continue;
      const oid = idHex(body, at);
      if (this.#seen.has(oid)) {
        this.#met.add(body, at);
        continue;
      }
      const tree = (len === 5 && c0 === 0x34) || (len === 6 && c0 === 0x30 && body[start + 1] === 0x34);
      if (!visit(oid, tree)) continue;
      this.#met.add(body, at);
      this.#seen.add(oid);
    }
  }
}

/**
 * Every object reachable from `tips` (commits, tags, trees, blobs), commits a generation at a
 * time through the commit graph, each subtree walked once. With `until`, the trees of each
 * generation are walked before the next (newest first) and it stops early, returning
 * `complete: false`, when `until` says so after a generation or more than `budget` objects
 * were reached; without it, the trees of many generations are walked together.
 */
export async function reachableObjects(
  store: ObjectStore,
  tips: Iterable<Oid>,
  options: { until?: (reached: ReadonlySet<Oid>) => boolean; budget?: number; walk?: WalkBudget | undefined } = {},
): Promise<{ reached: Set<Oid>; complete: boolean }> {
  const graph = commitGraph(store);
  const read = graph.reader();
  const reached = new Set<Oid>();
  const budget = options.budget ?? Infinity;
  let frontier = [...new Set(tips)];
  let roots: Oid[] = [];
  while (frontier.length > 0) {
    frontier = [...new Set(frontier.filter((o) => !reached.has(o)))];
    options.walk?.commits(frontier.length);
    const records = await read(frontier, { skipMissing: true });
    const others = frontier.filter((_, i) => records[i] === undefined);
    const infos = await store.info(others);
    const next: Oid[] = [];
    frontier.forEach((o, i) => {
      const r = records[i];
      if (r === undefined) return;
      reached.add(o);
      roots.push(r.tree);
      next.push(...r.parents);
    });
    const tags: Oid[] = [];
    others.forEach((o, i) => {
      const type = infos[i]?.type;
      if (type === 'tree') roots.push(o);
      else if (type !== undefined) {
        reached.add(o);
        if (type === 'tag') tags.push(o);
      }
    });
    for (const d of await store.decodeMany(tags)) if (d.type === 'tag') next.push(d.tag.object);
    if (options.until !== undefined || roots.length >= TREE_BATCH || next.length === 0 || reached.size > budget) {
      await walkTrees(store, roots, reached, () => true, Infinity, false, options.walk);
      roots = [];
      if (options.until?.(reached) || reached.size > budget) return { reached, complete: false };
    }
    frontier = next;
  }
  return { reached, complete: true };
}
