/**
 * The resolver's cache of recently resolved bodies (delta bases), bounded by bytes, least
 * recently used first out. A Map in use order (a hit is moved to the end) and one byte count:
 * lru-cache's size tracking cost a tenth of the reader's thread on a long history's pack.
 */
import type { Oid } from '../object/oid.js';

/** Bodies by id up to `maxBytes` (each counted as at least 1); a body larger than that is never cached. */
export class BaseCache {
  readonly #max: number;
  readonly #map = new Map<Oid, Uint8Array>();
  #bytes = 0;

  /** A cache holding at most `maxBytes` of bodies. */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** The body of `oid`, now the most recently used; undefined when absent. */
  get(oid: Oid): Uint8Array | undefined {
    const v = this.#map.get(oid);
    if (v === undefined) return undefined;
    this.#map.delete(oid);
    this.#map.set(oid, v);
    return v;
  }

  /** The body of `oid` without changing the order. */
  peek(oid: Oid): Uint8Array | undefined {
    return this.#map.get(oid);
  }

  /** Caches `body` as the most recently used, dropping the least recently used beyond the bound. */
  set(oid: Oid, body: Uint8Array): void {
    const size = Math.max(1, body.length);
    const old = this.#map.get(oid);
    if (old !== undefined) {
      this.#map.delete(oid);
      this.#bytes -= Math.max(1, old.length);
    }
    if (size > this.#max) return;
    this.#map.set(oid, body);
    this.#bytes += size;
    if (this.#bytes <= this.#max) return;
    for (const [k, v] of this.#map) {
      this.#map.delete(k);
      this.#bytes -= Math.max(1, v.length);
      if (this.#bytes <= this.#max) return;
    }
  }
}
