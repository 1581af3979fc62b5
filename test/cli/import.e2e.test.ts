/**
 * `level-git import`: a repository served by C git's `git http-backend` imported into a data
 * folder through `repo.fetchFrom`, with git's progress lines on stderr when asked (none when
 * stderr is not a terminal and `--progress` is not given). The imported refs are the source's;
 * a failed import leaves no repository behind.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { openEngine } from '../../src/index.js';
import { startHttpBackend } from '../../bench/e2e/servers/http-backend.js';
import { git, gitText } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const dirs = tempDirs();
let backend: Awaited<ReturnType<typeof startHttpBackend>>;
let source: Record<string, string>;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => child.once('exit', (code) => r({ code, stdout, stderr })));
}

beforeAll(async () => {
  const root = dirs.make('import-root-');
  const work = dirs.make('import-work-');
  git(work, ['init', '-q', '-b', 'trunk']);
  for (let i = 0; i < 30; i++) {
    const blob = gitText(work, ['hash-object', '-w', '--stdin'], `file ${i}\n${'line\n'.repeat(i * 10)}`);
    git(work, ['update-index', '--add', '--cacheinfo', `100644,${blob},dir${i % 4}/f${i % 7}.txt`]);
    git(work, ['commit', '-q', '-m', `c${i}`]);
  }
  git(work, ['tag', '-a', 'v1', '-m', 'one']);
  git(undefined, ['clone', '-q', '--bare', work, join(root, 'src.git')]);
  source = {};
  for (const line of gitText(join(root, 'src.git'), ['for-each-ref', '--format=%(objectname) %(refname)']).split('\n')) {
    if (line !== '') source[line.split(' ')[1]!] = line.split(' ')[0]!;
  }
  backend = await startHttpBackend(root, 'git http-backend');
}, 60_000);

afterAll(async () => {
  await backend?.stop();
  dirs.cleanup();
});

describe('level-git import', () => {
  it('imports with progress on stderr when asked; the refs are the source refs', async () => {
    const data = dirs.make('import-data-');
    const r = await run(['import', 'copy', backend.url('src'), '--data', data, '--progress', '--allow-private-remotes']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { defaultBranch: string; refs: { ref: string; oid: string }[]; objects: number };
    expect(summary.defaultBranch).toBe('trunk');
    expect(Object.fromEntries(summary.refs.map((x) => [x.ref, x.oid]))).toEqual(source);
    // Not a terminal: one line per update, the last ones final.
    expect(r.stderr).toMatch(
      new RegExp(`Receiving objects: 100% \\(${summary.objects}/${summary.objects}\\), [0-9.]+ (bytes|KiB|MiB) \\| [0-9.]+ (bytes|KiB|MiB)/s, done\\.`),
    );
    expect(r.stderr).toMatch(/Storing objects: .*done\./);

    // What is in the folder is what was printed.
    const db = new Level(join(data, 'db'));
    const engine = await openEngine({ db: db as never });
    const repo = await engine.getRepo('copy');
    expect(Object.fromEntries((await repo.listRefs()).map(([name, v]) => [name, v.oid]))).toEqual(source);
    expect(await repo.refs.head()).toBe('refs/heads/trunk');
    await engine.close();
    await db.close();
  }, 60_000);

  it('prints no progress when stderr is not a terminal, and a shallow import keeps its boundary', async () => {
    const data = dirs.make('import-data-');
    const r = await run(['import', 'shallow', backend.url('src'), '--data', data, '--ref', 'trunk', '--depth', '1', '--allow-private-remotes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Receiving objects/);
    const summary = JSON.parse(r.stdout) as { refs: { ref: string }[]; shallow: number };
    expect(summary.refs.map((x) => x.ref)).toEqual(['refs/heads/trunk']);
    expect(summary.shallow).toBe(1);
  }, 60_000);

  it('a failed import exits 1 and leaves no repository', async () => {
    const data = dirs.make('import-data-');
    const r = await run(['import', 'nothing', backend.url('absent'), '--data', data, '--allow-private-remotes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^level-git: /m);
    const db = new Level(join(data, 'db'));
    const engine = await openEngine({ db: db as never });
    await expect(engine.getRepo('nothing')).rejects.toMatchObject({ code: 'ERR_REPO_NOT_FOUND' });
    await engine.close();
    await db.close();
  }, 60_000);

  it('refuses a private address unless allowed', async () => {
    const data = dirs.make('import-data-');
    const r = await run(['import', 'x', backend.url('src'), '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/private|loopback|not allowed|forbidden/i);
  }, 60_000);
});
