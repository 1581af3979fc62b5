/**
 * Writing packs from the store: the stored entries in batches (one `getMany` and one chunk per
 * batch), framed (header, SHA-1 trailer) by pack/pack-writer.ts `writePackBatches`. Objects
 * kept as ref-deltas (see ingest.ts) go out as deltas when their base is in the pack or, for a
 * thin pack, on the client.
 */
import { NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { refDeltaBase } from '../object/packed.js';
import { writePackBatches, type PackBatch } from '../pack/pack-writer.js';

/** Longest delta chain a pack carries (git's pack.depth default). */
export const MAX_CHAIN = 50;

/** Options of `packBytes`. */
export interface PackBytesOptions {
  /** The client asked for `ofs-delta`: deltas whose base is earlier in the pack go out as OBJ_OFS_DELTA. */
  ofsDelta?: boolean;
}

/** One complete pack of exactly `oids` (see the module comment), framed by pack/pack-writer.ts. */
export async function* packBytes(
  objects: ObjectStore,
  oids: readonly Oid[],
  deltas: boolean,
  thinBases: ReadonlySet<Oid> | undefined,
  options: PackBytesOptions = {},
): AsyncGenerator<Uint8Array> {
  const BATCH = 512;
  // The header goes out before any lookup (a v0 deepen round only reads the first chunk).
  const ofsBases = options.ofsDelta ? new Set<Oid>() : undefined;
  async function* batches(): AsyncGenerator<PackBatch> {
    // With deltas: objects kept as ref-deltas whose base is in this pack go out as deltas, after
    // every whole object and ordered by chain depth, so each base precedes its deltas (git
    // requires it of ofs-deltas; some readers, isomorphic-git among them, resolve a ref-delta
    // only against what they have seen).
    const asDelta = deltas || thinBases ? await deltaOrder(objects, oids, BATCH, thinBases) : new Map<Oid, Uint8Array>();
    if (ofsBases) for (const e of asDelta.values()) ofsBases.add(refDeltaBase(e) as Oid);
    yield* storedBatches(objects, oids, asDelta, BATCH);
  }
  yield* writePackBatches(oids.length, batches(), { ofsBases });
}

/** The stored entries of `oids` in pack order: whole objects by batched reads, then `asDelta` in its order. */
async function* storedBatches(objects: ObjectStore, oids: readonly Oid[], asDelta: ReadonlyMap<Oid, Uint8Array>, BATCH: number): AsyncGenerator<PackBatch> {
  const whole = asDelta.size === 0 ? oids : oids.filter((o) => !asDelta.has(o));
  // One batch read ahead: the next getMany runs while this chunk goes to the socket.
  const read = (i: number) => (i < whole.length ? readAhead(objects.getStored(whole.slice(i, i + BATCH))) : undefined);
  let next = read(0);
  try {
    for (let i = 0; i < whole.length; i += BATCH) {
      const stored = await next!;
      next = read(i + BATCH);
      for (let j = 0; j < stored.length; j++) {
        if (stored[j] === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${whole[i + j]} vanished while packing`);
      }
      yield { entries: stored as Uint8Array[], oids: whole.slice(i, i + BATCH) };
    }
  } finally {
    // A stream abandoned mid-way (client gone) or failed: the read ahead has nobody to report to
    // (readAhead already made its failure a handled one).
    next = undefined;
  }
  const ids = [...asDelta.keys()];
  const rest = [...asDelta.values()];
  for (let i = 0; i < rest.length; i += BATCH) yield { entries: rest.slice(i, i + BATCH), oids: ids.slice(i, i + BATCH) };
}

/**
 * Ref-delta entries usable in a pack of `oids` (base in the pack, or among `thinBases` the
 * client has: a thin pack), in base-before-delta order.
 */
async function deltaOrder(objects: ObjectStore, oids: readonly Oid[], batch: number, thinBases?: ReadonlySet<Oid>): Promise<Map<Oid, Uint8Array>> {
  const inPack = new Set(oids);
  const found = new Map<Oid, { base: Oid; entry: Uint8Array }>();
  // A few lookups in flight at once: most ids have no delta record, and the database answers
  // batches on its own threads while this one checks the last.
  const starts: number[] = [];
  for (let i = 0; i < oids.length; i += batch) starts.push(i);
  const LOOKAHEAD = 3;
  const lookups = starts.slice(0, LOOKAHEAD).map((i) => readAhead(objects.getDeltas(oids.slice(i, i + batch))));
  for (let k = 0; k < starts.length; k++) {
    const i = starts[k]!;
    const entries = await lookups[k]!;
    if (k + LOOKAHEAD < starts.length) lookups.push(readAhead(objects.getDeltas(oids.slice(starts[k + LOOKAHEAD]!, starts[k + LOOKAHEAD]! + batch))));
    entries.forEach((e, j) => {
      if (e === undefined) return;
      const base = refDeltaBase(e) as Oid;
      if (inPack.has(base) || thinBases?.has(base)) found.set(oids[i + j]!, { base, entry: e });
    });
  }
  // Levels: a delta whose base goes out whole is level 1; whose base is level n, level n + 1.
  // Past MAX_CHAIN the object goes out whole and the chain starts again from it (deltas kept
  // commit by commit would otherwise chain through the whole history; git stops at 50 too).
  const ordered = new Map<Oid, Uint8Array>();
  const placed = new Set<Oid>();
  let left = [...found.keys()];
  let depth = 0;
  while (left.length > 0) {
    const level = left.filter((o) => {
      const base = found.get(o)!.base;
      return !found.has(base) || placed.has(base);
    });
    if (level.length === 0) break; // a cycle cannot come from real packs; the rest go out whole
    if (++depth > MAX_CHAIN) {
      for (const o of level) found.delete(o);
      left = left.filter((o) => found.has(o));
      depth = 0;
      continue;
    }
    for (const o of level) ordered.set(o, found.get(o)!.entry);
    for (const o of level) placed.add(o);
    left = left.filter((o) => !placed.has(o));
  }
  return ordered;
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
