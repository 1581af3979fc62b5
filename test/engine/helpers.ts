/** Shared helpers of the engine-core tests: engine factories, byte helpers, real-file fixtures. */
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

export { collectBytes, listFiles, realSourceFiles } from '../../bench/shared/files.js';

/** What a conformance factory gives one test: an open engine, a way to reopen it, cleanup. */
export interface EngineHandle {
  engine: Engine;
  /** Closes the engine and opens a new one over the same storage; undefined when the storage does not persist. */
  reopen?: () => Promise<Engine>;
  /** Closes everything and removes temp files. */
  dispose: () => Promise<void>;
}

/** Makes a fresh, empty engine for one test. */
export type EngineFactory = () => Promise<EngineHandle>;

/** Engines over a fresh memory-level database. */
export const memoryFactory: EngineFactory = async () => {
  const db = new MemoryLevel();
  const engine = await openEngine({ db });
  return { engine, dispose: async () => (await engine.close(), await db.close()) };
};

/** Engines over the embedded on-disk default (`openEngine({ path })`) in a temp directory. */
export const diskFactory: EngineFactory = async () => {
  const { dir, cleanup } = tempDir('level-git-engine-');
  const path = join(dir, 'db');
  const handle: EngineHandle = {
    engine: await openEngine({ path }),
    reopen: async () => {
      await handle.engine.close();
      handle.engine = await openEngine({ path });
      return handle.engine;
    },
    dispose: async () => {
      await handle.engine.close();
      cleanup();
    },
  };
  return handle;
};

/** Text of bytes. */
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Counts the objects of a repository's store. */
export async function countObjects(objects: { allOids(): AsyncIterable<string> }): Promise<number> {
  let n = 0;
  for await (const _ of objects.allOids()) n++;
  return n;
}

/** The default author of test commits. */
export const AUTHOR = { name: 'Engine Test', email: 'engine@example.com', timestamp: 1_700_000_000 };

/** An agent's turn: one commit on ephemeral branch `sandbox` from `main`, lasting `ttlSeconds`. */
export function sandboxTurn(
  repo: Repository,
  change: { path: string; content: string },
  options: { ttlSeconds?: number; author?: typeof AUTHOR } = {},
): Promise<{ sha: string }> {
  return repo.commit({
    branch: 'sandbox',
    baseBranch: 'main',
    space: 'ephemeral',
    ttlSeconds: options.ttlSeconds ?? 60,
    message: 'turn',
    author: options.author ?? AUTHOR,
    changes: [change],
  });
}
