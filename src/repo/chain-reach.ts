/**
 * Reach: how long the chains of stored deltas ending at a whole object are. Reading an object
 * stored as a delta reads its chain down to the first object stored whole; ingest keeps chains
 * within MAX_STORED_CHAIN (50), and the tip reversal (materialize.ts), which turns an older
 * version B into a delta of the tip's X, lengthens every chain ending at B by one. To keep
 * them bounded it must know B's reach.
 *
 * Records, per pool: `K pool oid(20)` -> reach (1 byte, capped at 255), for whole objects whose
 * reach is RECORDED_FROM or more (most chains are short: the records of a generated history of
 * 2,000 commits took 42 KB on disk, 1.6% of git's pack, where one for every root was kept; those
 * from 8 on are a seventh of them); `K pool` -> 1 byte: the pool's records are complete, so an
 * object without one has a reach below RECORDED_FROM (taken as RECORDED_FROM - 1). Writers raise them:
 * an ingest for the roots its deltas' chains end at (ChainBook, written with the pack's last
 * batch), the reversal for each X it makes the new end of B's chains; the sweep deletes an
 * object's record with it. So a reversal reads one record per pair instead of every `D` value
 * of the pool. A pool written by an earlier version (no marker) is scanned once (`scanReach`),
 * its records written, then read like any other.
 *
 * A record is a bound as good as its writers' view: chain lengths read through the resolved
 * cache are lower bounds (delta-chain.ts), and two writes of one pool at once may each raise a
 * record from what it read. A chain a few links past 50 costs a read a few more lookups; packs
 * cut chains when they are written (pack-out.ts).
 */
import { type Oid, oidToBytes, writeOid } from '../object/oid.js';
import { grown } from '../platform/bytes.js';
import { deltaEntryOf, refDeltaBaseAt } from '../object/packed.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, deltaKey, objectKey, reachKey, repoRange } from '../storage/keys.js';
import type { RepoContext } from './context.js';
import { OidMap, OidSet } from './oid-set.js';

/** Longest chain of stored deltas ingest builds, the reversal and replaced-whole.ts keep (git's pack.depth default). */
export const MAX_STORED_CHAIN = 50;

/** Largest reach a record holds (one byte). */
export const MAX_REACH = 255;

/** Reach from which a record is kept; below it, none (see the module comment). */
export const RECORDED_FROM = 8;

/** Records read or written per database call. */
const BATCH = 4096;

/** A record's value. */
export function encodeReach(n: number): Uint8Array {
  return Uint8Array.of(Math.min(MAX_REACH, Math.max(0, n)));
}

/** A record's reach; without one, the most an object without a record can have (RECORDED_FROM - 1). */
export function decodeReach(v: Uint8Array | undefined): number {
  return v === undefined || v.length === 0 ? RECORDED_FROM - 1 : v[0]!;
}

/**
 * Chain lengths and roots of one ingest's objects stored as deltas, and the reach of each root.
 * Keyed by raw ids (OidMap): the book lasts the whole ingest, and a Map of hex ids kept one
 * string per delta of the pack alive for every collection of the main thread to mark.
 */
export class ChainBook {
  /** Per object stored as a delta (new, or a stored base read): its number in the columns below. */
  readonly #chains = new OidMap();
  /** By number: the index of its chain's root, and its depth (at most MAX_REACH). */
  #rootOf = new Int32Array(1024);
  #depthOf = new Uint8Array(1024);
  /** Each root's raw id, 20 bytes, by index. */
  #roots = new Uint8Array(20 * 256);
  readonly #rootIndex = new OidMap();
  readonly #reach: number[] = [];
  /** The raw id of the hex id asked about (reused). */
  readonly #id = new Uint8Array(20);

  #raw(oid: Oid): Uint8Array {
    writeOid(oid, this.#id, 0);
    return this.#id;
  }

  /** Whether the chain of `oid` is known (it is stored as a delta). */
  has(oid: Oid): boolean {
    return this.#chains.get(this.#raw(oid)) >= 0;
  }

  /** Chain length of `oid`: 0 when it is stored whole (or not known to be a delta). */
  depth(oid: Oid): number {
    const n = this.#chains.get(this.#raw(oid));
    return n < 0 ? 0 : this.#depthOf[n]!;
  }

  /** Records `oid` stored as a delta of `base`, `depth` links from its root. */
  link(oid: Oid, base: Oid, depth: number): void {
    const n = this.#chains.get(this.#raw(base));
    this.#set(oid, n < 0 ? this.#root(base) : this.#rootOf[n]!, depth);
  }

  /** Records a stored object read as a base: `depth` links from `end`, where its chain was followed to. */
  stored(oid: Oid, depth: number, end: Oid): void {
    this.#set(oid, this.#root(end), depth);
  }

  #root(oid: Oid): number {
    const id = this.#raw(oid);
    let i = this.#rootIndex.get(id);
    if (i < 0) {
      i = this.#reach.length;
      this.#rootIndex.set(id, 0, i);
      if ((i + 1) * 20 > this.#roots.length) this.#roots = grown(this.#roots);
      this.#roots.set(id, i * 20);
      this.#reach.push(0);
    }
    return i;
  }

  #set(oid: Oid, root: number, depth: number): void {
    const d = Math.min(MAX_REACH, depth);
    const id = this.#raw(oid);
    let n = this.#chains.get(id);
    if (n < 0) {
      n = this.#chains.size;
      this.#chains.set(id, 0, n);
      if (n === this.#rootOf.length) {
        this.#rootOf = grown(this.#rootOf);
        this.#depthOf = grown(this.#depthOf);
      }
    }
    this.#rootOf[n] = root;
    this.#depthOf[n] = d;
    if (d > this.#reach[root]!) this.#reach[root] = d;
  }

  /** Each root (20 raw id bytes, a view valid until the book changes) with its reach. */
  *roots(): Generator<[Uint8Array, number]> {
    for (let i = 0; i < this.#reach.length; i++) yield [this.#roots.subarray(i * 20, i * 20 + 20), this.#reach[i]!];
  }
}

/**
 * The writes that raise the records of `book`'s roots with a reach of RECORDED_FROM or more
 * (each to the larger of its record and the book's reach); into a pool that held no object
 * (`fresh`), nothing to read, and the marker too: its records are complete from the start.
 */
export async function reachRecordOps(kv: Kv, pool: number, book: ChainBook, fresh: boolean): Promise<KvOp[]> {
  const roots = [...book.roots()].filter(([, n]) => n >= RECORDED_FROM);
  const ops: KvOp[] = [];
  for (let i = 0; i < roots.length; i += BATCH) {
    for (const op of await raiseOps(kv, pool, roots.slice(i, i + BATCH), !fresh)) ops.push(op);
  }
  if (fresh) ops.push(completeOp(pool));
  return ops;
}

/** The records of `oids` (decodeReach: RECORDED_FROM - 1 where none), one read. */
export async function readReach(kv: Kv, pool: number, oids: readonly Oid[]): Promise<number[]> {
  return (await kv.getMany(oids.map((o) => reachKey(pool, oidToBytes(o))))).map(decodeReach);
}

/** The writes that raise the records of `roots` to the reach given with each, where it is RECORDED_FROM or more. */
export function raiseReachOps(kv: Kv, pool: number, roots: readonly [Oid, number][]): Promise<KvOp[]> {
  const kept = roots.filter(([, n]) => n >= RECORDED_FROM).map(([oid, n]): [Uint8Array, number] => [oidToBytes(oid), n]);
  return kept.length === 0 ? Promise.resolve([]) : raiseOps(kv, pool, kept, true);
}

/** The puts that raise the records of `roots` (raw ids) to their reach, read first unless `read` is false (none can exist). */
async function raiseOps(kv: Kv, pool: number, roots: readonly [Uint8Array, number][], read: boolean): Promise<KvOp[]> {
  const keys = roots.map(([id]) => reachKey(pool, id));
  const before = read ? await kv.getMany(keys) : [];
  const ops: KvOp[] = [];
  roots.forEach(([, n], j) => {
    if (n > decodeReach(before[j])) ops.push({ type: 'put', key: keys[j]!, value: encodeReach(n) });
  });
  return ops;
}

/** The write of the marker: `pool`'s records are complete. */
function completeOp(pool: number): KvOp {
  return { type: 'put', key: reachKey(pool), value: Uint8Array.of(1) };
}

/**
 * The reach of each of `bases`, -1 for one not stored whole only (a reversal's candidates must
 * be): from their records and keys where the pool's records are complete (RECORDED_FROM - 1
 * for one without); otherwise from one pass over the pool (`scanReach`), whose results are
 * written as records with the marker, so later reversals read records.
 */
export async function reachOfBases(ctx: RepoContext, bases: readonly Oid[]): Promise<number[]> {
  const pool = ctx.objects.repoId;
  if ((await ctx.kv.get(reachKey(pool))) !== undefined) {
    const out: number[] = [];
    for (let i = 0; i < bases.length; i += BATCH) {
      const ids = bases.slice(i, i + BATCH).map(oidToBytes);
      const [whole, delta, values] = await Promise.all([
        ctx.kv.hasMany(ids.map((b) => objectKey(pool, b))),
        ctx.kv.hasMany(ids.map((b) => deltaKey(pool, b))),
        ctx.kv.getMany(ids.map((b) => reachKey(pool, b))),
      ]);
      values.forEach((v, j) => out.push(whole[j] && !delta[j] ? decodeReach(v) : -1));
    }
    return out;
  }
  const scan = await scanReach(ctx);
  await writeScanned(ctx.kv, pool, scan.roots());
  return bases.map((b) => scan.reach(oidToBytes(b)));
}

/** Writes the records a scan found from RECORDED_FROM on (raising, never lowering, one written meanwhile), then the marker. */
async function writeScanned(kv: Kv, pool: number, roots: Iterable<[Uint8Array, number]>): Promise<void> {
  let slice: [Uint8Array, number][] = [];
  for (const r of roots) {
    if (r[1] < RECORDED_FROM) continue;
    slice.push(r);
    if (slice.length < BATCH) continue;
    await kv.batch(await raiseOps(kv, pool, slice, true));
    slice = [];
  }
  await kv.batch([...(await raiseOps(kv, pool, slice, true)), completeOp(pool)]);
}

/** What a scan of a pool's chains found. */
interface Scanned {
  /** Reach of an object stored whole only (0: no chain ends at it); -1 for any other id. */
  reach(oid: Uint8Array): number;
  /** Every object some chain ends at (20 raw id bytes) with its reach. */
  roots(): Iterable<[Uint8Array, number]>;
}

/**
 * Every chain of the pool, measured: one pass over its `O` keys and `D` values, ids kept raw
 * (oid-set.ts: tens of bytes per object). Reads stop at the first object with a whole entry, so
 * an object with both keys ends chains too but is not stored whole only.
 */
async function scanReach(ctx: RepoContext): Promise<Scanned> {
  const pool = ctx.objects.repoId;
  const whole = new OidSet();
  for await (const k of ctx.kv.keys(repoRange(TAG.object, pool))) whole.add(k, 5);
  // Objects stored only as deltas: id -> index i (`index`), i -> its base's id (20 bytes in `bases`).
  const index = new OidMap();
  const bothForms = new OidSet();
  let bases: Uint8Array = new Uint8Array(20 * 4096);
  let n = 0;
  for await (const [k, v] of ctx.kv.entries(repoRange(TAG.delta, pool))) {
    if (whole.has(k, 5)) {
      bothForms.add(k, 5);
      continue;
    }
    if ((n + 1) * 20 > bases.length) bases = grown(bases);
    const entry = deltaEntryOf(v);
    const at = refDeltaBaseAt(entry);
    bases.set(entry.subarray(at, at + 20), n * 20);
    index.set(k, 5, n++);
  }
  const depth = new Int32Array(n); // 0: not computed yet
  const rootOf = new Int32Array(n); // the index in `bases` naming the root, for each object
  const reach = new OidMap();
  const roots: number[] = []; // one index in `bases` per distinct root
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    if (depth[i] !== 0) continue;
    let cur = i;
    // A cycle cannot come from real packs; the bound ends the walk if one did.
    while (depth[cur] === 0 && path.length <= n) {
      path.push(cur);
      const next = index.get(bases, cur * 20);
      if (next < 0) break;
      cur = next;
    }
    let d = depth[cur] !== 0 && path[path.length - 1] !== cur ? depth[cur]! : 0;
    const root = depth[cur] !== 0 && path[path.length - 1] !== cur ? rootOf[cur]! : cur;
    while (path.length > 0) {
      const j = path.pop()!;
      depth[j] = ++d;
      rootOf[j] = root;
    }
    // The root's id is the base of the last link walked.
    const before = reach.get(bases, root * 20);
    if (before < 0) roots.push(root);
    if (d > before) reach.set(bases, root * 20, d);
  }
  return {
    reach: (oid) => (whole.has(oid) && !bothForms.has(oid) ? Math.max(0, reach.get(oid)) : -1),
    *roots() {
      for (const r of roots) {
        const id = bases.subarray(r * 20, r * 20 + 20);
        yield [id, reach.get(id)];
      }
    },
  };
}
