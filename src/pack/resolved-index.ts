/**
 * The delta resolver's record of the entries it has seen: by pack offset (what an ofs-delta
 * names) and by object id (what a ref-delta names). Offsets arrive in pack order (each entry is
 * resolved or deferred before the next is parsed), so they are a sorted table searched by halves
 * instead of a Map with an entry per object; ids are indexed only once a ref-delta asks (a pack
 * of ofs-deltas never does), in the order the entries were resolved, the first of an id winning.
 * On a 20,000-commit history's pack the two Maps cost ~6% of the reader's thread.
 */
import type { ObjectType, Oid } from '../object/oid.js';

/** What the resolver remembers of each resolved entry (no body: that lives in the cache). */
export interface Resolved {
  oid: Oid;
  type: ObjectType;
  depth: number;
  /** Its number in the compressed tier (packed-bases.ts), or NO_PACKED. */
  packed: number;
}

/** Marks an entry offset whose delta is deferred. */
export const PENDING = null;

/** Entries by offset and by id (see the module comment). */
export class ResolvedIndex {
  #offsets = new Float64Array(1024);
  /** At the index of each offset: what the entry is. */
  readonly #entries: (Resolved | typeof PENDING)[] = [];
  readonly #byOid = new Map<Oid, Resolved>();
  /** Resolved entries not yet in `#byOid`, in the order resolved. */
  #unindexed: Resolved[] = [];

  /** What the entry at `offset` is (undefined: no entry starts there). */
  at(offset: number): Resolved | typeof PENDING | undefined {
    const i = this.#indexOf(offset);
    return i < 0 ? undefined : this.#entries[i];
  }

  /** Records the entry at `offset` as resolved to `r`. */
  resolved(offset: number, r: Resolved): void {
    this.record(offset, r);
    this.#unindexed.push(r);
  }

  /** The first resolved entry of `oid`: the entries resolved since the last call are indexed first, in order. */
  known(oid: Oid): Resolved | undefined {
    const byOid = this.#byOid;
    for (const r of this.#unindexed) if (!byOid.has(r.oid)) byOid.set(r.oid, r);
    this.#unindexed = [];
    return byOid.get(oid);
  }

  /** Records what the entry at `offset` is: appended when it is the next entry, else replaced (or inserted in order). */
  record(offset: number, what: Resolved | typeof PENDING): void {
    const entries = this.#entries;
    const n = entries.length;
    if (n === 0 || this.#offsets[n - 1]! < offset) {
      if (n === this.#offsets.length) this.#grow();
      this.#offsets[n] = offset;
      entries.push(what);
      return;
    }
    const i = this.#indexOf(offset);
    if (i >= 0) {
      entries[i] = what;
      return;
    }
    // Not expected (entries arrive in pack order); kept correct all the same.
    let at = 0;
    while (this.#offsets[at]! < offset) at++;
    if (n === this.#offsets.length) this.#grow();
    this.#offsets.copyWithin(at + 1, at, n);
    this.#offsets[at] = offset;
    entries.splice(at, 0, what);
  }

  /** Index of `offset` in the table, or -1. */
  #indexOf(offset: number): number {
    const offsets = this.#offsets;
    let lo = 0;
    let hi = this.#entries.length - 1;
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
    const next = new Float64Array(this.#offsets.length * 2);
    next.set(this.#offsets);
    this.#offsets = next;
  }
}
