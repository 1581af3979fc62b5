/**
 * Streaming pack reader (gitformat-pack). Grammar:
 *   pack    = "PACK" version(4, big-endian: 2 or 3) count(4, big-endian) count*entry trailer
 *   entry   = see entry.ts; its data is a zlib stream whose compressed length is not recorded
 *   trailer = 20(SHA-1 of every byte before it)
 *
 * The pack arrives as an async iterable of chunks and is never held whole: only a working
 * buffer of the bytes not yet parsed (about one chunk, or one entry's zlib stream while it is
 * incomplete). Each zlib stream is inflated from the buffer with `inflatePrefix`; when it
 * needs more input the next attempt waits for twice the bytes, so a big entry costs
 * amortized linear time. Deltas are resolved as soon as their base is known: from earlier in
 * the pack (a byte-bounded LRU of resolved bodies, then `getBase` once evicted), from the
 * caller's store (`getBase`, thin packs), or later in the pack (the delta is deferred).
 *
 * Objects are yielded in batches BEFORE the trailing checksum has been verified: a consumer
 * must treat them as provisional and commit nothing until the generator has completed
 * without throwing.
 */
import { LRUCache } from 'lru-cache';
import { CorruptPackError, LimitExceededError } from '../errors.js';
import { platform, OutputLimitError } from '../platform/index.js';
import type { Sha1Hasher } from '../platform/index.js';
import { equal, toHex } from '../platform/bytes.js';
import { type Oid, type ObjectType, TYPE_NAMES, hashObject, oidFromBytes } from '../object/oid.js';
import { OBJ_OFS_DELTA, OBJ_REF_DELTA, decodeEntryHeader, decodeOfsOffset } from './entry.js';
import { applyDelta } from './delta.js';

/** One object read from a pack. */
export interface PackObject {
  oid: Oid;
  type: ObjectType;
  body: Uint8Array;
  /** The verbatim pack entry (header + zlib) when the entry was not a delta, so the store can copy it. */
  entry?: Uint8Array;
  /** For an entry that arrived as a delta: its base and the (inflated) delta data. */
  delta?: { base: Oid; data: Uint8Array };
}

/** Options of `readPack`; every limit has a safe default. */
export interface ReadPackOptions {
  /** A base that is not in this pack (thin pack) or was evicted from the reader's cache: return it from the store, or undefined. */
  getBase?: (oid: Oid) => Promise<{ type: ObjectType; body: Uint8Array } | undefined>;
  /** Largest declared object (or delta) size; larger -> LimitExceededError before allocating. Default 512 MiB. */
  maxObjectSize?: number;
  /** Largest object count the pack header may declare. Default 10,000,000. */
  maxObjects?: number;
  /** Largest total input. Default 4 GiB. */
  maxPackBytes?: number;
  /** Longest delta chain. Default 10,000. */
  maxDeltaDepth?: number;
  /** Bytes of recently resolved bodies kept as delta bases. Default 64 MiB. */
  baseCacheBytes?: number;
  /** Bytes of delta data held while waiting for a base that comes later in the pack. Default 256 MiB. */
  maxDeferredBytes?: number;
}

const MiB = 1024 * 1024;
const DEFAULTS = {
  maxObjectSize: 512 * MiB,
  maxObjects: 10_000_000,
  maxPackBytes: 4 * 1024 * MiB,
  maxDeltaDepth: 10_000,
  baseCacheBytes: 64 * MiB,
  maxDeferredBytes: 256 * MiB,
};

/** A batch is yielded early once it holds this many body bytes or objects. */
const BATCH_BYTES = 16 * MiB;
const BATCH_OBJECTS = 4096;

/**
 * Longest zlib stream accepted for `size` inflated bytes. Real compressors stay well under
 * size * 9/8 plus a few bytes per block; anything longer is padding meant to make us buffer.
 */
function maxCompressedLength(size: number): number {
  return 2 * size + 4096;
}

/** What the reader remembers of each resolved entry (no body: that lives in the cache). */
interface Resolved {
  oid: Oid;
  type: ObjectType;
  depth: number;
}

/** A delta whose base is not known yet. */
interface Deferred {
  offset: number;
  delta: Uint8Array;
}

/** Marks an entry offset whose delta is deferred. */
const PENDING = null;

class PackReader {
  readonly #o: Required<Omit<ReadPackOptions, 'getBase'>>;
  readonly #getBase: ReadPackOptions['getBase'];
  readonly #hash: Sha1Hasher = platform().createSha1();
  readonly #cache: LRUCache<Oid, Uint8Array> | undefined;

  // Working buffer: unparsed bytes are #buf[#start, #end); #owned says whether we may write into it.
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #owned = false;
  /** Pack offset of #buf[#start]. */
  #offset = 0;
  #received = 0;

  #phase: 'header' | 'entries' | 'trailer' | 'done' = 'header';
  #count = 0;
  #parsed = 0;
  /** Smallest window worth trying for the zlib stream of the current entry (0 = try now). */
  #retryAt = 0;

  readonly #byOffset = new Map<number, Resolved | typeof PENDING>();
  readonly #byOid = new Map<Oid, Resolved>();
  readonly #waitingOnOffset = new Map<number, Deferred[]>();
  readonly #waitingOnOid = new Map<Oid, Deferred[]>();
  #deferredBytes = 0;
  #deferredCount = 0;

  #batch: PackObject[] = [];
  #batchBytes = 0;
  /** Bodies of the batch not yet yielded, in case the cache already dropped them. */
  #batchBodies = new Map<Oid, Uint8Array>();

  constructor(options: ReadPackOptions) {
    this.#o = {
      maxObjectSize: options.maxObjectSize ?? DEFAULTS.maxObjectSize,
      maxObjects: options.maxObjects ?? DEFAULTS.maxObjects,
      maxPackBytes: options.maxPackBytes ?? DEFAULTS.maxPackBytes,
      maxDeltaDepth: options.maxDeltaDepth ?? DEFAULTS.maxDeltaDepth,
      baseCacheBytes: options.baseCacheBytes ?? DEFAULTS.baseCacheBytes,
      maxDeferredBytes: options.maxDeferredBytes ?? DEFAULTS.maxDeferredBytes,
    };
    this.#getBase = options.getBase;
    const max = Math.floor(this.#o.baseCacheBytes);
    this.#cache = max > 0 ? new LRUCache<Oid, Uint8Array>({ maxSize: max, sizeCalculation: (b) => Math.max(1, b.length) }) : undefined;
  }

  /** Adds input bytes to the working buffer. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#phase === 'done') throw new CorruptPackError('pack has trailing bytes after its checksum');
    this.#received += chunk.length;
    if (this.#received > this.#o.maxPackBytes) {
      throw new LimitExceededError(`pack exceeds ${this.#o.maxPackBytes} bytes`, {
        details: { limit: 'maxPackBytes', max: this.#o.maxPackBytes },
      });
    }
    const left = this.#end - this.#start;
    if (left === 0) {
      // Nothing pending: parse straight from the caller's chunk (read-only).
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#end + chunk.length <= this.#buf.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    const need = left + chunk.length;
    if (this.#owned && need <= this.#buf.length >> 1) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(Math.max(2 * need, 64 * 1024));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#owned = true;
    }
    this.#buf.set(chunk, left);
    this.#start = 0;
    this.#end = need;
  }

  /** Consumes `n` parsed bytes: hashes them and advances. */
  #consume(n: number): Uint8Array {
    const bytes = this.#buf.subarray(this.#start, this.#start + n);
    this.#hash.update(bytes);
    this.#start += n;
    this.#offset += n;
    return bytes;
  }

  /** Parses as much as the buffer allows, yielding batches of resolved objects. */
  async *process(final: boolean): AsyncGenerator<PackObject[]> {
    for (;;) {
      const progressed =
        this.#phase === 'header' ? this.#readHeader() : this.#phase === 'entries' ? this.#readEntry(final) : this.#phase === 'trailer' ? this.#readTrailer() : false;
      // Only entries that need the caller's store return a promise: no await per object otherwise.
      if (typeof progressed !== 'boolean') await progressed;
      if (this.#batch.length >= BATCH_OBJECTS || this.#batchBytes >= BATCH_BYTES) yield this.#takeBatch();
      if (!progressed) break;
    }
    if (this.#batch.length > 0) yield this.#takeBatch();
    if (final) this.#finish();
  }

  #takeBatch(): PackObject[] {
    const b = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchBodies = new Map();
    return b;
  }

  #readHeader(): boolean {
    if (this.#end - this.#start < 12) return false;
    const b = this.#buf.subarray(this.#start, this.#start + 12);
    if (b[0] !== 0x50 || b[1] !== 0x41 || b[2] !== 0x43 || b[3] !== 0x4b) throw new CorruptPackError('not a pack: missing "PACK" signature');
    const view = new DataView(b.buffer, b.byteOffset, 12);
    const version = view.getUint32(4);
    if (version !== 2 && version !== 3) throw new CorruptPackError(`unsupported pack version ${version}`, { details: { version } });
    const count = view.getUint32(8);
    if (count > this.#o.maxObjects) {
      throw new LimitExceededError(`pack declares ${count} objects, more than the limit of ${this.#o.maxObjects}`, {
        details: { limit: 'maxObjects', count, max: this.#o.maxObjects },
      });
    }
    this.#count = count;
    this.#consume(12);
    this.#phase = count === 0 ? 'trailer' : 'entries';
    return true;
  }

  #readTrailer(): boolean {
    if (this.#end - this.#start < 20) return false;
    const want = this.#hash.digest();
    const got = this.#buf.subarray(this.#start, this.#start + 20);
    if (!equal(want, got)) {
      throw new CorruptPackError(`pack checksum mismatch: trailer says ${toHex(got)}, content hashes to ${toHex(want)}`);
    }
    this.#start += 20;
    this.#offset += 20;
    this.#phase = 'done';
    if (this.#start < this.#end) throw new CorruptPackError('pack has trailing bytes after its checksum');
    return false;
  }

  /**
   * Parses one entry if the buffer holds all of it: false when more input is needed, true
   * when done, a promise when resolving it waits for `getBase`.
   */
  #readEntry(final: boolean): boolean | Promise<void> {
    const view = this.#buf.subarray(this.#start, this.#end);
    const header = decodeEntryHeader(view, 0);
    if (header === null) return false;
    const { type, size } = header;
    if (size > this.#o.maxObjectSize) {
      throw new LimitExceededError(`pack entry declares ${size} bytes, more than the limit of ${this.#o.maxObjectSize}`, {
        details: { limit: 'maxObjectSize', size, max: this.#o.maxObjectSize },
      });
    }
    let dataAt = header.length;
    let baseOffset = -1;
    let baseOid: Oid | undefined;
    if (type === OBJ_OFS_DELTA) {
      const ofs = decodeOfsOffset(view, dataAt);
      if (ofs === null) return false;
      baseOffset = this.#offset - ofs.distance;
      if (ofs.distance === 0 || baseOffset < 12) throw new CorruptPackError(`ofs-delta at ${this.#offset} points before the pack start`);
      dataAt += ofs.length;
    } else if (type === OBJ_REF_DELTA) {
      if (view.length < dataAt + 20) return false;
      baseOid = oidFromBytes(view, dataAt);
      dataAt += 20;
    }

    const inflated = this.#inflate(view, dataAt, size, final);
    if (inflated === null) return false;
    const entryOffset = this.#offset;
    const entryBytes = this.#consume(dataAt + inflated.consumed);
    this.#retryAt = 0;
    this.#parsed++;
    if (this.#parsed === this.#count) this.#phase = 'trailer';

    if (type === OBJ_OFS_DELTA) {
      const base = this.#byOffset.get(baseOffset);
      if (base === undefined) throw new CorruptPackError(`ofs-delta at ${entryOffset} points at ${baseOffset}, which is not an entry`);
      if (base === PENDING) {
        this.#defer(this.#waitingOnOffset, baseOffset, { offset: entryOffset, delta: inflated.output });
      } else {
        const body = this.#cachedBody(base.oid);
        if (body === undefined) return this.#resolveFromStore(entryOffset, base, inflated.output);
        this.#resolveDelta(entryOffset, base, body, inflated.output);
      }
    } else if (type === OBJ_REF_DELTA) {
      const oid = baseOid!;
      const known = this.#byOid.get(oid);
      if (known !== undefined) {
        const body = this.#cachedBody(oid);
        if (body === undefined) return this.#resolveFromStore(entryOffset, known, inflated.output);
        this.#resolveDelta(entryOffset, known, body, inflated.output);
      } else if (this.#getBase !== undefined) {
        // Not (yet) in this pack: a thin pack's base from the store, or a base later on.
        return this.#resolveThin(entryOffset, oid, inflated.output, this.#getBase);
      } else {
        this.#defer(this.#waitingOnOid, oid, { offset: entryOffset, delta: inflated.output });
      }
    } else {
      const objectType = TYPE_NAMES[type]!;
      const body = inflated.output;
      const oid = hashObject(objectType, body);
      this.#emit({ oid, type: objectType, body, entry: entryBytes.slice() });
      this.#resolved(entryOffset, { oid, type: objectType, depth: 0 }, body);
    }
    return true;
  }

  /**
   * Inflates the zlib stream at `view[at]`: null when more input is needed. Attempts grow
   * the window geometrically so retries cost amortized linear time.
   */
  #inflate(view: Uint8Array, at: number, size: number, final: boolean): { output: Uint8Array; consumed: number } | null {
    const cap = maxCompressedLength(size);
    for (;;) {
      const avail = view.length - at;
      if (!final && avail < this.#retryAt) return null;
      const window = Math.min(avail, cap, Math.max(this.#retryAt, size + (size >>> 3) + 64));
      let r;
      try {
        r = platform().inflatePrefix(view.subarray(at, at + window), size);
      } catch (err) {
        if (err instanceof OutputLimitError) {
          throw new CorruptPackError(`pack entry at ${this.#offset} inflates to more than its declared ${size} bytes`, { cause: err });
        }
        throw new CorruptPackError(`pack entry at ${this.#offset} has a corrupt zlib stream: ${(err as Error).message}`, { cause: err });
      }
      if (r !== null) {
        if (r.output.length !== size) {
          throw new CorruptPackError(`pack entry at ${this.#offset} inflates to ${r.output.length} bytes but declares ${size}`);
        }
        return r;
      }
      if (window >= cap) throw new CorruptPackError(`pack entry at ${this.#offset} has a zlib stream longer than ${cap} bytes for ${size} bytes of content`);
      if (final && window === avail) throw new CorruptPackError(`pack is truncated inside the entry at ${this.#offset}`);
      this.#retryAt = Math.min(cap, Math.max(window * 2, window + 1));
    }
  }

  #cachedBody(oid: Oid): Uint8Array | undefined {
    return this.#cache?.get(oid) ?? this.#batchBodies.get(oid);
  }

  /** Resolves a delta whose in-pack base left the cache: the consumer has stored it by now. */
  async #resolveFromStore(offset: number, base: Resolved, delta: Uint8Array): Promise<void> {
    const stored = this.#getBase ? await this.#getBase(base.oid) : undefined;
    if (stored === undefined) throw this.#evicted(base.oid);
    this.#resolveDelta(offset, base, stored.body, delta);
  }

  /** Resolves a ref-delta on a base not seen in the pack: from the store, else deferred. */
  async #resolveThin(offset: number, oid: Oid, delta: Uint8Array, getBase: NonNullable<ReadPackOptions['getBase']>): Promise<void> {
    const outside = await getBase(oid);
    if (outside === undefined) {
      this.#defer(this.#waitingOnOid, oid, { offset, delta });
      return;
    }
    if (hashObject(outside.type, outside.body) !== oid) throw new CorruptPackError(`getBase returned the wrong object for ${oid}`);
    this.#resolveDelta(offset, { oid, type: outside.type, depth: 0 }, outside.body, delta);
  }

  #evicted(oid: Oid): LimitExceededError {
    return new LimitExceededError(`delta base ${oid} left the base cache and getBase did not return it; raise baseCacheBytes or pass getBase`, {
      details: { limit: 'baseCacheBytes', oid, max: this.#o.baseCacheBytes },
    });
  }

  #defer(map: Map<number, Deferred[]> | Map<Oid, Deferred[]>, key: number | Oid, d: Deferred): void {
    this.#deferredBytes += d.delta.length;
    this.#deferredCount++;
    if (this.#deferredBytes > this.#o.maxDeferredBytes) {
      throw new LimitExceededError(`deltas waiting for their base exceed ${this.#o.maxDeferredBytes} bytes`, {
        details: { limit: 'maxDeferredBytes', max: this.#o.maxDeferredBytes },
      });
    }
    this.#byOffset.set(d.offset, PENDING);
    const m = map as Map<number | Oid, Deferred[]>;
    const list = m.get(key);
    if (list === undefined) m.set(key, [d]);
    else list.push(d);
  }

  #emit(obj: PackObject): void {
    this.#batch.push(obj);
    this.#batchBytes += obj.body.length;
    this.#batchBodies.set(obj.oid, obj.body);
    this.#cache?.set(obj.oid, obj.body);
  }

  #resolveDelta(offset: number, base: Resolved, baseBody: Uint8Array, delta: Uint8Array): void {
    const depth = base.depth + 1;
    if (depth > this.#o.maxDeltaDepth) {
      throw new LimitExceededError(`delta chain longer than ${this.#o.maxDeltaDepth}`, {
        details: { limit: 'maxDeltaDepth', max: this.#o.maxDeltaDepth },
      });
    }
    const body = applyDelta(baseBody, delta, this.#o.maxObjectSize);
    const oid = hashObject(base.type, body);
    this.#emit({ oid, type: base.type, body, delta: { base: base.oid, data: delta } });
    this.#resolved(offset, { oid, type: base.type, depth }, body);
  }

  /** Records a resolved entry and resolves every delta that waited for it, iteratively. */
  #resolved(offset: number, r: Resolved, body: Uint8Array): void {
    const stack: [number, Resolved, Uint8Array][] = [[offset, r, body]];
    while (stack.length > 0) {
      const [off, res, b] = stack.pop()!;
      this.#byOffset.set(off, res);
      if (!this.#byOid.has(res.oid)) this.#byOid.set(res.oid, res);
      const waiting = [...(this.#waitingOnOffset.get(off) ?? []), ...(this.#waitingOnOid.get(res.oid) ?? [])];
      this.#waitingOnOffset.delete(off);
      this.#waitingOnOid.delete(res.oid);
      for (const d of waiting) {
        this.#deferredBytes -= d.delta.length;
        this.#deferredCount--;
        const depth = res.depth + 1;
        if (depth > this.#o.maxDeltaDepth) {
          throw new LimitExceededError(`delta chain longer than ${this.#o.maxDeltaDepth}`, {
            details: { limit: 'maxDeltaDepth', max: this.#o.maxDeltaDepth },
          });
        }
        const out = applyDelta(b, d.delta, this.#o.maxObjectSize);
        const oid = hashObject(res.type, out);
        this.#emit({ oid, type: res.type, body: out, delta: { base: res.oid, data: d.delta } });
        stack.push([d.offset, { oid, type: res.type, depth }, out]);
      }
    }
  }

  /** End of input: everything must have been read, checked and resolved. */
  #finish(): void {
    if (this.#phase !== 'done') {
      const where = this.#phase === 'header' ? 'in its header' : this.#phase === 'entries' ? `after ${this.#parsed} of ${this.#count} entries` : 'before its checksum';
      throw new CorruptPackError(`pack is truncated ${where}`);
    }
    if (this.#deferredCount > 0) {
      const missing = [...this.#waitingOnOid.keys()];
      const offsets = [...this.#waitingOnOffset.keys()];
      const what = missing.length > 0 ? `missing delta base ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}` : `unresolvable ofs-delta bases at ${offsets.slice(0, 5).join(', ')}`;
      throw new CorruptPackError(`pack has ${this.#deferredCount} deltas that cannot be resolved: ${what}`, {
        details: { missing: missing.slice(0, 100) },
      });
    }
  }
}

/**
 * Reads a pack from `source`, yielding batches of resolved objects with their ids. Throws
 * CorruptPackError (bad signature, version, zlib data, sizes, deltas, checksum, truncation,
 * trailing bytes, unresolvable deltas) or LimitExceededError. The objects are provisional
 * until the generator completes without throwing: the checksum is verified last.
 */
export async function* readPack(source: AsyncIterable<Uint8Array>, options: ReadPackOptions = {}): AsyncGenerator<PackObject[]> {
  const reader = new PackReader(options);
  for await (const chunk of source) {
    reader.push(chunk);
    yield* reader.process(false);
  }
  yield* reader.process(true);
}

/** Reads a whole in-memory pack (tests and small packs). */
export async function readPackBytes(pack: Uint8Array, options: ReadPackOptions = {}): Promise<PackObject[]> {
  const out: PackObject[] = [];
  for await (const batch of readPack(
    (async function* () {
      yield pack;
    })(),
    options,
  )) {
    out.push(...batch);
  }
  return out;
}
