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
 */
import { StorageError } from '../errors.js';
import type { KvOp } from './kv.js';

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

  /** Values of `keys` in order: one readonly transaction, every get issued at once. */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const idb = this.#idb()!;
    return new Promise((resolve, reject) => {
      const out: (Uint8Array | undefined)[] = new Array(keys.length);
      let tx: IDBTransaction;
      try {
        tx = idb.transaction([this.#store], 'readonly');
        const store = tx.objectStore(this.#store);
        // Settled by the last answer: a readonly transaction's commit adds nothing to wait for.
        let left = keys.length;
        keys.forEach((key, i) => {
          const req = store.get(idbKey(key));
          req.onsuccess = () => {
            out[i] = toBytes(req.result);
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
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = idb.transaction([this.#store], 'readwrite');
      } catch (err) {
        reject(storageError('writing', err, ops.length));
        return;
      }
      let thrown: unknown;
      tx.oncomplete = () => resolve();
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
}

/** The direct path for `db` when it is a browser-level database, else undefined. */
export function indexedDbAccess(db: object): IndexedDbAccess | undefined {
  const l = db as BrowserLevelLike;
  if (l.type !== 'browser-level' || typeof l.location !== 'string' || !('db' in l)) return undefined;
  return new IndexedDbAccess(l, l.location, typeof l.namePrefix === 'string' ? l.namePrefix : '');
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
