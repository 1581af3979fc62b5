/**
 * What the git e2e tests of full-clone records share (full-pack.test.ts, clone-plan.test.ts): a
 * history pushed the way git pushes it (deltas, a tag, a side branch), the objects the source
 * repository's refs reach, the objects of a checked full clone, and a wait for a stored record.
 */
import { afterAll, beforeAll } from 'vitest';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { internalsOf } from '../../src/repo/internals.js';
import { type RecordKind, listRecords } from '../../src/repo/full-pack-store.js';
import type { PackCacheOptions } from '../../src/repo/pack-cache.js';
import { commitFiles, gitRunner, startServer, tempDirs } from '../http/helpers.js';

type Git = ReturnType<typeof gitRunner>;

/** A server over an on-disk engine with `pushHistory` pushed to repository `name` (set in beforeAll). */
export interface RecordServer {
  engine: Engine;
  url: string;
  g: Git;
  work: string;
  dirs: ReturnType<typeof tempDirs>;
}

/**
 * Starts, before the file's tests, an engine with `packCache` (no cache of finished packs, so
 * every clone is answered by a record or the planner) behind an HTTP server, and pushes the
 * history into `name`; stops them after.
 */
export function recordServer(name: string, packCache: PackCacheOptions, lightTag = false): RecordServer {
  const dirs = tempDirs();
  const fx = { dirs } as RecordServer;
  let server: { url: string; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    fx.g = gitRunner(dirs.make(`${name}-home-`));
    fx.engine = await openEngine({ path: dirs.make(`${name}-db-`), packCache: { maxBytes: 0, warm: false, ...packCache } });
    server = await startServer(createNodeHandler({ engine: fx.engine }) as never);
    fx.url = server.url;
    fx.work = dirs.make(`${name}-work-`);
    await fx.engine.createRepo(name);
    await pushHistory(fx.g, fx.work, `${server.url}/${name}.git`, lightTag);
  });
  afterAll(async () => {
    await server?.close();
    await fx.engine?.close();
    dirs.cleanup();
  });
  return fx;
}

/**
 * Builds in `work` 12 commits of files that change a little each time (so git push sends
 * deltas), an annotated tag `v1`, a branch `feature` off `HEAD~4` (and the lightweight tag
 * `light` on it with `lightTag`), then pushes main, feature and the tags to `url`.
 */
export async function pushHistory(g: Git, work: string, url: string, lightTag = false): Promise<void> {
  await g.ok(['init', '-q', '-b', 'main', work]);
  const big = (n: number) => Array.from({ length: 200 }, (_, i) => `line ${i} ${i % 17 === n % 17 ? n : ''}`).join('\n');
  for (let i = 0; i < 12; i++) await commitFiles(g, work, { 'a.txt': big(i), [`dir/f${i % 3}.txt`]: big(i * 7), 'dir/sub/c.txt': `c${i >> 2}\n` }, `m${i}`);
  await g.ok(['tag', '-a', '-m', 'release one', 'v1'], work);
  await g.ok(['checkout', '-q', '-b', 'feature', 'HEAD~4'], work);
  await commitFiles(g, work, { 'feature.txt': 'only on feature\n', 'a.txt': big(99) }, 'feature');
  if (lightTag) await g.ok(['tag', 'light'], work);
  await g.ok(['checkout', '-q', 'main'], work);
  await g.ok(['push', '-q', url, 'main', 'feature', '--tags'], work);
}

/** What `refs` of the repository in `dir` reach, sorted. */
export async function sourceObjects(g: Git, dir: string, refs: string[]): Promise<string[]> {
  const out = await g.ok(['rev-list', '--objects', ...refs], dir);
  return out
    .split('\n')
    .map((l) => l.slice(0, 40))
    .filter((l) => l.length === 40)
    .sort();
}

/** Clones `url` fully into `dest`, checks it with `fsck --strict`, and lists its objects, sorted. */
export async function cloneObjects(g: Git, url: string, dest: string): Promise<string[]> {
  await g.ok(['clone', '-q', '--bare', url, dest]);
  await g.ok(['fsck', '--strict', '--no-dangling'], dest);
  const out = await g.ok(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], dest);
  return out
    .split('\n')
    .filter((l) => l.length === 40)
    .sort();
}

/** Waits (up to 20 s) for a stored record of `kind` answering exactly `tips`. */
export async function recordFor(repo: Repository, kind: RecordKind, tips: string[]): Promise<void> {
  const objects = internalsOf(repo).objects;
  const want = [...new Set(tips)].sort().join(',');
  for (let i = 0; i < 400; i++) {
    const records = await listRecords(objects.kv, objects.repoId, kind);
    if (records.some((r) => r.tips.join(',') === want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no stored ${kind} record for ${want}`);
}

/** The ids `refs` name in the repository in `dir`. */
export async function tipsOf(g: Git, dir: string, refs: string[]): Promise<string[]> {
  return (await g.ok(['rev-parse', ...refs], dir)).split('\n');
}
