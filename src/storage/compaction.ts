/**
 * Compaction after large writes, where the database offers it (classic-level's `compactRange`;
 * memory-level, browser-level and PostgreSQL do not, and need nothing).
 *
 * Why: LevelDB keeps a large batch twice for a while (its write-ahead log, then a level-0 table
 * written from the memtable) and keeps what a batch overwrote or deleted (a pack's quarantine,
 * cleared after promotion) until its own compactions reach those tables, which after a single
 * large push may be never. Measured on a 20,000-commit history: 50.8 MB right after the push,
 * 40.1 MB once compacted. So a write that adds many bytes marks the key ranges it touched (one
 * per tag and 4-byte id: `'O' pool`, `'D' pool`, `'Q' pool`, …), and once such writes have
 * stopped for a moment those ranges are compacted in the background, one slice at a time: the
 * event loop never waits for it (the work runs on the database's own threads), and closing the
 * database waits for one slice at most.
 */
import type { AnyLevel } from './kv.js';

/** Bytes written (keys and values, across batches) before a compaction is scheduled. */
export const COMPACT_AFTER_BYTES = 8 * 1024 * 1024;

/**
 * Quiet time after the last large write before compacting: a push's batches come back to back,
 * and its aftermath (the database's own flush of the batch, the tip materialized, deltas
 * reversed: repo/materialize.ts) is better done before the compaction than fought by it.
 */
const QUIET_MS = 2000;

/** Slices per marked range (by the first byte after the prefix), so `close` waits for one slice only. */
const SLICES = 16;

/** Prefix length that names a range: tag byte + 4-byte id. */
const PREFIX = 5;

type Compactable = AnyLevel & { compactRange(start: Uint8Array, end: Uint8Array, options: { keyEncoding: 'view' }): Promise<void> };

/** Whether `db` can compact a key range (classic-level and the `level` package on Node). */
function compactable(db: AnyLevel): db is Compactable {
  return typeof (db as { compactRange?: unknown }).compactRange === 'function' && db.supports?.additionalMethods?.compactRange === true;
}

/** Schedules background compactions of the ranges large writes touched (see the module comment). */
export class Compactor {
  readonly #db: Compactable | undefined;
  /** Prefixes (hex of tag + id) written since the last compaction, with their bytes. */
  readonly #dirty = new Map<string, Uint8Array>();
  /** Prefixes a large write touched and no clear has removed since (compacted or not). */
  readonly #filled = new Set<string>();
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Compactions completed (for tests and diagnostics). */
  runs = 0;

  constructor(db: AnyLevel) {
    this.#db = compactable(db) ? db : undefined;
  }

  /** Whether this database compacts at all. */
  get enabled(): boolean {
    return this.#db !== undefined;
  }

  /** Records a write of `bytes` to `keys` (only their prefixes are kept). */
  wrote(keys: Iterable<Uint8Array>, bytes: number): void {
    if (this.#db === undefined || this.#stopped) return;
    for (const k of keys) {
      const id = this.#mark(k);
      if (id !== undefined) this.#filled.add(id);
    }
    this.#bytes += bytes;
    if (this.#bytes >= COMPACT_AFTER_BYTES) this.#schedule();
  }

  /** Compacts the ranges of `keys` soon, whatever was counted: after deletes of large values (repo/materialize.ts drops whole entries). */
  compactSoon(keys: Iterable<Uint8Array>): void {
    if (this.#db === undefined || this.#stopped) return;
    for (const k of keys) this.#mark(k);
    this.#schedule();
  }

  /**
   * Records a range clear starting at `gte`. Only a range a large write filled (a spilled
   * quarantine, cleared after its promotion) is compacted again: routine clears of empty ranges
   * (the sweep's) must not flush the database's memtable every time. Also when a compaction ran
   * between the write and the clear (a long history's commits land in small batches after the
   * spill, so one did): it compacted the values, the clear leaves them and their tombstones,
   * 29 MB on git's history, until a compaction reaches the range, which may be never.
   */
  cleared(gte: Uint8Array): void {
    if (this.#db === undefined || this.#stopped || gte.length < PREFIX) return;
    if (!this.#filled.delete(prefixId(gte))) return;
    this.#mark(gte);
    this.#schedule();
  }

  /** Adds `k`'s prefix to the next compaction and returns its id; undefined for a key too short to name one. */
  #mark(k: Uint8Array): string | undefined {
    if (k.length < PREFIX) return undefined;
    const id = prefixId(k);
    if (!this.#dirty.has(id)) this.#dirty.set(id, k.slice(0, PREFIX));
    return id;
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running === undefined) this.#running = this.#run().finally(() => (this.#running = undefined));
      else this.#schedule(); // after the running one, again
    }, QUIET_MS);
    // Never keeps a process alive on its own.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #run(): Promise<void> {
    const db = this.#db!;
    const prefixes = [...this.#dirty.values()];
    this.#dirty.clear();
    this.#bytes = 0;
    for (const p of prefixes) {
      for (let s = 0; s < SLICES; s++) {
        if (this.#stopped || db.status !== 'open') return;
        const start = new Uint8Array(PREFIX + 1);
        start.set(p);
        start[PREFIX] = (s * 256) / SLICES;
        const end = new Uint8Array(PREFIX + 1);
        end.set(p);
        // The last slice ends at the next prefix (every key of this one sorts before it).
        if (s + 1 < SLICES) end[PREFIX] = ((s + 1) * 256) / SLICES;
        else end.set(nextPrefix(p));
        try {
          await db.compactRange(start, end, { keyEncoding: 'view' });
        } catch {
          // A closed or failing database: nothing to compact, nothing lost (compaction changes no data).
          return;
        }
      }
    }
    this.runs++;
  }

  /** Resolves when no compaction is scheduled or running (tests; graceful shutdowns may await it). */
  async idle(): Promise<void> {
    while (this.#timer !== undefined || this.#running !== undefined) {
      if (this.#running !== undefined) await this.#running;
      else await new Promise((r) => setTimeout(r, QUIET_MS));
    }
  }

  /** Stops scheduling; a slice already running finishes (the database's close waits for it). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** A map key for the tag + id prefix of `k`. */
function prefixId(k: Uint8Array): string {
  return `${k[0]}.${k[1]}.${k[2]}.${k[3]}.${k[4]}`;
}

/** The smallest key after every key that starts with `p` (p is tag + id; an id of all 0xff bytes ends at the next tag). */
function nextPrefix(p: Uint8Array): Uint8Array {
  const out = p.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]!++;
      return out.subarray(0, i + 1);
    }
    out[i] = 0;
  }
  return Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
}
