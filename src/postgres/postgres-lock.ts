/**
 * A `RefLock` that serializes ref transactions across processes with PostgreSQL session
 * advisory locks, one per key (the engine's keys are repository ids, and `engine` for
 * creating and deleting repositories).
 *
 * Why a session lock: the ref store reads the refs (compare-and-swap), checks objects and
 * writes its batch through the database, on other pooled connections, while the lock is held.
 * A transaction-scoped lock or a `SELECT ... FOR UPDATE` row lock would have to share one
 * transaction with those reads and writes, which the `RefLock` seam (`run(key, fn)`) does not
 * carry; a session lock is held by its connection from `pg_advisory_lock` to
 * `pg_advisory_unlock` whatever `fn` does elsewhere. If the process dies, PostgreSQL ends its
 * session and releases the lock: a dead process never blocks the others. See docs/scale-out.md
 * for the measurements.
 *
 * Waiters of one process queue in memory first (an in-process FIFO per key), so a process
 * holds at most one connection per key, and the lock's connections come from a pool of their
 * own: waiters can never take the connections the critical sections need.
 */
import pg from 'pg';
import { InProcessLock, type RefLock } from '../refs/lock.js';
import { CONNECT_TIMEOUT_MS, storageFailure } from './postgres-level.js';

/** Options of `PostgresRefLock`. */
export interface PostgresRefLockOptions {
  /** `postgres://...` of the database the engines share. Either this or `pool`. */
  connectionString?: string;
  /** A pool to take lock connections from (not closed by `close()`); must not be the level's pool. */
  pool?: pg.Pool;
  /** Connections of the pool created from `connectionString`: keys locked at once per process. Default 10. */
  poolSize?: number;
  /** Separates independent deployments sharing one database (advisory locks are per database). Default `level-git`. */
  namespace?: string;
}

/**
 * The advisory lock id of a key: FNV-1a 64 of `namespace \0 key`, as a signed bigint. A
 * collision only makes two keys share a lock (more waiting, never less safety).
 */
export function advisoryLockId(namespace: string, key: string): string {
  const bytes = new TextEncoder().encode(`${namespace}\0${key}`);
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return BigInt.asIntN(64, h).toString();
}

/** Serializes critical sections per key across every process of one PostgreSQL database. */
export class PostgresRefLock implements RefLock {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #namespace: string;
  readonly #local = new InProcessLock();
  #queries = 0;
  #checked: Promise<void> | undefined;

  constructor(options: PostgresRefLockOptions) {
    if (options === null || typeof options !== 'object' || (options.pool === undefined && typeof options.connectionString !== 'string')) {
      throw new TypeError('PostgresRefLock needs { connectionString } or { pool }');
    }
    this.#namespace = options.namespace ?? 'level-git';
    this.#ownsPool = options.pool === undefined;
    this.#pool =
      options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // A broken idle connection is dropped by the pool; without a listener it would crash the process.
    if (this.#ownsPool) this.#pool.on('error', () => {});
  }

  /** Statements sent to PostgreSQL so far (lock and unlock are one round trip each). */
  get queryCount(): number {
    return this.#queries;
  }

  /** Runs `fn` while holding the key's lock in this process and in PostgreSQL. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#local.run(key, () => this.#runLocked(key, fn));
  }

  /**
   * CockroachDB accepts `pg_advisory_lock` but as a stub that returns at once without locking
   * anything: refuse to run there rather than serialize nothing.
   */
  #checkServer(): Promise<void> {
    this.#checked ??= (async () => {
      this.#queries++;
      const { rows } = await this.#pool.query('SELECT version() AS v').catch((err) => Promise.reject(storageFailure(err)));
      if (/cockroach/i.test(String(rows[0]?.v))) {
        throw new Error('PostgresRefLock needs PostgreSQL session advisory locks; CockroachDB only stubs them (they lock nothing)');
      }
    })().catch((err) => {
      this.#checked = undefined;
      throw err;
    });
    return this.#checked;
  }

  async #runLocked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await this.#checkServer();
    const id = advisoryLockId(this.#namespace, key);
    const client = await this.#pool.connect().catch((err) => Promise.reject(storageFailure(err)));
    let broken: Error | undefined;
    // A connection that breaks while held reports here; the server has then released the lock.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      this.#queries++;
      await client.query('SELECT pg_advisory_lock($1::bigint)', [id]);
    } catch (err) {
      client.off('error', onError);
      client.release(err as Error);
      throw storageFailure(err);
    }
    try {
      return await fn();
    } finally {
      try {
        this.#queries++;
        if (broken === undefined) await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]);
      } catch (err) {
        broken = err as Error;
      }
      client.off('error', onError);
      // A connection whose unlock failed is destroyed, not reused: closing it releases the lock.
      client.release(broken);
    }
  }

  /** Closes the lock's own pool (not a pool passed in). */
  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}
