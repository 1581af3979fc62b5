/**
 * Tree walks: what trees and blobs a set of root trees brings, breadth-first, in bounded
 * batches (at most `TREE_BATCH` trees decoded at a time, one batched read each), so a full
 * clone of a long history never holds whole levels of decoded trees; and `reachableObjects`,
 * everything reachable from some tips (commits through the commit graph, commit-graph.ts).
 */
import { type Oid, oidFromBytes, writeOid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { ENTRY_GITLINK, ENTRY_TREE, isGitlinkMode, isTreeMode, rawEntryKind } from '../object/tree.js';
import { isChunked } from '../object/chunked.js';
import { corrupt, type RawObject } from '../object/delta-chain.js';
import { type StoredDelta, decodePacked, decodeStoredDelta, packedInfo, refDeltaData } from '../object/packed.js';
import { ShapeRing, type ShapeEntry, type TreeShape, bodyOf, deltaShape, wholeShape } from './tree-shapes.js';
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
  // level by level would, holding ids only. Only trees to open are queued (depth under
  // maxTreeDepth): a long walk's trees that wait for their delta base (RawTrees) bring theirs
  // later, so the depths in the queue are not always in order.
  let queue: Oid[] = [];
  let depths: number[] = [];
  let head = 0;
  let opened = 0;
  let raw: RawTrees | undefined;
  for (const r of roots) {
    if (!forceRoots && seen.has(r)) continue;
    seen.add(r);
    if (maxTreeDepth > 0) queue.push(r), depths.push(0);
  }
  for (;;) {
    if (head === queue.length) {
      // The trees still waiting for a base the walk did not scan, then what they bring.
      if (raw === undefined || !raw.waiting) break;
      walk?.tick();
      await raw.flush(store);
      continue;
    }
    const end = Math.min(queue.length, head + TREE_BATCH);
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
          if (tree && depth < maxTreeDepth) queue.push(oid), depths.push(depth);
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
        if (isTreeMode(e.mode) && depth < maxTreeDepth) queue.push(e.oid), depths.push(depth);
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
/** Bytes of stored deltas a walk holds for trees waiting for their base (RawTrees); past it a tree is resolved at once. */
const WAITING_BYTES = 32 * 1024 * 1024;

/** A tree stored as a delta of a tree the walk has not scanned yet: scanned from its delta once the base is. */
interface Waiter {
  oid: Oid;
  delta: StoredDelta;
  visit: RawVisit;
  bytes: number;
}

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
  /** Trees this walk scanned: a base among them that left the ring does not come back, so no tree waits for it. */
  readonly #scanned = new OidSet();
  readonly #id = new Uint8Array(20);
  /** Trees waiting for their base, by base; and the ids of every waiting tree. */
  readonly #waiting = new Map<Oid, Waiter[]>();
  readonly #pending = new Set<Oid>();
  #waitingBytes = 0;
  /** Bases scanned that trees wait for. */
  readonly #ready: Oid[] = [];

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
   * A tree stored as a delta of a tree this walk has not scanned yet (a history's trees are
   * often deltas of older versions, which a walk from the tips meets later) waits for it, its
   * delta held (up to `WAITING_BYTES`), and is scanned from the delta right after its base:
   * its entries are visited then, not now. `flush` scans the trees still waiting.
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
        if (d.type === 'tree' && !this.#shapes.has(d.base) && !earlier.has(d.base as Oid)) {
          if (this.#wait(oid, d, f.delta!.byteLength, visitOf, i)) deltas[i] = undefined;
          else resolve.push(i);
        } else if (d.type === undefined) resolve.push(i);
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
    // Trees whose base left the ring while this batch was scanned (or before): resolved together, then scanned.
    const late: Waiter[] = [];
    for (let i = 0; i < batch.length; i++) {
      let tree = resolved[i];
      if (tree === undefined) {
        const d = deltas[i];
        if (d === undefined) {
          const whole = forms[i]!.whole;
          if (whole === undefined || packedInfo(whole).type !== 'tree') continue; // waiting, or not a tree
          tree = decodePacked(whole);
        } else {
          if (d.type !== 'tree' || this.#scanDelta(batch[i]!, d, visitOf(i))) continue;
          // Its base, earlier in this batch, waits itself: so does it.
          if (this.#pending.has(d.base as Oid) && this.#wait(batch[i]!, d, forms[i]!.delta!.byteLength, visitOf, i)) continue;
          late.push({ oid: batch[i]!, delta: d, visit: visitOf(i), bytes: 0 });
          continue;
        }
      }
      this.#scanResolved(batch[i]!, tree, visitOf(i));
    }
    this.#release(late);
    await this.#resolveLate(store, late);
  }

  /** Trees waiting for a base this walk has not scanned: false when there are none. */
  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Scans a batch of the trees still waiting (their bases were not met by the walk, or left
   * the ring before they could be used), resolved by the store. A walk calls it while `waiting`
   * once its queue is empty, going on with what they bring between calls.
   */
  async flush(store: ObjectStore): Promise<void> {
    const late: Waiter[] = [];
    for (const [base, waiters] of this.#waiting) {
      this.#waiting.delete(base);
      for (const w of waiters) this.#pending.delete(w.oid), (this.#waitingBytes -= w.bytes), late.push(w);
      if (late.length >= TREE_BATCH) break;
    }
    await this.#resolveLate(store, late);
  }

  /** Holds tree `oid` (stored as delta `d` of a tree not scanned yet) until its base is scanned: false when it must be resolved now. */
  #wait(oid: Oid, d: StoredDelta, bytes: number, visitOf: (i: number) => RawVisit, i: number): boolean {
    const base = d.base as Oid;
    if (this.#waitingBytes + bytes > WAITING_BYTES) return false;
    writeOid(base, this.#id, 0);
    if (this.#scanned.has(this.#id)) return false;
    const waiter: Waiter = { oid, delta: d, visit: visitOf(i), bytes };
    const list = this.#waiting.get(base);
    if (list === undefined) this.#waiting.set(base, [waiter]);
    else list.push(waiter);
    this.#pending.add(oid);
    this.#waitingBytes += bytes;
    return true;
  }

  /** Scans the trees waiting for the bases scanned lately (and, in turn, for those): what cannot be read from its delta goes to `late`. */
  #release(late: Waiter[]): void {
    const ready = this.#ready;
    while (ready.length > 0) {
      const base = ready.pop()!;
      const waiters = this.#waiting.get(base);
      if (waiters === undefined) continue;
      this.#waiting.delete(base);
      for (const w of waiters) {
        this.#pending.delete(w.oid);
        this.#waitingBytes -= w.bytes;
        if (!this.#scanDelta(w.oid, w.delta, w.visit)) late.push(w);
      }
    }
  }

  /** Trees resolved by the store, then scanned (and what waited for them). */
  async #resolveLate(store: ObjectStore, late: Waiter[]): Promise<void> {
    while (late.length > 0) {
      const bodies = await store.readMany(
        late.map((w) => w.oid),
        { bases: this.#base },
      );
      const done = late.splice(0);
      done.forEach((w, j) => this.#scanResolved(w.oid, bodies[j] ?? (this.#unresolved !== undefined ? UNRESOLVED : MISSING), w.visit));
      this.#release(late);
    }
  }

  /** Keeps the shape of a scanned tree; the trees that waited for it are ready. */
  #keep(oid: Oid, shape: TreeShape): void {
    this.#shapes.keep(oid, shape);
    writeOid(oid, this.#id, 0);
    this.#scanned.add(this.#id);
    if (this.#waiting.has(oid)) this.#ready.push(oid);
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
    this.#keep(oid, wholeShape(body, this.#entryFor(visit)));
  }

  /** `scan` of a tree stored as delta `d`, read beside its base's shape: false when the base is not held. */
  #scanDelta(oid: Oid, d: StoredDelta, visit: RawVisit): boolean {
    const base = this.#shapes.get(d.base);
    if (base === undefined) return false;
    const shape = deltaShape(base, refDeltaData(d.entry), this.#entryFor(visit));
    if (d.size !== undefined && d.size !== shape.size) throw corrupt(oid, 'its size does not match its delta');
    this.#keep(oid, shape);
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
