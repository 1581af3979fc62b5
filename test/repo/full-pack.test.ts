/**
 * Full-clone packs (repo/full-pack.ts) through C git over HTTP: a full clone answered from the
 * stored pack passes `git fsck --strict` and holds exactly the objects git's own repository
 * lists for the same refs; after fast-forward pushes the stored pack is extended, not rebuilt;
 * after a force push and a branch delete plus a sweep, the old packs are dropped and a clone
 * neither misses nor leaks an object; a fork's clone holds its own refs' objects only.
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
  g = gitRunner(dirs.make('fp-home-'));
  // No cache of finished packs: every clone is answered by the stored pack or the planner.
  engine = await openEngine({ path: dirs.make('fp-db-'), packCache: { maxBytes: 0, warm: false, fullPacks: { minCommits: 1 } } });
  server = await startServer(createNodeHandler({ engine }) as never);
  work = dirs.make('fp-work-');
  await g.ok(['init', '-q', '-b', 'main', work]);
  // Files that change a little per commit, so git push sends deltas.
  const big = (n: number) => Array.from({ length: 200 }, (_, i) => `line ${i} ${i % 17 === n % 17 ? n : ''}`).join('\n');
  for (let i = 0; i < 12; i++) await commitFiles(g, work, { 'a.txt': big(i), [`dir/f${i % 3}.txt`]: big(i * 7), 'dir/sub/c.txt': `c${i >> 2}\n` }, `m${i}`);
  await g.ok(['tag', '-a', '-m', 'release one', 'v1'], work);
  await g.ok(['checkout', '-q', '-b', 'feature', 'HEAD~4'], work);
  await commitFiles(g, work, { 'feature.txt': 'only on feature\n', 'a.txt': big(99) }, 'feature');
  await g.ok(['tag', 'light'], work);
  await g.ok(['checkout', '-q', 'main'], work);
  await engine.createRepo('fp');
  await g.ok(['push', '-q', `${server.url}/fp.git`, 'main', 'feature', '--tags'], work);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

/** The tips a full clone wants: every branch and tag of the work repository. */
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
  const dest = dirs.make('fp-clone-');
  await g.ok(['clone', '-q', '--bare', `${server.url}/${name}.git`, dest]);
  await g.ok(['fsck', '--strict', '--no-dangling'], dest);
  const out = await g.ok(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], dest);
  return out
    .split('\n')
    .filter((l) => l.length === 40)
    .sort();
}

/** Waits for the background work after a push: a stored pack answering exactly `tips`. */
async function storedFor(repo: Repository, tips: string[]): Promise<void> {
  const objects = internalsOf(repo).objects;
  const want = [...new Set(tips)].sort().join(',');
  for (let i = 0; i < 400; i++) {
    const records = await listRecords(objects.kv, objects.repoId);
    if (records.some((r) => r.tips.join(',') === want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no stored full-clone pack appeared');
}

async function tipsOf(dir: string, refs: string[]): Promise<string[]> {
  return (await g.ok(['rev-parse', ...refs], dir)).split('\n');
}

describe('full-clone packs', () => {
  it('serves a full clone from the stored pack, then extends it after fast-forwards', async () => {
    const repo = await engine.getRepo('fp');
    const stats = engine.packCache.stats;
    await storedFor(repo, await tipsOf(work, ['main', 'feature', 'v1', 'light']));
    const served = stats.fullServed;
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'feature', 'v1', 'light']));
    expect(stats.fullServed).toBe(served + 1);

    // Two fast-forwards of main: each extends the stored pack (no rebuild).
    const built = stats.fullBuilt;
    const extended = stats.fullExtended;
    for (let i = 0; i < 2; i++) {
      await commitFiles(g, work, { 'a.txt': `after ${i}\n`, 'new/n.txt': `n${i}\n` }, `ff${i}`);
      await g.ok(['push', '-q', `${server.url}/fp.git`, 'main'], work);
      await storedFor(repo, await tipsOf(work, ['main', 'feature', 'v1', 'light']));
    }
    expect(stats.fullBuilt).toBe(built);
    expect(stats.fullExtended).toBe(extended + 2);
    const records = await listRecords(internalsOf(repo).objects.kv, internalsOf(repo).objects.repoId);
    expect(new Set(records.map((r) => r.series)).size).toBe(1); // appended in place
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'feature', 'v1', 'light']));
    expect(stats.fullServed).toBe(served + 2);
  }, 120_000);

  it('after a force push and a branch delete plus a sweep: no pack of the old tips, nothing missing, nothing leaked', async () => {
    const repo = await engine.getRepo('fp');
    const objects = internalsOf(repo).objects;
    await g.ok(['push', '-q', '-f', `${server.url}/fp.git`, 'main~2:main', ':feature', ':light'], work);
    await g.ok(['branch', '-q', '-D', 'feature'], work);
    await g.ok(['tag', '-d', 'light'], work);
    await g.ok(['reset', '-q', '--hard', 'main~2'], work);
    const result = await engine.sweep();
    expect(result.objects).toBeGreaterThan(0);
    const gone = new Set(await g.ok(['rev-parse', 'HEAD@{1}'], work));
    for (const r of await listRecords(objects.kv, objects.repoId)) for (const t of r.tips) expect(gone.has(t)).toBe(false);
    // The reflog keeps the dropped commits in the work repository: list only what the refs reach.
    const served = engine.packCache.stats.fullServed;
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'v1']));
    expect(engine.packCache.stats.fullServed).toBe(served + 1);
  }, 120_000);

  it('a fork clones its own refs, the source its own', async () => {
    const fork = await engine.forkRepo('fp', 'fp-fork');
    const other = dirs.make('fp-other-');
    await g.ok(['clone', '-q', `${server.url}/fp-fork.git`, other]);
    await commitFiles(g, other, { 'fork.txt': 'only in the fork\n' }, 'fork');
    await g.ok(['push', '-q', 'origin', 'main'], other);
    await storedFor(fork, await tipsOf(other, ['main', 'v1']));
    const forkObjects = (await g.ok(['rev-list', '--objects', 'main', 'v1'], other))
      .split('\n')
      .map((l) => l.slice(0, 40))
      .filter((l) => l.length === 40)
      .sort();
    expect(await cloneObjects('fp-fork')).toEqual(forkObjects);
    expect(await cloneObjects('fp')).toEqual(await sourceObjects(['main', 'v1']));
  }, 120_000);
});
