/**
 * Tree walks: what trees and blobs a set of root trees brings, breadth-first, in bounded
 * batches (at most `TREE_BATCH` trees decoded at a time, one batched read each), so a full
 * clone of a long history never holds whole levels of decoded trees; and `reachableObjects`,
 * everything reachable from some tips (commits through the commit graph, commit-graph.ts).
 */
import { type Oid, oidFromBytes } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { ENTRY_GITLINK, ENTRY_TREE, isGitlinkMode, isTreeMode, rawEntryKind, scanBeside } from '../object/tree.js';
import { commitGraph } from './commit-graph.js';
import type { WalkBudget } from '../protocol/walk-budget.js';
import { NotFoundError } from '../errors.js';
import { OidSet } from './oid-set.js';

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
        raw!.scan(batch[i]!, b, (oid, tree) => {
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

/** Bodies of fully met trees a walk keeps for comparing their delta children (ReferenceTrees), by count and by bytes. */
const REFERENCE_TREES = 2 * TREE_BATCH;
const REFERENCE_BYTES = 16 * 1024 * 1024;

/**
 * The bodies of the trees a walk scanned most recently whose every entry it has met, kept a
 * while (a ring bounded by count and bytes) so a tree rebuilt from a delta of one of them is
 * scanned beside its base (object/tree.ts scanBeside): in a history walked newest first, the
 * base of a tree (the newer version of the directory) was usually scanned just before.
 */
export class ReferenceTrees {
  readonly #bodies = new Map<Oid, Uint8Array>();
  /** Their ids in the order kept, a ring (evicting through the Map's own order costs an iterator each time). */
  readonly #kept: (Oid | undefined)[] = new Array<Oid | undefined>(REFERENCE_TREES);
  #next = 0;
  #bytes = 0;

  /** The body of `base` when it is kept. */
  get(base: Oid | undefined): Uint8Array | undefined {
    return base === undefined ? undefined : this.#bodies.get(base);
  }

  /** Keeps the body of a tree whose every entry is met, evicting the oldest beyond the bounds. */
  keep(oid: Oid, body: Uint8Array): void {
    const bodies = this.#bodies;
    if (body.length > REFERENCE_BYTES || bodies.has(oid)) return;
    const kept = this.#kept;
    // The slot taken is the oldest's; more go while the bytes are over.
    for (let k = 0; k < REFERENCE_TREES && (kept[this.#next] !== undefined || this.#bytes + body.length > REFERENCE_BYTES); k++) {
      const old = kept[this.#next];
      if (old !== undefined) {
        this.#bytes -= bodies.get(old)!.length;
        bodies.delete(old);
        kept[this.#next] = undefined;
      }
      if (this.#bytes + body.length <= REFERENCE_BYTES) break;
      this.#next = (this.#next + 1) % REFERENCE_TREES;
    }
    kept[this.#next] = oid;
    this.#next = (this.#next + 1) % REFERENCE_TREES;
    bodies.set(oid, body);
    this.#bytes += body.length;
  }
}

/**
 * Tree bodies scanned for their entries' ids without decoding them (no names, no entry
 * objects, nothing put in the decoded-object cache, which a walk of a whole history would only
 * churn). Ids already met in this walk are recognized as raw bytes, so a hex id is made only for
 * an entry not seen before; `seen` stays the walk's one record of what was met. A tree rebuilt
 * from a delta whose base the walk met fully is scanned beside that base (object/tree.ts
 * scanBeside): the entries they share are met already, with no lookup. Exported for its tests;
 * walkTrees is its one user.
 */
export class RawTrees {
  readonly #seen: Set<Oid>;
  readonly #met = new OidSet();
  readonly #reference = new ReferenceTrees();

  constructor(seen: Set<Oid>) {
    this.#seen = seen;
  }

  /** Calls `visit` for every entry (not a gitlink) of tree `oid` not met before; what it accepts is met. */
  scan(oid: Oid, tree: { body: Uint8Array; base?: Oid }, visit: (oid: Oid, tree: boolean) => boolean): void {
    const body = tree.body;
    let complete = true;
    scanBeside(body, this.#reference.get(tree.base), (start, sp, at) => {
      if (!this.#entry(body, start, sp, at, visit)) complete = false;
    });
    if (complete) this.#reference.keep(oid, body);
  }

  /** One entry (mode at body[start..sp), id at `at`): false when it stays unmet (`visit` declined it). */
  #entry(body: Uint8Array, start: number, sp: number, at: number, visit: (oid: Oid, tree: boolean) => boolean): boolean {
    // Modes were checked when the tree was stored: "40000" (or "040000") is a tree, "160000" a gitlink.
    const kind = rawEntryKind(body, start, sp);
    if (kind === ENTRY_GITLINK) return true;
    if (this.#met.has(body, at)) return true;
    const oid = oidFromBytes(body, at);
    if (this.#seen.has(oid)) {
      this.#met.add(body, at);
      return true;
    }
    if (!visit(oid, kind === ENTRY_TREE)) return false;
    this.#met.add(body, at);
    this.#seen.add(oid);
    return true;
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
