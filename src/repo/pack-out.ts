/**
 * Writing packs from the store: stored entries in batches (one `getMany` and one chunk per
 * batch), framed (header, SHA-1 trailer) by pack/pack-writer.ts `writePackBatches`. An object
 * stored as a delta (`D`, see ingest.ts) goes out as that delta when its base is in the pack
 * or, for a thin pack, on the client; every other object goes out whole, and one stored only as
 * a delta is materialized on the way (object-store.ts `materialize`: resolved, deflated once,
 * written back, so the next pack copies it).
 *
 * Memory: the plan holds ids and small integers per object (each delta's base as a position in
 * the pack, chain depths, the order, each entry's offset for ofs-deltas); entries are read batch
 * by batch as the pack is written, except the delta entries of the first pass, kept for the
 * second up to `keepDeltaBytes` (32 MiB by default; the rest are read again).
 */
import { NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { StoredDelta } from '../object/packed.js';
import { writePackBatches, type PackBatch } from '../pack/pack-writer.js';
import { isChunked } from '../object/chunked.js';

/** Longest delta chain a pack carries (git's pack.depth default). */
export const MAX_CHAIN = 50;

/** Options of `packBytes`. */
export interface PackBytesOptions {
  /** The client asked for `ofs-delta`: deltas whose base is earlier in the pack go out as OBJ_OFS_DELTA. */
  ofsDelta?: boolean;
  /** Told the ids of each batch of entries, in pack order, before its bytes are yielded (full-pack.ts records them). */
  onBatch?: (oids: readonly Oid[]) => void;
  /** Bytes of stored deltas kept from the first pass to the second (default 32 MiB; more are read again). */
  keepDeltaBytes?: number;
}

/** Marks in a plan's `base` array: the object goes out whole, or as a delta against a client's object. */
const WHOLE = -1;
const THIN = -2;

/** Entries read per batch. */
const BATCH = 512;

/** One complete pack of exactly `oids` (see the module comment), framed by pack/pack-writer.ts. */
export async function* packBytes(
  objects: ObjectStore,
  oids: readonly Oid[],
  deltas: boolean,
  thinBases: ReadonlySet<Oid> | undefined,
  options: PackBytesOptions = {},
): AsyncGenerator<Uint8Array> {
  // The header goes out before any lookup (a v0 deepen round only reads the first chunk).
  const base = deltas || thinBases ? new Int32Array(oids.length).fill(WHOLE) : undefined;
  const batches = base === undefined ? entryBatches(objects, oids, options.onBatch) : plannedBatches(objects, oids, base, thinBases, options);
  yield* writePackBatches(oids.length, batches, { ofsPlan: options.ofsDelta ? base : undefined });
}

/** Default of `PackBytesOptions.keepDeltaBytes`. */
const KEEP_DELTA_BYTES = 32 * 1024 * 1024;

/**
 * With deltas: objects stored as deltas whose base is in this pack (or among `thinBases`) go
 * out as deltas, after every whole object and ordered by chain depth, so each base precedes
 * its deltas (git requires it of ofs-deltas; some readers, isomorphic-git among them, resolve a
 * ref-delta only against what they have seen). One pass over the plan reads each object's `D`
 * value (a few batched lookups in flight) and sends every object that goes whole at once, in
 * plan order, so the pack flows while its deltas are found; the delta entries read are kept
 * (up to `keepDeltaBytes`, the rest read again) and sent by depth after chains are cut at
 * MAX_CHAIN (the object that would be the 51st link goes whole, first, and the chain starts
 * again from it). `base[i]` ends as a position in the pack, THIN or WHOLE (pack-writer's `ofsPlan`).
 */
async function* plannedBatches(
  objects: ObjectStore,
  oids: readonly Oid[],
  base: Int32Array,
  thinBases: ReadonlySet<Oid> | undefined,
  { onBatch, keepDeltaBytes = KEEP_DELTA_BYTES }: PackBytesOptions,
): AsyncGenerator<PackBatch> {
  const n = oids.length;
  const position = new Map<Oid, number>();
  for (let i = 0; i < n; i++) position.set(oids[i]!, i);
  const starts: number[] = [];
  for (let i = 0; i < n; i += BATCH) starts.push(i);
  // Most ids of a depth-1 pack have no delta; the database answers batches on its own threads.
  // Where each lookup is a round trip (IndexedDB) and the repository has few deltas, their ids
  // are read once and only those are looked up.
  const LOOKAHEAD = 3;
  const few = objects.kv.costlyRequests && n >= 64 ? await objects.deltaIdsIfFew(n >> 2) : undefined;
  const lookup = (i: number) => readAhead(few ? deltasAmong(objects, oids.slice(i, i + BATCH), few) : objects.getDeltas(oids.slice(i, i + BATCH)));
  // Two lookups before the first entries (a cold depth-1 clone's client starts indexing after
  // one batch of them), LOOKAHEAD in flight once the pack flows.
  const lookups = starts.slice(0, 2).map(lookup);
  const kept = new KeptEntries(n, keepDeltaBytes);
  // Whole objects wait here until a read's worth is known (step: see entryBatches).
  const step = objects.kv.costlyRequests ? BATCH * 4 : BATCH;
  let whole: number[] = [];
  let sentWhole = 0;
  for (let k = 0; k < starts.length; k++) {
    const i = starts[k]!;
    const found = await lookups[k]!;
    lookups[k] = undefined as never; // let the batch's entries go
    for (let j = 0; j < found.length; j++) {
      const d = found[j];
      if (d !== undefined) {
        const b = position.get(d.base as Oid);
        if (b !== undefined && b !== i + j) base[i + j] = b;
        else if (b === undefined && thinBases?.has(d.base as Oid)) base[i + j] = THIN;
        if (base[i + j] !== WHOLE) kept.keep(i + j, d.entry);
      }
      if (base[i + j] === WHOLE) whole.push(i + j);
    }
    // The first whole objects leave after the first batch of lookups; then a read's worth at a time.
    if ((sentWhole === 0 ? whole.length > 0 : whole.length >= step) || k === starts.length - 1) {
      const ids = whole;
      whole = [];
      sentWhole += ids.length;
      yield* readPositions(objects, oids, ids, kept, onBatch);
    }
    while (lookups.length < Math.min(starts.length, k + 1 + LOOKAHEAD)) lookups.push(lookup(starts[lookups.length]!));
  }
  position.clear();
  const wasDelta = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (base[i] !== WHOLE) wasDelta[i] = 1;
  const depth = chainDepths(base);
  // Counting sort of what is left: objects whose chain was cut (whole now) first, then each depth.
  const counts = new Int32Array(MAX_CHAIN + 2);
  for (let i = 0; i < n; i++) if (wasDelta[i]) counts[depth[i]! + 1]!++;
  for (let d = 1; d < counts.length; d++) counts[d]! += counts[d - 1]!;
  const order = new Int32Array(counts[MAX_CHAIN + 1]!);
  for (let i = 0; i < n; i++) if (wasDelta[i]) order[counts[depth[i]!]!++] = i;
  for (let at = 0, size = BATCH; at < order.length; at += size, size = step) {
    // Usually every entry was kept: no read at all. Past `keepDeltaBytes`, one read per batch, not read ahead.
    yield* readPositions(objects, oids, Array.from(order.subarray(at, at + size)), kept, onBatch, base);
  }
}

/**
 * One batch of the pack by plan positions: objects going whole (`base` WHOLE or not given) as
 * whole entries (materialized where stored only as deltas), the others as their stored delta
 * (kept from the first pass or read now).
 */
async function* readPositions(
  objects: ObjectStore,
  oids: readonly Oid[],
  positions: number[],
  kept: KeptEntries,
  onBatch: ((oids: readonly Oid[]) => void) | undefined,
  base?: Int32Array,
): AsyncGenerator<PackBatch> {
  if (positions.length === 0) return;
  const ids = positions.map((p) => oids[p]!);
  const whole: Oid[] = [];
  const reread: Oid[] = [];
  for (const p of positions) {
    if (base === undefined || base[p] === WHOLE) whole.push(oids[p]!);
    else if (!kept.has(p)) reread.push(oids[p]!);
  }
  const [wholeEntries, deltaEntries] = await Promise.all([
    whole.length > 0 ? objects.materialize(whole) : [],
    reread.length > 0 ? objects.getDeltas(reread) : [],
  ]);
  const entries: Uint8Array[] = new Array(positions.length);
  let w = 0;
  let r = 0;
  positions.forEach((p, k) => {
    if (base === undefined || base[p] === WHOLE) {
      entries[k] = wholeEntries[w++]!;
    } else if (kept.has(p)) {
      entries[k] = kept.get(p);
    } else {
      const d = deltaEntries[r++];
      if (d === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${ids[k]} vanished while packing`, { details: { oid: ids[k]! } });
      entries[k] = d.entry;
    }
  });
  onBatch?.(ids);
  yield* withStreams(objects, { entries, oids: ids, positions });
}

/**
 * Delta entries kept from the first pass for the second, copied into 1 MiB arenas (the values
 * read are let go at once: a kept entry costs its bytes and 12 bytes of index, not a buffer and
 * its view each), up to a byte budget; entries past it, or over an arena's size, are read again.
 */
class KeptEntries {
  static readonly ARENA = 1 << 20;
  readonly #arenas: Uint8Array[] = [];
  readonly #arena: Int32Array;
  readonly #at: Int32Array;
  readonly #length: Int32Array;
  #left: number;
  #used = KeptEntries.ARENA;

  constructor(n: number, budget: number) {
    this.#arena = new Int32Array(n).fill(-1);
    this.#at = new Int32Array(n);
    this.#length = new Int32Array(n);
    this.#left = budget;
  }

  /** Keeps a copy of the entry of position `p` if the budget allows. */
  keep(p: number, entry: Uint8Array): void {
    const len = entry.length;
    if (len > this.#left || len > KeptEntries.ARENA) return;
    if (this.#used + len > KeptEntries.ARENA) {
      this.#arenas.push(new Uint8Array(Math.min(KeptEntries.ARENA, Math.max(this.#left, len))));
      this.#used = 0;
    }
    const a = this.#arenas.length - 1;
    this.#arenas[a]!.set(entry, this.#used);
    this.#arena[p] = a;
    this.#at[p] = this.#used;
    this.#length[p] = len;
    this.#used += len;
    this.#left -= len;
  }

  has(p: number): boolean {
    return this.#arena[p]! >= 0;
  }

  /** The kept entry of `p` (a view of its arena). */
  get(p: number): Uint8Array {
    const at = this.#at[p]!;
    return this.#arenas[this.#arena[p]!]!.subarray(at, at + this.#length[p]!);
  }
}

/** `getDeltas` of `ids`, looking up only those in `known` (the repository's every delta). */
async function deltasAmong(objects: ObjectStore, ids: Oid[], known: ReadonlySet<Oid>): Promise<(StoredDelta | undefined)[]> {
  const at: number[] = [];
  for (let j = 0; j < ids.length; j++) if (known.has(ids[j]!)) at.push(j);
  const out: (StoredDelta | undefined)[] = new Array(ids.length);
  if (at.length === 0) return out;
  const found = await objects.getDeltas(at.map((j) => ids[j]!));
  at.forEach((j, k) => (out[j] = found[k]));
  return out;
}

/** Chain depth of every object (0: whole; thin deltas 1); chains longer than MAX_CHAIN are cut in `base`. */
function chainDepths(base: Int32Array): Uint8Array {
  const n = base.length;
  const depth = new Uint8Array(n);
  const state = new Uint8Array(n); // 0 not seen, 1 on the current path, 2 done
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    if (state[i] === 2) continue;
    let cur = i;
    for (;;) {
      if (state[cur] === 2) break;
      if (state[cur] === 1) {
        // A cycle cannot come from real packs; the object closing it goes out whole.
        base[cur] = WHOLE;
        state[cur] = 2;
        break;
      }
      state[cur] = 1;
      path.push(cur);
      if (base[cur]! < 0) break;
      cur = base[cur]!;
    }
    while (path.length > 0) {
      const j = path.pop()!;
      if (state[j] === 2) continue;
      const b = base[j]!;
      let d = b === WHOLE ? 0 : b === THIN ? 1 : depth[b]! + 1;
      if (d > MAX_CHAIN) {
        base[j] = WHOLE;
        d = 0;
      }
      depth[j] = d;
      state[j] = 2;
    }
  }
  return depth;
}

/**
 * The entries of a pack of whole objects in plan order, one batched read per batch, the next
 * batch read ahead. Where every read is a round trip to another process (PostgreSQL,
 * IndexedDB: `costlyRequests`), batches after the first are four times larger, so a clone
 * sends a few reads, not one per 512 objects; the first stays small so the first bytes leave early.
 */
async function* entryBatches(objects: ObjectStore, oids: readonly Oid[], onBatch?: (oids: readonly Oid[]) => void): AsyncGenerator<PackBatch> {
  const n = oids.length;
  const step = objects.kv.costlyRequests ? BATCH * 4 : BATCH;
  const read = (at: number, size: number): Promise<PackBatch> | undefined => {
    if (at >= n) return undefined;
    const ids = oids.slice(at, Math.min(n, at + size));
    return readAhead(objects.materialize(ids).then((entries) => ({ entries, oids: ids })));
  };
  let next = read(0, BATCH);
  try {
    for (let at = 0, size = BATCH; at < n; at += size, size = step) {
      const batch = await next!;
      next = read(at + size, step);
      onBatch?.(batch.oids!);
      yield* withStreams(objects, batch);
    }
  } finally {
    // A stream abandoned mid-way (client gone) or failed: the read ahead has nobody to report to
    // (readAhead already made its failure a handled one).
    next = undefined;
  }
}

/** A batch with its chunked objects (object/chunked.ts markers) split out as streamed entries. */
function* withStreams(objects: ObjectStore, batch: PackBatch): Generator<PackBatch> {
  const { entries, oids, positions } = batch;
  if (!entries.some(isChunked)) {
    yield batch;
    return;
  }
  const part = (from: number, to: number): PackBatch => ({
    entries: entries.slice(from, to),
    oids: oids!.slice(from, to),
    ...(positions ? { positions: Array.prototype.slice.call(positions, from, to) as number[] } : {}),
  });
  let from = 0;
  for (let i = 0; i < entries.length; i++) {
    if (!isChunked(entries[i]!)) continue;
    if (i > from) yield part(from, i);
    yield { ...part(i, i + 1), entries: [], stream: objects.chunks(entries[i]!) };
    from = i + 1;
  }
  if (from < entries.length) yield part(from, entries.length);
}

/**
 * A read started ahead of its use. Its failure is marked handled at once: it may settle while
 * the stream waits on the client (or after the stream was abandoned, the engine closed), and
 * the awaiting code still sees the error when it gets there.
 */
function readAhead<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
