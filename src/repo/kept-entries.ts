/**
 * Delta entries a pack keeps from its first pass (where each object's form is found) for its
 * second (deltas sent by chain depth): repo/pack-out.ts.
 */
import type { ScratchFile } from '../platform/types.js';
import { Slicer } from '../platform/turns.js';

const slices = new Slicer(20);

/**
 * Delta entries kept from the first pass for the second, copied into 1 MiB arenas (the values
 * read are let go at once: a kept entry costs its bytes and 16 bytes of index, not a buffer and
 * its view each), up to a byte budget in memory. Past it, where the platform has scratch files
 * (Node), further arenas are written to one as they fill (up to `spillBytes`) and their entries
 * read back from it by offset: a full clone of a long history holds most of its deltas past any
 * memory budget (git's own: 222 MB), and reading them again from the database, one id at a
 * time in depth order, cost it more than everything else its pack did. Entries past both, or
 * over an arena's size, are read again from the store.
 */
export class KeptEntries {
  /** Size of an arena (1 MiB unless given). */
  readonly #size: number;
  /** Arenas in memory; while spilling, the last is the arena being filled. */
  readonly #arenas: Uint8Array[] = [];
  /** Where each arena written to the scratch file starts there (by arena number; -1: in memory). */
  readonly #filed: number[] = [];
  /** The bytes of each arena written there. */
  readonly #filedBytes: number[] = [];
  readonly #arena: Int32Array;
  readonly #at: Int32Array;
  readonly #length: Int32Array;
  /** Positions kept, in the order they were (`#count` of them). */
  readonly #sequence: Int32Array;
  #count = 0;
  readonly #held = new Map<number, Uint8Array>();
  /** Entries of the current batch read back from the scratch file (`prefetch`). */
  readonly #ready = new Map<number, Uint8Array>();
  #left: number;
  #spillLeft: number;
  /** Bytes used and size of the arena being filled. */
  #used = 0;
  #room = -1;
  readonly #scratch: (() => ScratchFile) | null;
  #file: ScratchFile | undefined;
  /** Bytes the scratch file holds, taken from `#pool`. */
  #fileBytes = 0;
  readonly #pool: ScratchPool;
  /** The arena being filled is written to the file when full (memory budget spent). */
  #spilling = false;

  /**
   * For `n` positions: `budget` bytes in memory, then `spillBytes` in the file `scratch` opens
   * (null: none) as far as `pool` has room, in arenas of `arenaBytes`.
   */
  constructor(n: number, budget: number, spillBytes: number, scratch: (() => ScratchFile) | null, arenaBytes = 1 << 20, pool = SCRATCH_POOL) {
    this.#size = arenaBytes;
    this.#pool = pool;
    this.#arena = new Int32Array(n).fill(-1);
    this.#at = new Int32Array(n);
    this.#length = new Int32Array(n);
    this.#sequence = new Int32Array(n);
    this.#left = budget;
    this.#spillLeft = scratch === null ? 0 : spillBytes;
    this.#scratch = scratch;
  }

  /** Keeps a copy of the entry of position `p` if the budgets allow. */
  keep(p: number, entry: Uint8Array): void {
    const len = entry.length;
    if (len > this.#size) return;
    if (this.#used + len > this.#room && !this.#nextArena(len)) return;
    const a = this.#arenas.length - 1;
    this.#arenas[a]!.set(entry, this.#used);
    this.#arena[p] = a;
    this.#at[p] = this.#used;
    this.#length[p] = len;
    this.#sequence[this.#count++] = p;
    this.#used += len;
    if (this.#spilling) this.#spillLeft -= len;
    else this.#left -= len;
  }

  /** Opens the next arena for an entry of `len` bytes; false when no budget is left. */
  #nextArena(len: number): boolean {
    if (!this.#spilling && len <= this.#left) {
      this.#room = Math.min(this.#size, Math.max(this.#left, len));
      this.#arenas.push(new Uint8Array(this.#room));
      this.#filed.push(-1);
      this.#filedBytes.push(0);
      this.#used = 0;
      return true;
    }
    if (len > this.#spillLeft) return false;
    if (this.#spilling) {
      // The full arena goes to the file and its memory is the next arena's.
      const a = this.#arenas.length - 1;
      const full = this.#arenas[a]!;
      // No room (the process's scratch budget, or the disk): what the arena holds stays in
      // memory, nothing more is kept.
      if (!this.#pool.take(this.#used)) {
        this.#spillLeft = 0;
        return false;
      }
      try {
        this.#file ??= this.#scratch!();
        this.#filed[a] = this.#file.append(full.subarray(0, this.#used));
        this.#filedBytes[a] = this.#used;
        this.#fileBytes += this.#used;
      } catch {
        this.#pool.give(this.#used);
        this.#spillLeft = 0;
        return false;
      }
      this.#arenas[a] = EMPTY_ARENA;
      this.#arenas.push(full);
    } else {
      this.#spilling = true;
      this.#room = this.#size;
      this.#arenas.push(new Uint8Array(this.#size));
    }
    this.#filed.push(-1);
    this.#filedBytes.push(0);
    this.#used = 0;
    return true;
  }

  /** Keeps the entry of `p` whatever the budget (an entry made for this pack: nowhere to read it again). */
  hold(p: number, entry: Uint8Array): void {
    this.#held.set(p, entry);
  }

  has(p: number): boolean {
    return this.#arena[p]! >= 0 || this.#held.has(p);
  }

  /**
   * Rewrites the entries in the scratch file grouped by `depth` (the order the pack sends
   * them in: depth by depth, each in the order kept), so each batch of the second pass reads
   * its entries back in a few reads: one read of the file in arena order, each entry
   * copied into its depth's bucket (1/16 of an arena, 64 KiB; one per depth in memory), a full bucket
   * appended to a second scratch file, which replaces the first (the disk holds the entries
   * twice only while this runs). Entries whose new copy cannot be written are let go (read
   * again from the store); without a second file, nothing moves. Done in slices of the event
   * loop (20 ms), so other requests are served meanwhile.
   */
  async regroup(depth: Uint8Array): Promise<void> {
    const from = this.#file;
    if (from === undefined || !this.spilled) return;
    let file: ScratchFile;
    try {
      file = this.#scratch!();
    } catch {
      return;
    }
    const buckets = new Map<number, { arena: number; bytes: Uint8Array; used: number; entries: number[] }>();
    let written = 0;
    const write = (b: { arena: number; bytes: Uint8Array; used: number; entries: number[] }) => {
      let ok = this.#pool.take(b.used);
      try {
        if (ok) this.#filed[b.arena] = file.append(b.bytes.subarray(0, b.used));
      } catch {
        this.#pool.give(b.used);
        ok = false;
      }
      if (ok) written += b.used;
      else for (const p of b.entries) this.#arena[p] = -1;
    };
    let read = -1;
    let arena: Uint8Array = EMPTY_ARENA;
    // Each arena is read into the same memory (no 1 MiB buffer per arena left to the collector).
    const reused = new Uint8Array(this.#size);
    for (let k = 0; k < this.#count; k++) {
      const p = this.#sequence[k]!;
      const a = this.#arena[p]!;
      if (a < 0 || this.#filed[a]! < 0) continue;
      if (a !== read) {
        // Hundreds of megabytes on a long history: other requests get turns in between.
        if (slices.due()) await slices.pause();
        arena = from.read(this.#filed[a]!, this.#filedBytes[a]!, reused);
        read = a;
      }
      const len = this.#length[p]!;
      const d = depth[p]!;
      let b = buckets.get(d);
      if (b === undefined || b.used + len > b.bytes.length) {
        // A written bucket's memory is the next one's (append copies).
        if (b !== undefined) write(b);
        const bytes = b !== undefined && b.bytes.length >= len ? b.bytes : new Uint8Array(Math.max(this.#size >> 4, len));
        b = { arena: this.#arenas.length, bytes, used: 0, entries: [] };
        this.#arenas.push(EMPTY_ARENA);
        this.#filed.push(-1);
        this.#filedBytes.push(0);
        buckets.set(d, b);
      }
      b.bytes.set(arena.subarray(this.#at[p]!, this.#at[p]! + len), b.used);
      this.#arena[p] = b.arena;
      this.#at[p] = b.used;
      b.entries.push(p);
      b.used += len;
    }
    for (const b of buckets.values()) write(b);
    from.close();
    this.#pool.give(this.#fileBytes);
    this.#file = file;
    this.#fileBytes = written;
  }

  /** Where the kept entry of `p` is in the scratch file (-1: in memory, or not kept). */
  #filedAt(p: number): number {
    const a = this.#arena[p]!;
    return a < 0 || this.#filed[a]! < 0 ? -1 : this.#filed[a]! + this.#at[p]!;
  }

  /** Whether entries were written to the scratch file. */
  get spilled(): boolean {
    return this.#fileBytes > 0;
  }

  /** Positions whose entries were kept (`keep`), in the order they were. */
  keptOrder(): Int32Array {
    return this.#sequence.subarray(0, this.#count);
  }

  /** Whether `keep` kept the entry of `p`. */
  wasKept(p: number): boolean {
    return this.#arena[p]! >= 0;
  }

  /**
   * Reads the entries of `positions` kept in the scratch file in runs (entries less than
   * PREFETCH_GAP apart read together, up to PREFETCH_RUN a read), for `get` to answer; replaces
   * the previous batch's.
   */
  prefetch(positions: readonly number[]): void {
    this.#ready.clear();
    if (this.#file === undefined) return;
    const filed = positions.filter((p) => this.#filedAt(p) >= 0).sort((x, y) => this.#filedAt(x) - this.#filedAt(y));
    for (let i = 0; i < filed.length; ) {
      const start = this.#filedAt(filed[i]!);
      let end = start + this.#length[filed[i]!]!;
      let j = i + 1;
      for (; j < filed.length; j++) {
        const at = this.#filedAt(filed[j]!);
        const to = at + this.#length[filed[j]!]!;
        if (at - end > PREFETCH_GAP || to - start > PREFETCH_RUN) break;
        end = Math.max(end, to);
      }
      const run = this.#file.read(start, end - start);
      for (; i < j; i++) {
        const at = this.#filedAt(filed[i]!) - start;
        this.#ready.set(filed[i]!, run.subarray(at, at + this.#length[filed[i]!]!));
      }
    }
  }

  /** The kept entry of `p` (a view of its arena, of a prefetched run, or read back from the scratch file). */
  get(p: number): Uint8Array {
    const held = this.#held.get(p) ?? this.#ready.get(p);
    if (held !== undefined) return held;
    const at = this.#filedAt(p);
    if (at >= 0) return this.#file!.read(at, this.#length[p]!);
    const from = this.#at[p]!;
    return this.#arenas[this.#arena[p]!]!.subarray(from, from + this.#length[p]!);
  }

  /** Closes the scratch file, if one was opened, and gives its bytes back to the pool. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
    this.#pool.give(this.#fileBytes);
    this.#fileBytes = 0;
  }
}

const EMPTY_ARENA = new Uint8Array(0);

/**
 * Scratch bytes shared by every pack a process writes at once: one clone keeps at most its
 * `spillBytes` in a file, many concurrent ones of a long history at most this many between
 * them; past it their deltas are read again from the store instead.
 */
export class ScratchPool {
  #left: number;

  constructor(bytes: number) {
    this.#left = bytes;
  }

  /** Takes `n` bytes if that many are left. */
  take(n: number): boolean {
    if (n > this.#left) return false;
    this.#left -= n;
    return true;
  }

  give(n: number): void {
    this.#left += n;
  }

  /** Bytes left. */
  get left(): number {
    return this.#left;
  }
}

/** The process's pool (4 GiB): see ScratchPool. */
export const SCRATCH_POOL = new ScratchPool(4 * 1024 * 1024 * 1024);

/** Kept entries in the scratch file this close are read back together (`KeptEntries.prefetch`)... */
const PREFETCH_GAP = 8 * 1024;
/** ...in reads of at most this much. */
const PREFETCH_RUN = 1024 * 1024;
