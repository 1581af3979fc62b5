/**
 * A delta applied as a stream (delta.ts has the grammar): the result is produced a slice at a
 * time, each slice hashed into the object's SHA-1 and deflated into a whole blob entry
 * (header + zlib stream) whose bytes leave as pieces, so a big result is never held. The
 * delta's instructions are in memory (its data was inflated by the parser); copy instructions
 * read the base through a `BaseSource`: a body in memory, or a big base stored in chunks,
 * inflated here window by window as the copies need it (`ChunkedBase`). A small result from a windowed base is
 * collected whole instead (`collect`), so it can be stored like any small object.
 */
import { CorruptPackError, LimitExceededError } from '../errors.js';
import { platform, type Sha1Hasher, type StreamDeflater, type StreamInflater } from '../platform/index.js';
import { toHex, utf8 } from '../platform/bytes.js';
import { type ObjectType, type Oid, TYPE_NUMBERS } from '../object/oid.js';
import { CHUNK_BYTES } from '../object/packed.js';
import { encodeEntryHeader } from './entry.js';
import { copyOp, readCopyOp, readDeltaSizes } from './delta.js';
import type { InflateBudget } from './budget.js';

/** Bytes of an inflated window of a big base. */
export const BASE_WINDOW = 1024 * 1024;
/** Result bytes produced per `step`. */
const SLICE = 1024 * 1024;
/** Windows of a big base kept by one delta. */
const WINDOWS_KEPT = 8;
/** Compressed bytes fed to the inflater per call: bounds one call's output (zlib expands at most ~1032x). */
const FEED = 4096;
/**
 * A streamed result's entry bytes leave in pieces of exactly this size (the last one shorter),
 * counted from the entry's first byte: the stored chunk size, so each piece becomes a stored
 * chunk as it is (object/chunked.ts ChunkSink.addOwned), without a copy on the consumer's thread.
 */
const PIECE = CHUNK_BYTES;

/** Where copy instructions read the base from. */
export interface BaseSource {
  readonly size: number;
  /** Bytes [offset, offset + length) of the base, within one BASE_WINDOW-aligned window. */
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /** Whether `body` is this source's (the resolver must not transfer it). */
  holds(body: Uint8Array): boolean;
  /** Releases what it holds. */
  close?(): void;
}

/** A base whose body is in memory. */
export class MemoryBase implements BaseSource {
  constructor(readonly body: Uint8Array) {}
  get size(): number {
    return this.body.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.body.subarray(offset, offset + length);
  }
  holds(body: Uint8Array): boolean {
    return body === this.body;
  }
}

/**
 * A big base stored in chunks (object/chunked.ts), read through `fetch(i)`: the i-th stored
 * chunk of its pack entry (header, then zlib stream), as the store's `getBase(oid, i)` answers.
 * It is inflated here, forward, into windows of BASE_WINDOW bytes, the last few kept; a read
 * behind them starts the inflation over. The first `size` bytes inflated are free (the base
 * was charged when it arrived); every byte inflated again is charged to the inflated-byte
 * budget, so copies that jump back and forth across a big base cost what they inflate.
 * Memory: the kept windows and one inflater call's output (input is fed in small slices).
 */
export class ChunkedBase implements BaseSource {
  readonly #windows = new Map<number, Uint8Array>();
  readonly #fetch: (chunk: number) => Promise<Uint8Array>;
  readonly #budget: InflateBudget;
  #inflater: StreamInflater | undefined;
  #nextChunk = 0;
  #chunk: Uint8Array = new Uint8Array(0);
  #chunkAt = 0;
  #inHeader = true;
  /** Index of the window being filled, and its bytes so far. */
  #fillIndex = 0;
  #fill: Uint8Array = new Uint8Array(0);
  #used = 0;
  #inflated = 0;

  constructor(
    readonly size: number,
    fetch: (chunk: number) => Promise<Uint8Array>,
    budget: InflateBudget,
  ) {
    this.#fetch = fetch;
    this.#budget = budget;
  }

  read(offset: number, length: number): Uint8Array | Promise<Uint8Array> {
    const k = Math.floor(offset / BASE_WINDOW);
    const at = offset - k * BASE_WINDOW;
    const w = this.#windows.get(k);
    if (w !== undefined) {
      // Most recently used last.
      this.#windows.delete(k);
      this.#windows.set(k, w);
      return w.subarray(at, at + length);
    }
    return this.#load(k).then((b) => b.subarray(at, at + length));
  }

  holds(): boolean {
    return false;
  }

  /** Releases the inflater. */
  close(): void {
    this.#inflater?.close();
    this.#inflater = undefined;
  }

  async #load(k: number): Promise<Uint8Array> {
    if (this.#inflater === undefined || k < this.#fillIndex) this.#restart();
    const inflater = this.#inflater!;
    for (;;) {
      const done = this.#windows.get(k);
      if (done !== undefined) return done;
      if (this.#chunkAt >= this.#chunk.length) {
        if (inflater.ended) throw new CorruptPackError(`a big delta base ends before its window ${k}`);
        this.#chunk = await this.#fetch(this.#nextChunk++);
        this.#chunkAt = 0;
        // The entry header: bytes with the high bit set, then one without.
        while (this.#inHeader && this.#chunkAt < this.#chunk.length) if (!(this.#chunk[this.#chunkAt++]! & 0x80)) this.#inHeader = false;
        continue;
      }
      const end = Math.min(this.#chunk.length, this.#chunkAt + FEED);
      inflater.push(this.#chunk.subarray(this.#chunkAt, end), (piece) => this.#take(piece));
      this.#chunkAt = end;
    }
  }

  #restart(): void {
    this.#inflater?.close();
    this.#inflater = platform().createInflater!();
    this.#nextChunk = 0;
    this.#chunk = new Uint8Array(0);
    this.#chunkAt = 0;
    this.#inHeader = true;
    this.#fillIndex = 0;
    this.#fill = new Uint8Array(Math.min(BASE_WINDOW, this.size));
    this.#used = 0;
  }

  /** Inflated bytes: into the window being filled; a full one joins the kept windows. */
  #take(piece: Uint8Array): void {
    this.#inflated += piece.length;
    if (this.#inflated > this.size) this.#budget.charge(piece.length, 'a big delta base inflated again');
    let p = 0;
    while (p < piece.length) {
      if (this.#fill.length === 0) throw new CorruptPackError('a big delta base inflates to more than its size');
      const n = Math.min(piece.length - p, this.#fill.length - this.#used);
      this.#fill.set(piece.subarray(p, p + n), this.#used);
      this.#used += n;
      p += n;
      if (this.#used === this.#fill.length) {
        this.#windows.set(this.#fillIndex++, this.#fill);
        // The window dropped is filled next: reads hand out views that are copied at once
        // (StreamingDelta.#write), so none outlives it, and a pass over a big base allocates
        // WINDOWS_KEPT + 1 windows, not one per MiB (garbage the GC sees late: external memory).
        let reuse: Uint8Array | undefined;
        if (this.#windows.size > WINDOWS_KEPT) {
          const oldest = this.#windows.keys().next().value!;
          reuse = this.#windows.get(oldest);
          this.#windows.delete(oldest);
        }
        const next = Math.max(0, Math.min(BASE_WINDOW, this.size - this.#fillIndex * BASE_WINDOW));
        this.#fill = reuse !== undefined && reuse.length === next ? reuse : new Uint8Array(next);
        this.#used = 0;
      }
    }
  }
}

/** Applies one delta slice by slice; see the module comment. */
export class StreamingDelta {
  readonly resultSize: number;
  readonly #base: BaseSource;
  readonly #delta: Uint8Array;
  readonly #hash: Sha1Hasher = platform().createSha1();
  readonly #deflater: StreamDeflater | undefined;
  /** The whole result (collect mode) or the slice being filled. */
  #out: Uint8Array;
  #outAt = 0;
  #produced = 0;
  #i: number;
  /** A copy instruction in progress: base offset and bytes left. */
  #copyOff = 0;
  #copyLeft = 0;
  #pieces: Uint8Array[] = [];
  /** The piece being filled (stream mode). */
  #piece: Uint8Array = new Uint8Array(0);
  #pieceAt = 0;
  #done = false;

  /** `collect`: keep the result whole (a small result) instead of deflating it into pieces. */
  constructor(base: BaseSource, type: ObjectType, delta: Uint8Array, maxResultSize: number, collect: boolean) {
    const { baseSize, resultSize, offset } = readDeltaSizes(delta);
    if (baseSize !== base.size) throw new CorruptPackError(`delta base size ${baseSize} does not match the base (${base.size} bytes)`);
    if (resultSize > maxResultSize) {
      throw new LimitExceededError(`delta result of ${resultSize} bytes exceeds the limit of ${maxResultSize}`, {
        details: { limit: 'maxObjectSize', size: resultSize, max: maxResultSize },
      });
    }
    this.resultSize = resultSize;
    this.#base = base;
    this.#delta = delta;
    this.#i = offset;
    this.#hash.update(utf8(`${type} ${resultSize}\0`));
    if (collect) {
      this.#out = new Uint8Array(resultSize);
    } else {
      this.#deflater = platform().createDeflater!(1);
      this.#out = new Uint8Array(Math.min(SLICE, resultSize));
      this.#emit(encodeEntryHeader(TYPE_NUMBERS[type], resultSize));
    }
  }

  /** Whether the runtime can deflate a result as a stream (Node). */
  static available(): boolean {
    return typeof platform().createDeflater === 'function';
  }

  /** Whether the whole result was produced. */
  get done(): boolean {
    return this.#done;
  }

  /** Whether the base's in-memory body is `body`. */
  holds(body: Uint8Array): boolean {
    return this.#base.holds(body);
  }

  /** The entry bytes deflated since the last call (stream mode). */
  takePieces(): Uint8Array[] {
    const p = this.#pieces;
    this.#pieces = [];
    return p;
  }

  /** The result (collect mode, once done). */
  get body(): Uint8Array {
    return this.#out;
  }

  /** The object id, once done. */
  oid(): Oid {
    return toHex(this.#hash.digest()) as Oid;
  }

  /** Releases the deflater (a read abandoned in the middle). */
  close(): void {
    this.#deflater?.close();
    this.#base.close?.();
  }

  /** Produces the next slice of the result; a promise while a base window is read. */
  async step(): Promise<void> {
    const limit = this.#deflater === undefined ? this.resultSize : Math.min(this.#produced + SLICE, this.resultSize);
    const d = this.#delta;
    const n = d.length;
    while (this.#produced < limit) {
      if (this.#copyLeft > 0) {
        // Within one base window per read.
        const inWindow = BASE_WINDOW - (this.#copyOff % BASE_WINDOW);
        const k = Math.min(this.#copyLeft, inWindow, limit - this.#produced);
        const got = this.#base.read(this.#copyOff, k);
        this.#write(got instanceof Uint8Array ? got : await got);
        this.#copyOff += k;
        this.#copyLeft -= k;
        continue;
      }
      if (this.#i >= n) throw new CorruptPackError(`delta produced ${this.#produced} bytes but declared ${this.resultSize}`);
      const op = d[this.#i++]!;
      if (op & 0x80) {
        this.#i = readCopyOp(d, this.#i, op);
        const off = copyOp.offset;
        const size = copyOp.size;
        if (off + size > this.#base.size) throw new CorruptPackError(`delta copies bytes ${off}..${off + size} outside the base (${this.#base.size} bytes)`);
        if (this.#produced + size > this.resultSize) throw new CorruptPackError('delta writes past its declared result size');
        this.#copyOff = off;
        this.#copyLeft = size;
      } else if (op !== 0) {
        if (this.#i + op > n) throw new CorruptPackError('delta ends inside an insert op');
        if (this.#produced + op > this.resultSize) throw new CorruptPackError('delta writes past its declared result size');
        this.#write(d.subarray(this.#i, this.#i + op));
        this.#i += op;
      } else {
        throw new CorruptPackError('delta contains the reserved op 0');
      }
    }
    if (this.#produced === this.resultSize && this.#copyLeft === 0) {
      if (this.#i !== n) throw new CorruptPackError('delta writes past its declared result size');
      this.#flush();
      this.#deflater?.finish((z) => this.#emit(z));
      if (this.#pieceAt > 0 && this.#pieceAt < this.#piece.length) this.#pieces.push(this.#piece.subarray(0, this.#pieceAt));
      this.#base.close?.();
      this.#done = true;
    }
  }

  /** Appends result bytes: into the whole result, or the slice (flushed when full). */
  #write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const k = Math.min(bytes.length - at, this.#out.length - this.#outAt);
      this.#out.set(bytes.subarray(at, at + k), this.#outAt);
      this.#outAt += k;
      at += k;
      if (this.#deflater !== undefined && this.#outAt === this.#out.length) this.#flush();
    }
    this.#produced += bytes.length;
  }

  /** Hashes and deflates the slice filled so far (stream mode), or hashes the whole result once done. */
  #flush(): void {
    if (this.#outAt === 0) return;
    const filled = this.#out.subarray(0, this.#outAt);
    this.#hash.update(filled);
    if (this.#deflater !== undefined) {
      this.#deflater.push(filled, (z) => this.#emit(z));
      this.#outAt = 0;
    }
  }

  /** Appends entry bytes to the piece being filled; a full one leaves (see PIECE). */
  #emit(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      if (this.#pieceAt === this.#piece.length) {
        this.#piece = new Uint8Array(PIECE);
        this.#pieceAt = 0;
      }
      const k = Math.min(bytes.length - at, PIECE - this.#pieceAt);
      this.#piece.set(bytes.subarray(at, at + k), this.#pieceAt);
      this.#pieceAt += k;
      at += k;
      if (this.#pieceAt === PIECE) this.#pieces.push(this.#piece);
    }
  }
}
