/**
 * `wholeMayBeSmaller` decides where ingest (and the pack worker for it) deflates an object's
 * whole entry to compare it with the delta it arrived as. For trees it skips that deflate when
 * the delta is under half the tree: these tests build real trees (distinct 20-byte ids, as a
 * history has), edit them, and store both forms, to show the skipped comparisons are ones the
 * delta wins.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodePacked, wholeMayBeSmaller } from '../../src/object/packed.js';
import { encodeTree, type TreeEntry } from '../../src/object/tree.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { storedDeltaEntry } from '../../src/pack/entry.js';
import { createDelta } from '../../src/pack/delta.js';
import { TYPE_NUMBERS } from '../../src/object/oid.js';
import { platform } from '../../src/platform/index.js';
import { utf8 } from '../../src/platform/bytes.js';

/** A blob id per (name, version): distinct ids, as a history's trees hold. */
const idOf = (name: string, version: number): Oid => hashObject('blob', utf8(`${name}@${version}`));

/** The tree of `names`, each at its version. */
function tree(files: Map<string, number>): Uint8Array {
  const entries: TreeEntry[] = [...files].map(([name, v]) => ({ mode: '100644', name, oid: idOf(name, v) }) as TreeEntry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return encodeTree(entries);
}

/** The `D` value ingest would store for `target` as a delta on `base` (the delta deflated at level 1, as a pack writer would). */
function storedDelta(base: Uint8Array, target: Uint8Array): Uint8Array {
  const delta = createDelta(base, target);
  const zlib = platform().deflate(delta, 1);
  return storedDeltaEntry(TYPE_NUMBERS.tree, target.length, delta.length, hashObject('tree', base), zlib).stored;
}

const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,23}$/), { minLength: 8, maxLength: 400 });

describe('wholeMayBeSmaller', () => {
  it('a tree delta it skips (under half the tree) is never larger than the tree deflated', () => {
    let skipped = 0;
    fc.assert(
      fc.property(names, fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 2 ** 31 }), (list, percent, seed) => {
        const files = new Map(list.map((n) => [n, 0]));
        const before = tree(files);
        // Edit a share of the entries: new versions, some removed, some added.
        let s = seed;
        const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        for (const name of list) {
          const r = next() * 100;
          if (r < percent * 0.8) files.set(name, 1);
          else if (r < percent) files.delete(name);
        }
        for (let i = 0; i < (percent * list.length) / 400; i++) files.set(`added-${i}`, 0);
        const after = tree(files);
        const stored = storedDelta(before, after);
        if (wholeMayBeSmaller('tree', after.length, stored.length)) return;
        skipped++;
        expect(stored.length).toBeLessThanOrEqual(encodePacked('tree', after).length);
      }),
      { numRuns: 300 },
    );
    // The property ran on skipped comparisons, not only on ones it left alone.
    expect(skipped).toBeGreaterThan(50);
  });

  it('compares a tree delta of half the tree or more, and any other delta of a quarter of its body or more', () => {
    expect(wholeMayBeSmaller('tree', 1000, 499)).toBe(false);
    expect(wholeMayBeSmaller('tree', 1000, 500)).toBe(true);
    for (const type of ['blob', 'commit', 'tag'] as const) {
      expect(wholeMayBeSmaller(type, 1000, 249)).toBe(false);
      expect(wholeMayBeSmaller(type, 1000, 250)).toBe(true);
      expect(wholeMayBeSmaller(type, 1000, 499)).toBe(true);
    }
  });
});
