/**
 * The delta resolver's record of the entries it has seen: by pack offset (what an ofs-delta
 * names) and by object id (what a ref-delta names). Offsets arrive in pack order (each entry is
 * resolved or deferred before the next is parsed), so they are a sorted table searched by halves
 * instead of a Map with an entry per object; ids are indexed only once a ref-delta asks (a pack
 * of ofs-deltas never does), in the order the entries were resolved, the first of an id winning.
 * On a 20,000-commit history's pack the two Maps cost ~6% of the reader's thread.
 *
 * What each entry is lives in columns of typed arrays (its raw id, type, chain depth, packed
 * number, body number), not in an object and a hex string per entry: those lived as long as the read, so on
 * git's history (849,000 entries) every collection of the worker's old generation marked over a
 * million of them, about a hundred times in one push. A lookup builds its `Resolved` afresh.
 */
import { type ObjectType, type Oid, TYPE_NAMES, TYPE_NUMBERS, oidFromBytes, writeOid } from '../object/oid.js';
import { grown } from '../platform/bytes.js';

/** What the resolver remembers of each resolved entry (no body: that lives in the cache). */
export interface Resolved {
  oid: Oid;
  type: ObjectType;
  depth: number;
  /** Its number in the compressed tier (packed-bases.ts), or NO_PACKED. */
  packed: number;
  /** The resolver's number for its body (its key in the base cache), or NO_SEQ: it has none (streamed, or outside the pack). */
  seq: number;
}

/** The `seq` of an entry whose body is never cached. */
export const NO_SEQ = -1;

/** Marks an entry offset whose delta is deferred. */
export const PENDING = null;

/** The type column's value of an entry whose delta is deferred (types are 1–4). */
const DEFERRED = 0;

/** Entries by offset and by id (see the module comment). */
export class ResolvedIndex {
  #n = 0;
  #offsets = new Float64Array(1024);
  /** Per entry: its type number (TYPE_NUMBERS), or DEFERRED. */
  #types = new Uint8Array(1024);
  #depths = new Int32Array(1024);
  #packed = new Int32Array(1024);
  #seqs = new Int32Array(1024);
  /** Per entry: its raw id, 20 bytes. */
  #ids = new Uint8Array(1024 * 20);
  /** Entry numbers by id, for ref-deltas: filled on their first ask. */
  readonly #byOid = new Map<Oid, number>();
  /** Offsets of the entries resolved and not yet in `#byOid`, in the order resolved. */
  #unindexed = new Float64Array(1024);
  #unindexedCount = 0;

  /** What the entry at `offset` is (undefined: no entry starts there). */
  at(offset: number): Resolved | typeof PENDING | undefined {
    const i = this.#indexOf(offset);
    return i < 0 ? undefined : this.#entry(i);
  }

  /** Records the entry at `offset` as resolved to `r`. */
  resolved(offset: number, r: Resolved): void {
    this.record(offset, r);
    if (this.#unindexedCount === this.#unindexed.length) this.#unindexed = grown(this.#unindexed);
    this.#unindexed[this.#unindexedCount++] = offset;
  }

  /** The first resolved entry of `oid`: the entries resolved since the last call are indexed first, in order. */
  known(oid: Oid): Resolved | undefined {
    const byOid = this.#byOid;
    for (let k = 0; k < this.#unindexedCount; k++) {
      const i = this.#indexOf(this.#unindexed[k]!);
      const id = oidFromBytes(this.#ids, i * 20);
      if (!byOid.has(id)) byOid.set(id, this.#unindexed[k]!);
    }
    this.#unindexedCount = 0;
    const offset = byOid.get(oid);
    return offset === undefined ? undefined : (this.at(offset) ?? undefined);
  }

  /** Records what the entry at `offset` is: appended when it is the next entry, else replaced (or inserted in order). */
  record(offset: number, what: Resolved | typeof PENDING): void {
    const n = this.#n;
    let i: number;
    if (n === 0 || this.#offsets[n - 1]! < offset) {
      if (n === this.#offsets.length) this.#grow();
      i = this.#n++;
      this.#offsets[i] = offset;
    } else {
      i = this.#indexOf(offset);
      if (i < 0) i = this.#insert(offset);
    }
    if (what === PENDING) {
      this.#types[i] = DEFERRED;
      return;
    }
    this.#types[i] = TYPE_NUMBERS[what.type];
    this.#depths[i] = what.depth;
    this.#packed[i] = what.packed;
    this.#seqs[i] = what.seq;
    writeOid(what.oid, this.#ids, i * 20);
  }

  #entry(i: number): Resolved | typeof PENDING {
    const type = this.#types[i]!;
    if (type === DEFERRED) return PENDING;
    return { oid: oidFromBytes(this.#ids, i * 20), type: TYPE_NAMES[type]!, depth: this.#depths[i]!, packed: this.#packed[i]!, seq: this.#seqs[i]! };
  }

  /** Makes room for `offset` in order (not expected: entries arrive in pack order; kept correct all the same); returns its index. */
  #insert(offset: number): number {
    const n = this.#n;
    let at = 0;
    while (this.#offsets[at]! < offset) at++;
    if (n === this.#offsets.length) this.#grow();
    this.#offsets.copyWithin(at + 1, at, n);
    this.#types.copyWithin(at + 1, at, n);
    this.#depths.copyWithin(at + 1, at, n);
    this.#packed.copyWithin(at + 1, at, n);
    this.#seqs.copyWithin(at + 1, at, n);
    this.#ids.copyWithin((at + 1) * 20, at * 20, n * 20);
    this.#offsets[at] = offset;
    this.#n++;
    return at;
  }

  /** Index of `offset` in the table, or -1. */
  #indexOf(offset: number): number {
    const offsets = this.#offsets;
    let lo = 0;
    let hi = this.#n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = offsets[mid]!;
      if (at === offset) return mid;
      if (at < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #grow(): void {
    const cap = this.#offsets.length * 2;
    this.#offsets = grown(this.#offsets, cap);
    this.#types = grown(this.#types, cap);
    this.#depths = grown(this.#depths, cap);
    this.#packed = grown(this.#packed, cap);
    this.#seqs = grown(this.#seqs, cap);
    this.#ids = grown(this.#ids, cap * 20);
  }
}
