/**
 * Full-clone packs (repo/full-pack.ts) through C git over HTTP: a full clone answered from the
 * stored pack passes `git fsck --strict` and holds exactly the objects git's own repository
 * lists for the same refs; after fast-forward pushes the stored pack is extended, not rebuilt;
 * after a force push and a branch delete plus a sweep, the old packs are dropped and a clone
 * neither misses nor leaks an object; a fork's clone holds its own refs' objects only.
 */
import { describe, expect, it } from 'vitest';
import type { Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { listRecords } from '../../src/repo/full-pack-store.js';
import { commitFiles } from '../http/helpers.js';
import { cloneObjects as clonedObjects, recordFor, recordServer, sourceObjects as reached, tipsOf as revParse } from './record-fixture.js';

const fx = recordServer('fp', { fullPacks: { minCommits: 1 } }, true);

const sourceObjects = (refs: string[]) => reached(fx.g, fx.work, refs);
const cloneObjects = (name: string) => clonedObjects(fx.g, `${fx.url}/${name}.git`, fx.dirs.make('fp-clone-'));
const storedFor = (repo: Repository, tips: string[]) => recordFor(repo, 'pack', tips);
const tipsOf = (dir: string, refs: string[]) => revParse(fx.g, dir, refs);

describe('full-clone packs', () => {
  it('serves a full clone from the stored pack, then extends it after fast-forwards', async () => {
    const repo = await fx.engine.getRepo('fp');
    const stats = fx.engine.packCache.stats;
    await storedFor(repo, await tipsOf(fx.work, ['main', 'feature', 'v1', 'light']));
    const served = stats.fullServed;
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'feature', 'v1', 'light']));
    expect(stats.fullServed).toBe(served + 1);

    // Two fast-forwards of main: each extends the stored pack (no rebuild).
    const built = stats.fullBuilt;
    const extended = stats.fullExtended;
    for (let i = 0; i < 2; i++) {
      await commitFiles(fx.g, fx.work, { 'a.txt': `after ${i}\n`, 'new/n.txt': `n${i}\n` }, `ff${i}`);
      await fx.g.ok(['push', '-q', `${fx.url}/fp.git`, 'main'], fx.work);
      await storedFor(repo, await tipsOf(fx.work, ['main', 'feature', 'v1', 'light']));
    }
    expect(stats.fullBuilt).toBe(built);
    expect(stats.fullExtended).toBe(extended + 2);
    const records = await listRecords(internalsOf(repo).objects.kv, internalsOf(repo).objects.repoId);
    expect(new Set(records.map((r) => r.series)).size).toBe(1); // appended in place
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'feature', 'v1', 'light']));
    expect(stats.fullServed).toBe(served + 2);
  }, 120_000);

  it('after a force push and a branch delete plus a sweep: no pack of the old tips, nothing missing, nothing leaked', async () => {
    const repo = await fx.engine.getRepo('fp');
    const objects = internalsOf(repo).objects;
    await fx.g.ok(['push', '-q', '-f', `${fx.url}/fp.git`, 'main~2:main', ':feature', ':light'], fx.work);
    await fx.g.ok(['branch', '-q', '-D', 'feature'], fx.work);
    await fx.g.ok(['tag', '-d', 'light'], fx.work);
    await fx.g.ok(['reset', '-q', '--hard', 'main~2'], fx.work);
    const result = await fx.engine.sweep();
    expect(result.objects).toBeGreaterThan(0);
    const gone = new Set(await fx.g.ok(['rev-parse', 'HEAD@{1}'], fx.work));
    for (const r of await listRecords(objects.kv, objects.repoId)) for (const t of r.tips) expect(gone.has(t)).toBe(false);
    // The reflog keeps the dropped commits in the work repository: list only what the refs reach.
    const served = fx.engine.packCache.stats.fullServed;
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'v1']));
    expect(fx.engine.packCache.stats.fullServed).toBe(served + 1);
  }, 120_000);

  it('a fork clones its own refs, the source its own', async () => {
    const fork = await fx.engine.forkRepo('fp', 'fp-fork');
    const other = fx.dirs.make('fp-other-');
    await fx.g.ok(['clone', '-q', `${fx.url}/fp-fork.git`, other]);
    await commitFiles(fx.g, other, { 'fork.txt': 'only in the fork\n' }, 'fork');
    await fx.g.ok(['push', '-q', 'origin', 'main'], other);
    await storedFor(fork, await tipsOf(other, ['main', 'v1']));
    const forkObjects = await reached(fx.g, other, ['main', 'v1']);
    expect(await cloneObjects('fp-fork')).toEqual(forkObjects);
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'v1']));
  }, 120_000);
});
