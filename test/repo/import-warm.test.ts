/**
 * The first full clone of an import, made ahead (serve-packs.ts `warmImportClone`), through C git
 * over HTTP: after a history is pushed into an empty repository, the pack `git clone` asks for is
 * made in the background, so the first clone is answered from the pack cache (no plan made for it),
 * holds exactly the objects git's own repository lists for the same refs and passes
 * `git fsck --strict`.
 */
import { describe, expect, it } from 'vitest';
import { cloneObjects as clonedObjects, recordServer, sourceObjects } from './record-fixture.js';

const fx = recordServer('iw', { maxBytes: 64 * 1024 * 1024, warm: true, clonePlans: { minCommits: 5 } }, true);

describe("an import's first full clone", () => {
  it('is answered from the pack cache with what the refs reach', async () => {
    await fx.engine.settled();
    const stats = fx.engine.packCache.stats;
    const hits = stats.hits;
    const misses = stats.misses;
    const cloned = await clonedObjects(fx.g, `${fx.url}/iw.git`, fx.dirs.make('iw-clone-'));
    expect(cloned).toEqual(await sourceObjects(fx.g, fx.work, ['main', 'feature', 'v1', 'light']));
    expect(stats.hits).toBe(hits + 1);
    expect(stats.misses).toBe(misses);
    expect(stats.planFromImport + stats.planBuilt).toBe(0);
  }, 120_000);
});
