/**
 * The resolver's cache of recently resolved bodies (delta bases), bounded by bytes, least
 * recently used first out: a Map to nodes of a doubly linked list in use order, O(1) per use
 * and per eviction. lru-cache's size tracking cost a tenth of the reader's thread on a long
 * history's pack; evicting by iterating a Map from its start was quadratic (the deleted
 * entries at its front are skipped again on every eviction until the Map rehashes).
 *
 * A body that is a small part of a larger buffer (the reader carves bodies from shared slabs:
 * slabs.ts) keeps that whole buffer alive: such a buffer is counted once, at its full size,
 * while any body in it is cached, and a body alone in a buffer counts that buffer, so the
 * bound holds for the memory really held. `onDrop` hears of every body that leaves (the
 * resolver gives recycled buffers back: delta-resolver.ts).
 *
 * Keys are whatever the owner names bodies by: the resolver numbers its entries (a Map keyed by
 * small integers hashes no string; keyed by hex ids, its operations were a tenth of the pack
 * worker's time on a long history's pack).
 */

interface Node<K> {
  key: K;
  body: Uint8Array;
  size: number;
  /** The shared buffer `body` is a part of (counted once for all its bodies), or undefined. */
  shared: ArrayBuffer | undefined;
  older: Node<K> | undefined;
  newer: Node<K> | undefined;
}

/** Bodies by key up to `maxBytes` (each counted as at least 1); a body larger than that is never cached. */
export class BaseCache<K extends string | number> {
  readonly #max: number;
  readonly #map = new Map<K, Node<K>>();
  /** Cached bodies per shared buffer. */
  readonly #buffers = new Map<ArrayBuffer, number>();
  #bytes = 0;
  /** Least recently used. */
  #oldest: Node<K> | undefined;
  /** Most recently used. */
  #newest: Node<K> | undefined;

  /** Told of each body that leaves the cache (evicted or replaced); undefined: nobody is. */
  readonly #onDrop: ((key: K, body: Uint8Array) => void) | undefined;

  /** A cache holding at most `maxBytes` of bodies; `onDrop` is told of each body that leaves it. */
  constructor(maxBytes: number, onDrop?: (key: K, body: Uint8Array) => void) {
    this.#max = maxBytes;
    this.#onDrop = onDrop;
  }

  /** The body of `key`, now the most recently used; undefined when absent. */
  get(key: K): Uint8Array | undefined {
    const n = this.#map.get(key);
    if (n === undefined) return undefined;
    if (n !== this.#newest) {
      this.#unlink(n);
      this.#append(n);
    }
    return n.body;
  }

  /** The body of `key` without changing the order. */
  peek(key: K): Uint8Array | undefined {
    return this.#map.get(key)?.body;
  }

  /** Caches `body` as the most recently used, dropping the least recently used beyond the bound. */
  set(key: K, body: Uint8Array): void {
    const old = this.#map.get(key);
    if (old !== undefined) this.#drop(old);
    const shared = sharedBuffer(body);
    // A body alone in a buffer up to twice its size (a recycled one: slabs.ts) counts the buffer.
    const size = Math.max(1, shared === undefined ? Math.max(body.length, body.buffer.byteLength) : body.length);
    if (size > this.#max) return;
    const n: Node<K> = { key, body, size, shared, older: undefined, newer: undefined };
    this.#map.set(key, n);
    this.#append(n);
    if (shared === undefined) this.#bytes += size;
    else {
      const held = this.#buffers.get(shared) ?? 0;
      if (held === 0) this.#bytes += shared.byteLength;
      this.#buffers.set(shared, held + 1);
    }
    while (this.#bytes > this.#max) this.#drop(this.#oldest!);
  }

  #drop(n: Node<K>): void {
    this.#unlink(n);
    this.#map.delete(n.key);
    this.#onDrop?.(n.key, n.body);
    const shared = n.shared;
    if (shared === undefined) {
      this.#bytes -= n.size;
      return;
    }
    const held = this.#buffers.get(shared)! - 1;
    if (held > 0) this.#buffers.set(shared, held);
    else {
      this.#buffers.delete(shared);
      this.#bytes -= shared.byteLength;
    }
  }

  #unlink(n: Node<K>): void {
    if (n.older === undefined) this.#oldest = n.newer;
    else n.older.newer = n.newer;
    if (n.newer === undefined) this.#newest = n.older;
    else n.newer.older = n.older;
    n.older = undefined;
    n.newer = undefined;
  }

  #append(n: Node<K>): void {
    n.older = this.#newest;
    if (this.#newest === undefined) this.#oldest = n;
    else this.#newest.newer = n;
    this.#newest = n;
  }
}

/** The buffer `body` is a small part of (a shared slab), or undefined when it is (nearly) all of its buffer. */
function sharedBuffer(body: Uint8Array): ArrayBuffer | undefined {
  const buf = body.buffer;
  return buf instanceof ArrayBuffer && buf.byteLength > 2 * body.byteLength + 4096 ? buf : undefined;
}
