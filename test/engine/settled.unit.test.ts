/**
 * `engine.settled()`: resolves once the background work branch moves started has ended, so a
 * depth-1 clone of the new tip is then answered from the pack that work warmed.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { AUTHOR, collectBytes } from './helpers.js';

describe('engine.settled', () => {
  it('waits for the warm-up of every tip moved, including tips queued while it ran', async () => {
    const engine = await openEngine({ db: new MemoryLevel() });
    try {
      await engine.settled(); // nothing started: resolves at once
      const repo = await engine.createRepo('r');
      let sha = '';
      for (let i = 0; i < 5; i++) {
        ({ sha } = await repo.commit({ branch: 'main', message: `c${i}`, author: AUTHOR, changes: [{ path: `f${i}.txt`, content: `${i}\n` }] }));
      }
      await engine.settled();
      const stats = engine.packCache.stats;
      expect(stats.warmed).toBeGreaterThanOrEqual(1);
      const hits = stats.hits;
      const input = { wants: [sha as never], depth: 1, includeTags: [], ofsDelta: true };
      await collectBytes((await internalsOf(repo).fetchPack(input)).pack);
      expect(stats.hits).toBe(hits + 1);
    } finally {
      await engine.close();
    }
  });
});
