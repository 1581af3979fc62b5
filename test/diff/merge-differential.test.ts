/**
 * `Repository.merge` against `git merge-tree --write-tree` on random three-way histories
 * (test/diff/history.ts; fast-check with a fixed seed): a base tree and two sides edited from it
 * (line edits, adds, deletes, renames, mode changes, binary files, symlinks, files ↔ directories,
 * CRLF, missing final newlines), committed by `git fast-import` and stored through `indexPack`.
 * Where git merges cleanly the dry run gives the same tree; where git reports conflicts it
 * reports conflicts, on the same paths.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { openEngine, ZERO_OID } from '../../src/index.js';
import { runGit } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { applyEdits, buildCommits, editsArb, importRepo, initRepo, treeArb, type CommitSpec } from './history.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const CASES = Number(process.env.MERGE_CASES ?? 120);

describe('merge agrees with git merge-tree', () => {
  it('clean merges give the same tree, conflicts the same paths', async () => {
    const cases = fc.sample(fc.tuple(treeArb, editsArb, editsArb), { numRuns: CASES, seed: Number(process.env.MERGE_SEED ?? 3) });
    const specs: CommitSpec[] = cases.flatMap(([t0, e1, e2], i) => [
      { tree: t0 },
      { tree: applyEdits(t0, e1), parent: 3 * i },
      { tree: applyEdits(t0, e2), parent: 3 * i },
    ]);
    const dir = dirs.make('diff-merge-');
    initRepo(dir);
    const shas = buildCommits(dir, specs);
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    try {
      const repo = await engine.createRepo('r');
      await importRepo(dir, repo);
      await repo.refs.transaction(cases.map((_, i) => ({ ref: `refs/heads/o${i}`, oldOid: ZERO_OID, newOid: shas[3 * i + 1]! })));
      const results = await Promise.all(
        cases.map((_, i) => runGit(['merge-tree', '--write-tree', '--name-only', shas[3 * i + 1]!, shas[3 * i + 2]!], { cwd: dir })),
      );
      let clean = 0;
      for (let i = 0; i < CASES; i++) {
        const what = `case ${i}: ${JSON.stringify(cases[i], (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v instanceof Map ? [...v] : v))}`;
        const out = results[i]!.stdout.toString('utf8').split('\n');
        const whatGit = `${what}\n${results[i]!.stdout.toString()}`;
        const ours = await repo.merge({ base: `o${i}`, head: shas[3 * i + 2]!, dryRun: true });
        if (results[i]!.code === 0) {
          clean++;
          expect({ mergeable: ours.mergeable, tree: ours.tree, conflicts: ours.conflicts }, what).toEqual({ mergeable: true, tree: out[0], conflicts: [] });
        } else {
          expect(results[i]!.code, what).toBe(1);
          // git records one side of a type or file/directory clash under `<path>~<commit>`: the same path.
          const paths = out
            .slice(1, out.indexOf(''))
            .filter(Boolean)
            .map((p) => p.replace(/~[0-9a-f]{40}$/, ''));
          expect(ours.mergeable, whatGit).toBe(false);
          expect(ours.conflicts.map((c) => c.path).sort(), `${what}\n${results[i]!.stdout.toString()}\nours: ${JSON.stringify(ours.conflicts)}`).toEqual(
            [...new Set(paths)].sort(),
          );
        }
      }
      expect(clean).toBeGreaterThan(CASES / 4);
    } finally {
      await engine.close();
      await db.close();
    }
  });
});
