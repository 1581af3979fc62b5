/**
 * Order-of-magnitude timing (printed, not asserted; figures in docs/fsck.md): the fsck checks
 * of every tree of a 20,000-file tree (200 directories of 100 files, with a .gitmodules and
 * a .gitattributes), beside the strict tree decoder ingest runs today and the reference walk;
 * and of 10,000 commits beside the commit decoder.
 */
import { describe, expect, it } from 'vitest';
import { checkObject, forEachReference, fsckConfig } from '../../src/object/fsck.js';
import { decodeTree, encodeTree, type TreeEntry } from '../../src/object/tree.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { decodeCommit, encodeCommit, type Identity } from '../../src/object/commit.js';

const who = (i: number): Identity => ({ name: 'A U Thor', email: 'author@example.com', timestamp: 1_700_000_000 + i, timezone: '+0100' });

function buildTrees(): Uint8Array[] {
  const trees: Uint8Array[] = [];
  const root: TreeEntry[] = [];
  for (let d = 0; d < 200; d++) {
    const entries: TreeEntry[] = [];
    for (let f = 0; f < 100; f++) {
      const oid = hashObject('blob', new TextEncoder().encode(`file ${d}/${f}`));
      entries.push({ mode: f % 17 === 0 ? '100755' : '100644', name: f % 10 === 0 ? `Module${f}.d.ts` : `file-${f}.js`, oid });
    }
    const body = encodeTree(entries);
    trees.push(body);
    root.push({ mode: '40000', name: `package-${d}`, oid: hashObject('tree', body) });
  }
  root.push({ mode: '100644', name: '.gitmodules', oid: '1'.repeat(40) as Oid });
  root.push({ mode: '100644', name: '.gitattributes', oid: '2'.repeat(40) as Oid });
  trees.push(encodeTree(root));
  return trees;
}

function best(reps: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

describe('fsck timing', () => {
  it('checks the trees of a 20,000-file tree', () => {
    const trees = buildTrees();
    const bytes = trees.reduce((n, t) => n + t.length, 0);
    const config = fsckConfig({});
    for (const t of trees) expect(checkObject('tree', t, config).ok).toBe(true);
    const fsck = best(15, () => {
      for (const t of trees) checkObject('tree', t, config);
    });
    const decode = best(15, () => {
      for (const t of trees) decodeTree(t, true);
    });
    let refs = 0;
    const walk = best(15, () => {
      refs = 0;
      for (const t of trees) forEachReference('tree', t, () => refs++);
    });
    expect(refs).toBe(20_202);
    console.log(
      `fsck of ${trees.length} trees, 20,202 entries, ${(bytes / 1e6).toFixed(2)} MB: checkObject ${fsck.toFixed(1)} ms ` +
        `(${((fsck * 1e6) / 20_202).toFixed(0)} ns/entry); decodeTree strict ${decode.toFixed(1)} ms; forEachReference ${walk.toFixed(1)} ms`,
    );
  });
  it('checks 10,000 commits', () => {
    const commits: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) {
      const tree = hashObject('tree', new TextEncoder().encode(`t${i}`));
      const parent = hashObject('commit', new TextEncoder().encode(`c${i}`));
      commits.push(encodeCommit({ tree, parents: [parent], author: who(i), committer: who(i), message: `commit number ${i}\n\nwith a body line\n` }));
    }
    const config = fsckConfig({});
    for (const c of commits) expect(checkObject('commit', c, config).ok).toBe(true);
    const fsck = best(15, () => {
      for (const c of commits) checkObject('commit', c, config);
    });
    const decode = best(15, () => {
      for (const c of commits) decodeCommit(c);
    });
    console.log(`fsck of 10,000 commits: checkObject ${fsck.toFixed(1)} ms (${((fsck * 1e6) / 10_000).toFixed(0)} ns/commit); decodeCommit ${decode.toFixed(1)} ms`);
  });
});
