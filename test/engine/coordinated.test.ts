/**
 * The engine conformance suite over memory-level with `coordination: 'database'` (the sweep's
 * writes, gates, pins and leadership as leases in the database): one process behaves exactly as
 * with the default.
 */
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { conformance } from './conformance.js';
import type { EngineFactory } from './helpers.js';

const coordinatedFactory: EngineFactory = async () => {
  const db = new MemoryLevel();
  const engine = await openEngine({ db, coordination: 'database' });
  return { engine, dispose: async () => (await engine.close(), await db.close()) };
};

conformance("memory-level, coordination 'database'", coordinatedFactory);
