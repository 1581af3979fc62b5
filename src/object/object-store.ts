/**
 * Objects of one repository over the key-value store, kept in pack-entry form (object/packed.ts).
 * Reads are batched (`getMany`); decoded trees and commits are kept in a cache bounded by
 * bytes and shared by the engine (keys include the repository id, so one repository never
 * sees another's objects through it).
 */
import { LRUCache } from 'lru-cache';
import { NotFoundError, InvalidObjectError } from '../errors.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, deltaKey, objectKey, repoRange } from '../storage/keys.js';
import { type Oid, type ObjectType, hashObject, oidToBytes, oidFromBytes } from './oid.js';
import { decodePacked, encodePacked, packedInfo } from './packed.js';
import { decodeTree, type TreeEntry } from './tree.js';
import { decodeCommit, decodeTag, type Commit, type Tag } from './commit.js';

/** A decoded object held by the cache. */
export type CachedObject = { type: 'tree'; entries: TreeEntry[] } | { type: 'commit'; commit: Commit } | { type: 'tag'; tag: Tag };

/** The engine-wide cache of decoded objects, bounded by (approximate) bytes. */
export type ObjectCache = LRUCache<string, CachedObject>;

/** Creates the decoded-object cache. */
export function createObjectCache(maxBytes = 64 * 1024 * 1024): ObjectCache {
  return new LRUCache<string, CachedObject>({
    maxSize: maxBytes,
    sizeCalculation: (v) =>
      v.type === 'tree' ? 64 + v.entries.length * 120 : v.type === 'commit' ? 300 + v.commit.message.length * 2 : 300 + v.tag.message.length * 2,
  });
}

/** A raw object: type and body. */
export interface RawObject {
  type: ObjectType;
  body: Uint8Array;
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

  /** Stored (pack-entry) forms of `oids`, undefined where missing. One database round trip. */
  getStored(oids: readonly Oid[]): Promise<(Uint8Array | undefined)[]> {
    return this.#kv.getMany(oids.map((o) => objectKey(this.repoId, oidToBytes(o))));
  }

  /** Which of `oids` exist. */
  async has(oids: readonly Oid[]): Promise<boolean[]> {
    const r = await this.getStored(oids);
    return r.map((v) => v !== undefined);
  }

  /** Type and body of one object, or undefined. */
  async readMaybe(oid: Oid): Promise<RawObject | undefined> {
    const [stored] = await this.getStored([oid]);
    return stored === undefined ? undefined : decodePacked(stored);
  }

  /** Type and body of one object; NotFoundError when missing. */
  async read(oid: Oid): Promise<RawObject> {
    const o = await this.readMaybe(oid);
    if (o === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    return o;
  }

  /** Type and size of objects without inflating them (undefined where missing). */
  async info(oids: readonly Oid[]): Promise<({ type: ObjectType; size: number } | undefined)[]> {
    const r = await this.getStored(oids);
    return r.map((s) => (s === undefined ? undefined : packedInfo(s)));
  }

  #cached(oid: Oid): CachedObject | undefined {
    return this.#cache.get(this.#prefix + oid);
  }

  #decode(oid: Oid, stored: Uint8Array | undefined): CachedObject {
    if (stored === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    const { type, body } = decodePacked(stored);
    let c: CachedObject;
    if (type === 'tree') c = { type, entries: decodeTree(body, false) };
    else if (type === 'commit') c = { type, commit: decodeCommit(body) };
    else if (type === 'tag') c = { type, tag: decodeTag(body) };
    else throw new InvalidObjectError(`object ${oid} is a blob, not a tree, commit or tag`, { details: { oid } });
    this.#cache.set(this.#prefix + oid, c);
    return c;
  }

  /** Decoded trees/commits/tags for many ids (cached; one round trip for the misses). */
  async decodeMany(oids: readonly Oid[]): Promise<CachedObject[]> {
    const out: (CachedObject | undefined)[] = oids.map((o) => this.#cached(o));
    const missing: number[] = [];
    for (let i = 0; i < oids.length; i++) if (out[i] === undefined) missing.push(i);
    if (missing.length > 0) {
      const stored = await this.getStored(missing.map((i) => oids[i]!));
      missing.forEach((i, j) => (out[i] = this.#decode(oids[i]!, stored[j])));
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

  /** Iterates every object id of the repository (for sweeps and checks). */
  async *allOids(): AsyncGenerator<Oid> {
    for await (const k of this.#kv.keys(repoRange(TAG.object, this.repoId))) yield oidFromBytes(k, 5);
  }

  /** Deletes objects (used by the sweep only). */
  async delete(oids: readonly Oid[]): Promise<void> {
    await this.#kv.batch(
      oids.flatMap((o) => {
        const b = oidToBytes(o);
        return [
          { type: 'del' as const, key: objectKey(this.repoId, b) },
          { type: 'del' as const, key: deltaKey(this.repoId, b) },
        ];
      }),
    );
  }

  /** Stored ref-delta forms of `oids` (undefined where the object is only stored whole). */
  getDeltas(oids: readonly Oid[]): Promise<(Uint8Array | undefined)[]> {
    return this.#kv.getMany(oids.map((o) => deltaKey(this.repoId, oidToBytes(o))));
  }
}

/** Collects new objects and writes them in one batch. */
export class ObjectWriter {
  readonly #kv: Kv;
  readonly #repoId: number;
  readonly #ops = new Map<Oid, KvOp>();
  readonly #deltas = new Map<Oid, KvOp>();

  constructor(kv: Kv, repoId: number) {
    this.#kv = kv;
    this.#repoId = repoId;
  }

  /** Hashes, encodes and queues an object; returns its id. */
  add(type: ObjectType, body: Uint8Array): Oid {
    const oid = hashObject(type, body);
    if (!this.#ops.has(oid)) this.#ops.set(oid, { type: 'put', key: objectKey(this.#repoId, oidToBytes(oid)), value: encodePacked(type, body) });
    return oid;
  }

  /** Queues an object already in stored form. */
  addStored(oid: Oid, stored: Uint8Array): void {
    this.#ops.set(oid, { type: 'put', key: objectKey(this.#repoId, oidToBytes(oid)), value: stored });
  }

  /** The stored form of a queued object. */
  queued(oid: Oid): Uint8Array | undefined {
    const op = this.#ops.get(oid);
    return op?.type === 'put' ? op.value : undefined;
  }

  /** Queues a kept delta of `oid` (a ref-delta pack entry, see encodeRefDelta). */
  addDelta(oid: Oid, entry: Uint8Array): void {
    this.#deltas.set(oid, { type: 'put', key: deltaKey(this.#repoId, oidToBytes(oid)), value: entry });
  }

  /** Number of queued objects. */
  get size(): number {
    return this.#ops.size;
  }

  /** Writes every queued object (and kept delta) atomically. */
  async flush(): Promise<void> {
    const ops = [...this.#ops.values(), ...this.#deltas.values()];
    this.#ops.clear();
    this.#deltas.clear();
    await this.#kv.batch(ops);
  }
}
