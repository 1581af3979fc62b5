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
 * second up to `keepDeltaBytes` (32 MiB by default), then in a scratch file where the platform
 * has them (up to `spillDeltaBytes`, 1 GiB; the rest are read again).
 *
 * A full clone (`scanDeltas`) reads the store in key order instead of by id (pack-scan.ts): its
 * `D` range once (which objects go as deltas) or, from STORE_SCAN_MIN objects on, its `D` and
 * `O` ranges together, whole objects sent as they are met.
 */
import { NotFoundError } from '../errors.js';
import { type Oid, oidFromBytes, oidToBytes, writeOid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { refDeltaBaseAt } from '../object/packed.js';
import { thinDeltas } from './thin-bases.js';
import { writePackBatches, type PackBatch } from '../pack/pack-writer.js';
import { isChunked } from '../object/chunked.js';
import { platform } from '../platform/index.js';
import type { ScratchFile } from '../platform/types.js';
import { KeptEntries } from './kept-entries.js';
import { Positions } from './pack-positions.js';
import { type ScanLeft, scanDeltas, scanStore } from './pack-scan.js';
import { THIN, WHOLE, byDepth, chainDepths } from './delta-order.js';

export { MAX_CHAIN } from './delta-order.js';

/** Options of `packBytes`. */
export interface PackBytesOptions {
  /** The client asked for `ofs-delta`: deltas whose base is earlier in the pack go out as OBJ_OFS_DELTA. */
  ofsDelta?: boolean;
  /** Told the ids of each batch of entries, in pack order, before its bytes are yielded (full-pack.ts records them). */
  onBatch?: (oids: readonly Oid[]) => void;
  /** Bytes of stored deltas kept in memory from the first pass to the second (default 32 MiB). */
  keepDeltaBytes?: number;
  /**
   * Bytes of stored deltas kept past `keepDeltaBytes` in a scratch file, where the platform has
   * them (default 1 GiB, the file holding them twice at most: repo/kept-entries.ts; more are
   * read again from the store).
   */
  spillDeltaBytes?: number;
  /** Where those go (default: the platform's scratch files; null: nowhere). */
  scratchFile?: (() => ScratchFile) | null;
  /**
   * Find the stored deltas by reading the store's `D` range in key order once (see
   * `scanDeltas`) instead of one lookup per id: for packs of most of the store (a full clone).
   * Not on databases where each request is a round trip (`Kv.costlyRequests`).
   */
  scanDeltas?: boolean;
  /**
   * With `thinBases`: a sent object -> the client's object or another sent object at the same
   * path (repo/thin-bases.ts). Such an object that would go whole goes as a delta against it
   * instead when the delta is under half its size (bounded: objects up to 1 MiB, 32 MiB of
   * bodies per pack) and, for a base in the pack, its chain does not lead back to the object.
   */
  preferredBases?: ReadonlyMap<Oid, Oid>;
  /**
   * With `preferredBases`: a sent object whose preferred base is another sent object -> the
   * client's object at the same path, tried when the preferred base gives no delta worth sending
   * or would close a cycle.
   */
  clientBases?: ReadonlyMap<Oid, Oid>;
}

/** Entries read per batch. */
const BATCH = 512;

/**
 * Objects a full clone's pack must hold before it reads the store by one merged scan of its
 * ranges (pack-scan.ts `scanStore`) instead of settling the deltas by a `D` scan and reading
 * the whole entries by id: under that, lookups are cheap.
 */
const STORE_SCAN_MIN = 4096;

/**
 * One complete pack of exactly `oids` (see the module comment), framed by pack/pack-writer.ts.
 * `oids` as hex ids or as one table of raw ids (20 bytes each, a clone plan's form): every
 * read is keyed by raw bytes and positions are found in a table over those ids (`Positions`),
 * so no hex id is made on the way.
 */
export async function* packBytes(
  objects: ObjectStore,
  oids: readonly Oid[] | Uint8Array,
  deltas: boolean,
  thinBases: ReadonlySet<Oid> | undefined,
  options: PackBytesOptions = {},
): AsyncGenerator<Uint8Array> {
  const ids = rawIds(oids);
  const n = ids.length / 20;
  // The header goes out before any lookup (a v0 deepen round only reads the first chunk).
  const base = deltas || thinBases ? new Int32Array(n).fill(WHOLE) : undefined;
  const batches = base === undefined ? entryBatches(objects, ids, options.onBatch) : plannedBatches(objects, ids, base, thinBases, options);
  yield* writePackBatches(n, batches, { ofsPlan: options.ofsDelta ? base : undefined });
}

/** Ids as one table of raw ids, 20 bytes each. */
function rawIds(oids: readonly Oid[] | Uint8Array): Uint8Array {
  if (oids instanceof Uint8Array) return oids;
  const out = new Uint8Array(oids.length * 20);
  for (let i = 0; i < oids.length; i++) writeOid(oids[i]!, out, i * 20);
  return out;
}

/** The hex ids of plan positions (only for `onBatch` and errors). */
function hexAt(ids: Uint8Array, positions: ArrayLike<number>): Oid[] {
  return Array.from(positions, (p) => oidFromBytes(ids, p * 20));
}

/** Default of `PackBytesOptions.keepDeltaBytes`. */
const KEEP_DELTA_BYTES = 32 * 1024 * 1024;

/** Default of `PackBytesOptions.spillDeltaBytes`. */
const SPILL_DELTA_BYTES = 1024 * 1024 * 1024;

/**
 * With deltas: objects stored as deltas whose base is in this pack (or among `thinBases`) go
 * out as deltas, after every whole object and ordered by chain depth, so each base precedes
 * its deltas (git requires it of ofs-deltas; some readers, isomorphic-git among them, resolve a
 * ref-delta only against what they have seen). One pass over the plan reads each object's `D`
 * value (a few batched lookups in flight) and sends every object that goes whole at once, in
 * plan order, so the pack flows while its deltas are found; the delta entries read are kept
 * (repo/kept-entries.ts: `keepDeltaBytes` in memory, then `spillDeltaBytes` in a scratch file,
 * the rest read again) and sent by depth after chains are cut at
 * MAX_CHAIN (the object that would be the 51st link goes whole, first, and the chain starts
 * again from it). `base[i]` ends as a position in the pack, THIN or WHOLE (pack-writer's `ofsPlan`).
 */
async function* plannedBatches(
  objects: ObjectStore,
  ids: Uint8Array,
  base: Int32Array,
  thinBases: ReadonlySet<Oid> | undefined,
  options: PackBytesOptions,
): AsyncGenerator<PackBatch> {
  const { keepDeltaBytes = KEEP_DELTA_BYTES, spillDeltaBytes = SPILL_DELTA_BYTES, scratchFile = platform().scratchFile ?? null } = options;
  const kept = new KeptEntries(base.length, keepDeltaBytes, spillDeltaBytes, scratchFile);
  try {
    yield* batchesKeeping(objects, ids, base, thinBases, kept, options);
  } finally {
    kept.close();
  }
}

/** `plannedBatches` with the store of kept delta entries. */
async function* batchesKeeping(
  objects: ObjectStore,
  ids: Uint8Array,
  base: Int32Array,
  thinBases: ReadonlySet<Oid> | undefined,
  kept: KeptEntries,
  { onBatch, scanDeltas: scan = false, preferredBases, clientBases }: PackBytesOptions,
): AsyncGenerator<PackBatch> {
  const n = base.length;
  const position = new Positions(ids, n);
  // Positions that would go whole with an object to try as their base instead: the client's
  // (thin) or another of the pack's.
  const prefer = new Map<number, Oid>();
  // ...and the client's version to try when that one fails.
  const fallback = new Map<number, Oid>();
  if (thinBases !== undefined && preferredBases !== undefined) {
    for (const [o, b] of preferredBases) {
      const p = position.get(oidToBytes(o), 0);
      if (p >= 0 && (thinBases.has(b) || position.get(oidToBytes(b), 0) >= 0)) prefer.set(p, b);
    }
    for (const [o, b] of clientBases ?? []) {
      const p = position.get(oidToBytes(o), 0);
      if (prefer.has(p) && thinBases.has(b)) fallback.set(p, b);
    }
  }
  const tryThin: number[] = [];
  // Where the `D` value of position p (its ref-delta entry) sends it: as a delta of a position, as thin, or whole.
  const settle = (p: number, entry: Uint8Array) => {
    const at = refDeltaBaseAt(entry);
    const b = position.get(entry, at);
    if (b >= 0 && b !== p) base[p] = b;
    else if (b < 0 && thinBases?.has(oidFromBytes(entry, at))) base[p] = THIN;
    if (base[p] !== WHOLE) kept.keep(p, entry);
  };
  // A full clone of a large store: one merged key-ordered read of both ranges (pack-scan.ts),
  // after the first batch read by id in plan order, as without it (the pack's header waits for
  // that batch, so an object missing there, a stale clone plan, fails before a byte leaves).
  const byRange = scan && !objects.kv.costlyRequests && thinBases === undefined && n >= STORE_SCAN_MIN;
  let settled: Uint8Array | undefined;
  if (byRange) {
    yield* packByRange(objects, ids, position, base, settle, kept, onBatch);
  } else if (scan && !objects.kv.costlyRequests) {
    settled = await scanDeltas(objects, position, settle);
  }
  // Most ids of a depth-1 pack have no delta; the database answers batches on its own threads.
  // Where each lookup is a round trip (IndexedDB) and the repository has few deltas, their ids
  // are read once and only those are looked up.
  const LOOKAHEAD = 3;
  const few = settled === undefined && objects.kv.costlyRequests && n >= 64 ? await objects.deltaIdsIfFew(n >> 2) : undefined;
  const starts: number[] = [];
  if (!byRange) for (let i = 0; i < n; i += BATCH) starts.push(i);
  const lookup = (i: number): Promise<{ at: number[]; found: (Uint8Array | undefined)[] }> => {
    const at: number[] = [];
    for (let p = i; p < Math.min(n, i + BATCH); p++) if (settled?.[p] !== 1 && (few === undefined || few.has(oidFromBytes(ids, p * 20)))) at.push(p);
    return readAhead(at.length === 0 ? Promise.resolve({ at, found: [] }) : objects.deltaEntriesAt(ids, at).then((found) => ({ at, found })));
  };
  // Two lookups before the first entries (a cold depth-1 clone's client starts indexing after
  // one batch of them), LOOKAHEAD in flight once the pack flows.
  const lookups = starts.slice(0, 2).map(lookup);
  // Whole objects wait here until a read's worth is known (step: see entryBatches).
  const step = objects.kv.costlyRequests ? BATCH * 4 : BATCH;
  let whole: number[] = [];
  let sentWhole = 0;
  for (let k = 0; k < starts.length; k++) {
    const i = starts[k]!;
    const { at, found } = await lookups[k]!;
    lookups[k] = undefined as never; // let the batch's entries go
    for (let j = 0; j < found.length; j++) if (found[j] !== undefined) settle(at[j]!, found[j]!);
    for (let p = i; p < Math.min(n, i + BATCH); p++) if (base[p] === WHOLE) (prefer.has(p) ? tryThin : whole).push(p);
    // The first whole objects leave after the first batch of lookups; then a read's worth at a time.
    if ((sentWhole === 0 ? whole.length > 0 : whole.length >= step) || k === starts.length - 1) {
      const positions = whole;
      whole = [];
      sentWhole += positions.length;
      yield* readPositions(objects, ids, positions, kept, onBatch);
    }
    while (lookups.length < Math.min(starts.length, k + 1 + LOOKAHEAD)) lookups.push(lookup(starts[lookups.length]!));
  }
  if (tryThin.length > 0) {
    // Deltas against the client's objects or the pack's (thin-bases.ts): those worth it go with
    // the deltas, the rest whole now.
    // Whether the chain from position `from` reaches `to` (a base of the pack that is, or will
    // be, a delta of `to`: taking it would close a cycle, so `to` goes whole instead).
    const reaches = (from: number, to: number): boolean => {
      for (let x = from, k = 0; x >= 0 && k <= n; x = base[x]!, k++) if (x === to) return true;
      return false;
    };
    const rest = await thinDeltas(
      objects,
      hexAt(ids, tryThin),
      tryThin.map((p) => prefer.get(p)!),
      tryThin.map((p) => fallback.get(p)),
      (i, entry) => {
        const p = tryThin[i]!;
        const b = position.get(entry, refDeltaBaseAt(entry));
        if (b >= 0 && reaches(b, p)) return false;
        base[p] = b >= 0 ? b : THIN;
        kept.hold(p, entry);
        return true;
      },
    );
    yield* readPositions(
      objects,
      ids,
      rest.map((i) => tryThin[i]!),
      kept,
      onBatch,
    );
  }
  const wasDelta = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (base[i] !== WHOLE) wasDelta[i] = 1;
  const depth = chainDepths(base);
  await kept.regroup(depth);
  // Within a depth any order will do: with entries in the scratch file, kept entries go in the
  // order they were kept (`regroup` writes each depth's in that order, so each batch reads them
  // back in a few reads: KeptEntries.prefetch), then the others.
  const order = kept.spilled ? byDepth(wasDelta, depth, kept.keptOrder(), (i) => kept.wasKept(i)) : byDepth(wasDelta, depth);
  for (let at = 0, size = BATCH; at < order.length; at += size, size = step) {
    // Usually every entry was kept: no database read at all. Past `keepDeltaBytes` and the
    // scratch file's `spillDeltaBytes`, one read per batch, not read ahead.
    yield* readPositions(objects, ids, Array.from(order.subarray(at, at + size)), kept, onBatch, base);
  }
}

/**
 * The first pass of a full clone of a large store (see `batchesKeeping`): its first batch by id
 * in plan order, then one merged read of the `D` and `O` ranges (pack-scan.ts `scanStore`),
 * whole objects sent as they are met, then by id what the scan left (not settled when it
 * stopped; whole but stored only as a delta). Every position is settled when it returns.
 */
async function* packByRange(
  objects: ObjectStore,
  ids: Uint8Array,
  position: Positions,
  base: Int32Array,
  settle: (p: number, entry: Uint8Array) => void,
  kept: KeptEntries,
  onBatch: ((oids: readonly Oid[]) => void) | undefined,
): AsyncGenerator<PackBatch> {
  const n = base.length;
  // Positions settled by their `D` values read by id (none: they go whole).
  const settleById = async (at: number[]) => {
    const found = await objects.deltaEntriesAt(ids, at);
    for (let j = 0; j < at.length; j++) if (found[j] !== undefined) settle(at[j]!, found[j]!);
  };
  const done = new Uint8Array(n);
  const first = Array.from({ length: Math.min(n, BATCH) }, (_, p) => p);
  await settleById(first);
  done.fill(1, 0, first.length);
  yield* readPositions(
    objects,
    ids,
    first.filter((p) => base[p] === WHOLE),
    kept,
    onBatch,
  );
  const groups = scanStore(objects, position, done, (p, entry) => {
    settle(p, entry);
    return base[p] === WHOLE;
  });
  let left: ScanLeft;
  try {
    for (let r = await groups.next(); ; r = await groups.next()) {
      if (r.done) {
        left = r.value;
        break;
      }
      onBatch?.(hexAt(ids, r.value.positions));
      yield* withStreams(objects, r.value);
    }
  } finally {
    await groups.return(undefined as never);
  }
  // What the scan did not settle (it stopped: the pool holds mostly other objects) is looked
  // up; what goes whole without a whole entry is read by id (materialized).
  for (let at = 0; at < left.unsettled.length; at += BATCH) await settleById(left.unsettled.slice(at, at + BATCH));
  const rest = left.whole.concat(left.unsettled.filter((p) => base[p] === WHOLE));
  for (let at = 0; at < rest.length; at += BATCH) yield* readPositions(objects, ids, rest.slice(at, at + BATCH), kept, onBatch);
}

/**
 * One batch of the pack by plan positions: objects going whole (`base` WHOLE or not given) as
 * whole entries (materialized where stored only as deltas), the others as their stored delta
 * (kept from the first pass or read now).
 */
async function* readPositions(
  objects: ObjectStore,
  ids: Uint8Array,
  positions: number[],
  kept: KeptEntries,
  onBatch: ((oids: readonly Oid[]) => void) | undefined,
  base?: Int32Array,
): AsyncGenerator<PackBatch> {
  if (positions.length === 0) return;
  const whole: number[] = [];
  const reread: number[] = [];
  for (const p of positions) {
    if (base === undefined || base[p] === WHOLE) whole.push(p);
    else if (!kept.has(p)) reread.push(p);
  }
  if (base !== undefined) kept.prefetch(positions);
  const [wholeEntries, deltaEntries] = await Promise.all([
    whole.length > 0 ? objects.materializeAt(ids, whole) : [],
    reread.length > 0 ? objects.deltaEntriesAt(ids, reread) : [],
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
      if (d === undefined) {
        const oid = oidFromBytes(ids, p * 20);
        throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} vanished while packing`, { details: { oid } });
      }
      entries[k] = d;
    }
  });
  onBatch?.(hexAt(ids, positions));
  yield* withStreams(objects, { entries, positions });
}

/**
 * The entries of a pack of whole objects in plan order, one batched read per batch, the next
 * batch read ahead. Where every read is a round trip to another process (PostgreSQL,
 * IndexedDB: `costlyRequests`), batches after the first are four times larger, so a clone
 * sends a few reads, not one per 512 objects; the first stays small so the first bytes leave early.
 */
async function* entryBatches(objects: ObjectStore, ids: Uint8Array, onBatch?: (oids: readonly Oid[]) => void): AsyncGenerator<PackBatch> {
  const n = ids.length / 20;
  const step = objects.kv.costlyRequests ? BATCH * 4 : BATCH;
  const read = (at: number, size: number): Promise<PackBatch> | undefined => {
    if (at >= n) return undefined;
    const positions: number[] = [];
    for (let p = at; p < Math.min(n, at + size); p++) positions.push(p);
    return readAhead(objects.materializeAt(ids, positions).then((entries) => ({ entries, positions })));
  };
  let next = read(0, BATCH);
  try {
    for (let at = 0, size = BATCH; at < n; at += size, size = step) {
      const batch = await next!;
      next = read(at + size, step);
      onBatch?.(hexAt(ids, batch.positions!));
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
    ...(oids ? { oids: oids.slice(from, to) } : {}),
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
