/**
 * The last step of an ingest: checked objects out of quarantine into the repository's object
 * space.
 *
 * A pack of up to ONE_BATCH_KEYS objects held in memory lands in one batch, atomically, as it
 * always did. A larger one (an import, a long history pushed at once) lands in batches of
 * PROMOTE_BATCH_KEYS: LevelDB inserts one batch into a memtable that grows far past its 4 MiB
 * write buffer, so 184,000 objects (30 MB) took 1.8 s in one batch and 0.9 s in batches of
 * 1,024 (classic-level alone, same keys and values). The order keeps every prefix readable, so a
 * crash between batches leaves what a crash before them left: unreferenced objects the sweep
 * removes, never an object that cannot be read:
 *   1. blobs and trees stored whole;
 *   2. blobs and trees stored as deltas, by their chain's length, so a delta lands after its base;
 *   3. commits and tags with the commit-graph records, in one last batch: no commit of the pack is
 *      in the store before every blob and tree of the pack is.
 * A tree of a pack that crashed half way may lack some of its entries' objects. No ref names it,
 * and a client sends every object that the refs it was shown do not reach.
 */
import type { Kv, KvOp } from '../storage/kv.js';
import { deltaKey, objectKey } from '../storage/keys.js';
import type { ObjectType, Oid } from '../object/oid.js';
import { oidToBytes } from '../object/oid.js';
import { isStoredDelta } from '../object/packed.js';
import { StorageError } from '../errors.js';

/** Packs of at most this many objects (and graph records), none spilled, land in one batch. */
export const ONE_BATCH_KEYS = 16_384;
/** Keys per batch of a larger pack's promotion and of a spill to quarantine; see the module comment. */
export const PROMOTE_BATCH_KEYS = 1024;
/** Bytes of values per such batch, whichever limit comes first. */
export const PROMOTE_BATCH_BYTES = 4 * 1024 * 1024;

/** What ingest holds when it promotes. */
export interface Quarantined {
  /** Objects held in memory (whole entries or `D` values), by id. */
  pending: ReadonlyMap<Oid, Uint8Array>;
  /** Objects spilled to the quarantine range. */
  spilled: ReadonlySet<Oid>;
  /** The quarantine key of an id. */
  qKey: (oid: Oid) => Uint8Array;
  /** Chain length of every object stored as a delta (absent: stored whole). */
  chains: ReadonlyMap<Oid, number>;
  /** The type of an object of the pack, by raw id. */
  typeOf: (id: Uint8Array) => ObjectType | undefined;
}

/**
 * Writes every quarantined object under `O` or `D` by its form, and `last` (the commit-graph
 * records) with the pack's commits and tags: in one batch, or in the order of the module comment.
 */
export async function promote(kv: Kv, repoId: number, q: Quarantined, last: readonly KvOp[]): Promise<void> {
  // Ids by where they go: [0] whole, [n] deltas of chain length n; commits and tags last.
  const levels: Oid[][] = [];
  const tail: Oid[] = [];
  const place = (oid: Oid) => {
    const type = q.typeOf(oidToBytes(oid));
    if (type === 'commit' || type === 'tag') return void tail.push(oid);
    const n = q.chains.get(oid) ?? 0;
    while (levels.length <= n) levels.push([]);
    levels[n]!.push(oid);
  };
  for (const oid of q.pending.keys()) place(oid);
  for (const oid of q.spilled) if (!q.pending.has(oid)) place(oid);

  const atomic = q.spilled.size === 0 && q.pending.size + last.length <= ONE_BATCH_KEYS;
  const held: KvOp[] = []; // the last batch: commits, tags and records, or everything when atomic
  for (const ids of [...levels, tail]) {
    for (let i = 0; i < ids.length; i += PROMOTE_BATCH_KEYS) {
      const ops = await putsOf(kv, repoId, q, ids.slice(i, i + PROMOTE_BATCH_KEYS));
      // A level lands before the next starts: a delta's base is one level down.
      if (atomic || ids === tail) for (const op of ops) held.push(op);
      else await batched(kv, ops);
    }
  }
  // One at a time: a spread of a long history's records would overflow the call stack.
  for (const op of last) held.push(op);
  await kv.batch(held);
}

/** The puts of `ids` under `O` or `D` by their form, values from memory or read back from the quarantine range. */
async function putsOf(kv: Kv, repoId: number, q: Quarantined, ids: readonly Oid[]): Promise<(KvOp & { type: 'put' })[]> {
  const values: (Uint8Array | undefined)[] = ids.map((oid) => q.pending.get(oid));
  const back = ids.flatMap((_, i) => (values[i] === undefined ? [i] : []));
  if (back.length > 0) {
    const vals = await kv.getMany(back.map((i) => q.qKey(ids[i]!)));
    back.forEach((i, j) => (values[i] = vals[j]));
  }
  return ids.map((oid, i) => {
    const v = values[i];
    if (v === undefined) throw new StorageError(`quarantined object ${oid} vanished before promotion`);
    const id = oidToBytes(oid);
    return { type: 'put', key: isStoredDelta(v) ? deltaKey(repoId, id) : objectKey(repoId, id), value: v };
  });
}

/** Writes `ops`, in order, in batches of PROMOTE_BATCH_KEYS keys or PROMOTE_BATCH_BYTES bytes (promotion; a spill to quarantine). */
export async function batched(kv: Kv, ops: Iterable<KvOp & { type: 'put' }>): Promise<void> {
  let chunk: KvOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    chunk.push(op);
    bytes += op.value.length;
    if (chunk.length >= PROMOTE_BATCH_KEYS || bytes >= PROMOTE_BATCH_BYTES) {
      await kv.batch(chunk);
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) await kv.batch(chunk);
}
