/**
 * level-git over PostgreSQL (`level-git/postgres`): an abstract-level database in one table,
 * and a ref lock that serializes ref transactions across processes.
 */
export { PostgresLevel, createPostgresLevel, type PostgresLevelOptions } from './postgres-level.js';
export { PostgresRefLock, advisoryLockId, type PostgresRefLockOptions } from './postgres-lock.js';
