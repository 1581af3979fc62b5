/**
 * The resolver's second tier of delta bases: each resolved entry's compressed form (its zlib
 * stream as it arrived and, for a delta, which entry its base is), bounded by bytes, oldest
 * out. A base that left the body cache (base-cache.ts) is rebuilt from here on the reader's
 * own thread (inflated; a delta applied to its base, rebuilt the same way), as `git
 * index-pack` re-reads bases from its pack file. Asking the consumer instead (`getBase`) is a
 * round trip to a thread that answers only between its batches: on a 20,000-commit history's
 * pack 8,340 of them held the reader idle for ~4 s of a ~15 s read, and the consumer rebuilt
 * each base from what it had stored. Compressed, the same memory holds several times the bases
 * the body cache does (a whole 25 MB pack here).
 *
 * Entries are numbered in the order added; the streams are copied into 1 MiB slabs and
 * described by typed arrays (no object or Map entry per entry: the resolver keeps each entry's
 * number beside what it already records). Rebuilding is work the pack did not declare: bytes
 * rebuilt are bounded by twice the bytes resolved so far plus REBUILD_FLOOR (past that the
 * resolver asks `getBase` as before), so a crafted pack cannot turn the cache into unbounded
 * inflation.
 *
 * Where the platform has scratch files (Node), a slab that leaves memory is written to one
 * instead of being dropped, and its entries are read back from it when a rebuild needs them,
 * as `git index-pack` reads its pack file: a long history's push whose deltas reach far back
 * (git's own history: 54,000 bases asked of the consumer with 32 MiB of entries held, 0 with
 * all of them) keeps its memory bound and stops asking. The file holds at most the pack's own
 * compressed entries, and goes with the reader (`close`).
 */
import { grown } from '../platform/bytes.js';
import { platform } from '../platform/index.js';
import type { ScratchFile } from '../platform/types.js';
import { CorruptPackError } from '../errors.js';
import { applyDelta } from './delta.js';

/** Rebuilt bytes allowed beyond twice the bytes resolved (see the module comment). */
const REBUILD_FLOOR = 64 * 1024 * 1024;

/** Streams are copied into slabs of this size; a longer one gets a slab of its own. */
const SLAB = 1024 * 1024;

/** No entry (the `packed` number of an entry that has none). */
export const NO_PACKED = -1;

/** Compressed forms of resolved entries up to `maxBytes` of zlib streams; see the module comment. */
export class PackedBases {
  readonly #max: number;
  readonly #floor: number;
  readonly #slabs: (Uint8Array | undefined)[] = [];
  #slabUsed = SLAB;
  /** Per slab: where it was written to the scratch file (-1: not written), and its bytes in use. */
  readonly #slabFile: number[] = [];
  readonly #slabEnd: number[] = [];
  /** The oldest slab still in memory (scratch file only). */
  #oldestSlab = 0;
  readonly #scratch: (() => ScratchFile) | null;
  #file: ScratchFile | undefined;
  /** Per entry: slab, offset in it, stream length, inflated length, the base's entry (NO_PACKED: whole). */
  #slab = new Int32Array(1024);
  #at = new Int32Array(1024);
  #len = new Int32Array(1024);
  #inflated = new Int32Array(1024);
  #base = new Int32Array(1024);
  /** Per entry: the key its owner names its body by (`held`, `keep`: the resolver's entry numbers). */
  #keys = new Int32Array(1024);
  #count = 0;
  /** Entries below this number are gone. */
  #first = 0;
  #bytes = 0;
  #resolved = 0;
  #rebuilt = 0;
  /** Where a link's delta data is inflated (grown as needed, reused). */
  #data = new Uint8Array(0);
  /** Where a stream read back from the scratch file lands (grown as needed, reused: it is inflated at once). */
  #read = new Uint8Array(0);

  /**
   * Keeps up to `maxBytes` of compressed entries in memory; `rebuildFloor`: see the module
   * comment (REBUILD_FLOOR); `scratch`: where slabs leaving memory go (null: they are dropped).
   */
  constructor(maxBytes: number, rebuildFloor = REBUILD_FLOOR, scratch: (() => ScratchFile) | null = platform().scratchFile ?? null) {
    this.#max = maxBytes;
    this.#floor = rebuildFloor;
    this.#scratch = scratch;
  }

  /** Bytes of compressed entries held in memory. */
  get heldBytes(): number {
    return this.#bytes;
  }

  /** Closes the scratch file, if one was opened. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }

  /**
   * Records a resolved entry, named `key` (a non-negative integer) toward `held` and `keep`, and
   * returns its number (NO_PACKED when not kept): `zlib` (copied) inflates to `inflated` bytes —
   * the body (`base` NO_PACKED) or a delta against entry `base`. `size` is the body's size (it
   * counts toward what may be rebuilt).
   */
  add(key: number, zlib: Uint8Array, inflated: number, base: number, size: number): number {
    this.#resolved += size;
    if (zlib.length > this.#max) return NO_PACKED;
    const n = this.#count++;
    if (n === this.#slab.length) this.#growTables();
    if (this.#slabUsed + zlib.length > SLAB || this.#slabs.length === 0) {
      this.#slabs.push(new Uint8Array(Math.max(SLAB, zlib.length)));
      this.#slabFile.push(-1);
      this.#slabEnd.push(0);
      this.#slabUsed = 0;
    }
    const s = this.#slabs.length - 1;
    this.#slabs[s]!.set(zlib, this.#slabUsed);
    this.#slab[n] = s;
    this.#at[n] = this.#slabUsed;
    this.#len[n] = zlib.length;
    this.#inflated[n] = inflated;
    this.#base[n] = base;
    this.#keys[n] = key;
    this.#slabUsed += zlib.length;
    this.#slabEnd[s] = this.#slabUsed;
    this.#bytes += zlib.length;
    if (this.#scratch === null) while (this.#bytes > this.#max) this.#evictOldest();
    // The slab being filled stays: only whole slabs before it are written out.
    else while (this.#bytes > this.#max && this.#oldestSlab < s) this.#writeOut(this.#oldestSlab++);
    return n;
  }

  /**
   * The body of entry `n` rebuilt from its compressed form, its chain of delta bases taken
   * from `held` where it has them (each body rebuilt on the way is handed to `keep`); undefined
   * when a link of the chain is gone or the rebuild allowance is spent. `alloc`: where the
   * bodies are built (the resolver's recycled body memory: a long history's push rebuilds as
   * many bytes as it resolves, and fresh buffers for them start collections); a link's delta
   * data is inflated into one buffer reused for every link.
   */
  rebuild(
    n: number,
    held: (key: number) => Uint8Array | undefined,
    keep: (key: number, body: Uint8Array) => void,
    maxObjectSize: number,
    alloc?: (n: number) => Uint8Array,
  ): Uint8Array | undefined {
    const chain: number[] = [];
    let body: Uint8Array | undefined;
    for (let at = n; ; ) {
      if (at < this.#first || at === NO_PACKED) return undefined;
      chain.push(at);
      const base = this.#base[at]!;
      if (base === NO_PACKED) break;
      body = held(this.#keys[base]!);
      if (body !== undefined) break;
      at = base;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const e = chain[i]!;
      if (this.#rebuilt > this.#resolved * 2 + this.#floor) return undefined;
      const size = this.#inflated[e]!;
      if (this.#base[e] === NO_PACKED) body = this.#inflateInto(e, alloc === undefined ? new Uint8Array(size + 1) : alloc(size + 1));
      else {
        if (this.#data.length <= size) this.#data = new Uint8Array(Math.max(size + 1, this.#data.length * 2));
        body = applyDelta(body!, this.#inflateInto(e, this.#data), maxObjectSize, alloc);
      }
      this.#rebuilt += body.length;
      keep(this.#keys[e]!, body);
    }
    return body;
  }

  /** Entry `e` inflated into `into` (at least one byte longer than its inflated size): a view of it, or of another buffer. */
  #inflateInto(e: number, into: Uint8Array): Uint8Array {
    const size = this.#inflated[e]!;
    const r = platform().inflatePrefix(this.#stream(e), size, into);
    if (r === null || r.output.length !== size)
      throw new CorruptPackError(`a kept entry being rebuilt inflated to ${r?.output.length ?? 'fewer'} bytes, not ${size}`);
    return r.output;
  }

  /**
   * The zlib stream of entry `e`, from memory or read back from the scratch file into one
   * reused buffer (valid until the next call: every caller inflates it at once; a push of git's
   * history reads 170,000 streams back, 405 MB).
   */
  #stream(e: number): Uint8Array {
    const at = this.#at[e]!;
    const len = this.#len[e]!;
    const slab = this.#slabs[this.#slab[e]!];
    if (slab !== undefined) return slab.subarray(at, at + len);
    if (this.#read.length < len) this.#read = new Uint8Array(Math.max(len, 64 * 1024, this.#read.length * 2));
    return this.#file!.read(this.#slabFile[this.#slab[e]!]! + at, len, this.#read);
  }

  /** Writes slab `s` to the scratch file and lets its memory go; its entries stay. */
  #writeOut(s: number): void {
    const used = this.#slabEnd[s]!;
    this.#file ??= this.#scratch!();
    this.#slabFile[s] = this.#file.append(this.#slabs[s]!.subarray(0, used));
    this.#slabs[s] = undefined;
    // Every byte up to the slab's end is an entry's (entries fill a slab in order, none leave).
    this.#bytes -= used;
  }

  #evictOldest(): void {
    const n = this.#first++;
    this.#bytes -= this.#len[n]!;
    // A slab whose last entry left is released (entries leave in slab order).
    const s = this.#slab[n]!;
    if (n + 1 === this.#count || this.#slab[n + 1] !== s) this.#slabs[s] = undefined;
  }

  #growTables(): void {
    this.#slab = grown(this.#slab);
    this.#at = grown(this.#at);
    this.#len = grown(this.#len);
    this.#inflated = grown(this.#inflated);
    this.#base = grown(this.#base);
    this.#keys = grown(this.#keys);
  }
}
