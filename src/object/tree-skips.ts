/**
 * Which entries of a pushed tree need no checks: those that are, byte for byte and at an entry
 * boundary, entries of a tree checked clean earlier in the same push. A tree delta's result is
 * mostly runs copied from its base (pack/delta.ts `deltaCopies`: result bytes [start, end) are
 * the base's [start + shift, end + shift)); where such a run starts at one of the base's entry
 * boundaries, the entries that follow inside it are the base's entries, parsed the same, named
 * the same, in the same order. On git's own history that is most of 58 million entries. An entry
 * naming a `.gitmodules` / `.gitattributes` blob is checked again, so the report names it.
 *
 * A copy that does not start at a base boundary vouches for nothing (a gitlink's id is 20 free
 * bytes: a crafted base can hide an entry named `.git` inside one). Only trees whose checks found
 * nothing at all, and that never left a file waiting for a tree of its name (git's duplicate
 * check across entries), are remembered, so an entry passed over contributes nothing to a report.
 * The entry before a run and the one after it are checked against their neighbours as usual.
 */
import { grown } from '../platform/bytes.js';
import type { TreeChecker } from './fsck-tree.js';
import type { ScanSkips } from './tree.js';

/**
 * A tree scanned clean: its entries start at `ring[at, at + n)` of its ScannedTrees, which of
 * them name a `.gitmodules` / `.gitattributes` blob (indexes), and its length.
 */
export interface ScannedTree {
  at: number;
  n: number;
  named: Uint32Array;
  length: number;
}

const NONE = new Uint32Array(0);
/** Numbers per record of ScannedTrees: key, ring position, entry count, body length. */
const REC = 4;

/**
 * The records of clean trees by the caller's number for each (a non-negative integer: the pack
 * reader's `seq`, dense in a pack), their entry starts in one ring of `maxBytes`, the oldest out
 * first as the ring comes round (a delta's base is mostly a tree scanned shortly before:
 * FsckSession's 8 MiB of starts find the base of 89% of the tree deltas of the pack `git push`
 * sends of git's history, and of all of the 20,000-commit history's; the tree scanned last alone
 * is the base of 85% and 52%). Nothing is allocated per tree: records are rows of one table of
 * numbers, found by key through one more column (4 bytes per key up to the largest). A Map of
 * records keyed by hex ids, made fresh for each object, cost 0.25–0.48 s of the event loop on
 * the 20,000-commit history's push (120,000 trees).
 */
export class ScannedTrees {
  /** Grows from 64 KiB to `maxBytes` before it comes round (a small push never takes more). */
  ring = new Uint32Array(16384);
  readonly #slots: number;
  /** By key: the number of its record + 1 (0, or past the end: none). */
  #recordOf = new Int32Array(0);
  /**
   * The records, REC numbers each from record `#first` on: its key, where its starts begin in the
   * ring, how many, its body's length.
   */
  #records = new Int32Array(REC * 256);
  #first = 0;
  /** The oldest record held, and the number of records ever added. */
  #head = 0;
  #count = 0;
  /** Which entries name a `.gitmodules` / `.gitattributes` blob, by key (few trees have one). */
  readonly #named = new Map<number, Uint32Array>();
  #tail = 0;

  constructor(maxBytes: number) {
    this.#slots = Math.max(1, maxBytes >>> 2);
    if (this.ring.length > this.#slots) this.ring = new Uint32Array(this.#slots);
  }

  #record(key: number): number {
    const r = key < this.#recordOf.length ? this.#recordOf[key]! - 1 : -1;
    return r >= this.#head ? r : -1;
  }

  get(key: number): ScannedTree | undefined {
    const r = this.#record(key);
    if (r < 0) return undefined;
    const at = REC * (r - this.#first);
    const records = this.#records;
    return { at: records[at + 1]!, n: records[at + 2]!, named: this.#named.get(key) ?? NONE, length: records[at + 3]! };
  }

  /** Records tree `key` (a non-negative integer; another is not recorded): its entries start at `starts`, its body is `length` bytes. */
  add(key: number, starts: Uint32Array, named: readonly number[], length: number): void {
    const n = starts.length;
    if (n === 0 || n > this.#slots || !Number.isInteger(key) || key < 0 || key > 0x7fffffff || this.#record(key) >= 0) return;
    while (this.#tail + n > this.ring.length && this.ring.length < this.#slots) this.ring = grown(this.ring, Math.min(this.#slots, this.ring.length * 2));
    if (this.#tail + n > this.ring.length) {
      // Round again: what lies after the tail is the oldest.
      while (this.#head < this.#count && this.#oldestAt() >= this.#tail) this.#evict();
      this.#tail = 0;
    }
    while (this.#head < this.#count) {
      // The oldest, when the ring came round, lies at the tail or after it (the ring is written
      // in order): it goes when the new starts cover its first. Before the ring first comes
      // round the oldest lies before the tail, and nothing is overwritten.
      const at = this.#oldestAt();
      if (at < this.#tail || at >= this.#tail + n) break;
      this.#evict();
    }
    this.ring.set(starts, this.#tail);
    const at = REC * this.#slot();
    const records = this.#records;
    records[at] = key;
    records[at + 1] = this.#tail;
    records[at + 2] = n;
    records[at + 3] = length;
    if (key >= this.#recordOf.length) {
      let size = Math.max(1024, this.#recordOf.length * 2);
      while (size <= key) size *= 2;
      this.#recordOf = grown(this.#recordOf, size);
    }
    this.#recordOf[key] = ++this.#count; // its number + 1
    if (named.length > 0) this.#named.set(key, Uint32Array.from(named));
    this.#tail += n;
  }

  /** Where the oldest record's starts begin in the ring. */
  #oldestAt(): number {
    return this.#records[REC * (this.#head - this.#first) + 1]!;
  }

  /** The index of the next record from `#first`: when the table is full, the held records move to its front, and it doubles when they fill half of it. */
  #slot(): number {
    let i = this.#count - this.#first;
    if (REC * i === this.#records.length) {
      const held = this.#count - this.#head;
      this.#records.copyWithin(0, REC * (this.#head - this.#first), REC * i);
      if (held * 2 > i) this.#records = grown(this.#records);
      this.#first = this.#head;
      i = held;
    }
    return i;
  }

  #evict(): void {
    const key = this.#records[REC * (this.#head - this.#first)]!;
    this.#recordOf[key] = 0;
    this.#named.delete(key);
    this.#head++;
  }
}

/** Where a scan's entries start, for the tree's own record (one growing buffer, reused), and which name special blobs. */
export class EntryStarts {
  #buf = new Uint32Array(1024);
  #n = 0;
  readonly named: number[] = [];

  reset(): void {
    this.#n = 0;
    this.named.length = 0;
  }

  /** The entry pushed last names a `.gitmodules` / `.gitattributes` blob. */
  markNamed(): void {
    this.named.push(this.#n - 1);
  }

  push(at: number): void {
    if (this.#n === this.#buf.length) this.#buf = grown(this.#buf);
    this.#buf[this.#n++] = at;
  }

  /** The starts pushed since `reset` (a view, valid until the next push). */
  get starts(): Uint32Array {
    return this.#buf.subarray(0, this.#n);
  }
}

/** The first index in [lo, hi) of `a` (ascending there) holding a value above `v`. */
function upperBound(a: Uint32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The ScanSkips of one tree over its base's record: after each entry checked, the base's entries
 * that follow it inside the same copied run are passed over, their starts recorded for the tree.
 */
export class TreeSkips implements ScanSkips {
  #ring: Uint32Array = NONE;
  #base: ScannedTree = { at: 0, n: 0, named: NONE, length: 0 };
  #runs: Int32Array = new Int32Array(0);
  #r = 0;
  #checker: TreeChecker | undefined;
  #starts: EntryStarts | undefined;
  /** Entries passed over since `begin`. */
  skipped = 0;

  begin(trees: ScannedTrees, base: ScannedTree, runs: Int32Array, checker: TreeChecker, starts: EntryStarts): this {
    this.#ring = trees.ring;
    this.#base = base;
    this.#runs = runs;
    this.#r = 0;
    this.#checker = checker;
    this.#starts = starts;
    this.skipped = 0;
    return this;
  }

  after(start: number, end: number): number {
    if (!this.#checker!.settled) return -1;
    const runs = this.#runs;
    let r = this.#r;
    while (r < runs.length && runs[r + 1]! < end) r += 3;
    this.#r = r;
    if (r >= runs.length || start < runs[r]!) return -1;
    const shift = runs[r + 2]!;
    const ring = this.#ring;
    const { at, n, length, named } = this.#base;
    // The entry just checked must be one of the base's, at its boundary (index k).
    const k = upperBound(ring, at, at + n, start + shift) - 1 - at;
    if (k < 0 || ring[at + k] !== start + shift) return -1;
    if ((k + 1 < n ? ring[at + k + 1]! : length) !== end + shift) return -1;
    // The last of the base's entries that ends inside the run, and before any that names a
    // special blob (checked again, so that the report names it).
    const limit = runs[r + 1]! + shift;
    let m = length <= limit ? n - 1 : upperBound(ring, at, at + n, limit) - 2 - at;
    for (const q of named) {
      if (q > k) {
        m = Math.min(m, q - 1);
        break;
      }
    }
    if (m <= k) return -1;
    for (let q = k + 1; q <= m; q++) this.#starts!.push(ring[at + q]! - shift);
    this.skipped += m - k;
    return ring[at + m]! - shift;
  }

  jumped(start: number, nameStart: number, nameEnd: number): void {
    this.#checker!.jump(start, nameStart, nameEnd);
  }
}
