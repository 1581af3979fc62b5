/**
 * An `abstract-level` database over PostgreSQL (node-postgres and its connection pool): one
 * table of ordered `bytea` keys and `bytea` values. Every abstract-level feature that maps to
 * one SQL statement is here: get, getMany, has, hasMany, put, del, batch (one statement, so
 * one implicit transaction and one round trip), clear with ranges and limits, entry, key and
 * value iterators with ranges, `reverse`, `limit` and `seek`. Sublevels and encodings come
 * from abstract-level itself, so `openEngine({ db: createPostgresLevel(...) })` takes it as it
 * takes any other abstract-level database. Not supported: snapshots (see postgres-iterator.ts).
 */
import { AbstractLevel, type AbstractDatabaseHooks, type AbstractDatabaseOptions } from 'abstract-level';
import pg from 'pg';
import { batchStatement, clearStatement, fromWire, statements, type Statements } from './sql.js';
import { StorageError } from '../errors.js';
import { PostgresIterator, PostgresKeyIterator, PostgresValueIterator, type PageSource, type ReadOptions } from './postgres-iterator.js';

/** Options of `createPostgresLevel` / `new PostgresLevel`. */
export interface PostgresLevelOptions<K = string, V = string> extends AbstractDatabaseOptions<K, V> {
  /** `postgres://user:password@host:port/database`. Either this or `pool`. */
  connectionString?: string;
  /** A pool to use (and not to close): share one with other code, or configure TLS, timeouts... */
  pool?: pg.Pool;
  /** Connections of the pool this database creates from `connectionString`. Default 10. */
  poolSize?: number;
  /** The table (`name` or `schema.name`), created on open when missing. Default `level_git`. */
  table?: string;
  /** Most rows an iterator fetches per query. Default 1000. */
  pageSize?: number;
}

type Op = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

// One statement's parameters: PostgreSQL allows 65535; two per put, one for the delete array.
const MAX_PUTS_PER_STATEMENT = 16_000;

/** How long a statement may wait for a connection (a new one to an unreachable server, or a free one of a full pool) before it fails. */
export const CONNECT_TIMEOUT_MS = 30_000;

/**
 * A failure of PostgreSQL or of the way to it, as level-git's `StorageError` (`ERR_STORAGE`,
 * HTTP 503): the server down, unreachable, restarting, or refusing a statement.
 */
export function storageFailure(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { message?: string; code?: string };
  return new StorageError(`PostgreSQL: ${e?.message ?? String(err)}`, { cause: err, details: { operation: 'postgres' } });
}

/** Rolls back and returns the connection; one whose rollback fails is destroyed, not reused. */
async function rollback(client: pg.PoolClient, cause: unknown): Promise<void> {
  try {
    await client.query('ROLLBACK');
    client.release();
  } catch {
    client.release(cause instanceof Error ? cause : new Error(String(cause)));
  }
}

/** An abstract-level database stored in one PostgreSQL table. */
export class PostgresLevel<K = string, V = string> extends AbstractLevel<Buffer, K, V> implements PageSource {
  // The inherited `AbstractDatabaseHooks<typeof this>` made this class assignable to
  // `AbstractLevel<any, any, any>` (openEngine's `db`) in some files and not in others.
  /** The hooks of abstract-level (prewrite, postopen, newsub). */
  // biome-ignore lint/suspicious/noExplicitAny: must match AbstractLevel<any, any, any>'s hooks for openEngine's `db` type.
  declare hooks: AbstractDatabaseHooks<any>;
  /** The table's statements (used by the iterators). */
  readonly statements: Statements;
  /** Most rows an iterator fetches per query. */
  readonly pageSize: number;
  /** Every request is a network round trip: level-git then reads by range and in larger batches (storage/kv.ts). */
  readonly costlyRequests = true;
  readonly #options: PostgresLevelOptions<K, V>;
  #pool: pg.Pool | undefined;
  readonly #ownsPool: boolean;
  #queries = 0;

  constructor(options: PostgresLevelOptions<K, V>) {
    if (options === null || typeof options !== 'object') throw new TypeError('PostgresLevel needs { connectionString } or { pool }');
    const { connectionString, pool, poolSize, table, pageSize, ...forward } = options;
    if (pool === undefined && typeof connectionString !== 'string') throw new TypeError('PostgresLevel needs { connectionString } or { pool }');
    if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0)) throw new TypeError('pageSize must be a positive integer');
    super(
      {
        encodings: { buffer: true },
        seek: true,
        permanence: true,
        createIfMissing: false,
        errorIfExists: false,
        has: true,
        implicitSnapshots: false,
        explicitSnapshots: false,
      },
      forward,
    );
    this.statements = statements(table ?? 'level_git');
    this.pageSize = pageSize ?? 1000;
    this.#options = options;
    this.#pool = pool;
    this.#ownsPool = pool === undefined;
  }

  /** Queries sent to PostgreSQL so far (each is one round trip): for measurements. */
  get queryCount(): number {
    return this.#queries;
  }

  /** Runs one statement on a pooled connection. */
  // biome-ignore lint/suspicious/noExplicitAny: rows are typed by each statement's caller (k, v bytea columns).
  async query(text: string, values: unknown[] = []): Promise<{ rows: any[]; rowCount: number | null }> {
    const pool = this.#pool;
    if (pool === undefined) throw new Error('the PostgreSQL level is not open');
    this.#queries++;
    try {
      return await pool.query({ text, values });
    } catch (err) {
      throw storageFailure(err);
    }
  }

  async _open(): Promise<void> {
    if (this.#pool === undefined) {
      const pool = new pg.Pool({
        connectionString: this.#options.connectionString,
        max: this.#options.poolSize ?? 10,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      // An idle connection that breaks (server restart) is dropped by the pool; without a
      // listener that event would crash the process. The next query reconnects.
      pool.on('error', () => {});
      this.#pool = pool;
    }
    try {
      await this.#createTable();
    } catch (err) {
      await this.#endPool();
      throw err;
    }
  }

  /** Creates the table once across racing processes (CREATE ... IF NOT EXISTS alone can still collide). */
  async #createTable(): Promise<void> {
    const s = this.statements;
    const { rows } = await this.query('SELECT to_regclass($1) IS NOT NULL AS present', [s.table]);
    if (rows[0].present) return;
    const client = await this.#pool!.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`level-git table ${s.table}`]);
      const again = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [s.table]);
      if (!again.rows[0].present) {
        await client.query(s.create);
        await client.query(s.storage);
      }
      await client.query('COMMIT');
    } catch (err) {
      await rollback(client, err);
      throw err;
    }
    client.release();
  }

  async #endPool(): Promise<void> {
    if (!this.#ownsPool || this.#pool === undefined) return;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool.end();
  }

  async _close(): Promise<void> {
    await this.#endPool();
  }

  async _get(key: Buffer): Promise<Buffer | undefined> {
    const { rows } = await this.query(this.statements.get, [key]);
    return rows.length === 0 ? undefined : fromWire(rows[0].v);
  }

  async _getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    const out: (Buffer | undefined)[] = new Array(keys.length).fill(undefined);
    if (keys.length === 0) return out;
    const { rows } = await this.query(this.statements.getMany, [keys]);
    for (const r of rows) out[r.i - 1] = fromWire(r.v);
    return out;
  }

  async _has(key: Buffer): Promise<boolean> {
    return (await this.query(this.statements.has, [key])).rows.length > 0;
  }

  async _hasMany(keys: Buffer[]): Promise<boolean[]> {
    const out: boolean[] = new Array(keys.length).fill(false);
    if (keys.length === 0) return out;
    const { rows } = await this.query(this.statements.hasMany, [keys]);
    for (const r of rows) out[r.i - 1] = true;
    return out;
  }

  async _put(key: Buffer, value: Buffer): Promise<void> {
    await this.query(this.statements.put, [key, value]);
  }

  async _del(key: Buffer): Promise<void> {
    await this.query(this.statements.del, [key]);
  }

  /**
   * All or nothing. The last operation on a key decides its fate, so the batch reduces to
   * distinct deletes and puts: one statement (one round trip) up to 16,000 puts, else one
   * transaction of several statements on one connection.
   */
  async _batch(operations: Op[]): Promise<void> {
    const last = new Map<string, Op>();
    for (const op of operations) {
      const id = op.key.toString('latin1');
      last.delete(id); // keep the order of last writes
      last.set(id, op);
    }
    const dels: Buffer[] = [];
    const puts: [Buffer, Buffer][] = [];
    for (const op of last.values()) {
      if (op.type === 'put') puts.push([op.key, op.value]);
      else dels.push(op.key);
    }
    if (dels.length === 0 && puts.length === 0) return;
    if (puts.length <= MAX_PUTS_PER_STATEMENT) {
      const q = batchStatement(this.statements, dels, puts);
      await this.query(q.text, q.values);
      return;
    }
    const client = await this.#pool!.connect().catch((err) => Promise.reject(storageFailure(err)));
    try {
      this.#queries++;
      await client.query('BEGIN');
      for (let i = 0; i < puts.length; i += MAX_PUTS_PER_STATEMENT) {
        const q = batchStatement(this.statements, i === 0 ? dels : [], puts.slice(i, i + MAX_PUTS_PER_STATEMENT));
        this.#queries++;
        await client.query(q.text, q.values);
      }
      this.#queries++;
      await client.query('COMMIT');
    } catch (err) {
      await rollback(client, err);
      throw storageFailure(err);
    }
    client.release();
  }

  async _clear(options: ReadOptions): Promise<void> {
    const q = clearStatement(this.statements, options, options.reverse, options.limit);
    await this.query(q.text, q.values);
  }

  _iterator(options: ReadOptions): PostgresIterator {
    return new PostgresIterator(this, options);
  }

  _keys(options: ReadOptions): PostgresKeyIterator {
    return new PostgresKeyIterator(this, options);
  }

  _values(options: ReadOptions): PostgresValueIterator {
    return new PostgresValueIterator(this, options);
  }
}

/**
 * An abstract-level database over PostgreSQL: `createPostgresLevel({ connectionString })`
 * for `openEngine({ db })`. Keys and values are bytes in one table (default `level_git`).
 */
export function createPostgresLevel<K = string, V = string>(options: PostgresLevelOptions<K, V>): PostgresLevel<K, V> {
  return new PostgresLevel<K, V>(options);
}
