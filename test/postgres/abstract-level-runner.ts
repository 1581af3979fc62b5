/**
 * Runs abstract-level's own test suite (written for tape) over PostgresLevel, printing TAP.
 * Started by abstract-level-suite.test.ts with LEVEL_GIT_TEST_PG set to a connection string;
 * every database the suite's factory makes gets its own table, so each starts empty.
 */
import { createRequire } from 'node:module';
import pg from 'pg';
import tape from 'tape';
import { PostgresLevel } from '../../src/postgres/index.js';

const require = createRequire(import.meta.url);
const suite = require('abstract-level/test') as (options: { test: typeof tape; factory: (options?: object) => unknown }) => void;

const connectionString = process.env.LEVEL_GIT_TEST_PG;
if (!connectionString) throw new Error('LEVEL_GIT_TEST_PG is not set');

// One pool for the suite's hundreds of databases (a PostgreSQL connection costs ~50 ms to
// open here); LEVEL_GIT_TEST_PG_OWN_POOLS=1 gives each database its own pool instead (the
// suite then takes minutes; it passes either way).
const pool = process.env.LEVEL_GIT_TEST_PG_OWN_POOLS ? undefined : new pg.Pool({ connectionString, max: 20 });
let n = 0;
// Databases a test left open would keep their pools (and this process) alive: tape's own
// exit handler then sets the exit code from the results.
tape.onFinish(() => process.exit());
suite({
  test: tape,
  factory: (options?: object) => {
    return new PostgresLevel({ ...(pool ? { pool } : { connectionString, poolSize: 4 }), table: `suite_${process.pid}_${++n}`, ...options });
  },
});
