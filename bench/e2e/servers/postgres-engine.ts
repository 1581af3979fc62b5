/**
 * The bench's level-git over PostgreSQL (`--db`): `createPostgresLevel` and `PostgresRefLock`
 * on one connection string, and a meter of what the engine asked of the database: statements
 * (each one round trip) on the level and on the lock, and the summed latency of the level's
 * statements as node-postgres saw them (concurrent statements overlap, so the sum can exceed
 * the wall time of the operation).
 */
import type { DbCounts } from '../../shared/server-types.js';
import { createPostgresLevel, PostgresRefLock } from '../../../src/postgres/index.js';

/** What the server needs of an engine. */
export interface Engine {
  createRepo(name: string): Promise<unknown>;
  close(): Promise<void>;
}

/** `openEngine` as the bench server calls it. */
export type OpenEngine = (o: {
  path?: string;
  db?: unknown;
  lock?: unknown;
  packCache?: { maxBytes?: number; warm?: boolean; fullPacks?: boolean };
}) => Promise<Engine> | Engine;

/** Reads and closes the meter. */
export interface QueryMeter {
  /** What `/_bench/queries` answers. */
  read(): DbCounts;
  close(): Promise<void>;
}

/** Opens an engine over PostgreSQL at `url` (table `level_git`, created when missing). */
export async function openPostgresEngine(
  openEngine: OpenEngine,
  url: string,
  extra: { packCache?: { maxBytes?: number; warm?: boolean; fullPacks?: boolean } },
): Promise<{ engine: Engine; meter: QueryMeter }> {
  const db = createPostgresLevel({ connectionString: url });
  const lock = new PostgresRefLock({ connectionString: url });
  let statementMs = 0;
  const query = db.query.bind(db);
  db.query = async (text, values) => {
    const t0 = performance.now();
    try {
      return await query(text, values);
    } finally {
      statementMs += performance.now() - t0;
    }
  };
  const engine = await openEngine({ db, lock, ...extra });
  return {
    engine,
    meter: {
      read: () => ({ statements: db.queryCount, lockStatements: lock.queryCount, statementMs }),
      close: async () => {
        await db.close();
        await lock.close();
      },
    },
  };
}
