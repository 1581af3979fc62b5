/**
 * A least-recently-used cache bounded by the total size of its values: what every cache of the
 * engine needs (decoded objects, resolved delta bodies, commit-graph records, finished packs).
 * In place of the `lru-cache` package, whose browser build was 18 KiB of a page's bundle for
 * features the engine never used (time to live, fetch, dispose); docs/browser.md, "Bundle size".
 * Entries sit in a Map by key and in a list from least to most recently used: a read moves its
 * entry to the end, a write past `maxSize` removes from the front (no scan: measured as fast as
 * `lru-cache` on a cache that evicts on every write).
 */

/** How a cache is bounded. */
export interface LruOptions<V> {
  /** Total size the values may reach. */
  maxSize: number;
  /** A value's size (at least 1 is counted). */
  sizeCalculation: (value: V) => number;
  /** Values larger than this are not kept (default `maxSize`). */
  maxEntrySize?: number;
}

interface Entry<K, V> {
  key: K;
  value: V;
  size: number;
  prev: Entry<K, V> | undefined;
  next: Entry<K, V> | undefined;
}

/** The cache. `get` counts as a use, `peek` and `has` do not. */
export class LRUCache<K, V> {
  readonly #map = new Map<K, Entry<K, V>>();
  readonly #options: LruOptions<V>;
  #total = 0;
  /** Least recently used. */
  #oldest: Entry<K, V> | undefined;
  /** Most recently used. */
  #newest: Entry<K, V> | undefined;

  /** An empty cache. */
  constructor(options: LruOptions<V>) {
    this.#options = options;
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Total size of the values held. */
  get calculatedSize(): number {
    return this.#total;
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (e !== this.#newest) {
      this.#unlink(e);
      this.#append(e);
    }
    return e.value;
  }

  /** The value without counting a use. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** True when the key is held. */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Stores a value as the most recently used, then removes the least recently used past `maxSize`; a value too large for one entry is not kept (and drops the key's old one). */
  set(key: K, value: V): this {
    this.delete(key);
    const size = Math.max(1, this.#options.sizeCalculation(value));
    if (size > (this.#options.maxEntrySize ?? this.#options.maxSize) || size > this.#options.maxSize) return this;
    const e: Entry<K, V> = { key, value, size, prev: undefined, next: undefined };
    this.#map.set(key, e);
    this.#append(e);
    this.#total += size;
    while (this.#total > this.#options.maxSize && this.#oldest !== undefined) this.delete(this.#oldest.key);
    return this;
  }

  /** Removes the key; true when it was held. */
  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    this.#map.delete(key);
    this.#unlink(e);
    this.#total -= e.size;
    return true;
  }

  /** Removes everything. */
  clear(): void {
    this.#map.clear();
    this.#oldest = this.#newest = undefined;
    this.#total = 0;
  }

  #unlink(e: Entry<K, V>): void {
    if (e.prev) e.prev.next = e.next;
    else this.#oldest = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.#newest = e.prev;
    e.prev = e.next = undefined;
  }

  #append(e: Entry<K, V>): void {
    e.prev = this.#newest;
    if (this.#newest) this.#newest.next = e;
    else this.#oldest = e;
    this.#newest = e;
  }
}
