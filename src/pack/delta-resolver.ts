/**
 * What the entries of a pack mean: object ids, and deltas resolved as soon as their base is
 * known — from earlier in the pack (a byte-bounded LRU of resolved bodies, then `getBase` once
 * evicted), from the caller's store (`getBase`, thin packs), or later in the pack (the delta is
 * deferred, bounded by `maxDeferredBytes` counting the delta, its zlib stream AND the result
 * it declares). When a base arrives, the deltas that waited on it are resolved one per `step`
 * (depth first: only the bodies along one chain stay held), so pack-reader.ts can hand each
 * result out before the next is built. Every result is charged to the inflated-byte budget
 * before it is built. Resolved objects queue up in a batch that pack-reader.ts hands out.
 */
import { CorruptPackError, LimitExceededError } from '../errors.js';
import { type Oid, type ObjectType, TYPE_NAMES, TYPE_NUMBERS, hashObject } from '../object/oid.js';
import { OBJ_OFS_DELTA, OBJ_REF_DELTA, storedDeltaEntry } from './entry.js';
import { applyDelta, deltaCopies, readDeltaSizes } from './delta.js';
import { type BaseSource, ChunkedBase, MemoryBase, StreamingDelta } from './delta-stream.js';
import type { RawEntry, RawPiece } from './pack-parser.js';
import type { InflateBudget } from './budget.js';
import { BaseCache } from './base-cache.js';
import { NO_PACKED, PackedBases } from './packed-bases.js';
import { Slabs } from './slabs.js';
import { NO_SEQ, PENDING, type Resolved, ResolvedIndex } from './resolved-index.js';
import { type Deferred, deferred, WaitingDeltas } from './waiting-deltas.js';

/** One object read from a pack. */
export interface PackObject {
  oid: Oid;
  type: ObjectType;
  body: Uint8Array;
  /** The verbatim pack entry (header + zlib) when the entry was not a delta, so the store can copy it. */
  entry?: Uint8Array;
  /**
   * For an entry that arrived as a delta: its base and the (inflated) delta data; for a tree,
   * `copies`: the runs of `body` that are its base's bytes (pack/delta.ts `deltaCopies`);
   * `depth`: its chain's length in this pack (1: its base is whole or outside the pack);
   * `baseSeq`: the base's `seq`, when the base is an object of this pack.
   */
  delta?: { base: Oid; data: Uint8Array; copies?: Int32Array; depth?: number; baseSeq?: number };
  /**
   * For an entry that arrived as a delta: the delta as a stored OBJ_REF_DELTA entry (header,
   * base id, the zlib stream exactly as it arrived), so keeping it costs no deflate.
   */
  deltaEntry?: Uint8Array;
  /** With `deltaEntry`: the object's `D` value (object/packed.ts encodeStoredDelta), of which `deltaEntry` is the tail. */
  stored?: Uint8Array;
  /**
   * Set on a streamed blob (`ReadPackOptions.streamBlobsOver`): its size; `body` is then empty,
   * and the entry's verbatim bytes came before it in this order as pieces.
   */
  streamed?: number;
  /**
   * Set on a piece of a streamed entry (its `oid` is '' and `body` empty): the next bytes of
   * the entry (header, then zlib stream) of the streamed object that follows its pieces.
   */
  piece?: Uint8Array;
  /**
   * The resolver's number for the object (one per object with a body, in the order resolved; its
   * key in the base cache: `DeltaResolver.retains`). Ingest keys the trees it scanned by it.
   */
  seq?: number;
}

/**
 * Returns a base that is not in the pack (or left the cache) from the caller's store, or
 * undefined. Without `chunk`: the whole body, or, for an object too big to hand over whole
 * (stored in chunks, object/chunked.ts), an empty body with `size` set; the resolver then asks
 * for its stored chunks one by one (`chunk` i: the i-th chunk of its pack entry, compressed) and
 * inflates them itself (delta-stream.ts ChunkedBase).
 */
export type GetBase = (oid: Oid, chunk?: number) => Promise<{ type: ObjectType; body: Uint8Array; size?: number } | undefined>;

/** Limits and sources of the resolver. */
export interface ResolverOptions {
  getBase: GetBase | undefined;
  /** Largest resolved object. */
  maxObjectSize: number;
  /** Longest delta chain. */
  maxDeltaDepth: number;
  /** Bytes of recently resolved bodies kept as delta bases (0: none). */
  baseCacheBytes: number;
  /** Bytes of resolved entries' zlib streams kept to rebuild bases that left the body cache (packed-bases.ts; 0: none). */
  packedBaseBytes: number;
  /** Bytes of deltas (data, zlib stream and declared result) waiting for a base later in the pack. */
  maxDeferredBytes: number;
  /** The inflated-byte budget every delta result is charged to. */
  budget: InflateBudget;
  /** Delta results (blobs) from this size on are built as a stream and handed out in pieces, like streamed blobs (delta-stream.ts). */
  streamOver?: number;
  /**
   * Where delta results are carved from (slabs.ts, shared with the parser's inflated data); fresh
   * buffers without it. When it recycles, a body that left the base cache goes back to it once
   * nothing here reads it and its batch was handed on: the caller must be done with a batch's
   * bodies when it takes the next one (pack-worker.ts copies or transfers them first).
   */
  bodies?: Slabs;
}

/** Deltas that waited on a base that is now resolved, resolved one per `step`. */
interface Work {
  base: Resolved;
  /** Undefined for a streamed base: read back by windows through getBase. */
  body: Uint8Array | undefined;
  waiting: Deferred[];
  next: number;
}

/** A delta being applied as a stream, a slice per `step`. */
interface Active {
  sd: StreamingDelta;
  offset: number;
  base: Resolved;
  depth: number;
  /** A small result from a windowed base, collected whole. */
  collect: boolean;
}

/** The body of pieces and streamed objects. */
const EMPTY = new Uint8Array(0);

/** Turns parsed entries into objects, resolving or deferring deltas. */
export class DeltaResolver {
  readonly #o: ResolverOptions;
  readonly #getBase: GetBase | undefined;
  /** Bodies by the resolver's number for them (`seq`: one per object with a body, in the order resolved). */
  readonly #cache: BaseCache<number> | undefined;
  #seq = 0;
  readonly #packed: PackedBases | undefined;
  /** Where handed-out entries and `D` values are carved from (slabs.ts). */
  readonly #parts = new Slabs();
  readonly #alloc = (n: number): Uint8Array => this.#parts.alloc(n);
  readonly #allocBody: ((n: number) => Uint8Array) | undefined;
  /** With recycling bodies: those that left the cache since the last batch was taken, and before it (numbers beside bodies). */
  #droppedNow: (number | Uint8Array)[] = [];
  #droppedBefore: (number | Uint8Array)[] = [];

  /** The entries seen, by offset and by id (resolved-index.ts). */
  readonly #index = new ResolvedIndex();
  /** Deltas waiting for a base later in the pack (waiting-deltas.ts). */
  readonly #waiting: WaitingDeltas;
  readonly #work: Work[] = [];
  #active: Active | undefined;

  #batch: PackObject[] = [];
  #batchBytes = 0;
  /** Bodies of the batch not yet yielded, in case the cache already dropped them. */
  #batchBodies = new Map<number, Uint8Array>();
  #streamedInBatch = false;
  #pieceBytes = 0;

  /** Creates a resolver with the given limits and store access. */
  constructor(options: ResolverOptions) {
    this.#o = options;
    this.#getBase = options.getBase;
    const max = Math.floor(options.baseCacheBytes);
    const bodies = options.bodies;
    const onDrop = bodies?.recycles ? (seq: number, body: Uint8Array) => void this.#droppedNow.push(seq, body) : undefined;
    this.#cache = max > 0 ? new BaseCache(max, onDrop) : undefined;
    this.#packed = this.#cache !== undefined && options.packedBaseBytes > 0 ? new PackedBases(options.packedBaseBytes) : undefined;
    this.#allocBody = bodies === undefined ? undefined : (n) => bodies.allocBody(n);
    this.#waiting = new WaitingDeltas(options.maxDeferredBytes);
  }

  /** Objects resolved and not yet taken. */
  get batchObjects(): number {
    return this.#batch.length;
  }

  /** Body bytes of the objects resolved and not yet taken. */
  get batchBytes(): number {
    return this.#batchBytes;
  }

  /** Bytes of pieces of streamed objects in the batch. */
  get pieceBytes(): number {
    return this.#pieceBytes;
  }

  /** Whether the batch holds a streamed object, which must reach the consumer before more is read (a delta may read it back). */
  get mustYield(): boolean {
    return this.#streamedInBatch;
  }

  /** Whether deltas that waited on a resolved base are left for `step`. */
  get hasWork(): boolean {
    return this.#active !== undefined || this.#work.length > 0;
  }

  /**
   * Whether the resolver still reads `body` (the base cache or a waiting cascade): a caller
   * that hands bodies to another thread must copy those instead of transferring them.
   */
  retains(o: PackObject): boolean {
    const body = o.body;
    if (o.seq !== undefined && this.#cache?.peek(o.seq) === body) return true;
    for (const w of this.#work) if (w.body === body) return true;
    return this.#active?.sd.holds(body) ?? false;
  }

  /** Releases a delta being streamed (a read abandoned in the middle) and the packed bases' scratch file (every read ends here). */
  close(): void {
    this.#active?.sd.close();
    this.#active = undefined;
    this.#packed?.close();
  }

  /** Advances the delta being streamed, or resolves the next delta that waited on a base now known (see `hasWork`). */
  step(): void | Promise<void> {
    if (this.#active !== undefined) return this.#advance(this.#active);
    const w = this.#work[this.#work.length - 1];
    if (w === undefined) return;
    const d = w.waiting[w.next]!;
    w.waiting[w.next++] = undefined as unknown as Deferred; // release the delta once resolved
    if (w.next === w.waiting.length) this.#work.pop();
    this.#waiting.done(d);
    if (w.body === undefined) return this.#resolveFromStore(d.offset, w.base, d.delta, d.zlib);
    this.#resolveDelta(d.offset, w.base, w.body, d.delta, d.zlib);
  }

  /** Hands out the objects resolved so far. */
  takeBatch(): PackObject[] {
    if (this.#droppedNow.length + this.#droppedBefore.length > 0) this.#recycle();
    const b = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchBodies = new Map();
    this.#streamedInBatch = false;
    this.#pieceBytes = 0;
    return b;
  }

  /**
   * Resolves one parsed entry (or defers it): true when done, a promise when resolving it
   * waits for `getBase`. Must be called before the parser is pushed more input.
   */
  add(item: RawEntry | RawPiece): true | Promise<void> {
    if ('piece' in item) {
      this.#batch.push({ oid: '' as Oid, type: 'blob', body: EMPTY, piece: item.piece });
      this.#batchBytes += item.piece.length;
      this.#pieceBytes += item.piece.length;
      return true;
    }
    const entry = item;
    if (entry.streamed !== undefined) {
      // Its body is never held: a delta against it (even one that waited) reads it back in chunks.
      const { oid, size } = entry.streamed;
      this.#batch.push({ oid, type: 'blob', body: EMPTY, streamed: size });
      this.#streamedInBatch = true;
      this.#resolved(entry.offset, { oid, type: 'blob', depth: 0, packed: NO_PACKED, seq: NO_SEQ }, undefined);
      return true;
    }
    const { type, offset: entryOffset, data } = entry;
    const zlib = entry.bytes.subarray(entry.zlibAt);
    if (type === OBJ_OFS_DELTA) {
      const baseOffset = entry.baseOffset;
      const base = this.#index.at(baseOffset);
      if (base === undefined) throw new CorruptPackError(`ofs-delta at ${entryOffset} points at ${baseOffset}, which is not an entry`);
      if (base === PENDING) {
        this.#defer(deferred(entryOffset, data, zlib.slice()), baseOffset);
      } else {
        const body = this.#cachedBody(base);
        if (body === undefined) return this.#resolveFromStore(entryOffset, base, data, zlib.slice());
        this.#resolveDelta(entryOffset, base, body, data, zlib);
      }
    } else if (type === OBJ_REF_DELTA) {
      const oid = entry.baseOid!;
      const known = this.#index.known(oid);
      if (known !== undefined) {
        const body = this.#cachedBody(known);
        if (body === undefined) return this.#resolveFromStore(entryOffset, known, data, zlib.slice());
        this.#resolveDelta(entryOffset, known, body, data, zlib);
      } else if (this.#getBase !== undefined) {
        // Not (yet) in this pack: a thin pack's base from the store, or a base later on.
        return this.#resolveThin(entryOffset, oid, data, zlib.slice(), this.#getBase);
      } else {
        this.#defer(deferred(entryOffset, data, zlib.slice()), oid);
      }
    } else {
      const objectType = TYPE_NAMES[type]!;
      const body = data;
      const oid = hashObject(objectType, body);
      const seq = this.#emit({ oid, type: objectType, body, entry: entry.stable ? entry.bytes : this.#parts.copy(entry.bytes) });
      const packed = this.#packed?.add(seq, zlib, body.length, NO_PACKED, body.length) ?? NO_PACKED;
      this.#resolved(entryOffset, { oid, type: objectType, depth: 0, packed, seq }, body);
    }
    return true;
  }

  /**
   * Gives back the buffers of bodies that left the cache before the last batch was taken (that
   * batch is handed on by now, see ResolverOptions.bodies) and that nothing here reads: not
   * cached again, not the base of waiting deltas, not the source of the delta being streamed.
   * Those dropped since wait for the next batch.
   */
  #recycle(): void {
    const before = this.#droppedBefore;
    this.#droppedBefore = this.#droppedNow;
    this.#droppedNow = [];
    if (before.length === 0) return;
    const slabs = this.#o.bodies!;
    const bases = this.#work.length === 0 ? undefined : new Set(this.#work.map((w) => w.body));
    for (let i = 0; i < before.length; i += 2) {
      const seq = before[i] as number;
      const body = before[i + 1] as Uint8Array;
      if (bases?.has(body) || this.#cache?.peek(seq) === body || this.#active?.sd.holds(body)) this.#droppedBefore.push(seq, body);
      else slabs.release(body);
    }
  }

  /** End of input: throws CorruptPackError when deltas still wait for a base. */
  finish(): void {
    this.#waiting.finish();
  }

  /** The body of a resolved entry: held whole, or rebuilt from the compressed tier. */
  #cachedBody(r: Resolved): Uint8Array | undefined {
    return (
      this.#heldBody(r.seq) ??
      (r.packed === NO_PACKED ? undefined : this.#packed?.rebuild(r.packed, this.#heldBody, this.#keep, this.#o.maxObjectSize, this.#allocBody))
    );
  }

  /** A body held whole: in the cache, or in the batch not yet taken. */
  readonly #heldBody = (seq: number): Uint8Array | undefined => (seq < 0 ? undefined : (this.#cache?.get(seq) ?? this.#batchBodies.get(seq)));

  /** Caches a rebuilt body. */
  readonly #keep = (seq: number, body: Uint8Array): void => this.#cache?.set(seq, body);

  /** Resolves a delta whose in-pack base left the cache (or was streamed): the consumer has stored it by now. */
  async #resolveFromStore(offset: number, base: Resolved, delta: Uint8Array, zlib: Uint8Array): Promise<void> {
    const getBase = this.#getBase;
    const stored = getBase ? await getBase(base.oid) : undefined;
    if (stored === undefined) throw this.#evicted(base.oid);
    // Cached again: the deltas on one base come together, each one a round trip otherwise.
    if (stored.size === undefined && base.seq !== NO_SEQ) this.#cache?.set(base.seq, stored.body);
    this.#resolveDelta(offset, base, this.#source(base.oid, stored, getBase!), delta, zlib);
  }

  /** A body from getBase, or a big one read back chunk by chunk. */
  #source(oid: Oid, found: { body: Uint8Array; size?: number }, getBase: GetBase): Uint8Array | BaseSource {
    if (found.size === undefined) return found.body;
    return new ChunkedBase(
      found.size,
      async (i) => {
        const c = await getBase(oid, i);
        if (c === undefined) throw this.#evicted(oid);
        return c.body;
      },
      this.#o.budget,
    );
  }

  /** Resolves a ref-delta on a base not seen in the pack: from the store, else deferred. */
  async #resolveThin(offset: number, oid: Oid, delta: Uint8Array, zlib: Uint8Array, getBase: GetBase): Promise<void> {
    const outside = await getBase(oid);
    if (outside === undefined) {
      this.#defer(deferred(offset, delta, zlib), oid);
      return;
    }
    if (outside.size === undefined && hashObject(outside.type, outside.body) !== oid)
      throw new CorruptPackError(`getBase returned the wrong object for ${oid}`);
    this.#resolveDelta(offset, { oid, type: outside.type, depth: 0, packed: NO_PACKED, seq: NO_SEQ }, this.#source(oid, outside, getBase), delta, zlib);
  }

  #evicted(oid: Oid): LimitExceededError {
    return new LimitExceededError(`delta base ${oid} left the base cache and getBase did not return it; raise baseCacheBytes or pass getBase`, {
      details: { limit: 'baseCacheBytes', oid, max: this.#o.baseCacheBytes },
    });
  }

  /** `d` waits for its base: the entry at that offset, or the object of that id; its own offset is pending meanwhile. */
  #defer(d: Deferred, base: number | Oid): void {
    if (typeof base === 'number') this.#waiting.onOffset(base, d);
    else this.#waiting.onOid(base, d);
    this.#index.record(d.offset, PENDING);
  }

  /** Adds a resolved object with its body to the batch and the cache; returns its number (`seq`). */
  #emit(obj: PackObject): number {
    const seq = this.#seq++;
    obj.seq = seq;
    this.#batch.push(obj);
    this.#batchBytes += obj.body.length;
    this.#batchBodies.set(seq, obj.body);
    this.#cache?.set(seq, obj.body);
    return seq;
  }

  #resolveDelta(offset: number, base: Resolved, src: Uint8Array | BaseSource, delta: Uint8Array, zlib: Uint8Array): void {
    const depth = base.depth + 1;
    if (depth > this.#o.maxDeltaDepth) {
      throw new LimitExceededError(`delta chain longer than ${this.#o.maxDeltaDepth}`, {
        details: { limit: 'maxDeltaDepth', max: this.#o.maxDeltaDepth },
      });
    }
    const { resultSize } = readDeltaSizes(delta);
    if (resultSize <= this.#o.maxObjectSize) this.#o.budget.charge(resultSize, `the delta at ${offset} (a result of ${resultSize} bytes)`);
    const over = this.#o.streamOver;
    const big = over !== undefined && resultSize >= over && base.type === 'blob' && StreamingDelta.available();
    if (big || !(src instanceof Uint8Array)) {
      // Built a slice per step: streamed out in pieces, or (a small result from a big base) whole.
      const source = src instanceof Uint8Array ? new MemoryBase(src) : src;
      this.#active = { sd: new StreamingDelta(source, base.type, delta, this.#o.maxObjectSize, !big), offset, base, depth, collect: !big };
      return;
    }
    const body = applyDelta(src, delta, this.#o.maxObjectSize, this.#allocBody);
    const oid = hashObject(base.type, body);
    const { stored, entry: deltaEntry } = storedDeltaEntry(TYPE_NUMBERS[base.type], body.length, delta.length, base.oid, zlib, this.#alloc);
    const copies = base.type === 'tree' ? deltaCopies(delta) : undefined;
    const baseSeq = base.seq === NO_SEQ ? undefined : base.seq;
    const link = { base: base.oid, data: delta, copies, depth, baseSeq };
    const seq = this.#emit({ oid, type: base.type, body, delta: link, deltaEntry, stored });
    const packed = base.packed === NO_PACKED ? NO_PACKED : (this.#packed?.add(seq, zlib, delta.length, base.packed, body.length) ?? NO_PACKED);
    this.#resolved(offset, { oid, type: base.type, depth, packed, seq }, body);
  }

  /**
   * One slice of the delta being streamed; once done, the object: a streamed one after its
   * pieces, or a small one collected whole, stored whole (no `D` value whose base is big).
   */
  async #advance(a: Active): Promise<void> {
    await a.sd.step();
    for (const piece of a.sd.takePieces()) {
      this.#batch.push({ oid: '' as Oid, type: 'blob', body: EMPTY, piece });
      this.#batchBytes += piece.length;
      this.#pieceBytes += piece.length;
    }
    if (!a.sd.done) return;
    this.#active = undefined;
    const oid = a.sd.oid();
    const r: Resolved = { oid, type: a.base.type, depth: a.depth, packed: NO_PACKED, seq: NO_SEQ };
    if (a.collect) {
      r.seq = this.#emit({ oid, type: a.base.type, body: a.sd.body });
      this.#resolved(a.offset, r, a.sd.body);
    } else {
      this.#batch.push({ oid, type: a.base.type, body: EMPTY, streamed: a.sd.resultSize });
      this.#streamedInBatch = true;
      this.#resolved(a.offset, r, undefined);
    }
  }

  /** Records a resolved entry (no body: a streamed one); the deltas that waited for it become work for `step`. */
  #resolved(offset: number, r: Resolved, body: Uint8Array | undefined): void {
    this.#index.resolved(offset, r);
    const waiting = this.#waiting.take(offset, r.oid);
    if (waiting !== undefined) this.#work.push({ base: r, body, waiting, next: 0 });
  }
}
