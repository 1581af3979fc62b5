/**
 * The one place that touches the database. `Kv` wraps any abstract-level database with
 * binary (`view`) keys and values, so it works on classic-level, memory-level and
 * browser-level alike, and offers the few operations the engine needs: get, getMany, batch,
 * range iteration and range clear.
 */
import type { AbstractLevel } from 'abstract-level';
import { ClosedError, LevelGitError, StorageError } from '../errors.js';
import type { KeyRange } from './keys.js';
import { type IndexedDbAccess, indexedDbAccess, storageError } from './idb.js';
import { Compactor } from './compaction.js';
import { Slicer } from '../platform/turns.js';

/** Any abstract-level database (its own default encodings do not matter). */
// biome-ignore lint/suspicious/noExplicitAny: the engine takes a database of any key and value types; Kv reads it through 'view' encodings.
export type AnyLevel = AbstractLevel<any, any, any>;

/** One write of a batch. */
export type KvOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/** Default encodings for a database the engine opens itself: every read and write of Kv is `view`. */
export const VIEW_DEFAULTS = VIEW;

/**
 * The options a write passes: none when the database's own defaults are `view` already. With
 * options abstract-level spends about three times the CPU on each operation of a batch (184,000
 * puts of a pushed history: 1.3–1.6 s of main-thread CPU against 0.42 s on classic-level), so
 * the engine opens its own database with `view` defaults.
 */
function writeOptions(db: AnyLevel): typeof VIEW | undefined {
  try {
    return db.keyEncoding().commonName === 'view' && db.valueEncoding().commonName === 'view' ? undefined : VIEW;
  } catch {
    return VIEW;
  }
}

/**
 * A batch of more operations than this is handed to the database a slice at a time (a chained
 * batch, still written atomically): abstract-level validates and encodes each operation on the
 * event loop, ~20–60 µs each, so 10,000 objects in one array would hold it for half a second.
 */
const SLICED_BATCH = 1024;
const slices = new Slicer(20);

/** A batch from this size on marks its key ranges as filled: clearing one later compacts it (compaction.ts). */
const LARGE_BATCH = 1024 * 1024;

/** The keys of a batch's operations, one prefix each is enough (compaction.ts keeps only tag + id). */
function* keysOf(ops: KvOp[]): Generator<Uint8Array> {
  let last: Uint8Array | undefined;
  for (const op of ops) {
    const k = op.key;
    if (
      last !== undefined &&
      k.length >= 5 &&
      last.length >= 5 &&
      k[0] === last[0] &&
      k[1] === last[1] &&
      k[2] === last[2] &&
      k[3] === last[3] &&
      k[4] === last[4]
    )
      continue;
    last = k;
    yield k;
  }
}

/** Binary key-value access to an abstract-level database. */
export class Kv {
  readonly db: AnyLevel;
  /** Set when `db` is browser-level: IndexedDB requests issued at once (idb.ts). */
  readonly idb: IndexedDbAccess | undefined;
  /**
   * Whether each request is a round trip to another process (IndexedDB, or a database that says
   * so with `costlyRequests: true`, as PostgresLevel does): then one range read beats many point
   * lookups that mostly miss (object-store.ts `deltaIdsIfFew`), and fewer, larger reads beat many
   * small ones (pack-out.ts).
   */
  readonly costlyRequests: boolean;
  /** Background compaction of the ranges large writes touched, where the database offers it (compaction.ts). */
  readonly compactor: Compactor;
  readonly #write: typeof VIEW | undefined;
  #closed = false;

  constructor(db: AnyLevel, options: { costlyRequests?: boolean } = {}) {
    this.db = db;
    this.idb = indexedDbAccess(db);
    const root = db as { costlyRequests?: boolean; db?: { costlyRequests?: boolean } };
    this.costlyRequests = options.costlyRequests ?? (this.idb !== undefined || root.costlyRequests === true || root.db?.costlyRequests === true);
    this.compactor = new Compactor(db);
    this.#write = writeOptions(db);
  }

  #check(): void {
    if (this.#closed || this.db.status === 'closed' || this.db.status === 'closing') throw new ClosedError();
  }

  /** Value of `key`, or undefined. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check();
    return (await this.db.get(key, VIEW)) ?? undefined;
  }

  /** Values of `keys` in order (undefined where missing): one round trip for many keys. */
  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.#check();
    if (keys.length === 0) return [];
    if (this.idb?.usable) return this.idb.getMany(keys);
    const r = await (this.idb === undefined ? this.db.getMany(keys, VIEW) : this.db.getMany(keys, VIEW).catch(idbFailure('reading')));
    return r.map((v: Uint8Array | undefined | null) => v ?? undefined);
  }

  /**
   * Whether each of `keys` is stored, without reading values where the database can: IndexedDB
   * looks up keys only, a backend with abstract-level's optional `hasMany` (PostgreSQL) answers
   * in one keys-only round trip; elsewhere it is `getMany`.
   */
  async hasMany(keys: Uint8Array[]): Promise<boolean[]> {
    this.#check();
    if (keys.length === 0) return [];
    if (this.idb?.usable) return this.idb.hasMany(keys);
    if (this.db.supports.has) return this.db.hasMany(keys, { keyEncoding: 'view' });
    return (await this.getMany(keys)).map((v) => v !== undefined);
  }

  /** Applies writes atomically. */
  async batch(ops: KvOp[]): Promise<void> {
    this.#check();
    if (ops.length === 0) return;
    if (this.idb?.usable) return this.idb.batch(ops);
    this.idb?.dropCached();
    const write =
      ops.length > SLICED_BATCH ? this.#sliced(ops) : this.#write === undefined ? this.db.batch(ops as never) : this.db.batch(ops as never, this.#write);
    await (this.idb === undefined ? write : write.catch(idbFailure('writing', ops.length)));
    if (this.compactor.enabled) this.#count(ops);
  }

  /** Writes `ops` atomically through a chained batch filled a slice at a time (SLICED_BATCH). */
  async #sliced(ops: KvOp[]): Promise<void> {
    if (this.db.status === 'opening') await this.db.open(); // an array batch waits for it; a chained batch cannot
    const chain = this.db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') this.#write === undefined ? chain.put(op.key, op.value) : chain.put(op.key, op.value, this.#write);
        else this.#write === undefined ? chain.del(op.key) : chain.del(op.key, this.#write);
        if (slices.due()) await slices.pause();
      }
      await chain.write();
    } catch (err) {
      await chain.close().catch(() => {}); // closing twice is harmless
      throw err;
    }
  }

  /** Tells the compactor about a large batch's ranges; those of a batch that adds little are not marked. */
  #count(ops: KvOp[]): void {
    let bytes = 0;
    for (const op of ops) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0);
    if (bytes >= LARGE_BATCH) this.compactor.wrote(keysOf(ops));
  }

  /**
   * Applies `first` and every piece `rest` yields atomically (a writer still deflating its
   * objects): on IndexedDB each piece is issued as it comes, in one transaction (idb.ts);
   * elsewhere the pieces are collected and written as one batch.
   */
  async batchFrom(first: KvOp[], rest: AsyncIterable<readonly KvOp[]>): Promise<void> {
    this.#check();
    if (this.idb?.usable) return this.idb.batchFrom(first, rest);
    const ops = [...first];
    for await (const piece of rest) for (const op of piece) ops.push(op);
    await this.batch(ops);
  }

  /** Entries with keys in [gte, lt) (to the end without `lt`), in key order. */
  async *entries(range: KeyRange & { limit?: number }): AsyncGenerator<[Uint8Array, Uint8Array]> {
    for await (const batch of this.entryBatches(range)) yield* batch;
  }

  /**
   * `entries` a database read at a time (up to 1,000): a long scan pays one generator step per
   * read, not per entry. `readBytes`: how much one read may hold (classic-level's
   * `highWaterMarkBytes`, 16 KiB unless given: ~150 small values per read instead of 1,000).
   */
  async *entryBatches(range: KeyRange & { limit?: number }, readBytes?: number): AsyncGenerator<[Uint8Array, Uint8Array][]> {
    this.#check();
    const it = this.db.iterator({ ...range, ...VIEW, ...(readBytes === undefined ? {} : { highWaterMarkBytes: readBytes }) });
    try {
      while (true) {
        const batch = (await it.nextv(1000)) as [Uint8Array, Uint8Array][];
        if (batch.length === 0) return;
        yield batch;
      }
    } finally {
      await it.close();
    }
  }

  /** Keys in [gte, lt). */
  async *keys(range: KeyRange & { limit?: number }): AsyncGenerator<Uint8Array> {
    for await (const batch of this.keyBatches(range)) yield* batch;
  }

  /** `keys` a database read at a time (up to 1,000): a long scan pays one generator step per read, not per key. */
  async *keyBatches(range: KeyRange & { limit?: number }): AsyncGenerator<Uint8Array[]> {
    this.#check();
    const it = this.db.keys({ ...range, keyEncoding: 'view' });
    try {
      while (true) {
        const batch = (await it.nextv(1000)) as Uint8Array[];
        if (batch.length === 0) return;
        yield batch;
      }
    } finally {
      await it.close();
    }
  }

  /** Whether any key is in [gte, lt) (one key read at most). */
  async anyKey(range: KeyRange): Promise<boolean> {
    for await (const _ of this.keys({ ...range, limit: 1 })) return true;
    return false;
  }

  /** Deletes every key in [gte, lt). */
  async clear(range: KeyRange): Promise<void> {
    this.#check();
    this.idb?.dropCached();
    await this.db.clear({ ...range, keyEncoding: 'view' });
    this.compactor.cleared(range.gte);
  }

  /** Marks this wrapper closed (the database itself is closed by its owner, which waits for a compaction slice in flight). */
  markClosed(): void {
    this.#closed = true;
    this.compactor.stop();
  }
}

/** On IndexedDB, a failure is a StorageError (a quota failure says so), whichever way it went. */
function idbFailure(operation: 'reading' | 'writing', entries?: number): (err: unknown) => never {
  return (err) => {
    throw storageError(operation, (err as { cause?: unknown }).cause ?? err, entries);
  };
}

/**
 * Runs database work on behalf of `operation`: a failure that is not already a level-git
 * error (the backend's own error: disk full, I/O, a closed handle) becomes a StorageError, so
 * callers that blame their input for other failures (a pack being read) cannot blame the
 * client for the database.
 */
export async function storageOp<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LevelGitError) throw err;
    throw new StorageError(`storage failure while ${operation}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { operation } });
  }
}
