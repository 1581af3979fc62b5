/** OidMap (raw ids → small integers) behaves as a Map of hex ids (`swap` answering the value before), through growth and collisions of the first bytes; OidQueue as an array queue; oidFromBytes spells ids as toHex does. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OidMap, OidQueue, OidSet } from '../../src/repo/oid-set.js';
import { oidFromBytes } from '../../src/object/oid.js';
import { toHex } from '../../src/platform/bytes.js';

describe('OidMap and OidSet', () => {
  it('match a Map and a Set of hex ids', () => {
    const idArb = fc.oneof(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      // Ids sharing their first four bytes (the hash) probe further.
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((t) => Uint8Array.from([1, 2, 3, 4, ...t])),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(idArb, fc.nat(1_000_000)), { maxLength: 3000 }), (ops) => {
        const map = new OidMap(4);
        const swapped = new OidMap(4);
        const set = new OidSet(4);
        const ref = new Map<string, number>();
        for (const [id, v] of ops) {
          const hex = toHex(id, 0, 20);
          expect(swapped.swap(id, 0, v)).toBe(ref.get(hex) ?? -1);
          expect(map.set(id, 0, v)).toBe(!ref.has(hex));
          expect(set.add(id)).toBe(!ref.has(hex));
          ref.set(hex, v);
        }
        expect(map.size).toBe(ref.size);
        expect(set.size).toBe(ref.size);
        for (const [id] of ops) {
          expect(map.get(id, 0)).toBe(ref.get(toHex(id, 0, 20)));
          expect(swapped.get(id, 0)).toBe(ref.get(toHex(id, 0, 20)));
          expect(set.has(id)).toBe(true);
        }
        const absent = new Uint8Array(20).fill(0xfe);
        if (!ref.has(toHex(absent, 0, 20))) {
          expect(map.get(absent)).toBe(-1);
          expect(set.has(absent)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads ids at an offset inside a larger buffer', () => {
    const buf = new Uint8Array(50).map((_, i) => i * 7);
    const map = new OidMap();
    map.set(buf, 13, 42);
    expect(map.get(buf.slice(13, 33))).toBe(42);
  });

  it('queue ids first in, first out through growth and reuse of taken room', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(40)), { maxLength: 400 }), (ops) => {
        const queue = new OidQueue();
        const model: string[] = [];
        for (const op of ops) {
          if (typeof op === 'number') {
            expect(queue.shift(op).map((b) => toHex(b))).toEqual(model.splice(0, op));
          } else {
            queue.push(Uint8Array.from([9, ...op]), 1);
            model.push(toHex(op));
          }
          expect(queue.length).toBe(model.length);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('spell ids in hex as toHex does', () => {
    const buf = new Uint8Array(45).map((_, i) => (i * 37 + 11) & 255);
    expect(oidFromBytes(buf, 5)).toBe(toHex(buf, 5, 25));
  });
});
