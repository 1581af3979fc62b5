/**
 * Where every PostgreSQL test gets its server: the throwaway cluster of bench/shared/postgres.ts
 * (a fresh initdb on 127.0.0.1 at a free port, removed by `stop()`), plus the tests' rule for a
 * machine without PostgreSQL: skip loudly, except under `CI=true`, where they fail.
 */
import { findPostgres } from '../../bench/shared/postgres.js';

export { findPostgres, startPostgres, type PostgresCluster as PostgresServer } from '../../bench/shared/postgres.js';

/** True when a PostgreSQL can be found (tests use it to choose `describe` or `describe.skip`). */
export function havePostgres(): boolean {
  const found = findPostgres();
  if ('missing' in found && process.env.CI) throw new Error(`PostgreSQL tests cannot run under CI: ${found.missing}`);
  if ('missing' in found) console.warn(`\n${'!'.repeat(80)}\n!! SKIPPED PostgreSQL tests: ${found.missing}\n${'!'.repeat(80)}\n`);
  return !('missing' in found);
}
