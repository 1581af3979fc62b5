/**
 * `index` lines abbreviate ids as `git diff` does with `core.abbrev` unset: the length follows the
 * repository's object count (8 digits past 2^14 objects), and an id sharing that many digits with
 * another object of the repository is lengthened until it is unique.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { enableReview, openEngine } from '../../src/index.js';
import { git } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { buildCommits, importRepo, initRepo, type CommitSpec, type Tree } from './history.js';

enableReview(); // the package root leaves the review services to the app (docs/browser.md)
const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const enc = new TextEncoder();
const blobId = (s: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(s)}\0${s}`)
    .digest('hex');

/** Two blob contents whose ids share their first 8 hex digits (a birthday search, deterministic). */
function nearCollision(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const s = `near ${i}\n`;
    const k = blobId(s).slice(0, 8);
    const other = seen.get(k);
    if (other !== undefined) return [other, s];
    seen.set(k, s);
  }
}

describe('abbreviated ids equal git diff', () => {
  it('8 digits past 16,384 objects, longer where two ids share 8', async () => {
    const [a, b] = nearCollision();
    const file = (s: string) => ({ mode: '100644' as const, content: enc.encode(s) });
    const t0: Tree = new Map();
    for (let i = 0; i < 17_000; i++) t0.set(`d${i % 100}/f${i}`, file(`file ${i}\n`));
    t0.set('pair', file(a));
    const t1 = new Map(t0);
    for (const i of [3, 500, 16_999]) t1.set(`d${i % 100}/f${i}`, file(`file ${i} changed\n`));
    t1.delete('d7/f7');
    t1.set('new', file('new\n'));
    t1.set('pair', file(b));
    const sorted = (m: Tree): Tree => new Map([...m].sort(([x], [y]) => (x < y ? -1 : 1)));
    const specs: CommitSpec[] = [{ tree: sorted(t0) }, { tree: sorted(t1), parent: 0 }];
    const dir = dirs.make('diff-abbrev-');
    initRepo(dir);
    const [c0, c1] = buildCommits(dir, specs);
    const expected = git(dir, ['diff', c0!, c1!]).toString('latin1');
    // The case this test is about: 8 digits, 9 for the ids sharing 8, 8 zeros for "no file".
    expect(expected).toContain(`index ${blobId(a).slice(0, 9)}..${blobId(b).slice(0, 9)} 100644`);
    expect(expected).toContain('index 00000000..');
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    try {
      const repo = await engine.createRepo('r');
      await importRepo(dir, repo);
      const ours = await repo.diff(c0!, c1!, { patch: true });
      expect(Buffer.from(ours.patch!).toString('latin1')).toBe(expected);
    } finally {
      await engine.close();
      await db.close();
    }
  }, 60_000);
});
