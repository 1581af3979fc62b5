/**
 * Compact collections of raw 20-byte object ids for the sweep and ingest: a map to small
 * integers and a set (open addressing over one array of 24-byte records, ~48 bytes per id at
 * most) and a growable list (20 bytes per id). A history of a
 * million objects marks in tens of megabytes, where a `Set` of hex strings costs ten times that
 * and keeps the garbage collector busy.
 */
import { grown } from '../platform/bytes.js';

const ID = 20;
/** Words of an OidMap slot: the id's five, then the value. */
const WORDS = 6;

/** The four bytes at `buf[at..at+4]` as one big-endian 32-bit word. */
function word(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

/**
 * A map from raw object ids to small non-negative integers (a type code, an index). Each slot
 * is one record of six 32-bit words, the id's five then value + 1 (0: empty), so a lookup
 * touches one place in memory, not an id table and a value table apart (on a long history's
 * push, millions of lookups into tables of megabytes: each is a cache miss).
 */
export class OidMap {
  /** Six words per slot: the id (five words, big-endian), then value + 1. */
  #words: Int32Array;
  #mask: number;
  #size = 0;

  constructor(capacity = 1024) {
    let cap = 1024;
    while (cap < capacity * 2) cap *= 2;
    this.#words = new Int32Array(cap * WORDS);
    this.#mask = cap - 1;
  }

  /** Number of ids held. */
  get size(): number {
    return this.#size;
  }

  // Ids are SHA-1 output: their first four bytes are already a uniform hash.
  #find(buf: Uint8Array, off: number): number {
    const w0 = word(buf, off);
    const w1 = word(buf, off + 4);
    const w2 = word(buf, off + 8);
    const w3 = word(buf, off + 12);
    const w4 = word(buf, off + 16);
    const words = this.#words;
    const mask = this.#mask;
    for (let i = w0 & mask; ; i = (i + 1) & mask) {
      const s = i * WORDS;
      if (words[s + 5] === 0) return i;
      if (words[s] === w0 && words[s + 1] === w1 && words[s + 2] === w2 && words[s + 3] === w3 && words[s + 4] === w4) return i;
    }
  }

  /** The value of the id at `buf[off..off+20]`, or -1 when it is absent. */
  get(buf: Uint8Array, off = 0): number {
    return this.#words[this.#find(buf, off) * WORDS + 5]! - 1;
  }

  /** Sets the value (0 ≤ value < 2^31 - 1) of the id at `buf[off..off+20]`; false when the id was already there (its value is replaced). */
  set(buf: Uint8Array, off: number, value: number): boolean {
    return this.swap(buf, off, value) < 0;
  }

  /** Sets the value of the id at `buf[off..off+20]` as `set` does and returns its value before (-1: it was absent). */
  swap(buf: Uint8Array, off: number, value: number): number {
    const s = this.#find(buf, off) * WORDS;
    const words = this.#words;
    const before = words[s + 5]! - 1;
    words[s + 5] = value + 1;
    if (before >= 0) return before;
    for (let k = 0; k < 5; k++) words[s + k] = word(buf, off + 4 * k);
    if (++this.#size * 2 > this.#mask + 1) this.#grow();
    return -1;
  }

  /** Calls `fn` with each id held (in `id`, a buffer reused from one call to the next) and its value, in no particular order. */
  forEach(fn: (id: Uint8Array, value: number) => void): void {
    const words = this.#words;
    const id = new Uint8Array(ID);
    const view = new DataView(id.buffer);
    for (let s = 0; s < words.length; s += WORDS) {
      if (words[s + 5] === 0) continue;
      for (let k = 0; k < 5; k++) view.setInt32(4 * k, words[s + k]!);
      fn(id, words[s + 5]! - 1);
    }
  }

  #grow(): void {
    const old = this.#words;
    const cap = (this.#mask + 1) * 2;
    const words = new Int32Array(cap * WORDS);
    const mask = cap - 1;
    for (let s = 0; s < old.length; s += WORDS) {
      if (old[s + 5] === 0) continue;
      // The ids are distinct: the first empty slot from its hash is its place, no id compared.
      let j = old[s]! & mask;
      while (words[j * WORDS + 5] !== 0) j = (j + 1) & mask;
      for (let k = 0, to = j * WORDS; k < WORDS; k++) words[to + k] = old[s + k]!;
    }
    this.#words = words;
    this.#mask = mask;
  }
}

/** A set of raw object ids. */
export class OidSet {
  readonly #map: OidMap;

  constructor(capacity = 1024) {
    this.#map = new OidMap(capacity);
  }

  /** Number of ids held. */
  get size(): number {
    return this.#map.size;
  }

  /** True when the id at `buf[off..off+20]` is in the set. */
  has(buf: Uint8Array, off = 0): boolean {
    return this.#map.get(buf, off) >= 0;
  }

  /** Adds the id at `buf[off..off+20]`; false when it was already there. */
  add(buf: Uint8Array, off = 0): boolean {
    return this.#map.set(buf, off, 0); // every value is 0: replacing one changes nothing
  }
}

/** A growable list (and stack) of raw object ids. */
export class OidList {
  #buf = new Uint8Array(256 * ID);
  #length = 0;

  /** Number of ids held. */
  get length(): number {
    return this.#length;
  }

  /** Appends the id at `buf[off..off+20]`. */
  push(buf: Uint8Array, off = 0): void {
    if ((this.#length + 1) * ID > this.#buf.length) this.#buf = grown(this.#buf);
    const dst = this.#buf;
    for (let k = 0, to = this.#length * ID; k < ID; k++) dst[to + k] = buf[off + k]!;
    this.#length++;
  }

  /** Removes and returns up to `n` ids from the end (copied out). */
  pop(n: number): Uint8Array[] {
    const take = Math.min(n, this.#length);
    const out: Uint8Array[] = [];
    for (let i = 0; i < take; i++) {
      this.#length--;
      out.push(this.#buf.slice(this.#length * ID, this.#length * ID + ID));
    }
    return out;
  }

  /** The ids in order, as views of one buffer (valid until the list changes). */
  *[Symbol.iterator](): Generator<Uint8Array> {
    for (let i = 0; i < this.#length; i++) yield this.#buf.subarray(i * ID, i * ID + ID);
  }
}

/** A first-in first-out queue of raw object ids (20 bytes per id held). */
export class OidQueue {
  #buf = new Uint8Array(256 * ID);
  #head = 0;
  #tail = 0;

  /** Number of ids held. */
  get length(): number {
    return (this.#tail - this.#head) / ID;
  }

  /** Appends the id at `buf[off..off+20]`. */
  push(buf: Uint8Array, off = 0): void {
    if (this.#tail + ID > this.#buf.length) {
      // Room first by dropping what was taken, then by growing.
      const held = this.#buf.subarray(this.#head, this.#tail);
      const next = held.length + ID > this.#buf.length / 2 ? new Uint8Array(this.#buf.length * 2) : this.#buf;
      if (next === this.#buf) next.copyWithin(0, this.#head, this.#tail);
      else next.set(held);
      this.#buf = next;
      this.#tail -= this.#head;
      this.#head = 0;
    }
    const dst = this.#buf;
    for (let k = 0, to = this.#tail; k < ID; k++) dst[to + k] = buf[off + k]!;
    this.#tail += ID;
  }

  /** Removes and returns up to `n` ids from the front (copied out). */
  shift(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < n && this.#head < this.#tail; i++, this.#head += ID) out.push(this.#buf.slice(this.#head, this.#head + ID));
    return out;
  }
}
