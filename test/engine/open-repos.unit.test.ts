/**
 * `maxOpenRepos`: the engine keeps at most that many `Repository` objects, least recently used
 * out first; one asked for again is reopened and works as before: unconditional commits through
 * an old object and a new one of the same repository all land, on one line.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { isLevelGitError } from '../../src/errors.js';
import { AUTHOR } from './helpers.js';

describe('open repositories', () => {
  it('are bounded by maxOpenRepos; commits through a closed one and its reopened one all land on one line', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), maxOpenRepos: 2 });
    try {
      const old = await engine.createRepo('r');
      await old.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'f.txt', content: '0\n' }] });
      await engine.createRepo('s');
      await engine.createRepo('t'); // `r` is the least recently used: closed
      const fresh = await engine.getRepo('r');
      expect(fresh).not.toBe(old);
      expect(await engine.getRepo('r')).toBe(fresh); // held again
      // Ten unconditional commits through each object at once: all land, one after the other.
      const commits = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? old : fresh).commit({ branch: 'main', message: `c${i}`, author: AUTHOR, changes: [{ path: `f${i}.txt`, content: `${i}\n` }] }),
      );
      const results = await Promise.all(commits);
      const log = await fresh.log('main', { limit: 100 });
      expect(log).toHaveLength(21);
      expect(new Set(log.map((e) => e.sha))).toEqual(new Set([...results.map((r) => r.sha), log.at(-1)!.sha]));
      expect((await fresh.listTree('main')).map((e) => e.path).sort()).toHaveLength(21);
    } finally {
      await engine.close();
    }
  });

  it('refuses a maxOpenRepos that is not a positive integer', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const db = new MemoryLevel();
      const err = await openEngine({ db, maxOpenRepos: bad }).catch((e: unknown) => e);
      expect(isLevelGitError(err, 'ERR_INVALID_ARGUMENT')).toBe(true);
      await db.close();
    }
  });
});
