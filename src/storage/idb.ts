/**
 * IndexedDB without the per-request waits of browser-level. browser-level's `batch` issues
 * each put only after the previous one succeeded, and its `getMany` keeps 16 requests in
 * flight; in Chromium every request is a round trip to the browser process, so a commit of
 * 1,000 objects waited for 1,000 round trips in series. Here every request of a transaction is
 * issued at once: one transaction, one wait. The keys and values are exactly what
 * browser-level stores (binary keys, `Uint8Array` values), so both ways read each other's data.
 *
 * Used only on a browser-level database opened by its owner, and only while nothing else
 * watches its writes (a `prewrite` hook or a `write` listener): then `Kv` goes through
 * abstract-level as before. Every failure is a StorageError; a quota failure says so
 * (`details.reason: 'quota-exceeded'`), and IndexedDB aborts the whole transaction, so a
 * batch that did not fit left nothing behind.
 *
 * Whole object entries (`O` keys) written or read through here are also kept in memory, a few
 * MiB at most (EntryCache): a depth-1 pack right after a commit, or again on a warm engine,
 * copies them without a request per object. Only values are served from it, never existence
 * (`hasMany` always asks IndexedDB); this connection's deletes drop them at once.
 */
import { StorageError } from '../errors.js';
import type { KvOp } from './kv.js';
import { TAG } from './keys.js';

/** Bytes of whole object entries kept in memory per database connection. */
export const ENTRY_CACHE_BYTES = 16 * 1024 * 1024;
/** Larger entries are not kept (one would push out many). */
const ENTRY_CACHE_MAX_VALUE = 1024 * 1024;

/**
 * Least recently used whole object entries by key. An object's entry is the same whatever
 * writes it (its id names its content), so only deletes can make one stale.
 */
class EntryCache {
  readonly #map = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** The cache key of `key`, or undefined when it is not an object entry's. */
  static id(key: Uint8Array): string | undefined {
    if (key[0] !== TAG.object) return undefined;
    let s = '';
    for (let i = 1; i < key.length; i++) s += String.fromCharCode(key[i]!);
    return s;
  }

  get(id: string): Uint8Array | undefined {
    const v = this.#map.get(id);
    if (v !== undefined) {
      this.#map.delete(id);
      this.#map.set(id, v);
    }
    return v;
  }

  /** Keeps `v` unless it is large or a view into a larger buffer (an entry cut out of a pushed pack would hold the whole pack). */
  set(id: string, v: Uint8Array): void {
    if (v.length > ENTRY_CACHE_MAX_VALUE || v.length > this.maxBytes || v.byteLength !== v.buffer.byteLength) return;
    this.drop(id);
    this.#map.set(id, v);
    this.#bytes += v.length;
    for (const [old, ov] of this.#map) {
      if (this.#bytes <= this.maxBytes) break;
      this.#map.delete(old);
      this.#bytes -= ov.length;
    }
  }

  drop(id: string): void {
    const v = this.#map.get(id);
    if (v === undefined) return;
    this.#map.delete(id);
    this.#bytes -= v.length;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}

/** What this module reads of a browser-level database (its public getters). */
interface BrowserLevelLike {
  readonly type?: unknown;
  readonly status: string;
  readonly location?: unknown;
  readonly namePrefix?: unknown;
  readonly db?: IDBDatabase | null;
  readonly hooks?: { prewrite?: { noop?: boolean } };
  listenerCount?(event: string): number;
}

/** Direct access to the object store of one browser-level database. */
export class IndexedDbAccess {
  readonly #level: BrowserLevelLike;
  readonly #store: string;
  readonly #entries = new EntryCache(ENTRY_CACHE_BYTES);
  /** The IndexedDB database name and object store: names the database for cross-tab locks. */
  readonly name: string;

  constructor(level: BrowserLevelLike, store: string, prefix: string) {
    this.#level = level;
    this.#store = store;
    this.name = `${prefix}${store}`;
  }

  /** The open IndexedDB connection when this path may be taken now, else undefined. */
  #idb(): IDBDatabase | undefined {
    const l = this.#level;
    if (l.status !== 'open' || l.hooks?.prewrite?.noop === false || (l.listenerCount?.('write') ?? 0) > 0) return undefined;
    return l.db ?? undefined;
  }

  /** Whether `getMany` and `batch` may run here now (false: use abstract-level). */
  get usable(): boolean {
    return this.#idb() !== undefined;
  }

  /**
   * Values of `keys` in order: object entries kept in memory, the rest in one readonly
   * transaction, every get issued at once.
   */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = new Array(keys.length);
    const ids: (string | undefined)[] = new Array(keys.length);
    const ask: number[] = [];
    keys.forEach((key, i) => {
      const id = EntryCache.id(key);
      const v = id === undefined ? undefined : this.#entries.get(id);
      if (v !== undefined) out[i] = v;
      else {
        ids[i] = id;
        ask.push(i);
      }
    });
    if (ask.length === 0) return Promise.resolve(out);
    const idb = this.#idb()!;
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = idb.transaction([this.#store], 'readonly');
        const store = tx.objectStore(this.#store);
        // Settled by the last answer: a readonly transaction's commit adds nothing to wait for.
        let left = ask.length;
        for (const i of ask) {
          const req = store.get(idbKey(keys[i]!));
          req.onsuccess = () => {
            const v = toBytes(req.result);
            out[i] = v;
            if (v !== undefined && ids[i] !== undefined) this.#entries.set(ids[i]!, v);
            if (--left === 0) resolve(out);
          };
        }
      } catch (err) {
        reject(storageError('reading', err));
        return;
      }
      tx.onabort = () => reject(storageError('reading', tx.error));
    });
  }

  /** Whether each of `keys` is stored: one readonly transaction, keys only (no value crosses over). */
  hasMany(keys: readonly Uint8Array[]): Promise<boolean[]> {
    const idb = this.#idb()!;
    return new Promise((resolve, reject) => {
      const out: boolean[] = new Array(keys.length).fill(false);
      let tx: IDBTransaction;
      try {
        tx = idb.transaction([this.#store], 'readonly');
        const store = tx.objectStore(this.#store);
        let left = keys.length;
        keys.forEach((key, i) => {
          const req = store.getKey(idbKey(key));
          req.onsuccess = () => {
            out[i] = req.result !== undefined;
            if (--left === 0) resolve(out);
          };
        });
      } catch (err) {
        reject(storageError('reading', err));
        return;
      }
      tx.onabort = () => reject(storageError('reading', tx.error));
    });
  }

  /**
   * Applies `ops` atomically: one readwrite transaction, every request issued at once, then
   * committed. Rejects with a StorageError after IndexedDB rolled the transaction back.
   */
  batch(ops: readonly KvOp[]): Promise<void> {
    const idb = this.#idb()!;
    // Deleted entries leave the cache now (a read meanwhile asks IndexedDB, which orders it
    // after this transaction) and again when it is done; written ones join it once stored.
    const dropped = this.#forget(ops);
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = idb.transaction([this.#store], 'readwrite');
      } catch (err) {
        reject(storageError('writing', err, ops.length));
        return;
      }
      let thrown: unknown;
      tx.oncomplete = () => {
        for (const id of dropped) this.#entries.drop(id);
        for (const op of ops) {
          const id = op.type === 'put' ? EntryCache.id(op.key) : undefined;
          if (id !== undefined) this.#entries.set(id, (op as { value: Uint8Array }).value);
        }
        resolve();
      };
      tx.onabort = () => reject(storageError('writing', thrown ?? tx.error, ops.length));
      try {
        const store = tx.objectStore(this.#store);
        for (const op of ops) {
          if (op.type === 'del') store.delete(idbKey(op.key));
          else store.put(ownBuffer(op.value), idbKey(op.key));
        }
        tx.commit?.();
      } catch (err) {
        // A key or value the store refuses at once: the transaction is abandoned, nothing kept.
        thrown = err;
        try {
          tx.abort();
        } catch {
          // already finishing
        }
      }
    });
  }

  /**
   * Applies `first` and every piece `rest` yields atomically, in one readwrite transaction fed
   * while the pieces are still being made (a commit deflating its objects): IndexedDB stores
   * each piece in the browser's own process while the page makes the next, instead of storing
   * everything after the last. A transaction closes as soon as no request is pending, so a
   * chain of key lookups keeps it open meanwhile; each lookup's callback issues the pieces that
   * arrived. A failure of `rest` aborts the transaction and is rethrown as it is.
   */
  batchFrom(first: readonly KvOp[], rest: AsyncIterable<readonly KvOp[]>): Promise<void> {
    const idb = this.#idb()!;
    const all: KvOp[] = [...first];
    const dropped = this.#forget(first);
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction;
      let store: IDBObjectStore;
      try {
        tx = idb.transaction([this.#store], 'readwrite');
        store = tx.objectStore(this.#store);
      } catch (err) {
        reject(storageError('writing', err, all.length));
        return;
      }
      let thrown: unknown;
      let failed = false;
      let made = false; // every piece arrived
      let issued = 0;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        thrown = err;
        try {
          tx.abort();
        } catch {
          // already finishing
        }
      };
      const issue = () => {
        try {
          for (; issued < all.length; issued++) {
            const op = all[issued]!;
            if (op.type === 'del') store.delete(idbKey(op.key));
            else store.put(ownBuffer(op.value), idbKey(op.key));
          }
        } catch (err) {
          fail(err);
        }
      };
      // The maker waits for the next lookup's callback after each piece (its reads resolve as
      // microtasks, so IndexedDB's callbacks would not run before it finished); the lookup
      // answers once the previous piece is stored, so the page waits only when IndexedDB is slower.
      let wake: (() => void) | undefined;
      const woken = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const keepOpen = () => {
        store.getKey(KEEP_OPEN_KEY).onsuccess = () => {
          if (failed) return;
          issue();
          woken();
          if (!made) keepOpen();
          else tx.commit?.();
        };
      };
      tx.oncomplete = () => {
        for (const id of dropped) this.#entries.drop(id);
        for (const op of all) {
          const id = op.type === 'put' ? EntryCache.id(op.key) : undefined;
          if (id !== undefined) this.#entries.set(id, (op as { value: Uint8Array }).value);
        }
        resolve();
      };
      tx.onabort = () => {
        failed = true;
        woken();
        reject(thrown !== undefined && !isDomError(thrown) ? thrown : storageError('writing', thrown ?? tx.error, all.length));
      };
      issue();
      keepOpen();
      void (async () => {
        try {
          for await (const piece of rest) {
            if (failed) return;
            for (const id of this.#forget(piece)) dropped.push(id);
            for (const op of piece) all.push(op);
            await new Promise<void>((resolve) => (wake = resolve));
            if (failed) return;
          }
          made = true;
        } catch (err) {
          fail(err);
        }
      })();
    });
  }

  /** Drops the kept entries that `ops` delete; returns their cache keys. */
  #forget(ops: readonly KvOp[]): string[] {
    const out: string[] = [];
    for (const op of ops) {
      const id = op.type === 'del' ? EntryCache.id(op.key) : undefined;
      if (id === undefined) continue;
      this.#entries.drop(id);
      out.push(id);
    }
    return out;
  }

  /** Forgets every kept entry: a write went around this path (abstract-level, a range clear). */
  dropCached(): void {
    this.#entries.clear();
  }
}

/** The direct path for `db` when it is a browser-level database, else undefined. */
export function indexedDbAccess(db: object): IndexedDbAccess | undefined {
  const l = db as BrowserLevelLike;
  if (l.type !== 'browser-level' || typeof l.location !== 'string' || !('db' in l)) return undefined;
  return new IndexedDbAccess(l, l.location, typeof l.namePrefix === 'string' ? l.namePrefix : '');
}

/** The key `batchFrom` looks up to keep its transaction open (level-git stores no empty key). */
const KEEP_OPEN_KEY = new Uint8Array(0);

/** An error IndexedDB raised (a DOMException), as opposed to one of the caller's. */
function isDomError(err: unknown): boolean {
  return typeof DOMException !== 'undefined' && err instanceof DOMException;
}

/** A binary key (IndexedDB keys on the bytes a view shows, copied). */
function idbKey(k: Uint8Array): IDBValidKey {
  return k as Uint8Array<ArrayBuffer>;
}

/**
 * A value IndexedDB clones as it is: the structured clone of a view copies its whole buffer,
 * so a view into a larger buffer (an entry cut out of a pack) is copied out first.
 */
function ownBuffer(v: Uint8Array): Uint8Array {
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
}

/** A stored value as bytes, the way browser-level reads it back. */
function toBytes(v: unknown): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new TextEncoder().encode(String(v)); // written as a string by a very old level-js
}

/** True for a DOMException (or anything named) QuotaExceededError. */
export function isQuotaError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'QuotaExceededError';
}

/** The StorageError for a failed IndexedDB transaction. */
export function storageError(operation: 'reading' | 'writing', err: unknown, entries?: number): StorageError {
  if (err instanceof StorageError) return err;
  const why = err instanceof Error || (err as { message?: unknown } | null)?.message !== undefined ? String((err as Error).message) : String(err);
  if (isQuotaError(err)) {
    return new StorageError(
      `IndexedDB storage quota exceeded while writing${entries === undefined ? '' : ` ${entries} entries`}; nothing of this write was stored (${why})`,
      { cause: err, details: { operation, reason: 'quota-exceeded' } },
    );
  }
  return new StorageError(`IndexedDB failed while ${operation}: ${why}`, { cause: err, details: { operation } });
}
