/**
 * The sweep's mark phase: every object reachable from a set of tips, as raw ids in a compact
 * set (oid-set.ts), read in batches straight from the stored entries (commit, tag and tree
 * bodies are scanned for ids, nothing else is decoded or cached), so memory stays bounded by
 * the object count; trees are read in large batches in the order met by the raw scan a full
 * clone's walk uses (tree-walk.ts RawTrees: a tree stored as a delta of one met lately is read
 * from its delta alone, no body rebuilt), marking into the same set. Kept deltas are not
 * references: a live object stored as a delta of a dead one is stored whole by the sweep
 * (`scanDeltaLinks` lists them; sweep-orphans.ts), so what only old versions needed can go.
 * Only where that cannot be done (a pack being sent holds the object, objects written while
 * the sweep ran) is the base of a kept delta kept live too (`keepDeltaBases`, `followDeltas`:
 * transitively, with everything it reaches). A sweep may start from ids known marked with all
 * they reach (`premark`, a mark record: sweep-record.ts) and list what a walk adds (`journal`).
 * The loop yields to the event loop every few milliseconds and
 * stops at the first check after its AbortSignal fires.
 */
import { NotFoundError } from '../errors.js';
import type { ObjectStore } from '../object/object-store.js';
import { type Oid, oidFromBytes, oidToBytes } from '../object/oid.js';
import { hexInto } from '../platform/bytes.js';
import { OidList, OidQueue, OidSet } from './oid-set.js';
import { deltaEntryOf, refDeltaBaseAt } from '../object/packed.js';
import { RawTrees, type RawVisit } from './tree-walk.js';
import { Slicer } from '../platform/turns.js';

/** Objects read per database round trip. */
const BATCH = 256;
/** Trees read per round trip: a history's trees are read in commit order in batches this large (see `#drain`). */
const TREE_BATCH = 512;
/** Longest stretch of work between two yields to the event loop, in milliseconds. */
const SLICE_MS = 15;

/** Gives the event loop a turn every SLICE_MS, and throws once `signal` has fired. */
export class Pacer {
  readonly #signal: AbortSignal | undefined;
  readonly #slices = new Slicer(SLICE_MS);

  constructor(signal?: AbortSignal) {
    this.#signal = signal;
  }

  /** Throws the abort reason when aborted. */
  check(): void {
    if (this.#signal?.aborted) throw this.#signal.reason instanceof Error ? this.#signal.reason : new Error('sweep aborted');
  }

  /** Yields when the current slice is used up, then checks for abort. */
  async tick(): Promise<void> {
    if (this.#slices.due()) await this.#slices.pause();
    this.check();
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Writes the 20 bytes spelled by 40 hex characters of `body` at `pos` into `out`; false if not hex. */
function hexIdAt(body: Uint8Array, pos: number, out: Uint8Array): boolean {
  if (pos + 40 > body.length) return false;
  for (let i = 0; i < 20; i++) {
    const hi = nibble(body[pos + 2 * i]!);
    const lo = nibble(body[pos + 2 * i + 1]!);
    if (hi < 0 || lo < 0) return false;
    out[i] = (hi << 4) | lo;
  }
  return true;
}

function startsWith(body: Uint8Array, pos: number, word: string): boolean {
  if (pos + word.length > body.length) return false;
  for (let i = 0; i < word.length; i++) if (body[pos + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** Marks reachable objects into `marked`; see the module comment. */
export class Marker {
  /** Every object marked live so far. */
  readonly marked = new OidSet();
  readonly #objects: ObjectStore;
  readonly #pacer: Pacer;
  /** Marked objects whose body must still be read (commits, tags, tips of unknown type). */
  readonly #toRead = new OidList();
  /** Marked trees whose body must still be read, in the order met. */
  readonly #trees = new OidQueue();
  /**
   * The trees' scan, marking into `marked`. A tree kept only as a delta the store cannot
   * rebuild alone is passed over: its base is kept by the delta follow-up (`followDeltas`,
   * `scanDeltaLinks`), as any marked delta's.
   */
  readonly #treeScan = new RawTrees(this.marked, () => void (this.#incomplete = true));
  /** An entry of a scanned tree not marked before (RawTrees marks it once this returns true). */
  readonly #entry: RawVisit = (body, at, tree) => {
    this.#fresh?.push(body, at);
    this.#journal?.[tree ? 1 : 2].push(body, at);
    if (tree) this.#trees.push(body, at);
    return true;
  };
  /** Objects marked since the last delta follow-up (their kept deltas' bases are live too). */
  #fresh: OidList | undefined;
  /** Objects marked while a journal is kept (`journal`): commits, tags and tips; trees; blobs. */
  #journal: [OidList, OidList, OidList] | undefined;
  /** Set when a tip was missing or a tree could not be read: what was marked is not all the tips reach. */
  #incomplete = false;
  /** Tips: a missing tip is skipped (a ref to nothing), a missing object below one is an error. */
  readonly #tips = new Set<Oid>();
  readonly #id = new Uint8Array(20);
  /** Object bodies read (for tests and measurements). */
  reads = 0;

  constructor(objects: ObjectStore, pacer: Pacer) {
    this.#objects = objects;
    this.#pacer = pacer;
  }

  /** From now on, records newly marked objects so `followDeltas` can keep their bases. */
  recordFresh(): void {
    this.#fresh ??= new OidList();
  }

  /**
   * From now on, until `endJournal`, lists every newly marked id in the lists returned (so what
   * a set of tips brought can be stored: sweep-record.ts): commits, tags and tips; trees; blobs,
   * each in the order marked (a full clone's planner sends them in that order, walk.ts).
   */
  journal(): readonly [OidList, OidList, OidList] {
    this.#journal = [new OidList(), new OidList(), new OidList()];
    this.#incomplete = false;
    return this.#journal;
  }

  /** Stops the journal; false when what it listed may miss objects (a tip was missing, or a tree could not be read). */
  endJournal(): boolean {
    this.#journal = undefined;
    return !this.#incomplete;
  }

  /**
   * Takes the raw ids of `ids` (20 bytes each) as marked, without reading them: ids of objects
   * known to be reachable *with everything they reach* (a mark record: sweep-record.ts). The walk
   * stops at them.
   */
  premark(ids: Uint8Array): void {
    for (let off = 0; off + 20 <= ids.length; off += 20) this.marked.add(ids, off);
  }

  /** Marks an id; `read` 1: its body is read (a commit, tag or tip), 2: a tree, read in tree batches. */
  #mark(buf: Uint8Array, off: number, read: 0 | 1 | 2): void {
    if (!this.marked.add(buf, off)) return;
    this.#fresh?.push(buf, off);
    this.#journal?.[read === 2 ? 1 : read === 1 ? 0 : 2].push(buf, off);
    if (read === 1) this.#toRead.push(buf, off);
    else if (read === 2) this.#trees.push(buf, off);
  }

  /** Marks `tips` and everything they reach. */
  async markFrom(tips: Iterable<Oid>): Promise<void> {
    for (const tip of tips) {
      this.#tips.add(tip);
      this.#mark(oidToBytes(tip), 0, 1);
    }
    await this.#drain();
    if (this.#fresh) await this.followDeltas();
  }

  /** True when `oid` was marked. */
  has(oid: Oid): boolean {
    hexInto(oid, this.#id);
    return this.marked.has(this.#id);
  }

  async #drain(): Promise<void> {
    // Commits first, one generation a round trip, their trees queued; the trees in batches once
    // enough are queued or no commit is left. Trees then come newest first and many at a time,
    // as a full clone's walk reads them: a tree's delta base was mostly just scanned (the tree
    // is read from its delta alone), and round trips are few. Trees waiting for a base the scan
    // has not met (RawTrees `flush`) are scanned last, and what they bring after them.
    while (this.#toRead.length > 0 || this.#trees.length > 0 || this.#treeScan.waiting) {
      if (this.#toRead.length === 0 && this.#trees.length === 0) {
        await this.#treeScan.flush(this.#objects);
        await this.#pacer.tick();
        continue;
      }
      if (this.#trees.length >= TREE_BATCH || this.#toRead.length === 0) {
        const oids = this.#trees.shift(TREE_BATCH).map((b) => oidFromBytes(b));
        await this.#treeScan.scanBatch(this.#objects, oids, () => this.#entry);
        this.reads += oids.length;
        await this.#pacer.tick();
        continue;
      }
      const batch = this.#toRead.pop(BATCH);
      const oids = batch.map((b) => oidFromBytes(b));
      // Bodies as stored, delta chains resolved by the store (one batched read per chain level;
      // blobs are marked without being read, so only commits, tags and tips come here).
      const raws = await this.#objects.readMany(oids);
      for (let i = 0; i < batch.length; i++) {
        const raw = raws[i];
        if (raw !== undefined) {
          if (raw.type === 'tree') this.#treeScan.scan(oids[i]!, raw.body, this.#entry);
          else if (raw.type !== 'blob') this.#scan(raw.type, raw.body);
        } else if (!this.#tips.has(oids[i]!) && (await this.#objects.getDeltas([oids[i]!]))[0] === undefined) {
          throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oids[i]} is reachable but missing`, { details: { oid: oids[i] } });
        } else {
          // A tip to nothing, or kept only as a delta that this store cannot rebuild alone (`followDeltas` keeps its base).
          this.#incomplete = true;
        }
      }
      this.reads += batch.length;
      await this.#pacer.tick();
    }
  }

  #scan(type: string, body: Uint8Array): void {
    const id = this.#id;
    if (type === 'commit') {
      if (hexIdAt(body, 5, id)) this.#mark(id, 0, 2);
      let pos = 46;
      while (startsWith(body, pos, 'parent ') && hexIdAt(body, pos + 7, id)) {
        this.#mark(id, 0, 1);
        pos += 48;
      }
    } else if (type === 'tag') {
      if (startsWith(body, 0, 'object ') && hexIdAt(body, 7, id)) this.#mark(id, 0, 1);
    }
  }

  /**
   * Keeps the base of every kept delta of an object marked since `recordFresh` (and whatever
   * that base reaches), until nothing new is marked. Point reads: for the bulk of a history,
   * `scanDeltaLinks` does the same in one pass over the delta range.
   */
  async followDeltas(): Promise<void> {
    while (this.#fresh !== undefined && this.#fresh.length > 0) {
      const fresh = this.#fresh;
      this.#fresh = new OidList();
      while (fresh.length > 0) {
        const oids = fresh.pop(1000).map((b) => oidFromBytes(b));
        const entries = await this.#objects.getDeltas(oids);
        for (const e of entries) if (e !== undefined && hexInto(e.base, this.#id)) this.#mark(this.#id, 0, 1);
        await this.#pacer.tick();
      }
      await this.#drain();
    }
  }

  /** Marks the bases of the kept deltas of `oids` (and what they reach). */
  async keepDeltaBases(oids: readonly Oid[]): Promise<void> {
    for (let i = 0; i < oids.length; i += 1000) {
      const entries = await this.#objects.getDeltas(oids.slice(i, i + 1000));
      for (const e of entries) if (e !== undefined && hexInto(e.base, this.#id)) this.#mark(this.#id, 0, 1);
      await this.#pacer.tick();
    }
    await this.#drain();
    await this.followDeltas();
  }

  /**
   * One pass over every kept delta, after `markFrom` marked what the tips reach: the ids of
   * unmarked ones go to `candidates` (objects stored only as a delta have no whole entry to
   * list), and marked ones whose base is not marked to `orphans` (a live object whose stored
   * delta names a dead base: sweep-orphans.ts stores it whole so the base can go). Nothing is
   * marked here; objects marked from here on (written while the sweep ran) have their kept
   * deltas' bases kept (`recordFresh`, `followDeltas`).
   */
  async scanDeltaLinks(candidates: OidList, orphans: OidList): Promise<void> {
    this.recordFresh();
    // Raw ids all the way: the id of a `D` key at byte 5, its base's inside its ref-delta entry.
    for await (const batch of this.#objects.deltaRange()) {
      for (const [key, value] of batch) {
        if (this.marked.has(key, 5)) {
          const entry = deltaEntryOf(value);
          if (!this.marked.has(entry, refDeltaBaseAt(entry))) orphans.push(key, 5);
        } else candidates.push(key, 5);
      }
      await this.#pacer.tick();
    }
  }
}
