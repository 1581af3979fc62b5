/**
 * Tree decoding: `decodeTree` strict (fsck-like checks of names, modes, order) against
 * non-strict, on a small and a large directory of realistic names; `encodeTree` beside it.
 * run: node --import tsx bench/micro/tree-decode.ts
 */
import { decodeTree, encodeTree, type TreeEntry } from '../../src/object/tree.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { utf8 } from '../../src/platform/bytes.js';
import { compare } from './micro.js';

function tree(n: number): Uint8Array {
  const entries: TreeEntry[] = [];
  for (let i = 0; i < n; i++) {
    const oid = hashObject('blob', utf8(`file ${i}`)) as Oid;
    entries.push(i % 10 === 0 ? { mode: '40000', name: `dir-${i}`, oid } : { mode: '100644', name: `module-${i}.d.ts`, oid });
  }
  entries.sort((a, b) => (a.name + (a.mode === '40000' ? '/' : '') < b.name + (b.mode === '40000' ? '/' : '') ? -1 : 1));
  return encodeTree(entries);
}

for (const n of [20, 1000]) {
  const body = tree(n);
  const entries = decodeTree(body);
  await compare(`tree of ${n} entries (${body.length} bytes)`, [
    { name: 'decodeTree strict', fn: () => decodeTree(body) },
    { name: 'decodeTree non-strict', fn: () => decodeTree(body, false) },
    { name: 'encodeTree', fn: () => encodeTree(entries) },
  ]);
}
