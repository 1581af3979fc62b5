/**
 * Writing packs from the store: stored entries in batches (one `getMany` and one chunk per
 * batch), framed (header, SHA-1 trailer) by pack/pack-writer.ts `writePackBatches`. An object
 * stored as a delta (`D`, see ingest.ts) goes out as that delta when its base is in the pack
 * or, for a thin pack, on the client; every other object goes out whole, and one stored only as
 * a delta is materialized on the way (object-store.ts `materialize`: resolved, deflated once,
 * written back, so the next pack copies it).
 *
 * Memory: the plan holds ids and small integers per object (each delta's base as a position in
 * the pack, chain depths, the order), never entries; entries are read batch by batch as the pack
 * is written, one batch ahead.
 *
 * Latency: on a database whose point reads are cheap, a pack of up to STREAMED_MAX objects finds
 * its deltas as it goes (`streamedBatches`): its first entries leave after one batch of lookups,
 * where planning every delta first kept a cold depth-1 clone's client idle for a lookup of every
 * object of the tip.
 */
import { NotFoundError } from '../errors.js';
import { type Oid, oidToBytes } from '../object/oid.js';
import { deltaKey, objectKey } from '../storage/keys.js';
import type { ObjectStore } from '../object/object-store.js';
import { decodeStoredDelta, type StoredDelta } from '../object/packed.js';
import { writePackBatches, type PackBatch } from '../pack/pack-writer.js';
import { decodeChunked, isChunked } from '../object/chunked.js';
import { isRefDeltaEntry, refDeltaAsOfsDelta } from '../pack/entry.js';

/** Longest delta chain a pack carries (git's pack.depth default). */
export const MAX_CHAIN = 50;

/** Options of `packBytes`. */
export interface PackBytesOptions {
  /** The client asked for `ofs-delta`: deltas whose base is earlier in the pack go out as OBJ_OFS_DELTA. */
  ofsDelta?: boolean;
  /** Told the ids of each batch of entries, in pack order, before its bytes are yielded (full-pack.ts records them). */
  onBatch?: (oids: readonly Oid[]) => void;
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
  const ofsBases = options.ofsDelta ? new Set<Oid>() : undefined;
  const streamed = (deltas || thinBases) && !objects.kv.costlyRequests && oids.length <= STREAMED_MAX;
  async function* batches(): AsyncGenerator<PackBatch> {
    // With deltas: objects stored as deltas whose base is in this pack go out as deltas, after
    // every whole object and ordered by chain depth, so each base precedes its deltas (git
    // requires it of ofs-deltas; some readers, isomorphic-git among them, resolve a ref-delta
    // only against what they have seen).
    if (streamed) return yield* streamedBatches(objects, oids, thinBases, options.ofsDelta === true, options.onBatch);
    const plan = deltas || thinBases ? await planDeltas(objects, oids, thinBases) : undefined;
    if (plan && ofsBases) for (const b of plan.base) if (b >= 0) ofsBases.add(oids[b]!);
    yield* entryBatches(objects, oids, plan, options.onBatch);
  }
  // Streamed, the offsets are kept by position here (`Offsets`): a base is written before the delta naming it is found.
  yield* writePackBatches(oids.length, batches(), { ofsBases: streamed ? undefined : ofsBases });
}

/**
 * Most objects a pack streams before it knows its deltas (`streamedBatches`); larger packs (full
 * clones of long histories) plan their deltas first, which keeps no offset per object.
 */
const STREAMED_MAX = 65_536;

/**
 * The pack's entries with its deltas found on the way, for databases where a point read is cheap
 * (not `costlyRequests`): each batch of ids in plan order has its `D` values and whole entries
 * read together (the next batch read ahead), objects whose stored delta has its base in the pack
 * (or, thin, on the client) are set aside, and the rest go out whole at once. The set-aside
 * deltas follow, by chain depth (chains cut at MAX_CHAIN, the cut objects whole). The same
 * entries and order as planning every delta first (`planDeltas`), except that a cut object comes
 * after the whole ones; but the first entries leave after one batch of reads instead of a
 * lookup of every object, so the client indexes while the server reads (a cold depth-1 clone).
 */
async function* streamedBatches(
  objects: ObjectStore,
  oids: readonly Oid[],
  thinBases: ReadonlySet<Oid> | undefined,
  ofsDelta: boolean,
  onBatch?: (oids: readonly Oid[]) => void,
): AsyncGenerator<PackBatch> {
  const n = oids.length;
  const position = new Map<Oid, number>();
  for (let i = 0; i < n; i++) position.set(oids[i]!, i);
  const base = new Int32Array(n).fill(WHOLE);
  const offsets = ofsDelta ? new Offsets(n) : undefined;
  const setAside: number[] = [];
  const read = (at: number) => (at >= n ? undefined : readAhead(deltasAndEntries(objects, oids.slice(at, at + BATCH))));
  let next = read(0);
  try {
    for (let at = 0; at < n; at += BATCH) {
      const [found, stored] = await next!;
      next = read(at + BATCH);
      const ids: Oid[] = [];
      const positions: number[] = [];
      const entries: (Uint8Array | undefined)[] = [];
      for (let j = 0; j < found.length; j++) {
        const i = at + j;
        const d = found[j];
        const b = d === undefined ? undefined : position.get(d.base as Oid);
        if (b !== undefined && b !== i) base[i] = b;
        else if (d !== undefined && b === undefined && thinBases?.has(d.base as Oid)) base[i] = THIN;
        if (base[i] !== WHOLE) {
          setAside.push(i);
          continue;
        }
        ids.push(oids[i]!);
        positions.push(i);
        entries.push(stored[j]);
      }
      if (ids.length === 0) continue;
      // Objects stored only as deltas against what the pack lacks: materialized (object-store.ts).
      const missing = ids.filter((_, k) => entries[k] === undefined);
      if (missing.length > 0) {
        const made = await objects.materialize(missing);
        let m = 0;
        for (let k = 0; k < entries.length; k++) if (entries[k] === undefined) entries[k] = made[m++];
      }
      offsets?.place(entries as Uint8Array[], positions, base);
      onBatch?.(ids);
      yield* withStreams(objects, { entries: entries as Uint8Array[], oids: ids });
    }
  } finally {
    next = undefined;
  }
  if (setAside.length === 0) return;
  position.clear();
  const depth = chainDepths(base);
  const order = Int32Array.from(setAside).sort((a, b) => depth[a]! - depth[b]! || a - b);
  yield* entryBatches(objects, oids, { base, order }, onBatch, offsets);
}

/**
 * Where each entry of a streamed pack starts, by position in the pack's ids (the 12-byte header
 * first), so a delta whose base was written before anyone knew it was a base still goes out as
 * an OBJ_OFS_DELTA: no map of ids, one number per object.
 */
class Offsets {
  readonly #at: Float64Array;
  #next = 12;

  constructor(n: number) {
    this.#at = new Float64Array(n);
  }

  /** Records the entries at `positions` in the order written, rewriting ref-deltas against an earlier entry (`base`) as ofs-deltas. */
  place(entries: Uint8Array[], positions: ArrayLike<number>, base: Int32Array): void {
    for (let k = 0; k < entries.length; k++) {
      const i = positions[k]!;
      let e = entries[k]!;
      const b = base[i]!;
      if (b >= 0 && isRefDeltaEntry(e)) entries[k] = e = refDeltaAsOfsDelta(e, this.#next - this.#at[b]!);
      this.#at[i] = this.#next;
      this.#next += isChunked(e) ? decodeChunked(e).length : e.length;
    }
  }
}

/** Which objects go out as deltas (`base`: a position in the pack, THIN or WHOLE) and in which order. */
interface DeltaPlan {
  base: Int32Array;
  order: Int32Array;
}

/**
 * Reads the delta base of every object stored as a delta (a few batched lookups in flight),
 * keeps those whose base is in the pack or among `thinBases`, cuts chains at MAX_CHAIN (the
 * object that would be the 51st link goes whole, and the chain starts again from it), and orders
 * the pack: whole objects in the given order, then deltas by depth.
 */
async function planDeltas(objects: ObjectStore, oids: readonly Oid[], thinBases?: ReadonlySet<Oid>): Promise<DeltaPlan> {
  const n = oids.length;
  const position = new Map<Oid, number>();
  for (let i = 0; i < n; i++) position.set(oids[i]!, i);
  const base = new Int32Array(n).fill(WHOLE);
  const starts: number[] = [];
  for (let i = 0; i < n; i += BATCH) starts.push(i);
  // Most ids of a depth-1 pack have no delta; the database answers batches on its own threads.
  // Where each lookup is a round trip (IndexedDB) and the repository has few deltas, their ids
  // are read once and only those are looked up.
  const LOOKAHEAD = 3;
  const few = objects.kv.costlyRequests && n >= 64 ? await objects.deltaIdsIfFew(n >> 2) : undefined;
  const lookup = (i: number) => readAhead(few ? deltasAmong(objects, oids.slice(i, i + BATCH), few) : objects.getDeltas(oids.slice(i, i + BATCH)));
  const lookups = starts.slice(0, LOOKAHEAD).map(lookup);
  for (let k = 0; k < starts.length; k++) {
    const i = starts[k]!;
    const found = await lookups[k]!;
    if (k + LOOKAHEAD < starts.length) lookups.push(lookup(starts[k + LOOKAHEAD]!));
    lookups[k] = undefined as never; // let the batch's entries go
    for (let j = 0; j < found.length; j++) {
      const d = found[j];
      if (d === undefined) continue;
      const b = position.get(d.base as Oid);
      if (b !== undefined && b !== i + j) base[i + j] = b;
      else if (b === undefined && thinBases?.has(d.base as Oid)) base[i + j] = THIN;
    }
  }
  position.clear();
  const depth = chainDepths(base);
  // Counting sort: whole objects first (depth 0), in the given order, then each depth.
  const counts = new Int32Array(MAX_CHAIN + 2);
  for (let i = 0; i < n; i++) counts[depth[i]! + 1]!++;
  for (let d = 1; d < counts.length; d++) counts[d]! += counts[d - 1]!;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[counts[depth[i]!]!++] = i;
  return { base, order };
}

/** The stored deltas (parsed) and whole entries (`O` values, chunk markers as they are) of `ids`, read together; undefined where none. */
async function deltasAndEntries(objects: ObjectStore, ids: readonly Oid[]): Promise<[(StoredDelta | undefined)[], (Uint8Array | undefined)[]]> {
  const deltaKeys: Uint8Array[] = new Array(ids.length);
  const wholeKeys: Uint8Array[] = new Array(ids.length);
  for (let k = 0; k < ids.length; k++) {
    const raw = oidToBytes(ids[k]!);
    deltaKeys[k] = deltaKey(objects.repoId, raw);
    wholeKeys[k] = objectKey(objects.repoId, raw);
  }
  const [deltas, whole] = await Promise.all([objects.kv.getMany(deltaKeys), objects.kv.getMany(wholeKeys)]);
  return [deltas.map((v) => (v === undefined ? undefined : decodeStoredDelta(v))), whole];
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
 * The entries of the pack in plan order, one batched read per batch, the next batch read ahead.
 * Where every read is a round trip to another process (PostgreSQL, IndexedDB: `costlyRequests`),
 * batches after the first are four times larger, so a clone sends a few reads, not one per 512
 * objects; the first stays small so the first bytes leave early.
 */
async function* entryBatches(
  objects: ObjectStore,
  oids: readonly Oid[],
  plan: DeltaPlan | undefined,
  onBatch?: (oids: readonly Oid[]) => void,
  offsets?: Offsets,
): AsyncGenerator<PackBatch> {
  const n = plan ? plan.order.length : oids.length;
  const step = objects.kv.costlyRequests ? BATCH * 4 : BATCH;
  const read = (at: number, size: number): Promise<PackBatch> | undefined => {
    if (at >= n) return undefined;
    const ids: Oid[] = [];
    const whole: Oid[] = [];
    const delta: Oid[] = [];
    for (let k = at; k < Math.min(n, at + size); k++) {
      const i = plan ? plan.order[k]! : k;
      ids.push(oids[i]!);
      (plan && plan.base[i]! !== WHOLE ? delta : whole).push(oids[i]!);
    }
    return readAhead(readBatch(objects, ids, whole, delta));
  };
  let next = read(0, BATCH);
  try {
    for (let at = 0, size = BATCH; at < n; at += size, size = step) {
      const batch = await next!;
      next = read(at + size, step);
      // A batch read here is fresh arrays: its entries may be rewritten in place.
      if (offsets && plan) offsets.place(batch.entries as Uint8Array[], plan.order.subarray(at, at + batch.entries.length), plan.base);
      onBatch?.(batch.oids!);
      yield* withStreams(objects, batch);
    }
  } finally {
    // A stream abandoned mid-way (client gone) or failed: the read ahead has nobody to report to
    // (readAhead already made its failure a handled one).
    next = undefined;
  }
}

/** One batch: whole entries (materialized where stored only as deltas) and delta entries, in `ids` order. */
async function readBatch(objects: ObjectStore, ids: Oid[], whole: Oid[], delta: Oid[]): Promise<PackBatch> {
  const [wholeEntries, deltaEntries] = await Promise.all([
    whole.length > 0 ? objects.materialize(whole) : [],
    delta.length > 0 ? objects.getDeltas(delta) : [],
  ]);
  if (delta.length === 0) return { entries: wholeEntries as Uint8Array[], oids: ids };
  const byId = new Map<Oid, Uint8Array>();
  whole.forEach((o, i) => byId.set(o, wholeEntries[i]!));
  delta.forEach((o, i) => {
    const d = deltaEntries[i];
    if (d === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${o} vanished while packing`, { details: { oid: o } });
    byId.set(o, d.entry);
  });
  return { entries: ids.map((o) => byId.get(o)!), oids: ids };
}

/** A batch with its chunked objects (object/chunked.ts markers) split out as streamed entries. */
function* withStreams(objects: ObjectStore, batch: PackBatch): Generator<PackBatch> {
  const { entries, oids } = batch;
  if (!entries.some(isChunked)) {
    yield batch;
    return;
  }
  let from = 0;
  for (let i = 0; i < entries.length; i++) {
    if (!isChunked(entries[i]!)) continue;
    if (i > from) yield { entries: entries.slice(from, i), oids: oids!.slice(from, i) };
    yield { entries: [], oids: [oids![i]!], stream: objects.chunks(entries[i]!) };
    from = i + 1;
  }
  if (from < entries.length) yield { entries: entries.slice(from), oids: oids!.slice(from) };
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
