/**
 * The strict tree decoder checks git's entry order on raw bytes; it must agree with the
 * encoder's order (compareEntries) and refuse any swapped or duplicated pair.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTree, encodeTree, type TreeEntry } from '../../src/object/tree.js';
import { concat, utf8 } from '../../src/platform/bytes.js';
import type { Oid } from '../../src/object/oid.js';

const OID = 'a'.repeat(40) as Oid;
const nameArb = fc.stringMatching(/^[a-z0-9._é-]{1,6}$/).filter((n) => n !== '.' && n !== '..' && !/^\.git[. ]*$/i.test(n) && !/^git~1$/i.test(n));
const entriesArb = fc.uniqueArray(fc.record({ name: nameArb, tree: fc.boolean() }), { selector: (e) => e.name, minLength: 2, maxLength: 12 });

function raw(entries: { name: string; tree: boolean }[]): Uint8Array {
  // Bytes in the given order, bypassing the encoder's sort.
  return concat(entries.map((e) => concat([utf8(`${e.tree ? '40000' : '100644'} ${e.name}\0`), new Uint8Array(20).fill(0xaa)])));
}

describe('tree entry order', () => {
  it('accepts what the encoder writes and refuses a swapped pair or a duplicate', () => {
    fc.assert(
      fc.property(entriesArb, fc.nat(), (list, k) => {
        const entries: TreeEntry[] = list.map((e) => ({ name: e.name, mode: e.tree ? '40000' : '100644', oid: OID }));
        const body = encodeTree(entries);
        const decoded = decodeTree(body, true);
        expect(decoded.map((e) => e.name).sort()).toEqual(list.map((e) => e.name).sort());
        const ordered = decoded.map((e) => ({ name: e.name, tree: e.mode === '40000' }));
        const i = k % (ordered.length - 1);
        const swapped = [...ordered];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
        expect(() => decodeTree(raw(swapped), true)).toThrow(/not sorted or duplicated/);
        const dup = [...ordered.slice(0, i + 1), { ...ordered[i]!, tree: !ordered[i]!.tree }, ...ordered.slice(i + 1)];
        expect(() => decodeTree(raw(dup), true)).toThrow(/not sorted or duplicated/);
      }),
      { numRuns: 300 },
    );
  });

  it('orders a tree "a" after a file "a.b" and before "a0", as git does', () => {
    const body = raw([
      { name: 'a.b', tree: false },
      { name: 'a', tree: true },
      { name: 'a0', tree: false },
    ]);
    expect(decodeTree(body, true).map((e) => e.name)).toEqual(['a.b', 'a', 'a0']);
    expect(() =>
      decodeTree(
        raw([
          { name: 'a', tree: true },
          { name: 'a.b', tree: false },
        ]),
        true,
      ),
    ).toThrow();
  });
});
