/**
 * `Repository.merge` against `git merge-tree --write-tree` on random histories
 * (test/diff/history.ts; fast-check with fixed seeds), committed by `git fast-import` and stored
 * through `indexPack`:
 * - three-way: a base tree and two sides edited from it (line edits, adds, deletes, renames,
 *   whole-directory renames and additions into directories, mode changes, binary files,
 *   symlinks, files ↔ directories, CRLF, missing final newlines), merged with git's default
 *   merge.directoryRenames ("conflict") and with `true`;
 * - criss-cross: two sides, then two merges of them crossing (each with its own edits), merged
 *   with each other — two merge bases, which git merges into a virtual base first.
 * Where git merges cleanly the dry run gives the same tree; where git reports conflicts it
 * reports conflicts, on the same paths.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ZERO_OID, type Repository } from '../../src/index.js';
import { runGit } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { applyEdits, describeCase, editsArb, mergeEditsArb, treeArb, withFixture, type CommitSpec, type Tree } from './history.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const CASES = Number(process.env.MERGE_CASES ?? 120);
const SEED = Number(process.env.MERGE_SEED ?? 3);
const TIMEOUT = 60_000 + CASES * 1_500;

/** Merges `ours` (a branch) with `theirs` both ways (git and level-git) and compares; returns whether git merged cleanly. */
async function agree(
  repo: Repository,
  dir: string,
  ours: { branch: string; sha: string },
  theirs: string,
  directoryRenames: true | 'conflict',
  what: string,
): Promise<boolean> {
  const config = directoryRenames === true ? ['-c', 'merge.directoryRenames=true'] : [];
  const g = await runGit([...config, 'merge-tree', '--write-tree', '--name-only', ours.sha, theirs], { cwd: dir });
  const out = g.stdout.toString('utf8').split('\n');
  const mine = await repo.merge({ base: ours.branch, head: theirs, dryRun: true, directoryRenames });
  const whatGit = `${what} (directoryRenames ${directoryRenames})\n${g.stdout.toString()}\nours: ${JSON.stringify(mine.conflicts)}`;
  if (g.code === 0) {
    expect({ mergeable: mine.mergeable, tree: mine.tree, conflicts: mine.conflicts }, whatGit).toEqual({ mergeable: true, tree: out[0], conflicts: [] });
    return true;
  }
  expect(g.code, whatGit).toBe(1);
  // git records one side of a type or file/directory clash under `<path>~<commit>`: the same path.
  const paths = out
    .slice(1, out.indexOf(''))
    .filter(Boolean)
    .map((p) => p.replace(/~[0-9a-f]{40}$/, ''));
  expect(mine.mergeable, whatGit).toBe(false);
  // A refused directory rename (a path in the way, a split) is a conflict git lists no path for.
  if (paths.length > 0) expect(mine.conflicts.map((c) => c.path).sort(), whatGit).toEqual([...new Set(paths)].sort());
  return false;
}

describe('merge agrees with git merge-tree', () => {
  it(
    'three-way: clean merges give the same tree, conflicts the same paths',
    async () => {
      const cases = fc.sample(fc.tuple(treeArb, mergeEditsArb, mergeEditsArb), { numRuns: CASES, seed: SEED });
      const specs: CommitSpec[] = cases.flatMap(([t0, e1, e2], i) => [
        { tree: t0 },
        { tree: applyEdits(t0, e1), parent: 3 * i },
        { tree: applyEdits(t0, e2), parent: 3 * i },
      ]);
      await withFixture(dirs, specs, async ({ dir, shas, repo }) => {
        await repo.refs.transaction(cases.map((_, i) => ({ ref: `refs/heads/o${i}`, oldOid: ZERO_OID, newOid: shas[3 * i + 1]! })));
        let clean = 0;
        for (let i = 0; i < CASES; i++) {
          const ours = { branch: `o${i}`, sha: shas[3 * i + 1]! };
          const what = `case ${i}: ${describeCase(cases[i])}`;
          if (await agree(repo, dir, ours, shas[3 * i + 2]!, 'conflict', what)) clean++;
          await agree(repo, dir, ours, shas[3 * i + 2]!, true, what);
        }
        expect(clean).toBeGreaterThan(CASES / 4);
      });
    },
    TIMEOUT,
  );

  it(
    'criss-cross: merge bases merged into a virtual one as git does',
    async () => {
      const cases = fc.sample(fc.tuple(treeArb, editsArb, editsArb, editsArb, editsArb), { numRuns: CASES, seed: SEED + 1 });
      const specs: CommitSpec[] = cases.flatMap(([t0, e1, e2, e3, e4], i) => {
        const [a, b] = [applyEdits(t0, e1), applyEdits(t0, e2)];
        const both = naiveMerge(t0, a, b);
        const k = 5 * i;
        return [
          { tree: t0 },
          { tree: a, parent: k },
          { tree: b, parent: k },
          { tree: applyEdits(both, e3), parent: k + 1, merge: k + 2 },
          { tree: applyEdits(both, e4), parent: k + 2, merge: k + 1 },
        ];
      });
      await withFixture(dirs, specs, async ({ dir, shas, repo }) => {
        await repo.refs.transaction(cases.map((_, i) => ({ ref: `refs/heads/x${i}`, oldOid: ZERO_OID, newOid: shas[5 * i + 3]! })));
        let clean = 0;
        for (let i = 0; i < CASES; i++) {
          const what = `criss-cross case ${i}: ${describeCase(cases[i])}`;
          if (await agree(repo, dir, { branch: `x${i}`, sha: shas[5 * i + 3]! }, shas[5 * i + 4]!, 'conflict', what)) clean++;
        }
        expect(clean).toBeGreaterThan(CASES / 4);
      });
    },
    TIMEOUT,
  );
});

/** Both sides' changes in one tree (ours where both changed a path): the contents of the crossing merges. */
function naiveMerge(base: Tree, a: Tree, b: Tree): Tree {
  const out: Tree = new Map();
  for (const p of new Set([...base.keys(), ...a.keys(), ...b.keys()])) {
    const changedA = a.get(p) !== base.get(p);
    const f = changedA ? a.get(p) : b.get(p);
    if (f !== undefined) out.set(p, f);
  }
  return applyEdits(out, []);
}
