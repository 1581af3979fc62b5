/**
 * The resolver's cache of recently resolved bodies (delta bases), bounded by bytes, least
 * recently used first out: a Map to nodes of a doubly linked list in use order, O(1) per use
 * and per eviction. lru-cache's size tracking cost a tenth of the reader's thread on a long
 * history's pack; evicting by iterating a Map from its start was quadratic (the deleted
 * entries at its front are skipped again on every eviction until the Map rehashes).
 */
import type { Oid } from '../object/oid.js';

interface Node {
  oid: Oid;
  body: Uint8Array;
  size: number;
  older: Node | undefined;
  newer: Node | undefined;
}

/** Bodies by id up to `maxBytes` (each counted as at least 1); a body larger than that is never cached. */
export class BaseCache {
  readonly #max: number;
  readonly #map = new Map<Oid, Node>();
  #bytes = 0;
  /** Least recently used. */
  #oldest: Node | undefined;
  /** Most recently used. */
  #newest: Node | undefined;

  /** A cache holding at most `maxBytes` of bodies. */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** The body of `oid`, now the most recently used; undefined when absent. */
  get(oid: Oid): Uint8Array | undefined {
    const n = this.#map.get(oid);
    if (n === undefined) return undefined;
    if (n !== this.#newest) {
      this.#unlink(n);
      this.#append(n);
    }
    return n.body;
  }

  /** The body of `oid` without changing the order. */
  peek(oid: Oid): Uint8Array | undefined {
    return this.#map.get(oid)?.body;
  }

  /** Caches `body` as the most recently used, dropping the least recently used beyond the bound. */
  set(oid: Oid, body: Uint8Array): void {
    const old = this.#map.get(oid);
    if (old !== undefined) this.#drop(old);
    const size = Math.max(1, body.length);
    if (size > this.#max) return;
    const n: Node = { oid, body, size, older: undefined, newer: undefined };
    this.#map.set(oid, n);
    this.#append(n);
    this.#bytes += size;
    while (this.#bytes > this.#max) this.#drop(this.#oldest!);
  }

  #drop(n: Node): void {
    this.#unlink(n);
    this.#map.delete(n.oid);
    this.#bytes -= n.size;
  }

  #unlink(n: Node): void {
    if (n.older === undefined) this.#oldest = n.newer;
    else n.older.newer = n.newer;
    if (n.newer === undefined) this.#newest = n.older;
    else n.newer.older = n.older;
    n.older = undefined;
    n.newer = undefined;
  }

  #append(n: Node): void {
    n.older = this.#newest;
    if (this.#newest === undefined) this.#oldest = n;
    else this.#newest.newer = n;
    this.#newest = n;
  }
}
