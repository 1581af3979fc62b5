/**
 * Compact collections of raw 20-byte object ids for the sweep and ingest: a map to small
 * integers and a set (open addressing over one byte array, ~48 bytes per id at most) and a
 * growable list (20 bytes per id). A history of a
 * million objects marks in tens of megabytes, where a `Set` of hex strings costs ten times that
 * and keeps the garbage collector busy.
 */

const ID = 20;

/** A map from raw object ids to small non-negative integers (a type code, an index). */
export class OidMap {
  #slots: Uint8Array;
  /** Value + 1 per slot; 0 marks an empty slot. */
  #values: Int32Array;
  #mask: number;
  #size = 0;

  constructor(capacity = 1024) {
    let cap = 1024;
    while (cap < capacity * 2) cap *= 2;
    this.#slots = new Uint8Array(cap * ID);
    this.#values = new Int32Array(cap);
    this.#mask = cap - 1;
  }

  /** Number of ids held. */
  get size(): number {
    return this.#size;
  }

  // Ids are SHA-1 output: their first four bytes are already a uniform hash.
  #find(buf: Uint8Array, off: number): number {
    let i = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) & this.#mask;
    const slots = this.#slots;
    for (;;) {
      if (this.#values[i] === 0) return i;
      const s = i * ID;
      let same = true;
      for (let k = 0; k < ID; k++) {
        if (slots[s + k] !== buf[off + k]) {
          same = false;
          break;
        }
      }
      if (same) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** The value of the id at `buf[off..off+20]`, or -1 when it is absent. */
  get(buf: Uint8Array, off = 0): number {
    return this.#values[this.#find(buf, off)]! - 1;
  }

  /** Sets the value (0 ≤ value < 2^31 - 1) of the id at `buf[off..off+20]`; false when the id was already there (its value is replaced). */
  set(buf: Uint8Array, off: number, value: number): boolean {
    const i = this.#find(buf, off);
    const fresh = this.#values[i] === 0;
    this.#values[i] = value + 1;
    if (!fresh) return false;
    // A byte loop, not `set(subarray)`: a subarray is an object per id, garbage by the million in a walk.
    const slots = this.#slots;
    const s = i * ID;
    for (let k = 0; k < ID; k++) slots[s + k] = buf[off + k]!;
    if (++this.#size * 2 > this.#values.length) this.#grow();
    return true;
  }

  #grow(): void {
    const oldSlots = this.#slots;
    const oldValues = this.#values;
    const cap = oldValues.length * 2;
    this.#slots = new Uint8Array(cap * ID);
    this.#values = new Int32Array(cap);
    this.#mask = cap - 1;
    const values = this.#values;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = 0; i < oldValues.length; i++) {
      if (oldValues[i] === 0) continue;
      // The ids are distinct: the first empty slot from its hash is its place, no id compared.
      const from = i * ID;
      let j = ((oldSlots[from]! << 24) | (oldSlots[from + 1]! << 16) | (oldSlots[from + 2]! << 8) | oldSlots[from + 3]!) & mask;
      while (values[j] !== 0) j = (j + 1) & mask;
      values[j] = oldValues[i]!;
      for (let k = 0, to = j * ID; k < ID; k++) slots[to + k] = oldSlots[from + k]!;
    }
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
    if ((this.#length + 1) * ID > this.#buf.length) {
      const next = new Uint8Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
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
