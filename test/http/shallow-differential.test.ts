/**
 * Differential test of the shallow machinery: the same sequence of shallow clones, deepenings
 * and unshallows is run against level-git and against C git's own upload-pack (a `file://`
 * remote of the same history); afterwards each client must hold exactly the same commits and
 * the same shallow boundary, and pass `git fsck`. The history has dated commits and merges so
 * that depth, date and ref cut-offs all have work to do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { commitFiles, gitRunner, startServer, tempDirs } from './helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
let source: string;

/** Commits of a clone and its shallow file, for comparison. */
async function state(dir: string): Promise<{ commits: string[]; shallow: string[] }> {
  const commits = (await g.ok(['rev-list', '--all'], dir)).split('\n').filter(Boolean).sort();
  const file = join(dir, '.git', 'shallow');
  const shallow = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).sort() : [];
  return { commits, shallow };
}

/** Runs the same steps against both remotes and compares the clients after every step. */
async function compare(steps: string[][]): Promise<void> {
  const work = dirs.make('lg-shallow-');
  const ours = join(work, 'ours');
  const theirs = join(work, 'theirs');
  for (const step of steps) {
    const [cmd, ...args] = step;
    if (cmd === 'clone') {
      await g.ok(['clone', '-q', ...args, `${server.url}/hist.git`, ours]);
      await g.ok(['clone', '-q', ...args, `file://${source}`, theirs]);
    } else {
      const tr = await g.run([cmd!, '-q', ...args], ours, process.env.LG_TRACE ? { GIT_TRACE_PACKET: '1' } : {});
      if (tr.code !== 0) throw new Error(`ours: git ${step.join(' ')} failed:\n${tr.stderr}`);
      await g.ok([cmd!, '-q', ...args], theirs);
    }
    const a = await state(ours);
    const b = await state(theirs);
    expect({ step: step.join(' '), ...a }).toEqual({ step: step.join(' '), ...b });
    await g.ok(['fsck', '--no-progress'], ours);
  }
}

beforeAll(async () => {
  const home = dirs.make('lg-home-');
  g = gitRunner(home);
  source = dirs.make('lg-src-');
  await g.ok(['init', '-q', '-b', 'main', source]);
  // A history with a side branch merged twice and commits a day apart (for --shallow-since).
  const day = 86_400;
  const t0 = 1_700_000_000;
  let n = 0;
  const at = (i: number) => ({ GIT_AUTHOR_DATE: `${t0 + i * day} +0000`, GIT_COMMITTER_DATE: `${t0 + i * day} +0000` });
  const commit = async (files: Record<string, string>, msg: string) => {
    const env = at(n++);
    for (const [k, v] of Object.entries(env)) process.env[k] = v;
    try {
      return await commitFiles(g, source, files, msg);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  };
  for (let i = 0; i < 6; i++) await commit({ [`main/${i}.txt`]: `main ${i}\n`, 'shared.txt': `v${i}\n` }, `main ${i}`);
  await g.ok(['checkout', '-q', '-b', 'side', 'HEAD~3'], source);
  for (let i = 0; i < 3; i++) await commit({ [`side/${i}.txt`]: `side ${i}\n` }, `side ${i}`);
  await g.ok(['checkout', '-q', 'main'], source);
  {
    const env = at(n++);
    await g.ok(['merge', '-q', '--no-ff', '-m', 'merge side', 'side'], source, env);
  }
  for (let i = 6; i < 10; i++) await commit({ [`main/${i}.txt`]: `main ${i}\n` }, `main ${i}`);
  await g.ok(['tag', 'v1', 'HEAD~2'], source);

  const dataDir = dirs.make('lg-db-');
  engine = await openEngine({ path: dataDir });
  await engine.createRepo('hist');
  server = await startServer(createNodeHandler({ engine }) as never);
  await g.ok(['push', '-q', `${server.url}/hist.git`, 'main', 'side', 'v1'], source);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('shallow fetches match C git', () => {
  it('--depth 1, then --deepen, --depth, --unshallow', async () => {
    await compare([
      ['clone', '--depth', '1', '--no-single-branch'],
      ['fetch', '--deepen', '2'],
      ['fetch', '--depth', '5'],
      ['fetch', '--deepen', '3'],
      ['fetch', '--unshallow'],
    ]);
  });

  it('--shallow-since on clone and on fetch, across the merge', async () => {
    const since = (i: number) => `--shallow-since=${1_700_000_000 + i * 86_400}`;
    // (A date that cuts both sides of the merge leaves a shallow entry git itself cannot
    // unshallow later — "error in object: unshallow" from C git too — so these dates avoid it.)
    await compare([
      ['clone', since(11), '--single-branch'],
      ['fetch', since(9)],
      ['fetch', since(1)],
    ]);
  });

  it('clone of a tag (--branch v1), shallow and full', async () => {
    await compare([
      ['clone', '--depth', '1', '--branch', 'v1'],
      ['fetch', '--deepen', '2'],
    ]);
    await compare([['clone', '--branch', 'v1']]);
  });

  it('--shallow-exclude of a branch and a tag', async () => {
    await compare([['clone', '--shallow-exclude', 'side', '--single-branch']]);
    await compare([
      ['clone', '--shallow-exclude', 'v1', '--single-branch'],
      ['fetch', '--deepen', '1'],
    ]);
  });

  it('protocol v0 deepening matches too', async () => {
    process.env.GIT_CONFIG_PARAMETERS = "'protocol.version=0'";
    try {
      await compare([
        ['clone', '--depth', '2', '--single-branch'],
        ['fetch', '--deepen', '2'],
        ['fetch', '--unshallow'],
      ]);
    } finally {
      delete process.env.GIT_CONFIG_PARAMETERS;
    }
  });

  it('an incremental fetch receives only the new objects (as many as from C git)', async () => {
    const work = dirs.make('lg-inc-');
    const ours = join(work, 'ours');
    const theirs = join(work, 'theirs');
    await g.ok(['clone', '-q', `${server.url}/hist.git`, ours]);
    await g.ok(['clone', '-q', `file://${source}`, theirs]);
    // Another client adds one commit changing one file two directories down, on both remotes.
    await commitFiles(g, source, { 'deep/er/file.txt': 'new\n' }, 'one more');
    await g.ok(['push', '-q', `${server.url}/hist.git`, 'main'], source);
    const count = async (dir: string) => {
      // Unpack what arrives into loose objects so they can be counted.
      await g.ok(['-c', 'fetch.unpackLimit=1000000', 'fetch', '-q', 'origin'], dir);
      return (await g.ok(['count-objects'], dir)).split(' ')[0];
    };
    const a = await count(ours);
    const b = await count(theirs);
    // commit + root tree + deep/ + deep/er/ + the blob
    expect(a).toBe('5');
    expect(a).toBe(b);
    await g.ok(['fsck', '--no-progress'], ours);
  });
});
