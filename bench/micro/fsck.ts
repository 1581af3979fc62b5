/**
 * fsck-grade checks (src/object/fsck.ts) beside the decoders ingest already runs: the trees of a
 * 20,000-file tree (200 directories of 100 files, with a .gitmodules and a .gitattributes) and
 * 10,000 commits. The checks run on every object of every push, so they should cost about what
 * decoding costs. run: node --import tsx bench/micro/fsck.ts
 */
import { checkObject, forEachReference, fsckConfig } from '../../src/object/fsck.js';
import { decodeTree, encodeTree, TREE_MODE, type TreeEntry } from '../../src/object/tree.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { decodeCommit, encodeCommit, type Identity } from '../../src/object/commit.js';
import { utf8 } from '../../src/platform/bytes.js';
import { compare } from './micro.js';

const who = (i: number): Identity => ({ name: 'A U Thor', email: 'author@example.com', timestamp: 1_700_000_000 + i, timezone: '+0100' });

function buildTrees(): Uint8Array[] {
  const trees: Uint8Array[] = [];
  const root: TreeEntry[] = [];
  for (let d = 0; d < 200; d++) {
    const entries: TreeEntry[] = [];
    for (let f = 0; f < 100; f++) {
      const oid = hashObject('blob', utf8(`file ${d}/${f}`));
      entries.push({ mode: f % 17 === 0 ? '100755' : '100644', name: f % 10 === 0 ? `Module${f}.d.ts` : `file-${f}.js`, oid });
    }
    const body = encodeTree(entries);
    trees.push(body);
    root.push({ mode: TREE_MODE, name: `package-${d}`, oid: hashObject('tree', body) });
  }
  root.push({ mode: '100644', name: '.gitmodules', oid: '1'.repeat(40) as Oid });
  root.push({ mode: '100644', name: '.gitattributes', oid: '2'.repeat(40) as Oid });
  trees.push(encodeTree(root));
  return trees;
}

const trees = buildTrees();
const config = fsckConfig({});
for (const t of trees) if (!checkObject('tree', t, config).ok) throw new Error('the fixture trees must pass fsck');
await compare(`the ${trees.length} trees of a 20,000-file tree`, [
  { name: 'decodeTree strict (what ingest runs)', fn: () => trees.forEach((t) => decodeTree(t, true)) },
  { name: 'checkObject', fn: () => trees.forEach((t) => checkObject('tree', t, config)) },
  { name: 'forEachReference', fn: () => trees.forEach((t) => forEachReference('tree', t, () => undefined)) },
]);

const commits: Uint8Array[] = [];
for (let i = 0; i < 10_000; i++) {
  const tree = hashObject('tree', utf8(`t${i}`));
  const parent = hashObject('commit', utf8(`c${i}`));
  commits.push(encodeCommit({ tree, parents: [parent], author: who(i), committer: who(i), message: `commit number ${i}\n\nwith a body line\n` }));
}
await compare('10,000 commits', [
  { name: 'decodeCommit', fn: () => commits.forEach((c) => decodeCommit(c)) },
  { name: 'checkObject', fn: () => commits.forEach((c) => checkObject('commit', c, config)) },
]);
