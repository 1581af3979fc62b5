/**
 * Randomized differential test of fetch planning against git itself. fast-check (fixed seed)
 * drives the real git binary to build odd histories: branches, merges (octopus and redundant
 * parents too), empty commits, reverts to earlier contents, identical subtrees in several
 * places, files moved between directories, deleted directories, executable bits, symlinks,
 * annotated tags of commits, trees, blobs and tags, lightweight tags. The history is stored
 * through `indexPack`, then for random requests:
 *
 * - `planPack({ wants, haves })` lists exactly what `git rev-list --objects <wants> --not <haves>`
 *   lists, no object twice, and `git index-pack --strict` + `git fsck` accept the pack of
 *   `packObjects` in a repository holding the haves' objects;
 * - with a filter, what `git rev-list --objects --filter=<spec>` lists (git, like upload-pack,
 *   lists explicitly wanted trees and blobs whatever the filter: no `--filter-provided-objects`);
 * - with a depth, the commits, shallow boundary and objects (tags by include-tag too) that
 *   `git clone --depth <n> --no-local file://…` gets.
 *
 * Every wanted object also gets a ref in the client for fsck (commits, tags, trees, blobs).
 * The differences from git this test found are fixed; their smallest reproductions stay as
 * cases at the end, each beside git's own answer for it.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import type { Oid } from '../../src/object/oid.js';
import type { ObjectFilter } from '../../src/protocol/backend.js';
import { GIT_ENV, git } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { collectBytes } from '../engine/helpers.js';

// ---- running git -------------------------------------------------------------------------

const run = git;
const text = (cwd: string, args: string[], input?: Uint8Array | string) => run(cwd, args, input).toString('utf8').trim();
const lines = (s: string) => s.split('\n').filter(Boolean);

// ---- random histories --------------------------------------------------------------------

const DIRS = ['', 'src/', 'src/lib/', 'docs/', 'a/b/c/'];
const NAMES = ['x.txt', 'y', 'z.md', 'run.sh'];
const PATHS = DIRS.flatMap((d) => NAMES.map((n) => d + n));
/** Sizes 0, 2, 12, 100, 300, 1889, 18: blob:limit boundaries fall on and between them. */
const CONTENTS = [
  '',
  'a\n',
  'hello world\n',
  'x'.repeat(100),
  'line\n'.repeat(60),
  Array.from({ length: 200 }, (_, i) => `row ${i}`).join('\n'),
  '#!/bin/sh\necho hi\n',
];
const LINK_TARGETS = ['x.txt', '../y', 'nowhere/at/all', 'src'];

type Edit =
  | { e: 'write'; path: number; content: number }
  | { e: 'rm'; file: number }
  | { e: 'rmdir'; dir: number }
  | { e: 'mv'; file: number; dir: number }
  | { e: 'chmod'; file: number }
  | { e: 'symlink'; path: number; target: number }
  | { e: 'copydir'; from: number; to: number };

type Step =
  | { s: 'commit'; edits: Edit[] }
  | { s: 'empty' }
  | { s: 'branch'; at: number }
  | { s: 'orphan'; edits: Edit[] }
  | { s: 'checkout'; branch: number }
  | { s: 'merge'; others: number[]; take: number; edits: Edit[] }
  | { s: 'revert'; at: number; dir: number }
  | { s: 'tag'; annotated: boolean; target: 'commit' | 'tree' | 'subtree' | 'blob' | 'tag'; at: number; pick: number };

const nat = fc.nat({ max: 1000 });
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ e: fc.constant('write' as const), path: nat, content: nat }) },
  { weight: 1, arbitrary: fc.record({ e: fc.constant('rm' as const), file: nat }) },
  { weight: 1, arbitrary: fc.record({ e: fc.constant('rmdir' as const), dir: nat }) },
  { weight: 1, arbitrary: fc.record({ e: fc.constant('mv' as const), file: nat, dir: nat }) },
  { weight: 1, arbitrary: fc.record({ e: fc.constant('chmod' as const), file: nat }) },
  { weight: 1, arbitrary: fc.record({ e: fc.constant('symlink' as const), path: nat, target: nat }) },
  { weight: 2, arbitrary: fc.record({ e: fc.constant('copydir' as const), from: nat, to: nat }) },
);
const edits = fc.array(editArb, { minLength: 1, maxLength: 4 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ s: fc.constant('commit' as const), edits }) },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('empty' as const) }) },
  { weight: 2, arbitrary: fc.record({ s: fc.constant('branch' as const), at: nat }) },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('orphan' as const), edits }) },
  { weight: 2, arbitrary: fc.record({ s: fc.constant('checkout' as const), branch: nat }) },
  {
    weight: 3,
    arbitrary: fc.record({
      s: fc.constant('merge' as const),
      others: fc.array(nat, { minLength: 1, maxLength: 2 }),
      take: nat,
      edits: fc.array(editArb, { maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('revert' as const), at: nat, dir: nat }) },
  {
    weight: 2,
    arbitrary: fc.record({
      s: fc.constant('tag' as const),
      annotated: fc.boolean(),
      target: fc.constantFrom('commit' as const, 'tree' as const, 'subtree' as const, 'blob' as const, 'tag' as const),
      at: nat,
      pick: nat,
    }),
  },
);
/** Each step comes with the seconds since the previous one: often minutes, sometimes days (the walks cut at dates less a day). */
const historyArb = fc.array(fc.record({ step: stepArb, gap: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 50_000, max: 300_000 })) }), {
  minLength: 10,
  maxLength: 24,
});

/** Files (symlinks included) and directories of a work tree, sorted, relative, `.git` left out. */
function listTree(root: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (rel === '' && name === '.git') continue;
      const p = rel === '' ? name : `${rel}/${name}`;
      if (lstatSync(join(root, p)).isDirectory()) dirs.push(p), walk(p);
      else files.push(p);
    }
  };
  walk('');
  return { files, dirs };
}

function applyEdit(work: string, edit: Edit): void {
  const { files, dirs } = listTree(work);
  const abs = (p: string) => join(work, p);
  switch (edit.e) {
    case 'write': {
      const p = PATHS[edit.path % PATHS.length]!;
      rmSync(abs(p), { force: true }); // never write through a symlink
      mkdirSync(dirname(abs(p)), { recursive: true });
      writeFileSync(abs(p), CONTENTS[edit.content % CONTENTS.length]!);
      return;
    }
    case 'rm':
      if (files.length > 0) rmSync(abs(files[edit.file % files.length]!));
      return;
    case 'rmdir':
      if (dirs.length > 0) rmSync(abs(dirs[edit.dir % dirs.length]!), { recursive: true });
      return;
    case 'mv': {
      if (files.length === 0) return;
      const from = files[edit.file % files.length]!;
      const to = DIRS[edit.dir % DIRS.length]! + basename(from);
      if (to === from) return;
      rmSync(abs(to), { force: true });
      mkdirSync(dirname(abs(to)), { recursive: true });
      renameSync(abs(from), abs(to));
      return;
    }
    case 'chmod': {
      if (files.length === 0) return;
      const p = files[edit.file % files.length]!;
      const st = lstatSync(abs(p));
      if (!st.isSymbolicLink()) chmodSync(abs(p), st.mode & 0o100 ? 0o644 : 0o755);
      return;
    }
    case 'symlink': {
      const p = PATHS[edit.path % PATHS.length]!;
      rmSync(abs(p), { force: true });
      mkdirSync(dirname(abs(p)), { recursive: true });
      symlinkSync(LINK_TARGETS[edit.target % LINK_TARGETS.length]!, abs(p));
      return;
    }
    case 'copydir': {
      if (dirs.length === 0) return;
      const from = dirs[edit.from % dirs.length]!;
      const to = `cp${edit.to % 3}`;
      if (from === to || from.startsWith(`${to}/`)) return;
      rmSync(abs(to), { recursive: true, force: true });
      cpSync(abs(from), abs(to), { recursive: true, verbatimSymlinks: true });
      return;
    }
  }
}

interface History {
  work: string;
  commits: string[];
  branches: string[];
}

/** Builds a history in `parent/work` with porcelain git (plumbing for merges, which never conflict). */
function buildHistory(parent: string, steps: readonly { step: Step; gap: number }[]): History {
  const work = join(parent, 'work');
  git(undefined, ['init', '-q', '-b', 'main', work]);
  let time = 1_700_000_000;
  const g = (args: string[], input?: string) =>
    run(work, args, input, { ...GIT_ENV, GIT_AUTHOR_DATE: `${time} +0000`, GIT_COMMITTER_DATE: `${time} +0000` })
      .toString('utf8')
      .trim();
  const commits: string[] = [];
  const branches = ['main'];
  let tags = 0;
  const head = () => g(['rev-parse', 'HEAD']);
  const commitAll = (message: string) => {
    g(['add', '-A']);
    g(['commit', '-q', '--allow-empty', '-m', message]);
    commits.push(head());
  };
  const commitAt = (n: number) => commits[n % commits.length]!;
  const entries = (commit: string, type: 'tree' | 'blob') =>
    lines(g(['ls-tree', '-r', '-t', commit]))
      .map((l) => l.split(/\s+/))
      .filter((f) => f[1] === type)
      .map((f) => f[2]!);

  applyEdit(work, { e: 'write', path: 0, content: 2 });
  applyEdit(work, { e: 'write', path: 5, content: 4 });
  applyEdit(work, { e: 'write', path: 13, content: 5 });
  commitAll('initial');
  for (const { step, gap } of steps) {
    time += gap;
    switch (step.s) {
      case 'commit':
        for (const e of step.edits) applyEdit(work, e);
        commitAll(`commit ${commits.length}`);
        break;
      case 'empty':
        g(['commit', '-q', '--allow-empty', '-m', `empty ${commits.length}`]);
        commits.push(head());
        break;
      case 'branch': {
        const name = `b${branches.length}`;
        g(['checkout', '-q', '-b', name, commitAt(step.at)]);
        branches.push(name);
        break;
      }
      case 'orphan': {
        // A second root commit: a history unrelated to the rest until a merge joins them.
        const name = `o${branches.length}`;
        g(['checkout', '-q', '--orphan', name]);
        branches.push(name);
        for (const e of step.edits) applyEdit(work, e);
        commitAll(`root ${commits.length}`);
        break;
      }
      case 'checkout':
        g(['checkout', '-q', branches[step.branch % branches.length]!]);
        break;
      case 'revert': {
        // The directory (or the whole tree) back to what an earlier commit had.
        const from = commitAt(step.at);
        const dir = DIRS[step.dir % DIRS.length]!;
        const spec = dir === '' ? '.' : dir.slice(0, -1);
        g(['rm', '-rq', '--ignore-unmatch', '--', spec]);
        try {
          g(['checkout', from, '--', spec]);
        } catch {
          // not in that commit: the directory stays deleted
        }
        commitAll(`revert ${spec} to ${from.slice(0, 7)}`);
        break;
      }
      case 'merge': {
        const current = head();
        const others = [...new Set(step.others.map(commitAt))].filter((o) => o !== current);
        if (others.length === 0) break;
        const top = lines(g(['ls-tree', '--name-only', others[0]!]));
        if (step.take % (top.length + 1) < top.length) {
          try {
            g(['checkout', others[0]!, '--', top[step.take % (top.length + 1)]!]);
          } catch {
            // a path git cannot check out over what is here: keep ours
          }
        }
        for (const e of step.edits) applyEdit(work, e);
        g(['add', '-A']);
        const tree = g(['write-tree']);
        const merge = g(['commit-tree', tree, '-p', current, ...others.flatMap((o) => ['-p', o]), '-m', `merge ${others.length + 1}`]);
        g(['reset', '-q', '--soft', merge]);
        commits.push(merge);
        break;
      }
      case 'tag': {
        const c = commitAt(step.at);
        let target: string | undefined;
        if (step.target === 'commit') target = c;
        else if (step.target === 'tree') target = g(['rev-parse', `${c}^{tree}`]);
        else if (step.target === 'subtree') {
          const trees = entries(c, 'tree');
          target = trees.length > 0 ? trees[step.pick % trees.length] : g(['rev-parse', `${c}^{tree}`]);
        } else if (step.target === 'blob') {
          const blobs = entries(c, 'blob');
          target = blobs.length > 0 ? blobs[step.pick % blobs.length] : c;
        } else {
          const annotated = lines(g(['for-each-ref', '--format=%(objecttype) %(objectname)', 'refs/tags']))
            .filter((l) => l.startsWith('tag '))
            .map((l) => l.slice(4));
          target = annotated.length > 0 ? annotated[step.pick % annotated.length] : c;
        }
        const name = `t${tags++}`;
        g(step.annotated ? ['tag', '-a', '-m', `tag ${name}`, name, target!] : ['tag', name, target!]);
        break;
      }
    }
  }
  return { work, commits, branches };
}

// ---- the history in level-git --------------------------------------------------------------

interface Loaded {
  h: History;
  engine: Engine;
  repo: Repository;
  types: Map<string, string>;
  /** Want pools: every reachable object by type (tags: annotated tag objects). */
  pool: { commit: string[]; tag: string[]; tree: string[]; blob: string[] };
}

async function load(h: History): Promise<Loaded> {
  const engine = await openEngine({ db: new MemoryLevel() });
  const repo = await engine.createRepo('diff');
  await repo.indexPack([new Uint8Array(run(h.work, ['pack-objects', '--all', '--stdout', '-q']))]);
  const refs = lines(text(h.work, ['for-each-ref', '--format=%(refname) %(objectname)'])).map((l) => l.split(' ') as [string, string]);
  await repo.refs.transaction(refs.map(([ref, newOid]) => ({ ref, newOid })));
  const reachable = lines(text(h.work, ['rev-list', '--objects', '--all'])).map((l) => l.slice(0, 40));
  const types = new Map<string, string>();
  for (const l of lines(text(h.work, ['cat-file', '--batch-check=%(objectname) %(objecttype)'], reachable.join('\n') + '\n'))) {
    const [oid, type] = l.split(' ');
    types.set(oid!, type!);
  }
  const pool = { commit: [] as string[], tag: [] as string[], tree: [] as string[], blob: [] as string[] };
  for (const [oid, type] of types) pool[type as keyof typeof pool].push(oid);
  for (const k of Object.keys(pool) as (keyof typeof pool)[]) pool[k].sort();
  return { h, engine, repo, types, pool };
}

async function withHistory(steps: readonly { step: Step; gap: number }[], body: (l: Loaded, tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempDir('level-git-diff-');
  let loaded: Loaded | undefined;
  try {
    loaded = await load(buildHistory(tmp.dir, steps));
    await body(loaded, tmp.dir);
  } finally {
    await loaded?.engine.close();
    tmp.cleanup();
  }
}

// ---- requests --------------------------------------------------------------------------------

type WantKind = 'commit' | 'tag' | 'tree' | 'blob';
interface WantPick {
  kind: WantKind;
  i: number;
}
const wantArb: fc.Arbitrary<WantPick> = fc.record({
  kind: fc.oneof(
    { weight: 6, arbitrary: fc.constant('commit' as const) },
    { weight: 2, arbitrary: fc.constant('tag' as const) },
    { weight: 1, arbitrary: fc.constant('tree' as const) },
    { weight: 1, arbitrary: fc.constant('blob' as const) },
  ),
  i: nat,
});
const requestArb = fc.record({ wants: fc.array(wantArb, { minLength: 1, maxLength: 3 }), haves: fc.array(nat, { maxLength: 3 }) });
type Request = { wants: WantPick[]; haves: number[] };

function resolve(l: Loaded, r: Request): { wants: string[]; haves: string[] } {
  const pick = (kind: WantKind, i: number) => {
    const list = l.pool[kind].length > 0 ? l.pool[kind] : l.pool.commit;
    return list[i % list.length]!;
  };
  return {
    wants: [...new Set(r.wants.map((w) => pick(w.kind, w.i)))],
    haves: [...new Set(r.haves.map((i) => l.h.commits[i % l.h.commits.length]!))],
  };
}

/** What a want is once its tags are peeled (a nested tag peels all the way). */
function peel(l: Loaded, oid: string): string {
  return l.types.get(oid) === 'tag' ? text(l.h.work, ['rev-parse', `${oid}^{}`]) : oid;
}

function filterArg(f: ObjectFilter): string {
  return f.kind === 'blob:none' ? 'blob:none' : f.kind === 'tree' ? `tree:${f.depth}` : `blob:limit=${f.limit}`;
}

function revList(work: string, wants: string[], haves: string[], filter?: ObjectFilter): string[] {
  const args = ['rev-list', '--objects', ...(filter ? [`--filter=${filterArg(filter)}`] : []), ...wants, ...(haves.length > 0 ? ['--not', ...haves] : [])];
  return lines(text(work, args)).map((l) => l.slice(0, 40));
}

/** Both sides of a comparison as the objects only one of them lists (with types, for readable failures). */
function difference(l: Loaded, ours: readonly string[], theirs: readonly string[]) {
  const a = new Set(ours);
  const b = new Set(theirs);
  const show = (o: string) => `${l.types.get(o) ?? '?'} ${o}`;
  return {
    onlyLevelGit: [...a]
      .filter((o) => !b.has(o))
      .map(show)
      .sort(),
    onlyGit: [...b]
      .filter((o) => !a.has(o))
      .map(show)
      .sort(),
  };
}
const SAME = { onlyLevelGit: [], onlyGit: [] };
/** A request for failure messages: each id with its type (tags with what they peel to). */
function describeRequest(l: Loaded, wants: string[], haves: string[], filter?: ObjectFilter): string {
  const want = (w: string) => (l.types.get(w) === 'tag' ? `tag(${l.types.get(peel(l, w))}) ${w}` : `${l.types.get(w)} ${w}`);
  return `${filter ? `filter ${filterArg(filter)} ` : ''}wants [${wants.map(want).join(', ')}] haves [${haves.join(', ')}]`;
}

/** `packObjects`' bytes in a bare repository holding the haves' objects: index-pack --strict, refs at the wants, fsck. */
async function checkPack(l: Loaded, tmp: string, name: string, wants: string[], haves: string[]): Promise<void> {
  const client = join(tmp, name);
  git(undefined, ['init', '-q', '--bare', client]);
  if (haves.length > 0) run(client, ['index-pack', '--stdin'], run(l.h.work, ['pack-objects', '--revs', '--stdout', '-q'], haves.join('\n') + '\n'));
  const pack = await collectBytes(l.repo.packObjects({ wants, haves }));
  run(client, ['index-pack', '--strict', '--stdin'], pack);
  const refs = [...wants.map((w, i) => `update refs/w/${i} ${w}`), ...haves.map((h, i) => `update refs/h/${i} ${h}`)];
  run(client, ['update-ref', '--stdin'], refs.join('\n') + '\n');
  run(client, ['fsck', '--strict', '--no-dangling', '--connectivity-only']);
  rmSync(client, { recursive: true, force: true });
}

/** fast-check settings: seed 42 unless LEVEL_GIT_DIFF_SEED; LEVEL_GIT_DIFF_RUNS multiplies the runs; shrinking only with LEVEL_GIT_DIFF_SHRINK=1 (it takes minutes). */
const settings = (numRuns: number) => ({
  seed: Number(process.env.LEVEL_GIT_DIFF_SEED ?? 42),
  numRuns: Math.round(numRuns * Number(process.env.LEVEL_GIT_DIFF_RUNS ?? 1)),
  endOnFailure: process.env.LEVEL_GIT_DIFF_SHRINK !== '1',
});
const TIMEOUT = 180_000;

/** How many comparisons ran (and how many were left out as known differences). */
const counted = { plain: 0, filtered: 0, depth: 0 };
afterAll(() => {
  if (process.env.LEVEL_GIT_DIFF_COUNT === '1') console.log(JSON.stringify(counted));
});

describe('planPack against git, on random histories (fast-check)', () => {
  it(
    'wants (commits, tags, trees, blobs) and haves: the objects git rev-list --objects lists; the pack completes the client',
    async () => {
      await fc.assert(
        fc.asyncProperty(historyArb, fc.array(requestArb, { minLength: 4, maxLength: 6 }), async (steps, requests) => {
          await withHistory(steps, async (l, tmp) => {
            let n = 0;
            for (const r of requests) {
              const { wants, haves } = resolve(l, r);
              const theirs = revList(l.h.work, wants, haves);
              const plan = await l.repo.planPack({ wants: wants as Oid[], haves: haves as Oid[] });
              expect(plan.oids.length, 'no object twice').toBe(new Set(plan.oids).size);
              expect(difference(l, plan.oids, theirs), describeRequest(l, wants, haves)).toEqual(SAME);
              counted.plain++;
              await checkPack(l, tmp, `client-${n++}`, wants, haves);
            }
          });
        }),
        settings(16),
      );
    },
    TIMEOUT,
  );

  const filterArb: fc.Arbitrary<ObjectFilter> = fc.oneof(
    fc.constant({ kind: 'blob:none' as const }),
    fc.record({ kind: fc.constant('tree' as const), depth: fc.integer({ min: 0, max: 3 }) }),
    // On and around the content sizes (0, 2, 12, 18, 100, 300, 1889 bytes): git omits blobs of at least the limit.
    fc.record({ kind: fc.constant('blob:limit' as const), limit: fc.constantFrom(0, 1, 2, 3, 12, 13, 18, 100, 101, 300, 1889, 1890, 5000) }),
  );

  it(
    'filters blob:none, tree:<depth>, blob:limit=<n>: the objects git rev-list --filter lists; the pack holds exactly the plan',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          historyArb,
          fc.array(fc.record({ request: requestArb, filter: filterArb }), { minLength: 5, maxLength: 8 }),
          async (steps, requests) => {
            await withHistory(steps, async (l, tmp) => {
              let n = 0;
              for (const { request, filter } of requests) {
                const { wants, haves } = resolve(l, request);
                const theirs = revList(l.h.work, wants, haves, filter);
                const plan = await l.repo.planPack({ wants: wants as Oid[], haves: haves as Oid[], filter });
                expect(plan.oids.length, 'no object twice').toBe(new Set(plan.oids).size);
                expect(difference(l, plan.oids, theirs), describeRequest(l, wants, haves, filter)).toEqual(SAME);
                counted.filtered++;
                // A partial pack cannot pass a connectivity check; it must still be a pack of exactly the plan.
                const client = join(tmp, `filtered-${n++}`);
                git(undefined, ['init', '-q', '--bare', client]);
                run(client, ['index-pack', '--stdin'], await collectBytes(l.repo.packObjects({ wants, haves, filter })));
                const inPack = lines(text(client, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']));
                expect(difference(l, plan.oids, inPack), 'pack contents').toEqual(SAME);
                rmSync(client, { recursive: true, force: true });
              }
            });
          },
        ),
        settings(14),
      );
    },
    TIMEOUT,
  );

  it(
    'depth: the commits, the shallow boundary and every object (include-tag too) git clone --depth gets; the pack passes index-pack --strict and fsck',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          historyArb,
          fc.array(fc.record({ branch: nat, depth: fc.integer({ min: 1, max: 5 }) }), { minLength: 2, maxLength: 3 }),
          async (steps, requests) => {
            await withHistory(steps, async (l, tmp) => {
              let n = 0;
              for (const { branch: b, depth } of requests) {
                const branch = l.h.branches[b % l.h.branches.length]!;
                const clone = join(tmp, `clone-${n++}`);
                git(undefined, ['clone', '-q', '--bare', '--no-local', `--depth=${depth}`, '--branch', branch, `file://${l.h.work}`, clone]);
                const cloned = lines(text(clone, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']));
                const shallowFile = join(clone, 'shallow');
                const gitShallow = existsSync(shallowFile) ? lines(readFileSync(shallowFile, 'utf8')) : [];
                const tip = text(l.h.work, ['rev-parse', `refs/heads/${branch}`]);

                // git clone asks for include-tag: the annotated tags (of commits, trees, blobs, tags) whose objects it gets.
                const includeTags = await internalsOf(l.repo).annotatedTags('regular');
                const plan = await l.repo.planPack({ wants: [tip as Oid], depth, includeTags });
                expect(plan.oids.length, 'no object twice').toBe(new Set(plan.oids).size);
                expect(difference(l, plan.oids, cloned), `${branch} at depth ${depth}`).toEqual(SAME);
                expect([...plan.shallow].sort(), `${branch} at depth ${depth}: shallow`).toEqual([...gitShallow].sort());
                counted.depth++;

                const client = join(tmp, `shallow-${n}`);
                git(undefined, ['init', '-q', '--bare', client]);
                if (plan.shallow.length > 0) writeFileSync(join(client, 'shallow'), plan.shallow.join('\n') + '\n');
                run(client, ['index-pack', '--strict', '--stdin'], await collectBytes(l.repo.packObjects({ wants: [tip], depth, includeTags: true })));
                run(client, ['update-ref', `refs/heads/${branch}`, tip]);
                run(client, ['fsck', '--strict', '--no-dangling', '--connectivity-only']);
                rmSync(client, { recursive: true, force: true });
                rmSync(clone, { recursive: true, force: true });
              }
            });
          },
        ),
        settings(10),
      );
    },
    TIMEOUT,
  );
});

// ---- the known differences, smallest histories -----------------------------------------------

/** A history made by `script` (shell, in a fresh work tree), ingested; `rev` resolves names there. */
async function tiny(script: string, body: (l: Loaded, rev: (spec: string) => string) => Promise<void>): Promise<void> {
  const tmp = tempDir('level-git-diff-min-');
  let loaded: Loaded | undefined;
  try {
    const work = join(tmp.dir, 'work');
    git(undefined, ['init', '-q', '-b', 'main', work]);
    execFileSync('sh', ['-e', '-c', script], { cwd: work, env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    loaded = await load({ work, commits: lines(text(work, ['rev-list', '--all'])), branches: ['main'] });
    await body(loaded, (spec) => text(work, ['rev-parse', spec]));
  } finally {
    await loaded?.engine.close();
    tmp.cleanup();
  }
}

describe('differences from git this test found (smallest reproductions, fixed)', () => {
  const dirTree = "mkdir -p d/e; printf '%0100d' 0 > d/big; echo s > d/small; echo f > d/e/f; git add -A; git commit -qm one";
  /** git's list as path names (the root tree of a commit is '', commits are 'commit'). */
  const named = (l: Loaded, args: string[]) =>
    lines(text(l.h.work, ['rev-list', '--objects', ...args]))
      .map((x) => (l.types.get(x.slice(0, 40)) === 'commit' ? 'commit' : x.slice(41)))
      .sort();

  it("git's own answers for the reproductions below (so a broken setup cannot make them pass)", async () => {
    await tiny('echo a > a.txt; git add -A; git commit -qm one; echo b > b.txt; git add -A; git commit -qm two', async (l, rev) => {
      expect(named(l, ['HEAD', rev('HEAD~1:a.txt'), '--not', 'HEAD~1'])).toEqual(['', 'b.txt', 'commit']);
    });
    await tiny(dirTree, async (l) => {
      const d = text(l.h.work, ['rev-parse', 'HEAD:d']);
      expect(named(l, ['--filter=blob:limit=10', d])).toEqual(['', 'e', 'e/f', 'small']);
      expect(named(l, ['--filter=tree:0', d])).toEqual(['']);
      expect(named(l, ['--filter=tree:2', 'HEAD', d])).toEqual(['', '', 'big', 'commit', 'e', 'e/f', 'small'].sort());
    });
  });

  // git rev-list --objects HEAD HEAD~1:a.txt --not HEAD~1  ->  HEAD, HEAD^{tree}, b.txt's blob (not a.txt's)
  it('a wanted blob the client has through the have below the sent commit is not sent', async () => {
    await tiny('echo a > a.txt; git add -A; git commit -qm one; echo b > b.txt; git add -A; git commit -qm two', async (l, rev) => {
      const wants = [rev('HEAD'), rev('HEAD~1:a.txt')];
      const haves = [rev('HEAD~1')];
      const plan = await l.repo.planPack({ wants: wants as Oid[], haves: haves as Oid[] });
      expect(difference(l, plan.oids, revList(l.h.work, wants, haves))).toEqual(SAME);
    });
  });

  // git rev-list --objects --filter=blob:limit=10 HEAD:d  ->  d, d/e, d/e/f, d/small (not the 100-byte d/big)
  it('blob:limit filters the blobs under a wanted tree', async () => {
    await tiny(dirTree, async (l, rev) => {
      const wants = [rev('HEAD:d')];
      const filter: ObjectFilter = { kind: 'blob:limit', limit: 10 };
      const plan = await l.repo.planPack({ wants: wants as Oid[], filter });
      expect(difference(l, plan.oids, revList(l.h.work, wants, [], filter))).toEqual(SAME);
    });
  });

  // git rev-list --objects --filter=tree:0 HEAD:d  ->  d only
  it('tree:0 sends a wanted tree without what is under it', async () => {
    await tiny(dirTree, async (l, rev) => {
      const wants = [rev('HEAD:d')];
      const filter: ObjectFilter = { kind: 'tree', depth: 0 };
      const plan = await l.repo.planPack({ wants: wants as Oid[], filter });
      expect(difference(l, plan.oids, revList(l.h.work, wants, [], filter))).toEqual(SAME);
    });
  });

  // git rev-list --objects --filter=tree:2 HEAD HEAD:d  ->  HEAD, its root tree, d, d/big, d/small, d/e, d/e/f
  // (the named tree d is walked as a root of its own, even though the commit's walk met it).
  it('tree:2 with a commit and its subtree wanted: what git sends under the wanted subtree', async () => {
    await tiny(dirTree, async (l, rev) => {
      const wants = [rev('HEAD'), rev('HEAD:d')];
      const filter: ObjectFilter = { kind: 'tree', depth: 2 };
      const plan = await l.repo.planPack({ wants: wants as Oid[], filter });
      expect(difference(l, plan.oids, revList(l.h.work, wants, [], filter))).toEqual(SAME);
    });
  });
});
