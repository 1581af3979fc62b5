/**
 * The commit graph: per commit, its root tree, parents, generation number (1 for a root, else
 * 1 + the largest of its parents') and committer time, stored beside the objects under 'C'
 * (storage/keys.ts) in a small fixed binary layout. History walks read these instead of
 * decoding commits, and cut by generation: a commit cannot reach another whose generation is
 * not below its own. Records are written with the objects (ingest, API commits); a commit
 * without one (a database written before, or a commit whose ancestry has none yet) gets it on
 * first need: decoded, its generation taken from its parents' (iteratively, in batches), and
 * written back. A record describes content-addressed facts, so it never goes stale and may be
 * cached in the process.
 */
import { LRUCache } from 'lru-cache';
import { NotFoundError } from '../errors.js';
import { type Oid, oidFromBytes, oidToBytes, writeOid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, commitGraphKey, repoRange } from '../storage/keys.js';

/** What the graph keeps of a commit. */
export interface CommitRecord {
  tree: Oid;
  parents: Oid[];
  /** 1 for a root commit, else 1 + the largest generation of its parents. */
  generation: number;
  /** Committer time, seconds since the epoch. */
  time: number;
}

/** A commit as decoded, before its generation is known. */
export type CommitFacts = Omit<CommitRecord, 'generation'>;

/** Reads of a walk after which it loads every stored record at once (a long chain is one read per commit otherwise). */
const SCAN_AFTER = 1024;
/** The same for a walk known to go down to the roots (a full clone's): a read costs about a millisecond, loading every record of git's own history 0.6 s. */
export const SCAN_AFTER_WHOLE = 32;

const VERSION = 1;
const HEAD = 13; // version(1) generation(4) time(8)
const BATCH = 4096;

/** The stored form of a record: version, generation, time, tree, parents. */
export function encodeCommitRecord(r: CommitRecord): Uint8Array {
  const b = new Uint8Array(HEAD + 20 * (1 + r.parents.length));
  const v = new DataView(b.buffer);
  b[0] = VERSION;
  v.setUint32(1, r.generation);
  v.setFloat64(5, r.time);
  writeOid(r.tree, b, HEAD);
  r.parents.forEach((p, i) => writeOid(p, b, HEAD + 20 * (i + 1)));
  return b;
}

/** A stored record, or undefined when it is not one this version reads (then it is recomputed). */
export function decodeCommitRecord(b: Uint8Array): CommitRecord | undefined {
  if (b.length < HEAD + 20 || b[0] !== VERSION || (b.length - HEAD) % 20 !== 0) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parents: Oid[] = [];
  for (let o = HEAD + 20; o < b.length; o += 20) parents.push(oidFromBytes(b, o));
  const generation = v.getUint32(1);
  if (generation < 1) return undefined;
  return { tree: oidFromBytes(b, HEAD), parents, generation, time: v.getFloat64(5) };
}

// One cache for every graph of the process, bounded by approximate bytes; keys carry the
// graph's serial, so two repositories (or two engines over different databases) never mix.
const cache = new LRUCache<string, CommitRecord>({ maxSize: 32 * 1024 * 1024, sizeCalculation: (r) => 320 + 80 * r.parents.length });
let serial = 0;

/** Generations for `pending` (commits whose parents are in `pending` or have one in `known`), parents first, without recursion; added to `known`. Commits with a parent in neither get none. */
export function assignGenerations(pending: ReadonlyMap<Oid, { parents: readonly Oid[] }>, known: Map<Oid, number>): void {
  const unknown = new Set<Oid>();
  for (const start of pending.keys()) {
    if (known.has(start)) continue;
    const stack: Oid[] = [start];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (known.has(top) || unknown.has(top)) {
        stack.pop();
        continue;
      }
      let ready = true;
      let lost = false;
      let g = 0;
      for (const p of pending.get(top)!.parents) {
        const pg = known.get(p);
        if (pg !== undefined) g = Math.max(g, pg);
        else if (unknown.has(p) || !pending.has(p)) lost = true;
        else (ready = false), stack.push(p);
      }
      if (!ready) continue;
      stack.pop();
      if (lost) unknown.add(top);
      else known.set(top, g + 1);
    }
  }
}

/** The write of one commit's record, with the commit's id. */
export interface RecordPut {
  oid: Oid;
  op: KvOp & { type: 'put' };
}

/** The commit graph of one repository's object store. */
export class CommitGraph {
  readonly #kv: Kv;
  readonly #store: ObjectStore;
  readonly #prefix: string;

  constructor(kv: Kv, store: ObjectStore) {
    this.#kv = kv;
    this.#store = store;
    this.#prefix = `${++serial}:`;
  }

  /** Records already kept (cached or stored), undefined where there is none; nothing is computed. */
  async stored(oids: readonly Oid[]): Promise<(CommitRecord | undefined)[]> {
    const out: (CommitRecord | undefined)[] = oids.map((o) => cache.get(this.#prefix + o));
    const miss: number[] = [];
    for (let i = 0; i < oids.length; i++) if (out[i] === undefined) miss.push(i);
    for (let i = 0; i < miss.length; i += BATCH) {
      const chunk = miss.slice(i, i + BATCH);
      const values = await this.#kv.getMany(chunk.map((j) => commitGraphKey(this.#store.repoId, oidToBytes(oids[j]!))));
      chunk.forEach((j, k) => {
        const v = values[k];
        const r = v === undefined ? undefined : decodeCommitRecord(v);
        if (r !== undefined) cache.set(this.#prefix + oids[j]!, r), (out[j] = r);
      });
    }
    return out;
  }

  /**
   * Records of `oids`, computing (and writing back) those missing. Undefined for objects that
   * are not commits; a missing object is a NotFoundError, or undefined with `skipMissing`.
   */
  async records(oids: readonly Oid[], options: { skipMissing?: boolean } = {}): Promise<(CommitRecord | undefined)[]> {
    const out = await this.stored(oids);
    const miss = oids.filter((_, i) => out[i] === undefined);
    if (miss.length === 0) return out;
    const computed = await this.#compute(miss, options.skipMissing === true);
    return oids.map((o, i) => out[i] ?? computed.get(o));
  }

  /** Records of commits that have none: decoded, generations from the parents' records (computed the same way where missing). */
  async #compute(oids: readonly Oid[], skipMissing: boolean): Promise<Map<Oid, CommitRecord>> {
    const facts = new Map<Oid, CommitFacts>();
    const gens = new Map<Oid, number>();
    // The asked objects may be anything; parents are commits (ingest checks every reference's type).
    const asked = [...new Set(oids)];
    const infos = await this.#store.info(asked);
    let frontier = asked.filter((o, i) => {
      const type = infos[i]?.type;
      if (type === undefined && !skipMissing) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${o} not found`, { details: { oid: o } });
      return type === 'commit';
    });
    while (frontier.length > 0) {
      const parents = new Set<Oid>();
      for (let i = 0; i < frontier.length; i += BATCH) {
        const chunk = frontier.slice(i, i + BATCH);
        const decoded = await this.#store.decodeMany(chunk);
        chunk.forEach((oid, j) => {
          const d = decoded[j]!;
          if (d.type !== 'commit') return;
          facts.set(oid, { tree: d.commit.tree, parents: d.commit.parents, time: d.commit.committer.timestamp });
          for (const p of d.commit.parents) if (!facts.has(p) && !gens.has(p)) parents.add(p);
        });
      }
      const ask = [...parents].filter((p) => !facts.has(p));
      const found = await this.stored(ask);
      frontier = [];
      ask.forEach((p, i) => {
        const r = found[i];
        if (r !== undefined) gens.set(p, r.generation);
        else frontier.push(p);
      });
    }
    assignGenerations(facts, gens);
    const out = new Map<Oid, CommitRecord>();
    let ops: KvOp[] = [];
    for (const [oid, f] of facts) {
      const generation = gens.get(oid);
      if (generation === undefined) continue;
      const r: CommitRecord = { ...f, generation };
      out.set(oid, r);
      cache.set(this.#prefix + oid, r);
      ops.push(this.#put(oid, r));
      if (ops.length >= BATCH) await this.#kv.batch(ops), (ops = []);
    }
    await this.#kv.batch(ops);
    return out;
  }

  /** Every stored record of the repository, in one range scan. */
  async all(): Promise<Map<Oid, CommitRecord>> {
    const out = new Map<Oid, CommitRecord>();
    for await (const [k, v] of this.#kv.entries(repoRange(TAG.commitGraph, this.#store.repoId))) {
      const r = decodeCommitRecord(v);
      if (r !== undefined) out.set(oidFromBytes(k, 5), r);
    }
    return out;
  }

  /**
   * A reader for one walk: `records` in batches, until the walk has made `scanAfter` reads
   * (a long history, one commit per level); then every stored record is loaded by one range
   * scan and read from memory, so a full clone's walk is not one database round trip per commit.
   */
  reader(scanAfter = SCAN_AFTER): (oids: readonly Oid[], options?: { skipMissing?: boolean }) => Promise<(CommitRecord | undefined)[]> {
    let reads = 0;
    let all: Map<Oid, CommitRecord> | undefined;
    return async (oids, options) => {
      if (all === undefined && ++reads > scanAfter) all = await this.all();
      if (all === undefined) return this.records(oids, options);
      const out = oids.map((o) => all!.get(o));
      const miss = oids.filter((_, i) => out[i] === undefined);
      if (miss.length === 0) return out;
      const found = await this.records(miss, options);
      const byOid = new Map(miss.map((o, i) => [o, found[i]]));
      return oids.map((o, i) => out[i] ?? byOid.get(o));
    };
  }

  /**
   * Writes of the records of new commits (a pack's, an API commit's): generations from the
   * parents among them or from stored records, each with its commit's id, parents before their
   * children (by generation). A commit whose ancestry has no records yet gets none here (it is
   * computed on first need instead of making the write walk history).
   */
  async recordsFor(commits: ReadonlyMap<Oid, CommitFacts>, shallow?: ReadonlySet<string>): Promise<RecordPut[]> {
    const outside = new Set<Oid>();
    for (const f of commits.values()) for (const p of f.parents) if (!commits.has(p)) outside.add(p);
    const ask = [...outside];
    const found = await this.stored(ask);
    const gens = new Map<Oid, number>();
    ask.forEach((p, i) => found[i] !== undefined && gens.set(p, found[i]!.generation));
    // A shallow fetch's boundary commits: their absent parents count as generation 0.
    for (const oid of shallow ?? []) for (const p of commits.get(oid as Oid)?.parents ?? []) if (!gens.has(p) && !commits.has(p)) gens.set(p, 0);
    assignGenerations(commits, gens);
    const puts: (RecordPut & { generation: number })[] = [];
    for (const [oid, f] of commits) {
      const generation = gens.get(oid);
      if (generation === undefined) continue;
      // Not cached: the write may still fail; the record is cached when first read.
      puts.push({ oid, generation, op: this.#put(oid, { ...f, generation }) });
    }
    return puts.sort((a, b) => a.generation - b.generation);
  }

  #put(oid: Oid, r: CommitRecord): KvOp & { type: 'put' } {
    return { type: 'put', key: commitGraphKey(this.#store.repoId, oidToBytes(oid)), value: encodeCommitRecord(r) };
  }
}

const graphs = new WeakMap<ObjectStore, CommitGraph>();

/** The commit graph of an object store (one per store). */
export function commitGraph(store: ObjectStore): CommitGraph {
  let g = graphs.get(store);
  if (g === undefined) graphs.set(store, (g = new CommitGraph(store.kv, store)));
  return g;
}
