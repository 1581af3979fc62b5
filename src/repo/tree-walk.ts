/**
 * Tree walks: what trees and blobs a set of root trees brings, breadth-first, in bounded
 * batches (at most `TREE_BATCH` trees decoded at a time, one batched read each), so a full
 * clone of a long history never holds whole levels of decoded trees; and `reachableObjects`,
 * everything reachable from some tips (commits through the commit graph, commit-graph.ts).
 */
import { type Oid, oidFromBytes } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { ENTRY_GITLINK, ENTRY_TREE, isGitlinkMode, isTreeMode, rawEntryKind } from '../object/tree.js';
import { isChunked } from '../object/chunked.js';
import { corrupt, type RawObject } from '../object/delta-chain.js';
import { type StoredDelta, decodePacked, decodeStoredDelta, packedInfo, refDeltaData } from '../object/packed.js';
import { ShapeRing, type ShapeEntry, bodyOf, deltaShape, wholeShape } from './tree-shapes.js';
import { commitGraph } from './commit-graph.js';
import type { WalkBudget } from '../protocol/walk-budget.js';
import { NotFoundError } from '../errors.js';
import { OidSet } from './oid-set.js';

/** Trees decoded at a time. */
const TREE_BATCH = 2048;
/** Trees a walk decodes (and caches) before it scans raw bodies instead (RawTrees); a walk that already holds more waiting scans them from its start. */
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
    // Known to be long once more trees are opened or waiting than are decoded (a full clone: every commit's root).
    if (opened + queue.length - head > DECODED_TREES) {
      // A long walk (a history): bodies scanned for ids, nothing decoded or cached (see RawTrees).
      // An id met by this raw scan is never looked up in `seen` again; a hex id is made only for one it has not met.
      raw ??= new RawTrees();
      await raw.scanBatch(store, batch, (i) => {
        const depth = batchDepths[i]! + 1;
        return (body, at, tree) => {
          const oid = oidFromBytes(body, at);
          if (seen.has(oid)) return true;
          if (!visit(oid, tree ? TREE_MODE : BLOB_MODE, depth)) return false;
          seen.add(oid);
          if (tree) queue.push(oid), depths.push(depth);
          return true;
        };
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

/** What a raw scan calls for an entry not met before (its id at `body[at..at+20)`): true when it accepts it (it is then met). */
export type RawVisit = (body: Uint8Array, at: number, tree: boolean) => boolean;

/** Tree shapes a walk keeps for the trees stored as deltas of them (RawTrees), by count and by the bytes they hold. */
const SHAPES = 2 * TREE_BATCH;
const SHAPE_BYTES = 64 * 1024 * 1024;

/**
 * Tree bodies scanned for their entries' ids without decoding them (no names, no entry
 * objects, nothing put in the decoded-object cache, which a walk of a whole history would only
 * churn). What was met is one set of raw ids (`met`), so an entry met before costs a lookup of
 * its bytes and no call. A tree stored as a delta of a tree this walk met lately is read from
 * the delta alone (tree-shapes.ts): the entries it copies whole from a base whose every entry
 * was met are met already, with no lookup, and no body is built. Its users: walkTrees (plans,
 * with a set of its own) and the sweep's mark (sweep-mark.ts, `met` its set of marked objects).
 */
export class RawTrees {
  readonly #met: OidSet;
  readonly #shapes = new ShapeRing(SHAPES, SHAPE_BYTES);
  readonly #unresolved: ((oid: Oid) => void) | undefined;

  /**
   * `met`: the raw ids met so far (an entry in it is not visited; what a visit accepts is
   * added). `unresolved`: given, a tree stored as a delta that the store cannot rebuild (its
   * base is gone) is handed to it instead of failing the walk.
   */
  constructor(met: OidSet = new OidSet(), unresolved?: (oid: Oid) => void) {
    this.#met = met;
    this.#unresolved = unresolved;
  }

  /**
   * Scans the trees of `batch` in order, `visitOf(i)` the visit of batch[i]'s entries (see
   * `scan`); an id that is not a tree is passed over. Stored forms are read in one batch; the
   * store resolves only the trees not stored whole whose delta base this walk does not hold.
   */
  async scanBatch(store: ObjectStore, batch: readonly Oid[], visitOf: (i: number) => RawVisit): Promise<void> {
    // A tree kept both ways (a tip's, materialized) is read from its delta when its base is held: no inflate of the whole.
    const forms = await store.deltaFirstForms(batch);
    const deltas: (StoredDelta | undefined)[] = new Array(batch.length);
    const resolve: number[] = [];
    // Ids met earlier in this batch: their shapes will be held when a later tree needs them.
    const earlier = new Set<Oid>();
    for (let i = 0; i < batch.length; i++) {
      const f = forms[i];
      const oid = batch[i]!;
      if (f === undefined) throw notFound(oid);
      if (f.whole !== undefined) {
        if (isChunked(f.whole)) resolve.push(i);
      } else {
        const d = decodeStoredDelta(f.delta!);
        deltas[i] = d;
        if (d.type === undefined || (d.type === 'tree' && !this.#shapes.has(d.base) && !earlier.has(d.base as Oid))) resolve.push(i);
      }
      earlier.add(oid);
    }
    const resolved: (RawObject | undefined)[] = new Array(batch.length);
    if (resolve.length > 0) {
      const bodies = await store.readMany(
        resolve.map((i) => batch[i]!),
        { bases: this.#base },
      );
      resolve.forEach((i, j) => (resolved[i] = bodies[j] ?? (this.#unresolved !== undefined && deltas[i] !== undefined ? UNRESOLVED : MISSING)));
    }
    // Trees whose base left the ring while this batch was scanned: resolved together, then scanned.
    const late: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      let tree = resolved[i];
      if (tree === undefined) {
        const d = deltas[i];
        if (d === undefined) {
          const whole = forms[i]!.whole!;
          if (packedInfo(whole).type !== 'tree') continue;
          tree = decodePacked(whole);
        } else {
          if (d.type !== 'tree' || this.#scanDelta(batch[i]!, d, visitOf(i))) continue;
          late.push(i);
          continue;
        }
      }
      this.#scanResolved(batch[i]!, tree, visitOf(i));
    }
    if (late.length === 0) return;
    const bodies = await store.readMany(
      late.map((i) => batch[i]!),
      { bases: this.#base },
    );
    late.forEach((i, j) => this.#scanResolved(batch[i]!, bodies[j] ?? (this.#unresolved !== undefined ? UNRESOLVED : MISSING), visitOf(i)));
  }

  /** Scans a tree read from the store (MISSING: not found; UNRESOLVED: handed to `unresolved`). */
  #scanResolved(oid: Oid, tree: RawObject, visit: RawVisit): void {
    if (tree === MISSING) throw notFound(oid);
    if (tree === UNRESOLVED) this.#unresolved!(oid);
    else if (tree.type === 'tree') this.scan(oid, tree.body, visit);
  }

  /** A tree this walk holds, as a delta base for the store's resolution (a chain stops at the first one held). */
  readonly #base = (oid: Oid): RawObject | undefined => {
    const shape = this.#shapes.get(oid);
    return shape && { type: 'tree', body: bodyOf(shape) };
  };

  /** Calls `visit` for every entry (not a gitlink) of tree `oid` not met before; what it accepts is met. */
  scan(oid: Oid, body: Uint8Array, visit: RawVisit): void {
    this.#shapes.keep(oid, wholeShape(body, this.#entryFor(visit)));
  }

  /** `scan` of a tree stored as delta `d`, read beside its base's shape: false when the base is not held. */
  #scanDelta(oid: Oid, d: StoredDelta, visit: RawVisit): boolean {
    const base = this.#shapes.get(d.base);
    if (base === undefined) return false;
    const shape = deltaShape(base, refDeltaData(d.entry), this.#entryFor(visit));
    if (d.size !== undefined && d.size !== shape.size) throw corrupt(oid, 'its size does not match its delta');
    this.#shapes.keep(oid, shape);
    return true;
  }

  #entryFor(visit: RawVisit): ShapeEntry {
    return (buf, start, sp, at) => this.#entry(buf, start, sp, at, visit);
  }

  /** One entry (mode at body[start..sp), id at `at`): false when it stays unmet (`visit` declined it). */
  #entry(body: Uint8Array, start: number, sp: number, at: number, visit: RawVisit): boolean {
    // Modes were checked when the tree was stored: "40000" (or "040000") is a tree, "160000" a gitlink.
    const kind = rawEntryKind(body, start, sp);
    if (kind === ENTRY_GITLINK) return true;
    if (this.#met.has(body, at)) return true;
    if (!visit(body, at, kind === ENTRY_TREE)) return false;
    this.#met.add(body, at);
    return true;
  }
}

/** Stands for an id the store does not hold, among resolved bodies. */
const MISSING: RawObject = { type: 'blob', body: new Uint8Array(0) };
/** Stands for a tree stored as a delta the store could not rebuild (RawTrees `unresolved`). */
const UNRESOLVED: RawObject = { type: 'blob', body: new Uint8Array(0) };

function notFound(oid: Oid): NotFoundError {
  return new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
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
