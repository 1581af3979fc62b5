/**
 * Clone plans (repo/clone-plan.ts) through C git over HTTP: the first full clone stores its
 * plan, and clones answered from stored plans pass `git fsck --strict` and hold exactly the
 * objects git's own repository lists for the same refs; after a fast-forward push the plan is
 * extended in the background, and after a force push plus a sweep no plan of the dead tips is
 * left and the next clone (which plans again) neither misses nor leaks an object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { internalsOf } from '../../src/repo/internals.js';
import { listRecords } from '../../src/repo/full-pack-store.js';
import { commitFiles, gitRunner, startServer, tempDirs } from '../http/helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let work: string;

beforeAll(async () => {
  g = gitRunner(dirs.make('cp-home-'));
  // No cache of finished packs: every clone is answered by the plan or the planner.
  engine = await openEngine({ path: dirs.make('cp-db-'), packCache: { maxBytes: 0, warm: false, clonePlans: { minCommits: 5 } } });
  server = await startServer(createNodeHandler({ engine }) as never);
  work = dirs.make('cp-work-');
  await g.ok(['init', '-q', '-b', 'main', work]);
  // Files that change a little per commit, so git push sends deltas (served as ofs-deltas).
  const big = (n: number) => Array.from({ length: 200 }, (_, i) => `line ${i} ${i % 17 === n % 17 ? n : ''}`).join('\n');
  for (let i = 0; i < 12; i++) await commitFiles(g, work, { 'a.txt': big(i), [`dir/f${i % 3}.txt`]: big(i * 7), 'dir/sub/c.txt': `c${i >> 2}\n` }, `m${i}`);
  await g.ok(['tag', '-a', '-m', 'release one', 'v1'], work);
  await g.ok(['checkout', '-q', '-b', 'feature', 'HEAD~4'], work);
  await commitFiles(g, work, { 'feature.txt': 'only on feature\n', 'a.txt': big(99) }, 'feature');
  await g.ok(['checkout', '-q', 'main'], work);
  await engine.createRepo('cp');
  await g.ok(['push', '-q', `${server.url}/cp.git`, 'main', 'feature', '--tags'], work);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

/** What the work repository's refs reach. */
async function sourceObjects(refs: string[]): Promise<string[]> {
  const out = await g.ok(['rev-list', '--objects', ...refs], work);
  return out
    .split('\n')
    .map((l) => l.slice(0, 40))
    .filter((l) => l.length === 40)
    .sort();
}

/** Clones `name` fully, checks it with `fsck --strict`, and lists its objects. */
async function cloneObjects(name: string): Promise<string[]> {
  const dest = dirs.make('cp-clone-');
  await g.ok(['clone', '-q', '--bare', `${server.url}/${name}.git`, dest]);
  await g.ok(['fsck', '--strict', '--no-dangling'], dest);
  const out = await g.ok(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], dest);
  return out
    .split('\n')
    .filter((l) => l.length === 40)
    .sort();
}

/** Waits for a plan answering exactly `tips` (stored by a clone, or extended in the background). */
async function planFor(repo: Repository, tips: string[]): Promise<void> {
  const objects = internalsOf(repo).objects;
  const want = [...new Set(tips)].sort().join(',');
  for (let i = 0; i < 400; i++) {
    const records = await listRecords(objects.kv, objects.repoId, 'plan');
    if (records.some((r) => r.tips.join(',') === want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no clone plan appeared');
}

async function tipsOf(refs: string[]): Promise<string[]> {
  return (await g.ok(['rev-parse', ...refs], work)).split('\n');
}

describe('clone plans', () => {
  it('answer git clone after a push, then after a fast-forward push (extended)', async () => {
    const repo = await engine.getRepo('cp');
    const stats = engine.packCache.stats;
    const built = stats.planBuilt;
    const served = stats.planServed;
    // The first full clone plans, stores the plan and packs from it.
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'feature', 'v1']));
    expect(stats.planBuilt).toBe(built + 1);
    await planFor(repo, await tipsOf(['main', 'feature', 'v1']));
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'feature', 'v1']));
    expect(stats.planServed).toBe(served + 2);

    const extended = stats.planExtended;
    await commitFiles(g, work, { 'a.txt': 'after\n', 'new/n.txt': 'n\n' }, 'ff');
    await g.ok(['push', '-q', `${server.url}/cp.git`, 'main'], work);
    await planFor(repo, await tipsOf(['main', 'feature', 'v1']));
    expect(stats.planExtended).toBe(extended + 1);
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'feature', 'v1']));
    expect(stats.planServed).toBe(served + 3);
  }, 120_000);

  it('after a force push and a branch delete plus a sweep: no plan of the dead tips, nothing missing, nothing leaked', async () => {
    const repo = await engine.getRepo('cp');
    const objects = internalsOf(repo).objects;
    await g.ok(['push', '-q', '-f', `${server.url}/cp.git`, 'main~2:main', ':feature'], work);
    await g.ok(['branch', '-q', '-D', 'feature'], work);
    await g.ok(['reset', '-q', '--hard', 'main~2'], work);
    const result = await engine.sweep();
    expect(result.objects).toBeGreaterThan(0);
    const live = new Set(await tipsOf(['main', 'v1']));
    // A record outlives the sweep only while every tip of it is stored (one the background job
    // after the force push pinned meanwhile is deleted by a later sweep, its record with it).
    for (const r of await listRecords(objects.kv, objects.repoId, 'plan')) {
      const dead = r.tips.filter((t) => !live.has(t));
      expect((await objects.info(dead)).every((i) => i !== undefined)).toBe(true);
    }
    const served = engine.packCache.stats.planServed;
    expect(await cloneObjects('cp')).toEqual(await sourceObjects(['main', 'v1']));
    expect(engine.packCache.stats.planServed).toBe(served + 1);
    await planFor(repo, await tipsOf(['main', 'v1']));
  }, 120_000);
});
