/**
 * The engine's size-bounded LRU cache (src/object/lru.ts) against a plain model: after any run
 * of gets, peeks, sets and deletes it holds exactly the most recently used entries that fit,
 * never more than `maxSize` in total, and nothing larger than `maxEntrySize`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LRUCache } from '../../src/object/lru.js';

type Op = { op: 'get' | 'peek' | 'has' | 'delete'; key: number } | { op: 'set'; key: number; size: number } | { op: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'peek' as const, 'has' as const, 'delete' as const), key: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 7 }), size: fc.integer({ min: 0, max: 40 }) }),
  fc.constant({ op: 'clear' as const }),
);

/** The model: entries oldest first, as [key, size, serial of the value]. */
function modelRun(ops: Op[], maxSize: number, maxEntrySize: number): [number, number, number][] {
  let entries: [number, number, number][] = [];
  ops.forEach((o, serial) => {
    if (o.op === 'clear') entries = [];
    else if (o.op === 'get') {
      const i = entries.findIndex((e) => e[0] === o.key);
      if (i >= 0) entries.push(...entries.splice(i, 1));
    } else if (o.op === 'delete') entries = entries.filter((e) => e[0] !== o.key);
    else if (o.op === 'set') {
      entries = entries.filter((e) => e[0] !== o.key);
      const size = Math.max(1, o.size);
      if (size <= maxEntrySize && size <= maxSize) entries.push([o.key, size, serial]);
      while (entries.reduce((n, e) => n + e[1], 0) > maxSize) entries.shift();
    }
  });
  return entries;
}

describe('the size-bounded LRU cache', () => {
  it('holds what the model holds, in use order, within its bounds', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), (ops, maxSize, maxEntrySize) => {
        const cache = new LRUCache<number, { serial: number; size: number }>({ maxSize, maxEntrySize, sizeCalculation: (v) => v.size });
        ops.forEach((o, serial) => {
          const before = cache.peek('key' in o ? o.key : -1);
          if (o.op === 'clear') cache.clear();
          else if (o.op === 'get') expect(cache.get(o.key)).toBe(before);
          else if (o.op === 'peek') expect(cache.peek(o.key)).toBe(before);
          else if (o.op === 'has') expect(cache.has(o.key)).toBe(before !== undefined);
          else if (o.op === 'delete') expect(cache.delete(o.key)).toBe(before !== undefined);
          else if (o.op === 'set') cache.set(o.key, { serial, size: o.size });
        });
        const model = modelRun(ops, maxSize, maxEntrySize);
        expect(cache.size).toBe(model.length);
        expect(cache.calculatedSize).toBe(model.reduce((n, e) => n + e[1], 0));
        expect(cache.calculatedSize).toBeLessThanOrEqual(maxSize);
        for (const [key, , serial] of model) expect(cache.peek(key)?.serial).toBe(serial);
        // An entry of the whole budget's size leaves room for nothing else.
        if (maxSize <= maxEntrySize) expect(cache.set(100, { serial: -1, size: maxSize }).size).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('evicts the least recently used first', () => {
    const cache = new LRUCache<string, number>({ maxSize: 3, sizeCalculation: () => 1 });
    cache.set('a', 1).set('b', 2).set('c', 3);
    cache.get('a'); // b is now the oldest
    cache.peek('b'); // a peek is no use
    cache.set('d', 4);
    expect(['a', 'b', 'c', 'd'].map((k) => cache.has(k))).toEqual([true, false, true, true]);
  });
});
