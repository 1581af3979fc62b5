/**
 * Clone plans (repo/clone-plan.ts) through C git over HTTP: the first full clone stores its
 * plan, and clones answered from stored plans pass `git fsck --strict` and hold exactly the
 * objects git's own repository lists for the same refs; after a fast-forward push the plan is
 * extended in the background, and after a force push plus a sweep no plan of the dead tips is
 * left and the next clone (which plans again) neither misses nor leaks an object.
 */
import { describe, expect, it } from 'vitest';
import type { Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { listRecords } from '../../src/repo/full-pack-store.js';
import { commitFiles } from '../http/helpers.js';
import { cloneObjects as clonedObjects, recordFor, recordServer, sourceObjects as reached, tipsOf as revParse } from './record-fixture.js';

const fx = recordServer('cp', { clonePlans: { minCommits: 5 } });

const sourceObjects = (refs: string[]) => reached(fx.g, fx.work, refs);
const cloneObjects = (name: string) => clonedObjects(fx.g, `${fx.url}/${name}.git`, fx.dirs.make('cp-clone-'));
/** Waits for a plan answering exactly `tips` (stored by a clone, or extended in the background). */
const planFor = (repo: Repository, tips: string[]) => recordFor(repo, 'plan', tips);
const tipsOf = (refs: string[]) => revParse(fx.g, fx.work, refs);

describe('clone plans', () => {
  it('answer git clone after a push, then after a fast-forward push (extended)', async () => {
    const repo = await fx.engine.getRepo('cp');
    const stats = fx.engine.packCache.stats;
    const imported = stats.planFromImport;
    const served = stats.planServed;
    // The first full clone stores the plan and packs from it: the history was pushed into an
    // empty repository, so the plan is the pool's ids, from the push's import record, no walk.
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'feature', 'v1']));
    expect(stats.planFromImport).toBe(imported + 1);
    await planFor(repo, await tipsOf(['main', 'feature', 'v1']));
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'feature', 'v1']));
    expect(stats.planServed).toBe(served + 2);

    const extended = stats.planExtended;
    await commitFiles(fx.g, fx.work, { 'a.txt': 'after\n', 'new/n.txt': 'n\n' }, 'ff');
    await fx.g.ok(['push', '-q', `${fx.url}/cp.git`, 'main'], fx.work);
    await planFor(repo, await tipsOf(['main', 'feature', 'v1']));
    expect(stats.planExtended).toBe(extended + 1);
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'feature', 'v1']));
    expect(stats.planServed).toBe(served + 3);
  }, 120_000);

  it('after a force push and a branch delete plus a sweep: no plan of the dead tips, nothing missing, nothing leaked', async () => {
    const repo = await fx.engine.getRepo('cp');
    const objects = internalsOf(repo).objects;
    await fx.g.ok(['push', '-q', '-f', `${fx.url}/cp.git`, 'main~2:main', ':feature'], fx.work);
    await fx.g.ok(['branch', '-q', '-D', 'feature'], fx.work);
    await fx.g.ok(['reset', '-q', '--hard', 'main~2'], fx.work);
    const result = await fx.engine.sweep();
    expect(result.objects).toBeGreaterThan(0);
    const live = new Set(await tipsOf(['main', 'v1']));
    // A record outlives the sweep only while every tip of it is stored (one the background job
    // after the force push pinned meanwhile is deleted by a later sweep, its record with it).
    for (const r of await listRecords(objects.kv, objects.repoId, 'plan')) {
      const dead = r.tips.filter((t) => !live.has(t));
      expect((await objects.info(dead)).every((i) => i !== undefined)).toBe(true);
    }
    const served = fx.engine.packCache.stats.planServed;
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'v1']));
    expect(fx.engine.packCache.stats.planServed).toBe(served + 1);
    await planFor(repo, await tipsOf(['main', 'v1']));
  }, 120_000);
});
