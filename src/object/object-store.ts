/**
 * Objects of one repository over the key-value store. Each object is kept whole (`O`: a pack
 * entry, object/packed.ts), as the ref-delta it arrived as (`D`, StoredDelta), or both (the
 * previous layout kept every object whole; objects a depth-1 clone sends are materialized whole
 * beside their delta). Reads are batched (`getMany`) and resolve delta chains level by level
 * (delta-chain.ts). Decoded trees and commits, and resolved bodies, are kept in caches bounded
 * by bytes and shared by the engine (keys include the repository id, so one repository never
 * sees another's objects through them).
 */
import { LRUCache } from 'lru-cache';
import { NotFoundError, InvalidObjectError } from '../errors.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { compareFrom } from '../platform/bytes.js';
import { TAG, commitGraphKey, deltaKey, objectKey, prefixRange, reachKey, repoKey, repoRange } from '../storage/keys.js';
import { type Oid, type ObjectType, oidToBytes, oidFromBytes } from './oid.js';
import { decodeStoredDelta, deltaEntryOf, encodePacked, packedInfo, type StoredDelta } from './packed.js';
import { decodeTree, type TreeEntry } from './tree.js';
import { decodeCommit, decodeTag, type Commit, type Tag } from './commit.js';
import { type ChunkedRef, assembleChunked, clearChunks, decodeChunked, inflateChunks, isChunked, readChunks } from './chunked.js';
import { type ApplyDelta, type FormsLookup, type RawObject, type ResolvedCache, type StoredForms, createResolvedCache, resolveMany } from './delta-chain.js';

export type { ApplyDelta, FormsLookup, RawObject, StoredForms } from './delta-chain.js';
export { ObjectWriter } from './object-writer.js';
import { ObjectWriter } from './object-writer.js';

/** A decoded object held by the cache. */
export type CachedObject = { type: 'tree'; entries: TreeEntry[] } | { type: 'commit'; commit: Commit } | { type: 'tag'; tag: Tag };

/** The engine-wide caches of the object stores (bounded by approximate bytes) and the delta applier. */
export interface ObjectCache {
  /** Decoded trees, commits and tags. */
  decoded: LRUCache<string, CachedObject>;
  /** Bodies resolved from delta chains (undefined: none kept). */
  resolved: ResolvedCache | undefined;
  /** Applies a delta (pack/delta.ts); without it, objects stored only as deltas cannot be read. */
  applyDelta: ApplyDelta;
}

/** Options of `createObjectCache` besides the decoded-object bytes. */
export interface ObjectCacheOptions {
  /** Bytes of bodies resolved from delta chains kept for reuse. Default 32 MiB; 0 keeps none. */
  resolvedBytes?: number;
  /** The delta applier (pack/delta.ts `applyDelta`). */
  applyDelta?: ApplyDelta;
}

/** Stands for an entry that exists but was not read (`materializeMissing`). */
const EMPTY = new Uint8Array(0);

const noDeltas: ApplyDelta = () => {
  throw new InvalidObjectError('this object store was opened without a delta applier');
};

/** Creates the engine-wide caches. */
export function createObjectCache(maxBytes = 64 * 1024 * 1024, options: ObjectCacheOptions = {}): ObjectCache {
  return {
    decoded: new LRUCache<string, CachedObject>({
      maxSize: maxBytes,
      sizeCalculation: (v) =>
        v.type === 'tree' ? 64 + v.entries.length * 120 : v.type === 'commit' ? 300 + v.commit.message.length * 2 : 300 + v.tag.message.length * 2,
    }),
    resolved: createResolvedCache(options.resolvedBytes ?? 32 * 1024 * 1024),
    applyDelta: options.applyDelta ?? noDeltas,
  };
}

/** Objects of one repository. */
export class ObjectStore {
  readonly repoId: number;
  readonly #kv: Kv;
  readonly #cache: ObjectCache;
  readonly #prefix: string;

  constructor(kv: Kv, repoId: number, cache: ObjectCache) {
    this.#kv = kv;
    this.repoId = repoId;
    this.#cache = cache;
    this.#prefix = `${repoId}:`;
  }

  /** The database under the store (indexes kept beside the objects, e.g. repo/commit-graph.ts, use it). */
  get kv(): Kv {
    return this.#kv;
  }

  #wholeKeys(oids: readonly Oid[]): Uint8Array[] {
    return oids.map((o) => objectKey(this.repoId, oidToBytes(o)));
  }

  /** Keys of the raw ids at positions `at` of `ids` (20 bytes each): no hex id on the way. */
  #keysAt(tag: number, ids: Uint8Array, at: ArrayLike<number>): Uint8Array[] {
    const keys: Uint8Array[] = new Array(at.length);
    for (let j = 0; j < at.length; j++) keys[j] = repoKey(tag, this.repoId, ids.subarray(at[j]! * 20, at[j]! * 20 + 20));
    return keys;
  }

  /** Stored forms of `oids`: the whole entries in one round trip, the `D` values of the rest in a second. */
  readonly forms = (oids: readonly Oid[]): Promise<(StoredForms | undefined)[]> => this.#forms(oids, true);

  /**
   * Stored forms of `oids` for a reader that takes a delta as readily as a whole entry (a long
   * tree walk reads a tree from its delta, repo/tree-walk.ts): the `D` values in one round trip,
   * the whole entries of the rest in a second. An object stored both ways comes as its delta.
   * In a history most trees are deltas, so most take one lookup instead of two.
   */
  readonly deltaFirstForms = (oids: readonly Oid[]): Promise<(StoredForms | undefined)[]> => this.#forms(oids, false);

  async #forms(oids: readonly Oid[], wholeFirst: boolean): Promise<(StoredForms | undefined)[]> {
    const key = (tag: boolean, oid: Oid) => (tag ? objectKey : deltaKey)(this.repoId, oidToBytes(oid));
    const first = await this.#kv.getMany(oids.map((o) => key(wholeFirst, o)));
    const form = (whole: boolean, v: Uint8Array | undefined): StoredForms | undefined => (v === undefined ? undefined : whole ? { whole: v } : { delta: v });
    const out = first.map((v) => form(wholeFirst, v));
    const rest: number[] = [];
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) rest.push(i);
    if (rest.length > 0) {
      const second = await this.#kv.getMany(rest.map((i) => key(!wholeFirst, oids[i]!)));
      rest.forEach((i, j) => (out[i] = form(!wholeFirst, second[j])));
    }
    return out;
  }

  /**
   * Type and body of each id (undefined where missing), delta chains resolved. `lookup` reads
   * stored forms from elsewhere first (an ingest's quarantine); `depths` receives a lower bound
   * of each id's chain length and `ends` where each chain was followed to (ResolveContext);
   * `bases` answers delta bases the caller holds; `uncached`: every chain read from the store,
   * the resolved-object cache neither read nor filled (exact depths).
   */
  readMany(
    oids: readonly Oid[],
    options: { lookup?: FormsLookup; depths?: Map<Oid, number>; ends?: Map<Oid, Oid>; bases?: (oid: Oid) => RawObject | undefined; uncached?: boolean } = {},
  ): Promise<(RawObject | undefined)[]> {
    const c = this.#cache;
    const lookup = options.lookup ?? this.forms;
    // A chunked object (chunked.ts) is assembled here: these callers want bodies.
    const assembling: FormsLookup = async (ids) => {
      const forms = await lookup(ids);
      for (const f of forms) if (f?.whole !== undefined && isChunked(f.whole)) f.whole = await this.#assemble(f.whole);
      return forms;
    };
    return resolveMany(oids, assembling, {
      applyDelta: c.applyDelta,
      cache: options.uncached ? undefined : c.resolved,
      prefix: this.#prefix,
      depths: options.depths,
      ends: options.ends,
      bases: options.bases,
    });
  }

  #assemble(marker: Uint8Array): Promise<Uint8Array> {
    return assembleChunked(this.#kv, this.repoId, decodeChunked(marker));
  }

  /** The stored pack entry of a chunked object (`O` value a chunk marker, chunked.ts), chunk by chunk. */
  chunks(marker: Uint8Array): AsyncGenerator<Uint8Array> {
    return readChunks(this.#kv, this.repoId, decodeChunked(marker));
  }

  /** The body of a chunked object, piece by piece (chunked.ts `inflateChunks`). */
  inflateChunked(ref: ChunkedRef): AsyncGenerator<Uint8Array> {
    return inflateChunks(this.#kv, this.repoId, ref);
  }

  /** The chunk marker of `oid` when it is stored chunked (chunked.ts), else undefined. */
  async chunkedRef(oid: Oid): Promise<ChunkedRef | undefined> {
    const v = await this.#kv.get(objectKey(this.repoId, oidToBytes(oid)));
    return v !== undefined && isChunked(v) ? decodeChunked(v) : undefined;
  }

  /**
   * Whole (pack-entry) forms of `oids`, undefined where missing. Objects stored only as deltas
   * are resolved and deflated here, not written back (see `materialize`).
   */
  async getStored(oids: readonly Oid[]): Promise<(Uint8Array | undefined)[]> {
    const out = await this.#kv.getMany(this.#wholeKeys(oids));
    for (let i = 0; i < out.length; i++) if (out[i] !== undefined && isChunked(out[i]!)) out[i] = await this.#assemble(out[i]!);
    const rest = oids.filter((_, i) => out[i] === undefined);
    if (rest.length === 0) return out;
    const raws = await this.readMany(rest);
    let j = 0;
    for (let i = 0; i < out.length; i++) {
      if (out[i] !== undefined) continue;
      const r = raws[j++];
      if (r !== undefined) out[i] = encodePacked(r.type, r.body);
    }
    return out;
  }

  /**
   * Whole entries of `oids`, every one of which must exist (NotFoundError otherwise). Objects
   * stored only as deltas are resolved, deflated (level 1) and written back under `O`, so the
   * next depth-1 pack copies them; `O` entries are never dropped again in this layout. A chunked
   * object's entry comes back as its chunk marker (chunked.ts `isChunked`): stream it with `chunks`.
   */
  async materialize(oids: readonly Oid[]): Promise<Uint8Array[]> {
    return this.#materialize((i) => oids[i]!, await this.#kv.getMany(this.#wholeKeys(oids)));
  }

  /** `materialize` of the raw ids at positions `at` of `ids` (a pack's table of ids, 20 bytes each). */
  async materializeAt(ids: Uint8Array, at: ArrayLike<number>): Promise<Uint8Array[]> {
    const got = await this.#kv.getMany(this.#keysAt(TAG.object, ids, at));
    return this.#materialize((i) => oidFromBytes(ids, at[i]! * 20), got);
  }

  /**
   * `materialize` for its side effect only: which objects lack a whole entry is asked without
   * reading the entries (after every branch move, a PostgreSQL database would otherwise send
   * every object of the tip, hex-encoded, only to learn that it is there).
   */
  async materializeMissing(oids: readonly Oid[], level = 1): Promise<void> {
    const present = await this.#kv.hasMany(this.#wholeKeys(oids));
    await this.#materialize(
      (i) => oids[i]!,
      present.map((p) => (p ? EMPTY : undefined)),
      level,
    );
  }

  /** Resolves, deflates and writes back the entries missing from `out` (`oidAt(i)`: the id of `out[i]`). */
  async #materialize(oidAt: (i: number) => Oid, out: (Uint8Array | undefined)[], level = 1): Promise<Uint8Array[]> {
    const rest: number[] = [];
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) rest.push(i);
    if (rest.length === 0) return out as Uint8Array[];
    const oids = rest.map(oidAt);
    const raws = await this.readMany(oids);
    const ops: KvOp[] = [];
    rest.forEach((i, j) => {
      const r = raws[j];
      if (r === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oids[j]} not found`, { details: { oid: oids[j]! } });
      const entry = encodePacked(r.type, r.body, level);
      out[i] = entry;
      ops.push({ type: 'put', key: objectKey(this.repoId, oidToBytes(oids[j]!)), value: entry });
    });
    await this.#kv.batch(ops);
    return out as Uint8Array[];
  }

  /**
   * The ids of every object stored as a delta when there are at most `max` of them (one range
   * read of `D` keys, no values), else undefined: where each lookup is a round trip
   * (IndexedDB), one short range read replaces a lookup per object that mostly misses.
   */
  async deltaIdsIfFew(max: number): Promise<Set<Oid> | undefined> {
    const out = new Set<Oid>();
    for await (const k of this.#kv.keys({ ...repoRange(TAG.delta, this.repoId), limit: max + 1 })) {
      if (out.size === max) return undefined;
      out.add(oidFromBytes(k, 5));
    }
    return out;
  }

  /** Which of `oids` exist (by key: on IndexedDB no value is read). */
  async has(oids: readonly Oid[]): Promise<boolean[]> {
    const out = await this.#kv.hasMany(this.#wholeKeys(oids));
    const rest = oids.flatMap((_, i) => (out[i] ? [] : [i]));
    const deltas = await this.#kv.hasMany(rest.map((i) => deltaKey(this.repoId, oidToBytes(oids[i]!))));
    rest.forEach((i, j) => (out[i] = deltas[j]!));
    return out;
  }

  /** Type and body of one object, or undefined. */
  async readMaybe(oid: Oid): Promise<RawObject | undefined> {
    return (await this.readMany([oid]))[0];
  }

  /** Type and body of one object; NotFoundError when missing. */
  async read(oid: Oid): Promise<RawObject> {
    const o = await this.readMaybe(oid);
    if (o === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    return o;
  }

  /**
   * Type and size of objects without resolving or inflating them (undefined where missing):
   * from the whole entry's header, or the type and size a `D` value carries.
   */
  async info(oids: readonly Oid[]): Promise<({ type: ObjectType; size: number } | undefined)[]> {
    const forms = await this.forms(oids);
    const out: ({ type: ObjectType; size: number } | undefined)[] = new Array(oids.length);
    const unsized: number[] = [];
    forms.forEach((f, i) => {
      if (f?.whole !== undefined) {
        const { type, size } = packedInfo(f.whole);
        out[i] = { type, size };
        return;
      }
      if (f?.delta === undefined) return;
      const d = decodeStoredDelta(f.delta);
      if (d.type !== undefined && d.size !== undefined) out[i] = { type: d.type, size: d.size };
      else unsized.push(i); // a delta of the previous layout without its whole entry: not written by any version
    });
    if (unsized.length > 0) {
      const raws = await this.readMany(unsized.map((i) => oids[i]!));
      unsized.forEach((i, j) => (out[i] = raws[j] && { type: raws[j]!.type, size: raws[j]!.body.length }));
    }
    return out;
  }

  #cached(oid: Oid): CachedObject | undefined {
    return this.#cache.decoded.get(this.#prefix + oid);
  }

  #decode(oid: Oid, raw: RawObject | undefined): CachedObject {
    if (raw === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    const { type, body } = raw;
    let c: CachedObject;
    if (type === 'tree') c = { type, entries: decodeTree(body, false) };
    else if (type === 'commit') c = { type, commit: decodeCommit(body) };
    else if (type === 'tag') c = { type, tag: decodeTag(body) };
    else throw new InvalidObjectError(`object ${oid} is a blob, not a tree, commit or tag`, { details: { oid } });
    this.#cache.decoded.set(this.#prefix + oid, c);
    return c;
  }

  /** Caches the decoded form of a tree, commit or tag just written (its next reader skips the read and inflate). */
  remember(oid: Oid, raw: RawObject): void {
    this.#decode(oid, raw);
  }

  /** Decoded trees/commits/tags for many ids (cached; one round trip for the misses). */
  async decodeMany(oids: readonly Oid[]): Promise<CachedObject[]> {
    const out: (CachedObject | undefined)[] = oids.map((o) => this.#cached(o));
    const missing: number[] = [];
    for (let i = 0; i < oids.length; i++) if (out[i] === undefined) missing.push(i);
    if (missing.length > 0) {
      const raws = await this.readMany(missing.map((i) => oids[i]!));
      missing.forEach((i, j) => (out[i] = this.#decode(oids[i]!, raws[j])));
    }
    return out as CachedObject[];
  }

  /** Decoded object (tree, commit or tag). */
  async decode(oid: Oid): Promise<CachedObject> {
    return this.#cached(oid) ?? (await this.decodeMany([oid]))[0]!;
  }

  /** A commit; InvalidObjectError if `oid` is something else. */
  async commit(oid: Oid): Promise<Commit> {
    const o = await this.decode(oid);
    if (o.type !== 'commit') throw new InvalidObjectError(`${oid} is a ${o.type}, not a commit`, { details: { oid } });
    return o.commit;
  }

  /** Entries of a tree; InvalidObjectError if `oid` is something else. */
  async tree(oid: Oid): Promise<TreeEntry[]> {
    const o = await this.decode(oid);
    if (o.type !== 'tree') throw new InvalidObjectError(`${oid} is a ${o.type}, not a tree`, { details: { oid } });
    return o.entries;
  }

  /** Starts a batch of writes (see ObjectWriter). */
  writer(): ObjectWriter {
    return new ObjectWriter(this.#kv, this.repoId);
  }

  /**
   * Iterates every object id of the repository once, whether it is stored whole (`O`), as a
   * delta (`D`) or both: a merge of the two key ranges, which are both in id order.
   */
  async *allOids(): AsyncGenerator<Oid> {
    const whole = this.#kv.keys(repoRange(TAG.object, this.repoId))[Symbol.asyncIterator]();
    const delta = this.#kv.keys(repoRange(TAG.delta, this.repoId))[Symbol.asyncIterator]();
    try {
      let a = await whole.next();
      let b = await delta.next();
      while (!a.done || !b.done) {
        const c = a.done ? 1 : b.done ? -1 : compareFrom(a.value, b.value, 5);
        if (c <= 0) {
          yield oidFromBytes(a.value as Uint8Array, 5);
          a = await whole.next();
          if (c === 0) b = await delta.next();
        } else {
          yield oidFromBytes(b.value as Uint8Array, 5);
          b = await delta.next();
        }
      }
    } finally {
      await whole.return?.(undefined);
      await delta.return?.(undefined);
    }
  }

  /**
   * Ids of stored objects (whole or delta) whose raw bytes start with `prefix`, at most `limit`:
   * a key-range probe, for making abbreviated ids unique as git does.
   */
  async idsWithPrefix(prefix: Uint8Array, limit = 64): Promise<Oid[]> {
    const out = new Set<Oid>();
    for (const tag of [TAG.object, TAG.delta]) {
      for await (const k of this.#kv.keys({ ...prefixRange(repoKey(tag, this.repoId, prefix)), limit })) out.add(oidFromBytes(k, 5));
    }
    return [...out];
  }

  /**
   * The `O` keys of this store (the id at byte 5), a database read at a time. With `deltaRange`
   * (the objects stored as deltas), every object the store holds: the sweep's candidates.
   */
  wholeKeyBatches(): AsyncGenerator<Uint8Array[]> {
    return this.#kv.keyBatches(repoRange(TAG.object, this.repoId));
  }

  /** The `D` keys of this store (the id at byte 5), a database read at a time. */
  deltaKeyBatches(): AsyncGenerator<Uint8Array[]> {
    return this.#kv.keyBatches(repoRange(TAG.delta, this.repoId));
  }

  /** Deletes objects, every form they are stored in, a chunked one's chunks too (used by the sweep only). */
  async delete(oids: readonly Oid[]): Promise<void> {
    const whole = await this.#kv.getMany(this.#wholeKeys(oids));
    const chunked = whole.filter((v): v is Uint8Array => v !== undefined && isChunked(v)).map(decodeChunked);
    await this.#kv.batch(
      oids.flatMap((o) => {
        const b = oidToBytes(o);
        return [
          { type: 'del' as const, key: objectKey(this.repoId, b) },
          { type: 'del' as const, key: deltaKey(this.repoId, b) },
          // A commit's commit-graph record (repo/commit-graph.ts) goes with it, and a reach record (repo/chain-reach.ts).
          { type: 'del' as const, key: commitGraphKey(this.repoId, b) },
          { type: 'del' as const, key: reachKey(this.repoId, b) },
        ];
      }),
    );
    // After the markers: a crash in between leaves unnamed chunks, never a marker without them.
    await clearChunks(this.#kv, this.repoId, chunked);
  }

  /** The ref-delta entries of the raw ids at positions `at` of `ids` (`D` values, not parsed further); undefined where none. */
  async deltaEntriesAt(ids: Uint8Array, at: ArrayLike<number>): Promise<(Uint8Array | undefined)[]> {
    const values = await this.#kv.getMany(this.#keysAt(TAG.delta, ids, at));
    return values.map((v) => v && deltaEntryOf(v));
  }

  /**
   * Every `D` value in key order, a database read (up to 1 MiB) at a time: [key (the raw id
   * from byte 5 on), value]. A full clone's pack reads its deltas this way (repo/pack-out.ts);
   * the sweep reads the delta links (an object stored as a delta needs its base for as long as
   * it has no whole entry: the sweep stores a live one whole before its base goes, sweep-mark.ts).
   */
  deltaRange(): AsyncGenerator<[Uint8Array, Uint8Array][]> {
    return this.#kv.entryBatches(repoRange(TAG.delta, this.repoId), 1 << 20);
  }

  /**
   * Every `O` value in key order, a database read (up to 1 MiB) at a time: [key (the raw id
   * from byte 5 on), value]. A full clone's pack sends its whole objects this way
   * (repo/pack-out.ts): one ordered read of the range costs the database far less than a
   * lookup per id spread over the whole store.
   */
  wholeRange(): AsyncGenerator<[Uint8Array, Uint8Array][]> {
    return this.#kv.entryBatches(repoRange(TAG.object, this.repoId), 1 << 20);
  }

  /** Stored deltas of `oids`, parsed (undefined where the object has no `D` entry). */
  async getDeltas(oids: readonly Oid[]): Promise<(StoredDelta | undefined)[]> {
    const values = await this.#kv.getMany(oids.map((o) => deltaKey(this.repoId, oidToBytes(o))));
    return values.map((v) => (v === undefined ? undefined : decodeStoredDelta(v)));
  }
}
