/**
 * Compaction where writes left dead values behind, on databases that offer it (classic-level's
 * `compactRange`; memory-level, browser-level and PostgreSQL do not, and need nothing).
 *
 * Why: LevelDB keeps what a batch overwrote or deleted (a pack's spilled quarantine, cleared
 * after promotion; the whole entries a tip's delta reversal drops) in its tables until its own
 * compactions reach them, which after a single large push may be never: a spill of git's
 * history's commits left 38.8 MB of cleared values on disk. So the ranges that hold such dead
 * values (one per tag and 4-byte id: `'O' pool`, `'D' pool`, `'Q' pool`, …) are compacted in
 * the background once writes have stopped for a moment, one slice at a time: the event loop
 * never waits for it (the work runs on the database's own threads), and closing the database
 * waits for one slice at most.
 *
 * Only dead values call for it. A compaction of a range rewrites every live value in it down to
 * the deepest level: compacting a pool's `O`/`D` ranges after every large write rewrote ~1 GB
 * after a push of git's history (328 MB stored; 4.4 s of the database's CPU after the answer)
 * to reclaim the 6 MB the reversal dropped, and a 40-file push into that pool rewrote 660 MB. Fresh puts leave nothing dead (LevelDB's write-ahead log holds one write buffer, 4 MiB,
 * until its memtable is flushed). So:
 *   - a range a large write filled is compacted when it is cleared (`wrote`, then `cleared`);
 *   - a range where values were dropped is compacted once the dropped bytes reach DEAD_SHARE of
 *     the range's size on disk (`dropped`; smaller amounts add up until they do), so the
 *     rewrite costs at most 1 / DEAD_SHARE times what it reclaims.
 */
import type { AnyLevel } from './kv.js';

/**
 * Dropped bytes, as a share of their range's size on disk, from which the range is compacted:
 * the rewrite then costs at most sixteen times what it reclaims (1/8 left the reversal's 2 MB of
 * a 20,000-commit history's 38 MB on disk).
 */
export const DEAD_SHARE = 1 / 16;

/**
 * Quiet time after the last write that calls for a compaction: a push's batches come back to
 * back, and its aftermath (the database's own flush of the batch, the tip materialized, deltas
 * reversed: repo/materialize.ts) is better done before the compaction than fought by it.
 */
const QUIET_MS = 2000;

/** Slices per marked range (by the first byte after the prefix), so `close` waits for one slice only. */
const SLICES = 16;

/** Prefix length that names a range: tag byte + 4-byte id. */
const PREFIX = 5;

type Compactable = AnyLevel & {
  compactRange(start: Uint8Array, end: Uint8Array, options: { keyEncoding: 'view' }): Promise<void>;
  approximateSize(start: Uint8Array, end: Uint8Array, options: { keyEncoding: 'view' }): Promise<number>;
};

/** Whether `db` can compact a key range and tell its size (classic-level and the `level` package on Node). */
function compactable(db: AnyLevel): db is Compactable {
  const methods = db.supports?.additionalMethods;
  return (
    typeof (db as { compactRange?: unknown }).compactRange === 'function' &&
    methods?.compactRange === true &&
    typeof (db as { approximateSize?: unknown }).approximateSize === 'function' &&
    methods?.approximateSize === true
  );
}

/** Schedules background compactions of the ranges that hold dead values (see the module comment). */
export class Compactor {
  readonly #db: Compactable | undefined;
  /** Prefixes (by prefixId) to compact in the next run, with their bytes. */
  readonly #dirty = new Map<string, Uint8Array>();
  /** Prefixes with values dropped and not compacted since: the prefix, and the bytes dropped. */
  readonly #dead = new Map<string, { prefix: Uint8Array; bytes: number }>();
  /** Prefixes a large write touched and no clear has removed since (compacted or not). */
  readonly #filled = new Set<string>();
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

  /** Records a large write to `keys` (only their prefixes are kept): a clear of those ranges compacts them (`cleared`). */
  wrote(keys: Iterable<Uint8Array>): void {
    if (this.#db === undefined || this.#stopped) return;
    for (const k of keys) if (k.length >= PREFIX) this.#filled.add(prefixId(k));
  }

  /**
   * Records `bytes` of values dropped (deleted or overwritten) in the range of `key`
   * (repo/materialize.ts drops whole entries): compacted once they reach DEAD_SHARE of it.
   */
  dropped(key: Uint8Array, bytes: number): void {
    if (this.#db === undefined || this.#stopped || bytes <= 0 || key.length < PREFIX) return;
    const id = prefixId(key);
    const d = this.#dead.get(id);
    if (d === undefined) this.#dead.set(id, { prefix: key.slice(0, PREFIX), bytes });
    else d.bytes += bytes;
    this.#schedule();
  }

  /**
   * Records a range clear starting at `gte`. Only a range a large write filled (a spilled
   * quarantine, cleared after its promotion) is compacted: the clear leaves its values and their
   * tombstones in the tables until a compaction reaches the range, which may be never, while
   * routine clears of empty ranges (the sweep's) must not flush the database's memtable every time.
   */
  cleared(gte: Uint8Array): void {
    if (this.#db === undefined || this.#stopped || gte.length < PREFIX) return;
    const id = prefixId(gte);
    if (!this.#filled.delete(id)) return;
    this.#dirty.set(id, gte.slice(0, PREFIX));
    this.#schedule();
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
    // Ranges whose dropped values reached their share of the range (the others keep counting).
    for (const [id, d] of this.#dead) {
      let size: number;
      try {
        size = await db.approximateSize(d.prefix, nextPrefix(d.prefix), { keyEncoding: 'view' });
      } catch {
        return; // a closed or failing database
      }
      if (d.bytes < size * DEAD_SHARE) continue;
      this.#dead.delete(id);
      this.#dirty.set(id, d.prefix);
    }
    const prefixes = [...this.#dirty.values()];
    this.#dirty.clear();
    if (prefixes.length === 0) return;
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
