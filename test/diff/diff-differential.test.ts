/**
 * `Repository.diff` against `git diff`, on random pairs of trees (test/diff/history.ts; fast-check
 * with a fixed seed) committed by `git fast-import` and stored through `indexPack`: the unified
 * text is byte for byte what `git diff` prints (with `--no-renames`, and with `-M`), and the
 * files and counts are `git diff --numstat -z`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { git } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { applyEdits, describeCase, editsArb, treeArb, withFixture, type CommitSpec } from './history.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

/** `git diff --numstat -z` as [path, oldPath, additions, deletions] rows ("-" for binary). */
function parseNumstat(out: Buffer): string[][] {
  const f = out.toString('latin1').split('\0');
  const rows: string[][] = [];
  for (let i = 0; i < f.length - 1; ) {
    const [add, del, path] = f[i]!.split('\t');
    if (path === '') {
      rows.push([f[i + 2]!, f[i + 1]!, add!, del!]);
      i += 3;
    } else {
      rows.push([path!, '', add!, del!]);
      i += 1;
    }
  }
  return rows;
}

const CASES = Number(process.env.DIFF_CASES ?? 150);

/** Splits diff-tree --stdin output at each head's header line (`<id><sep>`), in order. */
function splitBy(out: string, heads: readonly string[], sep: string): string[] {
  const at = heads.map((h, i) => {
    const k = out.indexOf(h + sep, i === 0 ? 0 : undefined);
    if (k < 0) throw new Error(`no header for ${h}`);
    return k;
  });
  return heads.map((h, i) => out.slice(at[i]! + h.length + 1, i + 1 < heads.length ? at[i + 1] : out.length));
}

describe('diff equals git diff', () => {
  it('unified text and numstat, with and without renames', async () => {
    const cases = fc.sample(fc.tuple(treeArb, editsArb), { numRuns: CASES, seed: Number(process.env.DIFF_SEED ?? 12) });
    const specs: CommitSpec[] = cases.flatMap(([t0, edits], i) => [{ tree: t0 }, { tree: applyEdits(t0, edits), parent: 2 * i }]);
    await withFixture(dirs, specs, async ({ dir, shas, repo }) => {
      for (const renames of [false, true]) {
        const flag = renames ? '-M' : '--no-renames';
        // One diff-tree for all cases: each B is diffed against its parent A, after a header line of its id.
        const heads = specs.flatMap((_, k) => (k % 2 === 1 ? [shas[k]!] : []));
        const input = heads.join('\n') + '\n';
        const patches = splitBy(git(dir, ['diff-tree', '--stdin', '--always', '-r', '-p', flag], input).toString('latin1'), heads, '\n');
        const stats = splitBy(git(dir, ['diff-tree', '--stdin', '--always', '-r', '--numstat', '-z', flag], input).toString('latin1'), heads, '\0');
        for (let i = 0; i < CASES; i++) {
          const [a, b] = [shas[2 * i]!, shas[2 * i + 1]!];
          const what = `case ${i} (${flag}): ${describeCase(cases[i])}`;
          const ours = await repo.diff(a, b, { renames, patch: true });
          expect(Buffer.from(ours.patch!).toString('latin1'), what).toBe(patches[i]);
          const mine = ours.files.map((f) => [f.path, f.oldPath ?? '', f.binary ? '-' : String(f.additions), f.binary ? '-' : String(f.deletions)]);
          expect(mine, what).toEqual(parseNumstat(Buffer.from(stats[i]!, 'latin1')));
        }
      }
    });
  });
});
