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
 *
 * Such a pack does not wait to be read whole, either (EarlyLanding): once ingest holds more than
 * ONE_BATCH_KEYS objects or its memory quarantine's bytes, its blobs and trees land as they are
 * checked, a batch of the reader's at a time while the reader goes on, each after the one before
 * and a delta never before its base; only its commits and tags (and streamed blobs' markers, and
 * deltas whose base waits with them) wait for the reading to end. Its commits then land through
 * it too, with their commit-graph records, by generation in batches (a commit after its parents,
 * so a crash leaves no landed commit with a missing ancestor), and only its tags and the sweep
 * marker's withdrawal wait for the last batch. That hides LevelDB's writes behind
 * the reading and writes a long history once, where it used to be spilled to the quarantine range
 * and copied out of it. The first batch carries a sweep marker (sweep-state.ts) and the last
 * withdraws it. If the pack then fails, what landed is unreferenced: it is deleted again when no
 * other write of the pool can have relied on it (SweepGuard.alone), else left to the sweep.
 */
import type { Kv, KvOp } from '../storage/kv.js';
import { deltaKey, objectKey } from '../storage/keys.js';
import { sweepMarkOp } from './sweep-state.js';
import type { ObjectType, Oid } from '../object/oid.js';
import { oidToBytes } from '../object/oid.js';
import { isStoredDelta } from '../object/packed.js';
import { StorageError } from '../errors.js';
import type { RecordPut } from './commit-graph.js';

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
  /** Chain length of every object (0: stored whole; chain-reach.ts ChainBook). */
  chains: { depth(oid: Oid): number };
  /** The type of an object of the pack, by raw id. */
  typeOf: (id: Uint8Array) => ObjectType | undefined;
}

/**
 * Writes every quarantined object under `O` or `D` by its form, and `graph` (the commit-graph
 * records) and `last` with the pack's commits and tags: in one batch, or in the order of the
 * module comment. With `early` (a pack that landed its blobs and trees early), its commits land
 * through it as well, parents first, each batch with their records, and only its tags and `last`
 * wait for the last batch.
 */
export async function promote(kv: Kv, repoId: number, q: Quarantined, graph: readonly RecordPut[], last: readonly KvOp[], early?: EarlyLanding): Promise<void> {
  // Ids by where they go: [0] whole, [n] deltas of chain length n; commits and tags last.
  const levels: Oid[][] = [];
  const tail = new Set<Oid>();
  const place = (oid: Oid) => {
    const type = q.typeOf(oidToBytes(oid));
    if (type === 'commit' || type === 'tag') return void tail.add(oid);
    const n = q.chains.depth(oid);
    while (levels.length <= n) levels.push([]);
    levels[n]!.push(oid);
  };
  for (const oid of q.pending.keys()) place(oid);
  for (const oid of q.spilled) if (!q.pending.has(oid)) place(oid);

  const atomic = q.spilled.size === 0 && q.pending.size + graph.length + last.length <= ONE_BATCH_KEYS;
  const held: KvOp[] = []; // the last batch: commits (unless landed early), tags and records, or everything when atomic
  for (const ids of levels) {
    for (let i = 0; i < ids.length; i += PROMOTE_BATCH_KEYS) {
      const ops = await putsOf(kv, repoId, q, ids.slice(i, i + PROMOTE_BATCH_KEYS));
      // A level lands before the next starts: a delta's base is one level down.
      if (atomic) for (const op of ops) held.push(op);
      else await batched(kv, ops);
    }
  }
  let records = graph;
  if (!atomic && early !== undefined) {
    // A long history's commits (82,000 of git's, 30 MB) and records in one batch grew LevelDB's
    // memtable and the process by ~200 MB at the very end of a push. By generation, a batch at a
    // time, each with its record: a commit lands after its parents, so whatever prefix landed
    // names no missing object.
    for (let i = 0; i < graph.length; i += PROMOTE_BATCH_KEYS / 2) {
      const chunk = graph.slice(i, i + PROMOTE_BATCH_KEYS / 2);
      const ids = chunk.map((r) => r.oid).filter((oid) => tail.delete(oid));
      const values = await valuesOf(kv, q, ids);
      ids.forEach((oid, j) => early.add(oid, oidToBytes(oid), values[j]!));
      for (const r of chunk) early.alongside(r.op);
      await early.flush();
    }
    await early.done();
    records = [];
  }
  const rest = [...tail];
  for (let i = 0; i < rest.length; i += PROMOTE_BATCH_KEYS) for (const op of await putsOf(kv, repoId, q, rest.slice(i, i + PROMOTE_BATCH_KEYS))) held.push(op);
  // One at a time: a spread of a long history's records would overflow the call stack.
  for (const r of records) held.push(r.op);
  for (const op of last) held.push(op);
  await kv.batch(held);
}

/** The puts of `ids` under `O` or `D` by their form. */
async function putsOf(kv: Kv, repoId: number, q: Quarantined, ids: readonly Oid[]): Promise<(KvOp & { type: 'put' })[]> {
  const values = await valuesOf(kv, q, ids);
  return ids.map((oid, i) => storedPut(repoId, oidToBytes(oid), values[i]!));
}

/** The stored forms of `ids`, from memory or read back from the quarantine range. */
async function valuesOf(kv: Kv, q: Quarantined, ids: readonly Oid[]): Promise<Uint8Array[]> {
  const values: (Uint8Array | undefined)[] = ids.map((oid) => q.pending.get(oid));
  const back = ids.flatMap((_, i) => (values[i] === undefined ? [i] : []));
  if (back.length > 0) {
    const vals = await kv.getMany(back.map((i) => q.qKey(ids[i]!)));
    back.forEach((i, j) => (values[i] = vals[j]));
  }
  return values.map((v, i) => {
    if (v === undefined) throw new StorageError(`quarantined object ${ids[i]} vanished before promotion`);
    return v;
  });
}

/** The put of an object's stored form under `O` (a whole entry) or `D` (a delta value). */
function storedPut(repoId: number, id: Uint8Array, value: Uint8Array): KvOp & { type: 'put' } {
  return { type: 'put', key: isStoredDelta(value) ? deltaKey(repoId, id) : objectKey(repoId, id), value };
}

/**
 * Writes `ops`, in order, in batches of PROMOTE_BATCH_KEYS keys or PROMOTE_BATCH_BYTES bytes of
 * values (promotion; a spill to quarantine; landing early and taking back).
 */
export async function batched(kv: Kv, ops: Iterable<KvOp>): Promise<void> {
  let chunk: KvOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    chunk.push(op);
    if (op.type === 'put') bytes += op.value.length;
    if (chunk.length >= PROMOTE_BATCH_KEYS || bytes >= PROMOTE_BATCH_BYTES) {
      await kv.batch(chunk);
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) await kv.batch(chunk);
}

/** Bytes of an object's key (`O` or `D`, pool id, raw id): EarlyLanding records the keys it sent. */
const KEY = 25;

/** The id recorded beside a write that is not an object's (EarlyLanding.alongside): matches no id. */
const NOT_AN_OBJECT = '' as Oid;

/** A large pack's blobs and trees, landed while the pack is still read; see the module comment. */
export class EarlyLanding {
  readonly #kv: Kv;
  readonly #repoId: number;
  /** The next batch: its puts, and the objects' ids in the same order. */
  #ops: (KvOp & { type: 'put' })[] = [];
  #oids: Oid[] = [];
  /** The ids and puts of the batch being written: bases the reader may ask for meanwhile. */
  #sending: { oids: Oid[]; ops: (KvOp & { type: 'put' })[] } = { oids: [], ops: [] };
  /** The write in flight (its failure is raised by the next flush or `done`). */
  #writing: Promise<void> = Promise.resolve();
  /** The keys sent to the database, KEY bytes each, one array per batch. */
  readonly #landed: Uint8Array[] = [];
  #marker: Uint8Array | undefined;
  /** Objects added (landed, landing, or in the next batch). */
  count = 0;

  constructor(kv: Kv, repoId: number) {
    this.#kv = kv;
    this.#repoId = repoId;
  }

  /** Adds a checked blob or tree (its whole entry or `D` value) to the next batch. */
  add(oid: Oid, id: Uint8Array, value: Uint8Array): void {
    this.#ops.push(storedPut(this.#repoId, id, value));
    this.#oids.push(oid);
    this.count++;
  }

  /**
   * Adds a write of another key of the same layout (a commit's graph record) to the next batch:
   * taken back with the objects, never served by `get`.
   */
  alongside(op: KvOp & { type: 'put' }): void {
    if (op.key.length !== KEY) throw new StorageError(`a write landing early has a key of ${op.key.length} bytes, not ${KEY}`);
    this.#ops.push(op);
    this.#oids.push(NOT_AN_OBJECT);
  }

  /** The value of an object added whose write has not completed (rare: a base the reader let go). */
  get(oid: Oid): Uint8Array | undefined {
    for (const { oids, ops } of [{ oids: this.#oids, ops: this.#ops }, this.#sending]) {
      const i = oids.indexOf(oid);
      if (i >= 0) return ops[i]!.value;
    }
    return undefined;
  }

  /** Sends the objects added since the last flush, once the write before has landed. */
  async flush(): Promise<void> {
    await this.#writing;
    const ops = this.#ops;
    const sending = { oids: this.#oids, ops };
    this.#ops = [];
    this.#oids = [];
    if (ops.length === 0) return;
    // Recorded before the write: a write that fails may have landed part of it.
    const record = new Uint8Array(ops.length * KEY);
    for (let i = 0; i < ops.length; i++) record.set(ops[i]!.key, i * KEY);
    this.#landed.push(record);
    let writes = ops;
    if (this.#marker === undefined) {
      const marker = sweepMarkOp(this.#repoId);
      this.#marker = marker.key;
      writes = [marker, ...ops];
    }
    this.#sending = sending;
    const writing = batched(this.#kv, writes).finally(() => {
      if (this.#sending === sending) this.#sending = { oids: [], ops: [] };
    });
    writing.catch(() => undefined); // raised by the next flush or done()
    this.#writing = writing;
  }

  /** Waits for the write in flight, whatever its outcome. */
  settled(): Promise<void> {
    return this.#writing.catch(() => undefined);
  }

  /** Sends what is left and waits until everything landed. */
  async done(): Promise<void> {
    await this.flush();
    await this.#writing;
  }

  /** The deletion of the sweep marker, for the pack's last batch. */
  withdrawal(): KvOp[] {
    return this.#marker === undefined ? [] : [{ type: 'del', key: this.#marker }];
  }

  /** Deletes every object landed and the marker (a failed pack, when nothing else can have relied on them). */
  async takeBack(): Promise<void> {
    await this.settled();
    await batched(this.#kv, this.#deletions());
  }

  /** The deletions of every key sent, then of the marker. */
  *#deletions(): Generator<KvOp> {
    for (const record of this.#landed) for (let i = 0; i < record.length; i += KEY) yield { type: 'del', key: record.subarray(i, i + KEY) };
    yield* this.withdrawal();
  }
}
