/**
 * Client edge cases: the real `git` binary against createNodeHandler over an on-disk engine,
 * through scenarios users hit in practice — annotated tags of trees, blobs and other tags,
 * mirrors, fetches by sha, shallow and partial clones and their follow-ups, leases, mirror
 * pushes, ref name conflicts, atomic pushes, empty repositories, other default branches, long
 * ref names and awkward file names. Fetches run under protocol v2 and v0; pushes are always v0.
 *
 * Every behaviour here was compared with C git's own server (`git http-backend`) serving the
 * same history (five level-git bugs it found are fixed; their checks say what C git does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { commitFiles, gitRunner, startServer, tempDirs } from './helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;
/** The source of `hist`: see beforeAll. */
let hist: string;
/** Named commits of `hist`. */
const c: Record<string, string> = {};
const VERSIONS = [0, 2] as const;

const url = (repo: string) => `${server.url}/${repo}.git`;
const pv = (v: number) => ['-c', `protocol.version=${v}`];
const fresh = (name = 'c') => join(dirs.make('lg-edge-'), name);

/** git that must succeed; returns trimmed stdout. */
const ok = (args: string[], cwd?: string) => g.ok(args, cwd);
/** git that may fail. */
const run = async (args: string[], cwd?: string) => {
  const r = await g.run(args, cwd);
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
};
const lsRemote = async (repo: string, ...patterns: string[]) => ok(['ls-remote', url(repo), ...patterns]);
const fsckStrict = (dir: string) => ok(['fsck', '--strict', '--no-progress'], dir);

function write(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
}

beforeAll(async () => {
  g = gitRunner(dirs.make('lg-home-'));
  engine = await openEngine({ path: dirs.make('lg-db-') });
  for (const name of ['hist', 'nested', 'nested-only', 'mirror-dst', 'pushes', 'empty', 'gone', 'names', 'files', 'race']) await engine.createRepo(name);
  await engine.createRepo('trunkrepo', { defaultBranch: 'trunk' });
  server = await startServer(createNodeHandler({ engine }) as never);

  // hist: identical subtrees at two paths, an empty commit, a change and its revert (three
  // commits with the same root tree), a side branch merged back, then tags of a commit, of the
  // root tree and of a blob, and a lightweight tag.
  hist = dirs.make('lg-hist-');
  await ok(['init', '-q', '-b', 'main', hist]);
  c.base = await commitFiles(g, hist, { 'a.txt': 'a1\n', 'd1/x.txt': 'same\n', 'd2/x.txt': 'same\n' }, 'base');
  await ok(['commit', '-q', '--allow-empty', '-m', 'empty'], hist);
  c.empty = await ok(['rev-parse', 'HEAD'], hist);
  c.change = await commitFiles(g, hist, { 'a.txt': 'a2\n' }, 'change');
  await ok(['revert', '--no-edit', 'HEAD'], hist);
  c.revert = await ok(['rev-parse', 'HEAD'], hist);
  await ok(['checkout', '-q', '-b', 'feat'], hist);
  c.f1 = await commitFiles(g, hist, { 'feat.txt': 'f1\n' }, 'f1');
  c.f2 = await commitFiles(g, hist, { 'feat.txt': 'f1\nf2\n' }, 'f2');
  await ok(['checkout', '-q', 'main'], hist);
  c.m1 = await commitFiles(g, hist, { 'm.txt': 'm1\n' }, 'm1');
  await ok(['merge', '-q', '--no-edit', 'feat'], hist);
  c.merge = await ok(['rev-parse', 'HEAD'], hist);
  c.tip = await commitFiles(g, hist, { 'after.txt': 'after\n' }, 'after the merge');
  await ok(['tag', '-a', 'v1', '-m', 'release 1'], hist);
  await ok(['tag', '-a', 'tree-tag', '-m', 'a tag of a tree', 'HEAD^{tree}'], hist);
  await ok(['tag', '-a', 'blob-tag', '-m', 'a tag of a blob', 'HEAD:after.txt'], hist);
  await ok(['tag', 'light', c.m1], hist);
  await ok(['push', '-q', url('hist'), 'main', 'feat', '--tags'], hist);

  // A commit that is pushed on a branch, which is then deleted: stored but unreachable.
  await ok(['checkout', '-q', '-b', 'doomed'], hist);
  c.unreachable = await commitFiles(g, hist, { 'doomed.txt': 'doomed\n' }, 'doomed');
  await ok(['checkout', '-q', 'main'], hist);
  await ok(['push', '-q', url('hist'), 'doomed'], hist);
  await ok(['push', '-q', url('hist'), ':doomed'], hist);
  await ok(['branch', '-q', '-D', 'doomed'], hist);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('annotated tags of trees and blobs, identical subtrees, empty commits, reverts', () => {
  it('full and --depth 1 clones (v0, v2) are fsck --strict clean, with every tag and the right contents', async () => {
    for (const v of VERSIONS) {
      const full = fresh();
      await ok([...pv(v), 'clone', '-q', url('hist'), full]);
      await fsckStrict(full);
      expect(await ok(['rev-parse', 'HEAD'], full)).toBe(c.tip);
      expect((await ok(['tag', '-l'], full)).split('\n')).toEqual(['blob-tag', 'light', 'tree-tag', 'v1']);
      expect(await ok(['cat-file', '-t', 'tree-tag^{}'], full)).toBe('tree');
      expect(await ok(['cat-file', '-p', 'blob-tag^{}'], full)).toBe('after');
      // The empty commit and the revert share the base commit's root tree; d1 and d2 one subtree.
      const trees = await Promise.all([c.base, c.empty, c.revert].map((s) => ok(['rev-parse', `${s}^{tree}`], full)));
      expect(new Set(trees).size).toBe(1);
      expect(await ok(['rev-parse', 'HEAD:d1'], full)).toBe(await ok(['rev-parse', 'HEAD:d2'], full));
      expect(readFileSync(join(full, 'a.txt'), 'utf8')).toBe('a1\n');
      expect(await ok(['rev-list', '--count', 'HEAD'], full)).toBe('9');

      const shallow = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '1', url('hist'), shallow]);
      await fsckStrict(shallow);
      expect(await ok(['rev-list', '--count', 'HEAD'], shallow)).toBe('1');
      expect(readFileSync(join(shallow, 'feat.txt'), 'utf8')).toBe('f1\nf2\n');

      // A depth-1 clone of the revert: its tree is the base commit's.
      const atRevert = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '1', '--no-single-branch', url('hist'), atRevert]);
      await ok([...pv(v), 'fetch', '-q', '--depth', '1', 'origin', c.revert], atRevert);
      await fsckStrict(atRevert);
      expect(await ok(['cat-file', '-p', `${c.revert}:a.txt`], atRevert)).toBe('a1');
    }
  });

  it('git clone --mirror (v0, v2) copies every ref exactly and is fsck clean', async () => {
    const expected = (await lsRemote('hist', 'refs/heads/*', 'refs/tags/*'))
      .split('\n')
      .filter((l) => !l.endsWith('^{}'))
      .map((l) => l.replace('\t', ' '));
    for (const v of VERSIONS) {
      const m = fresh('m.git');
      await ok([...pv(v), 'clone', '-q', '--mirror', url('hist'), m]);
      await fsckStrict(m);
      expect((await ok(['for-each-ref', '--format=%(objectname) %(refname)'], m)).split('\n')).toEqual(expected);
    }
  });

  // include-tag follows tags whose peeled object is in the pack, commit, tree or blob alike
  // (C git's server sends tree-tag and blob-tag too; level-git once followed commits only).
  it('a --depth 1 clone follows the tags of the tree and the blob it received (include-tag)', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '1', url('hist'), dest]);
      expect((await ok(['tag', '-l'], dest)).split('\n'), `protocol v${v}`).toEqual(['blob-tag', 'tree-tag', 'v1']);
    }
  });

  it('git fetch --tags into a --no-tags clone (v0, v2) brings every tag, the tags of a tree and a blob too', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--no-tags', '--single-branch', url('hist'), dest]);
      expect(await ok(['tag', '-l'], dest)).toBe('');
      const r = await run([...pv(v), 'fetch', '--tags', 'origin'], dest);
      expect(r.code, r.stderr).toBe(0);
      expect((await ok(['tag', '-l'], dest)).split('\n')).toEqual(['blob-tag', 'light', 'tree-tag', 'v1']);
      expect(await ok(['cat-file', '-t', 'tree-tag^{}'], dest)).toBe('tree');
      await fsckStrict(dest);
    }
  });
});

describe('tags of tags', () => {
  beforeAll(async () => {
    // nested: v1 and a tag of it, v1-outer, both as refs. nested-only: v1-outer without v1.
    await ok(['tag', '-a', 'v1-outer', '-m', 'a tag of a tag', 'v1'], hist);
    await ok(['push', '-q', url('nested'), 'main', 'v1', 'v1-outer'], hist);
    await ok(['push', '-q', url('nested-only'), 'main', 'v1-outer'], hist);
    await ok(['tag', '-d', 'v1-outer'], hist);
  });

  // v1 is both wanted and the target of the wanted v1-outer: it must go in the pack once, or
  // index-pack refuses the pack ("The same object <v1> appears twice in the pack"). v2 clones
  // always index the pack strictly; v0 only when the pack is kept (transfer.unpackLimit=1 here).
  it('a full clone (v2) of a repository with a tag of a tag and the tag itself as refs succeeds', async () => {
    const dest = fresh();
    const r = await run([...pv(2), 'clone', '-q', url('nested'), dest]);
    expect(r.code, r.stderr).toBe(0);
    await fsckStrict(dest);
    expect((await ok(['tag', '-l'], dest)).split('\n')).toEqual(['v1', 'v1-outer']);
  });

  it('git clone --mirror (v2) of that repository succeeds', async () => {
    const m = fresh('m.git');
    const r = await run([...pv(2), 'clone', '-q', '--mirror', url('nested'), m]);
    expect(r.code, r.stderr).toBe(0);
    await fsckStrict(m);
  });

  it('a v0 clone that keeps its pack (transfer.unpackLimit=1) of that repository succeeds', async () => {
    const dest = fresh();
    const r = await run([...pv(0), '-c', 'transfer.unpackLimit=1', 'clone', '-q', url('nested'), dest]);
    expect(r.code, r.stderr).toBe(0);
    await fsckStrict(dest);
  });

  // include-tag of v1-outer (v1 is no ref here) must send the whole chain down to the commit,
  // or v2 fails with "did not receive expected object <v1>" and v0 leaves a broken link.
  it('a --single-branch clone (v0, v2) following a tag of a tag gets the inner tag object too', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      const r = await run([...pv(v), 'clone', '-q', '--single-branch', url('nested-only'), dest]);
      expect(r.code, `protocol v${v}: ${r.stderr}`).toBe(0);
      expect(await ok(['tag', '-l'], dest)).toBe('v1-outer');
      await fsckStrict(dest);
    }
  });

  it('a --depth 1 clone of the nested tag itself (--branch v1-outer) and a fetch of it are fsck clean', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '1', '--branch', 'v1-outer', url('nested-only'), dest]);
      expect(await ok(['rev-parse', 'HEAD'], dest)).toBe(c.tip);
      await fsckStrict(dest);
      const bare = fresh();
      await ok(['init', '-q', '--bare', bare]);
      await ok([...pv(v), 'fetch', '-q', url('nested-only'), 'refs/tags/v1-outer:refs/tags/v1-outer'], bare);
      expect(await ok(['cat-file', '-t', 'v1-outer^{tag}^{}'], bare)).toBe('commit');
      await fsckStrict(bare);
    }
  });
});

describe('fetch by object id', () => {
  it('a commit reachable from a branch is served by sha (v0, v2); an unreachable or unknown sha is refused cleanly', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      await ok(['init', '-q', dest]);
      // c.f1 is no tip: only reachable from feat and main.
      let r = await run([...pv(v), 'fetch', '-q', url('hist'), c.f1], dest);
      expect(r.code, r.stderr).toBe(0);
      expect(await ok(['rev-parse', 'FETCH_HEAD'], dest)).toBe(c.f1);
      expect(await ok(['rev-list', '--count', 'FETCH_HEAD'], dest)).toBe('5');

      // Stored (pushed, then its branch deleted) but reachable from no ref.
      r = await run([...pv(v), 'fetch', '-q', url('hist'), c.unreachable], dest);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`not our ref ${c.unreachable}`);
      expect((await run(['cat-file', '-e', c.unreachable], dest)).code).not.toBe(0);

      r = await run([...pv(v), 'fetch', '-q', url('hist'), '1234567890123456789012345678901234567890'], dest);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('not our ref 1234567890123456789012345678901234567890');
      await fsckStrict(dest);
    }
  });
});

describe('shallow follow-ups', () => {
  beforeAll(async () => {
    // The same history with only a tag of a commit (no tags of trees or blobs): see below.
    await engine.createRepo('plain');
    await ok(['push', '-q', url('plain'), 'main', 'feat', 'v1'], hist);
  });

  it('git fetch --depth 1 into a full clone, and --unshallow after --depth 2 across a merge (v0, v2)', async () => {
    for (const v of VERSIONS) {
      const full = fresh();
      await ok([...pv(v), 'clone', '-q', url('plain'), full]);
      const r = await run([...pv(v), 'fetch', '-q', '--depth', '1', 'origin'], full);
      expect(r.code, r.stderr).toBe(0);
      expect(await ok(['rev-list', '--count', 'origin/main'], full)).toBe('1');
      expect(existsSync(join(full, '.git', 'shallow'))).toBe(true);
      await ok(['fsck', '--no-progress'], full);

      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '2', url('plain'), dest]);
      // The boundary is the merge: --unshallow has to bring both of its parents' histories.
      expect(await ok(['rev-list', '--count', 'HEAD'], dest)).toBe('2');
      expect(readFileSync(join(dest, '.git', 'shallow'), 'utf8').trim()).toBe(c.merge);
      const u = await run([...pv(v), 'fetch', '-q', '--unshallow'], dest);
      expect(u.code, u.stderr).toBe(0);
      expect(existsSync(join(dest, '.git', 'shallow')), `protocol v${v}`).toBe(false);
      expect(await ok(['rev-list', '--count', 'HEAD'], dest)).toBe('9');
      await fsckStrict(dest);
    }
  });

  // git drops refs that are already up to date from the wants, so an --unshallow request can
  // be `shallow <merge>`, `deepen 2147483647` and wants for whatever else is new (here a branch
  // another client pushed at an old commit). deepen 2147483647 means "unshallow every client
  // shallow", whether the wants reach it or not, as C git's upload-pack does.
  it('--unshallow completes the history when another client pushed a branch at an old commit meanwhile (v0, v2)', async () => {
    for (const v of VERSIONS) {
      await run(['push', '-q', url('plain'), ':refs/heads/old'], hist);
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '2', '--no-single-branch', url('plain'), dest]);
      await ok(['push', '-q', url('plain'), `${c.base}:refs/heads/old`], hist);
      const u = await run([...pv(v), 'fetch', '-q', '--unshallow'], dest);
      expect(u.code, u.stderr).toBe(0);
      expect(await ok(['rev-parse', 'origin/old'], dest)).toBe(c.base);
      expect(existsSync(join(dest, '.git', 'shallow')), `protocol v${v}`).toBe(false);
      expect(await ok(['rev-list', '--count', 'HEAD'], dest)).toBe('9');
    }
  });

  // The same request shape when the only wants are tags of a tree and a blob the shallow
  // clone did not have: main is up to date and left out of the wants.
  it('--unshallow of a --depth 2 clone of a repository with tags of a tree and a blob completes the history (v0, v2)', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '2', url('hist'), dest]);
      const u = await run([...pv(v), 'fetch', '-q', '--unshallow'], dest);
      expect(u.code, u.stderr).toBe(0);
      expect(existsSync(join(dest, '.git', 'shallow')), `protocol v${v}`).toBe(false);
      expect(await ok(['rev-list', '--count', 'HEAD'], dest)).toBe('9');
    }
  });
});

describe('partial clones', () => {
  it('--filter=blob:none then git log -p fetches blobs lazily; --filter=tree:0 then checkout of an older commit (v0, v2)', async () => {
    const expectedLog = await ok(['log', '-p', '--format=%H %s', 'main'], hist);
    for (const v of VERSIONS) {
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', '--filter=blob:none', '--no-checkout', url('hist'), dest]);
      expect(await ok(['rev-list', '--objects', '--missing=print', 'HEAD'], dest)).toMatch(/^\?[0-9a-f]{40}$/m);
      const log = await run([...pv(v), 'log', '-p', '--format=%H %s', 'main'], dest);
      expect(log.code, log.stderr).toBe(0);
      expect(log.stdout.trim()).toBe(expectedLog);
      await ok(['fsck', '--no-progress'], dest);

      const t0 = fresh();
      await ok([...pv(v), 'clone', '-q', '--filter=tree:0', url('hist'), t0]);
      const co = await run([...pv(v), 'checkout', '-q', c.change], t0);
      expect(co.code, co.stderr).toBe(0);
      expect(readFileSync(join(t0, 'a.txt'), 'utf8')).toBe('a2\n');
      expect(readFileSync(join(t0, 'd2', 'x.txt'), 'utf8')).toBe('same\n');
      expect(existsSync(join(t0, 'm.txt'))).toBe(false);
      await ok(['fsck', '--no-progress'], t0);
    }
  });
});

describe('pushes', () => {
  it('git pull --rebase after another client pushed, then push; --force-with-lease succeeds, a stale lease is rejected', async () => {
    const a = fresh('a');
    await ok(['init', '-q', '-b', 'main', a]);
    await commitFiles(g, a, { 'f.txt': '1\n' }, 'one');
    await ok(['push', '-q', url('race'), 'main'], a);
    const b = fresh('b');
    await ok(['clone', '-q', url('race'), b]);
    await ok(['remote', 'add', 'origin', url('race')], a);
    await ok(['fetch', '-q', 'origin'], a);
    await ok(['branch', '-q', '-u', 'origin/main'], a);
    const theirs = await commitFiles(g, a, { 'g.txt': 'theirs\n' }, 'theirs');
    await ok(['push', '-q', 'origin', 'main'], a);

    await commitFiles(g, b, { 'h.txt': 'mine\n' }, 'mine');
    const rejected = await run(['push', 'origin', 'main'], b);
    expect(rejected.code).not.toBe(0);
    for (const v of VERSIONS) {
      const pull = await run([...pv(v), 'pull', '-q', '--rebase'], b);
      expect(pull.code, pull.stderr).toBe(0);
    }
    expect(await ok(['rev-parse', 'HEAD~1'], b)).toBe(theirs);
    await ok(['push', '-q', 'origin', 'main'], b);
    const mine = await ok(['rev-parse', 'HEAD'], b);
    expect(await lsRemote('race', 'refs/heads/main')).toBe(`${mine}\trefs/heads/main`);

    // Rewrite b's last commit and force it with a lease that matches the server.
    await ok(['commit', '-q', '--amend', '-m', 'mine, amended'], b);
    const amended = await ok(['rev-parse', 'HEAD'], b);
    let r = await run(['push', '--force-with-lease', 'origin', 'main'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(await lsRemote('race', 'refs/heads/main')).toBe(`${amended}\trefs/heads/main`);

    // a still believes the server is at `theirs`: its lease is stale and nothing moves.
    await ok(['reset', '-q', '--hard', 'HEAD~1'], a);
    await commitFiles(g, a, { 'g.txt': 'rewritten\n' }, 'rewritten');
    r = await run(['push', '--force-with-lease=main:' + theirs, 'origin', 'main'], a);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('stale info');
    expect(await lsRemote('race', 'refs/heads/main')).toBe(`${amended}\trefs/heads/main`);
  });

  it('git push --mirror into an empty repository, then again after a branch and a tag were deleted', async () => {
    const src = fresh('src.git');
    await ok(['clone', '-q', '--mirror', hist, src]);
    let r = await run(['push', '--mirror', url('mirror-dst')], src);
    expect(r.code, r.stderr).toBe(0);
    const local = async () => (await ok(['for-each-ref', '--format=%(objectname)\t%(refname)'], src)).split('\n');
    const remote = async () => (await lsRemote('mirror-dst', 'refs/*')).split('\n').filter((l) => !l.endsWith('^{}'));
    expect(await remote()).toEqual(await local());

    await ok(['branch', '-D', 'feat'], src);
    await ok(['tag', '-d', 'tree-tag'], src);
    await ok(['update-ref', 'refs/heads/extra', c.base], src);
    r = await run(['push', '--mirror', url('mirror-dst')], src);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('[deleted]');
    expect(await remote()).toEqual(await local());
    const dest = fresh();
    await ok(['clone', '-q', '--mirror', url('mirror-dst'), dest]);
    await fsckStrict(dest);
  });

  it('refs/heads/a next to refs/heads/a/b (and the reverse) is refused with a message and changes nothing, atomically too', async () => {
    await ok(['push', '-q', url('pushes'), `${c.tip}:refs/heads/main`, `${c.tip}:refs/heads/a/b`, `${c.base}:refs/heads/x`], hist);
    const before = await lsRemote('pushes');

    let r = await run(['push', url('pushes'), `${c.tip}:refs/heads/a`], hist);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/-> a \(/);
    r = await run(['push', url('pushes'), `${c.tip}:refs/heads/x/y`], hist);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/-> x\/y \(/);
    // Two new refs that conflict with each other.
    r = await run(['push', url('pushes'), `${c.tip}:refs/heads/n`, `${c.tip}:refs/heads/n/m`], hist);
    expect(r.code).not.toBe(0);
    expect(await lsRemote('pushes', 'refs/heads/n/m')).toBe('');
    // Without --atomic level-git applies them in order (n lands, n/m is refused), C git refuses
    // both; remove n if it landed.
    await ok(['push', '-q', url('pushes'), ':refs/heads/n'], hist).catch(() => undefined);

    // --atomic: one good new branch, one fast-forward, one conflicting ref: nothing moves.
    r = await run(['push', '--atomic', url('pushes'), `${c.tip}:refs/heads/good`, `${c.tip}:refs/heads/x`, `${c.tip}:refs/heads/a`], hist);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('atomic transaction failed');
    expect(await lsRemote('pushes')).toBe(before);
  });

  // A ref-name conflict is reported as git's own server words it ("cannot lock ref 'refs/heads/a':
  // 'refs/heads/a/b' exists; cannot create 'refs/heads/a'"), not as "stale info", which is
  // git's wording for a failed --force-with-lease.
  it('the refusal of refs/heads/a next to refs/heads/a/b names the conflicting ref, not "stale info"', async () => {
    const r = await run(['push', url('pushes'), `${c.tip}:refs/heads/a`], hist);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('stale info');
    expect(r.stderr).toContain('refs/heads/a/b');
  });

  it('an existing tag is not moved without --force; with --force it is', async () => {
    await ok(['push', '-q', url('pushes'), 'v1'], hist);
    const v1 = await ok(['rev-parse', 'v1'], hist);
    let r = await run(['push', url('pushes'), `${c.base}:refs/tags/v1`], hist);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('already exists');
    expect(await lsRemote('pushes', 'refs/tags/v1')).toBe(`${v1}\trefs/tags/v1`);
    r = await run(['push', '--force', url('pushes'), `${c.base}:refs/tags/v1`], hist);
    expect(r.code, r.stderr).toBe(0);
    expect(await lsRemote('pushes', 'refs/tags/v1')).toBe(`${c.base}\trefs/tags/v1`);
  });

  it('a push of 0 objects (a new branch and a tag at existing objects) and a delete', async () => {
    const r = await run(['push', url('pushes'), `${c.m1}:refs/heads/at-m1`, `${c.base}^{tree}:refs/tags/a-tree`], hist);
    expect(r.code, r.stderr).toBe(0);
    expect(await lsRemote('pushes', 'refs/heads/at-m1', 'refs/tags/a-tree')).toBe(
      `${c.m1}\trefs/heads/at-m1\n${await ok(['rev-parse', `${c.base}^{tree}`], hist)}\trefs/tags/a-tree`,
    );
    await ok(['push', '-q', url('pushes'), ':refs/heads/at-m1', ':refs/tags/a-tree'], hist);
    expect(await lsRemote('pushes', 'refs/heads/at-m1', 'refs/tags/a-tree')).toBe('');
  });
});

describe('HEAD and default branches', () => {
  it('an empty repository: clone (v0, v2), first push, then HEAD resolves and ls-remote --symref shows it', async () => {
    for (const v of VERSIONS) {
      const dest = fresh();
      const r = await run([...pv(v), 'clone', url('empty'), dest]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('cloned an empty repository');
      // v2 learns the unborn HEAD (ls-refs unborn); v0 cannot and uses init.defaultBranch.
      expect(await ok(['symbolic-ref', 'HEAD'], dest)).toBe(v === 2 ? 'refs/heads/main' : 'refs/heads/master');
    }
    const dest = fresh();
    await ok([...pv(2), 'clone', '-q', url('empty'), dest]);
    const first = await commitFiles(g, dest, { 'README.md': 'first\n' }, 'first');
    await ok(['push', '-q', 'origin', 'HEAD'], dest);
    for (const v of VERSIONS) {
      expect(await ok([...pv(v), 'ls-remote', '--symref', url('empty'), 'HEAD'])).toBe(`ref: refs/heads/main\tHEAD\n${first}\tHEAD`);
      const again = fresh();
      await ok([...pv(v), 'clone', '-q', url('empty'), again]);
      expect(readFileSync(join(again, 'README.md'), 'utf8')).toBe('first\n');
    }
  });

  it('a default branch not named main: ls-remote --symref and clone (v0, v2) check out trunk', async () => {
    const src = fresh();
    await ok(['init', '-q', '-b', 'trunk', src]);
    const t = await commitFiles(g, src, { 'T.txt': 'trunk\n' }, 't');
    await ok(['push', '-q', url('trunkrepo'), 'trunk:refs/heads/aaa', 'trunk:refs/heads/main', 'trunk'], src);
    for (const v of VERSIONS) {
      expect(await ok([...pv(v), 'ls-remote', '--symref', url('trunkrepo'), 'HEAD'])).toBe(`ref: refs/heads/trunk\tHEAD\n${t}\tHEAD`);
      const dest = fresh();
      await ok([...pv(v), 'clone', '-q', url('trunkrepo'), dest]);
      expect(await ok(['symbolic-ref', 'HEAD'], dest)).toBe('refs/heads/trunk');
      expect(await ok(['symbolic-ref', 'refs/remotes/origin/HEAD'], dest)).toBe('refs/remotes/origin/trunk');
    }
  });

  it('deleting the default branch: clones still succeed (HEAD unborn), and pushing it again restores HEAD', async () => {
    // C git's server refuses this by default (receive.denyDeleteCurrent: "deletion of the
    // current branch prohibited"); level-git allows it. Either way clones must keep working.
    await ok(['push', '-q', url('gone'), 'main', 'feat'], hist);
    const r = await run(['push', url('gone'), ':main'], hist);
    if (r.code === 0) {
      expect(await lsRemote('gone', 'refs/heads/main')).toBe('');
      for (const v of VERSIONS) {
        const dest = fresh();
        const cl = await run([...pv(v), 'clone', url('gone'), dest]);
        expect(cl.code, cl.stderr).toBe(0);
        expect(cl.stderr).toContain('remote HEAD refers to nonexistent ref');
        expect(await ok(['rev-parse', 'origin/feat'], dest)).toBe(c.f2);
      }
      await ok(['push', '-q', url('gone'), 'main'], hist);
    } else {
      expect(await lsRemote('gone', 'refs/heads/main')).toBe(`${c.tip}\trefs/heads/main`);
    }
    expect(await ok(['ls-remote', '--symref', url('gone'), 'HEAD'])).toBe(`ref: refs/heads/main\tHEAD\n${c.tip}\tHEAD`);
    const dest = fresh();
    await ok(['clone', '-q', url('gone'), dest]);
    expect(await ok(['rev-parse', 'HEAD'], dest)).toBe(c.tip);
  });
});

describe('names and sizes', () => {
  it('long ref names up to 1024 characters and unicode branch names round-trip (v0, v2); longer ones are refused cleanly', async () => {
    const longComponent = `refs/heads/${'a'.repeat(300)}`;
    const longPath = `refs/heads/${Array.from({ length: 40 }, (_, i) => `component-${String(i).padStart(2, '0')}-abcdefghij`).join('/')}/tip`;
    expect(longPath.length).toBeGreaterThan(900);
    expect(longPath.length).toBeLessThanOrEqual(1024);
    const unicode = 'refs/heads/ünï/ветка-日本';
    const dash = 'refs/heads/-dash';
    let r = await run(['push', url('names'), `${c.tip}:${longComponent}`, `${c.m1}:${longPath}`, `${c.base}:${unicode}`, `${c.base}:${dash}`], hist);
    expect(r.code, r.stderr).toBe(0);
    const expected = [`${c.base}\t${dash}`, `${c.tip}\t${longComponent}`, `${c.m1}\t${longPath}`, `${c.base}\t${unicode}`];
    expect((await lsRemote('names')).split('\n')).toEqual(expected);
    for (const v of VERSIONS) {
      const m = fresh('m.git');
      await ok([...pv(v), 'clone', '-q', '--mirror', url('names'), m]);
      expect((await ok(['for-each-ref', '--format=%(objectname)\t%(refname)'], m)).split('\n')).toEqual(expected);
      const b = fresh();
      await ok([...pv(v), 'clone', '-q', '--depth', '1', '--branch', 'ünï/ветка-日本', url('names'), b]);
      expect(await ok(['symbolic-ref', 'HEAD'], b)).toBe(unicode);
      expect(readFileSync(join(b, 'a.txt'), 'utf8')).toBe('a1\n');
    }

    const tooLong = `refs/heads/${'b'.repeat(1100)}`;
    r = await run(['push', url('names'), `${c.tip}:${tooLong}`], hist);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(invalid ref name)');
    expect((await lsRemote('names')).split('\n')).toEqual(expected);
  });

  it('unicode file names, a file with spaces and a leading dash, and a 5 MB binary round-trip (v0, v2)', async () => {
    const src = fresh();
    await ok(['init', '-q', '-b', 'main', src]);
    const big = randomBytes(5 * 1024 * 1024);
    const files: Record<string, string | Uint8Array> = {
      'ünï/файл-日本.txt': 'ünïcödé ✓\n',
      'dir with space/-leading dash.txt': 'dash\n',
      '-rf': 'not an option\n',
      'emoji 🎉.md': '# party\n',
      'bin/big.bin': big,
    };
    write(src, files);
    await ok(['add', '-A', '--', '.'], src);
    await ok(['commit', '-q', '-m', 'awkward names and a big blob'], src);
    const tip = await ok(['rev-parse', 'HEAD'], src);
    const p = await run(['push', url('files'), 'main'], src);
    expect(p.code, p.stderr).toBe(0);
    expect(await lsRemote('files', 'refs/heads/main')).toBe(`${tip}\trefs/heads/main`);
    for (const v of VERSIONS) {
      for (const extra of [[], ['--depth', '1']]) {
        const dest = fresh();
        await ok([...pv(v), 'clone', '-q', ...extra, url('files'), dest]);
        await fsckStrict(dest);
        for (const [name, body] of Object.entries(files)) {
          expect(Buffer.compare(readFileSync(join(dest, name)), Buffer.from(body)), `${name} over v${v} ${extra.join(' ')}`).toBe(0);
        }
      }
    }
    // A partial clone fetches the big blob lazily at checkout.
    const partial = fresh();
    await ok(['clone', '-q', '--filter=blob:limit=1m', url('files'), partial]);
    expect(Buffer.compare(readFileSync(join(partial, 'bin', 'big.bin')), big)).toBe(0);
  });
});
