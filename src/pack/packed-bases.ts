/**
 * The resolver's second tier of delta bases: each resolved entry's compressed form (its zlib
 * stream as it arrived and, for a delta, the id of its base), bounded by bytes, oldest out. A
 * base that left the body cache (base-cache.ts) is rebuilt from here on the reader's own
 * thread (inflated; a delta applied to its base, rebuilt the same way), as `git index-pack`
 * re-reads bases from its pack file. Asking the consumer instead (`getBase`) is a round trip to
 * a thread that answers only between its batches: on a 20,000-commit history's pack 8,340 of
 * them held the reader idle for ~4 s of a ~15 s read, and the consumer rebuilt each base from
 * what it had stored. Compressed, the same memory holds several times the bases the body cache
 * does (a whole 25 MB pack here).
 *
 * Rebuilding is work the pack did not declare: bytes rebuilt are bounded by twice the bytes
 * resolved so far plus REBUILD_FLOOR (past that the resolver asks `getBase` as before), so a
 * crafted pack cannot turn the cache into unbounded inflation.
 */
import type { Oid } from '../object/oid.js';
import { platform } from '../platform/index.js';
import { applyDelta } from './delta.js';

/** Rebuilt bytes allowed beyond twice the bytes resolved (see the module comment). */
const REBUILD_FLOOR = 64 * 1024 * 1024;

/** Copies are packed into slabs of this size (one allocation per slab, not per entry). */
const SLAB = 1024 * 1024;

interface Recipe {
  /** The entry's zlib stream: the body, or the delta against `base`. */
  zlib: Uint8Array;
  /** Inflated size of `zlib` (the body's size, or the delta's). */
  inflated: number;
  /** For a delta: its base. */
  base: Oid | undefined;
}

/** Compressed forms of resolved entries by id, up to `maxBytes` of zlib streams; see the module comment. */
export class PackedBases {
  readonly #max: number;
  readonly #map = new Map<Oid, Recipe>();
  /** Ids in the order added, from `#head` on (oldest first). */
  #order: Oid[] = [];
  #head = 0;
  #bytes = 0;
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  #resolved = 0;
  #rebuilt = 0;

  /** Keeps up to `maxBytes` of compressed entries. */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /**
   * Records a resolved entry: `zlib` (copied) inflates to `inflated` bytes — its body, or with
   * `base` a delta against that object. `size`: the body's size (counts toward what may be rebuilt).
   */
  add(oid: Oid, zlib: Uint8Array, inflated: number, base: Oid | undefined, size: number): void {
    this.#resolved += size;
    if (zlib.length > this.#max || this.#map.has(oid)) return;
    this.#map.set(oid, { zlib: this.#copy(zlib), inflated, base });
    this.#order.push(oid);
    this.#bytes += zlib.length;
    while (this.#bytes > this.#max) {
      const old = this.#order[this.#head++]!;
      this.#bytes -= this.#map.get(old)!.zlib.length;
      this.#map.delete(old);
    }
    if (this.#head > 65536 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * The body of `oid` rebuilt from its compressed form, its chain of delta bases taken from
   * `cached` where it has them (each body rebuilt on the way is handed to `keep`); undefined
   * when a link of the chain is gone or the rebuild allowance is spent.
   */
  rebuild(oid: Oid, cached: (oid: Oid) => Uint8Array | undefined, keep: (oid: Oid, body: Uint8Array) => void, maxObjectSize: number): Uint8Array | undefined {
    const chain: Recipe[] = [];
    const ids: Oid[] = [];
    let body: Uint8Array | undefined;
    for (let at: Oid | undefined = oid; ; ) {
      const r = this.#map.get(at);
      if (r === undefined) return undefined;
      chain.push(r);
      ids.push(at);
      if (r.base === undefined) break;
      body = cached(r.base);
      if (body !== undefined) break;
      at = r.base;
    }
    const z = platform();
    for (let i = chain.length - 1; i >= 0; i--) {
      const r = chain[i]!;
      if (this.#rebuilt > this.#resolved * 2 + REBUILD_FLOOR) return undefined;
      const data = z.inflate(r.zlib, r.inflated);
      body = r.base === undefined ? data : applyDelta(body!, data, maxObjectSize);
      this.#rebuilt += body.length;
      keep(ids[i]!, body);
    }
    return body;
  }

  #copy(bytes: Uint8Array): Uint8Array {
    if (bytes.length > SLAB / 4) return bytes.slice();
    if (this.#slabUsed + bytes.length > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB);
      this.#slabUsed = 0;
    }
    const view = this.#slab.subarray(this.#slabUsed, this.#slabUsed + bytes.length);
    view.set(bytes);
    this.#slabUsed += bytes.length;
    return view;
  }
}
