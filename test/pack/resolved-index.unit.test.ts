/** The delta resolver's record of entries by offset and by id (pack/resolved-index.ts). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PENDING, type Resolved, ResolvedIndex } from '../../src/pack/resolved-index.js';
import type { Oid } from '../../src/object/oid.js';

const entry = (n: number, oid = `${n}`.padStart(40, '0')): Resolved => ({
  oid: oid as Oid,
  type: (['commit', 'tree', 'blob', 'tag'] as const)[n % 4]!,
  depth: n % 50,
  packed: n % 3 === 0 ? -1 : n,
  seq: n % 5 === 0 ? -1 : n + 7,
});

describe('ResolvedIndex', () => {
  it('finds each entry by its offset, deferred ones once resolved, and nothing between entries', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 2 ** 33 }), { minLength: 1, maxLength: 3000 }), (raw) => {
        const offsets = [...raw].sort((a, b) => a - b);
        const index = new ResolvedIndex();
        offsets.forEach((o, i) => (i % 3 === 0 ? index.record(o, PENDING) : index.resolved(o, entry(i))));
        offsets.forEach((o, i) => expect(index.at(o)).toEqual(i % 3 === 0 ? PENDING : entry(i)));
        offsets.forEach((o, i) => i % 3 === 0 && index.resolved(o, entry(i)));
        offsets.forEach((o, i) => expect(index.at(o)?.oid).toBe(entry(i).oid));
        for (const o of offsets) if (!offsets.includes(o + 1)) expect(index.at(o + 1)).toBeUndefined();
      }),
      { numRuns: 30 },
    );
  });

  it('keeps an entry recorded out of order in its place', () => {
    const index = new ResolvedIndex();
    for (const o of [10, 30, 20, 5]) index.resolved(o, entry(o));
    for (const o of [5, 10, 20, 30]) expect(index.at(o)?.oid).toBe(entry(o).oid);
    expect(index.at(15)).toBeUndefined();
  });

  it('gives the first entry resolved with an id, whenever it is first asked', () => {
    const index = new ResolvedIndex();
    const first = entry(1, 'a'.repeat(40));
    const second = entry(2, 'a'.repeat(40));
    index.resolved(100, first);
    index.resolved(200, entry(3));
    expect(index.known('a'.repeat(40) as Oid)).toEqual(first);
    index.resolved(300, second);
    expect(index.known('a'.repeat(40) as Oid)).toEqual(first);
    expect(index.known(entry(3).oid)?.oid).toBe(entry(3).oid);
    expect(index.known('b'.repeat(40) as Oid)).toBeUndefined();
  });
});
