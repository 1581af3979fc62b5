/**
 * Forks share their source's objects through an object pool: forking copies refs only (fast and
 * small whatever the source's size), pushes to each stay apart, the sweep of either keeps what
 * the other's refs reach, and deleting the source leaves the fork whole for C git.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { createApiFetchHandler } from '../../src/http/fetch-handler.js';
import { createTokenService } from '../../src/access/tokens.js';
import type { AnyLevel } from '../../src/storage/kv.js';
import { manyFiles } from '../../bench/shared/files.js';
import { commitFiles, gitRunner, startServer, tempDirs } from '../http/helpers.js';
import { AUTHOR } from './helpers.js';
import { internalsOf } from '../../src/repo/internals.js';
import { Level } from 'level';

const dirs = tempDirs();
const ADMIN = 'admin-key-0123456789abcdef';
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;

/** Bytes of every key and value in a database. */
async function storedBytes(db: Level<Uint8Array, Uint8Array>): Promise<number> {
  let n = 0;
  for await (const [k, v] of db.iterator({ keyEncoding: 'view', valueEncoding: 'view' })) n += k.length + v.length;
  return n;
}

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  engine = await openEngine({ path: dirs.make('lg-db-') });
  server = await startServer(createNodeHandler({ engine }) as never);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('forkRepo', () => {
  it('forks a 20,371-file tree in under a second, adding under 10 MiB', async () => {
    const db = new Level<Uint8Array, Uint8Array>(dirs.make('lg-big-'));
    const local = await openEngine({ db: db as unknown as AnyLevel });
    const files = manyFiles(20_371);
    expect(files.length).toBe(20_371);
    const source = await local.createRepo('big');
    await source.commit({ branch: 'main', message: 'tree', author: AUTHOR, changes: files.map((f) => ({ path: f.path, content: f.content })) });
    const before = await storedBytes(db);
    const t0 = performance.now();
    const fork = await local.forkRepo('big', 'big-fork');
    const ms = performance.now() - t0;
    const added = (await storedBytes(db)) - before;
    expect(ms).toBeLessThan(1000);
    expect(added).toBeLessThan(10 * 1024 * 1024);
    expect((await fork.readFile('main', files[0]!.path)).length).toBe(files[0]!.content.length);
    await local.close();
    await db.close();
  }, 180_000);

  it('keeps pushes apart, keeps what the other needs through sweeps, and outlives its source', async () => {
    const work = dirs.make('lg-work-');
    await g.ok(['init', '-q', '-b', 'main', work]);
    await commitFiles(g, work, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n' }, 'first');
    await g.ok(['checkout', '-q', '-b', 'feature'], work);
    const featureTip = await commitFiles(g, work, { 'feature.txt': 'only on feature\n' }, 'feature');
    await g.ok(['checkout', '-q', 'main'], work);
    await engine.createRepo('source');
    await g.ok(['push', '-q', `${server.url}/source.git`, 'main', 'feature'], work);

    // Through the JSON API: 201 and the new repository.
    const api = createApiFetchHandler({
      engine,
      tokens: createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } }),
      adminKey: ADMIN,
    });
    const res = (await api(
      new Request('http://api.test/api/v1/repos/source/fork', {
        method: 'POST',
        headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'fork' }),
      }),
    ))!;
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'fork', defaultBranch: 'main' });
    const fork = await engine.getRepo('fork');
    expect((await fork.listBranches()).map((b) => b.name).sort()).toEqual(['feature', 'main']);

    // Independent pushes: each repository sees only its own.
    await commitFiles(g, work, { 'a.txt': 'source change\n' }, 'to source');
    await g.ok(['push', '-q', `${server.url}/source.git`, 'main'], work);
    const sourceMain = await g.ok(['rev-parse', 'HEAD'], work);
    await g.ok(['reset', '-q', '--hard', 'HEAD~1'], work);
    await commitFiles(g, work, { 'c.txt': 'fork change\n' }, 'to fork');
    await g.ok(['push', '-q', `${server.url}/fork.git`, 'main'], work);
    const forkMain = await g.ok(['rev-parse', 'HEAD'], work);
    const source = await engine.getRepo('source');
    expect((await source.refs.get('refs/heads/main'))?.oid).toBe(sourceMain);
    expect((await fork.refs.get('refs/heads/main'))?.oid).toBe(forkMain);

    // The source lets go of `feature` and sweeps: the fork's `feature` keeps its objects.
    await source.deleteBranch('feature');
    await engine.sweep();
    expect(new TextDecoder().decode(await fork.readFile('feature', 'feature.txt'))).toBe('only on feature\n');
    expect((await fork.refs.get('refs/heads/feature'))?.oid).toBe(featureTip);

    // The source is deleted and everything swept: the fork clones and passes fsck --strict.
    await engine.deleteRepo('source');
    await engine.sweep();
    const clone = dirs.make('lg-clone-');
    await g.ok(['clone', '-q', '--no-single-branch', `${server.url}/fork.git`, clone]);
    await g.ok(['fsck', '--strict', '--no-dangling'], clone);
    expect(await g.ok(['rev-parse', 'origin/feature'], clone)).toBe(featureTip);
    expect(await g.ok(['rev-parse', 'HEAD'], clone)).toBe(forkMain);

    // And takes pushes afterwards; garbage of its own is still collected.
    await commitFiles(g, clone, { 'd.txt': 'after the source is gone\n' }, 'after');
    await g.ok(['push', '-q', 'origin', 'main'], clone);
    await fork.commit({ branch: 'scratch', baseBranch: 'main', message: 'tmp', author: AUTHOR, changes: [{ path: 'tmp.txt', content: 'garbage soon' }] });
    const tmpBlob = (await fork.listTree('scratch')).find((e) => e.path === 'tmp.txt')!.sha;
    await fork.deleteBranch('scratch');
    await engine.sweep();
    expect(await internalsOf(fork).objects.has([tmpBlob as never])).toEqual([false]);
    const again = dirs.make('lg-clone-');
    await g.ok(['clone', '-q', `${server.url}/fork.git`, again]);
    await g.ok(['fsck', '--strict', '--no-dangling'], again);
  }, 120_000);
});
