/** The engine conformance suite (test/engine/conformance.ts) over PostgresLevel. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformance } from '../engine/conformance.js';
import type { EngineFactory, EngineHandle } from '../engine/helpers.js';
import { openEngine } from '../../src/index.js';
import { PostgresLevel } from '../../src/postgres/index.js';
import { findPostgres, havePostgres, startPostgres, type PostgresServer } from './server.js';

if (havePostgres()) {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres(findPostgres() as never);
  });
  afterAll(() => server?.stop());

  let n = 0;
  // A fresh table per test; reopening opens a new database (and pool) over the same table.
  const postgresFactory: EngineFactory = async () => {
    const table = `engine_${++n}`;
    const open = async () => {
      const db = new PostgresLevel({ connectionString: server.connectionString, table, poolSize: 4 });
      // No background warming of clone packs: a warm job still reading when a test closes its
      // engine leaves an unhandled rejection (the read-ahead of deltaOrder in repo/pack-out.ts
      // has no handler until awaited), which PostgreSQL's slower reads make likely here.
      return { db, engine: await openEngine({ db, packCache: { warm: false } }) };
    };
    let current = await open();
    const handle: EngineHandle = {
      engine: current.engine,
      reopen: async () => {
        await current.engine.close();
        await current.db.close();
        current = await open();
        handle.engine = current.engine;
        return current.engine;
      },
      dispose: async () => {
        await current.engine.close();
        await current.db.close();
      },
    };
    return handle;
  };
  conformance('PostgreSQL (PostgresLevel)', postgresFactory);
} else {
  describe.skip('engine conformance: PostgreSQL (no PostgreSQL installed)', () => it('skipped', () => {}));
}
