/**
 * The pack reader's shared buffers (pack/slabs.ts) and what uses them: parts that never
 * overlap, the base cache counting a shared buffer whole, `D` values written in place, and
 * `applyDelta` writing into a given part with the same result.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Slabs } from '../../src/pack/slabs.js';
import { BaseCache } from '../../src/pack/base-cache.js';
import { storedDeltaEntry } from '../../src/pack/entry.js';
import { applyDelta, createDelta } from '../../src/pack/delta.js';
import { encodeStoredDelta, refDeltaEntry } from '../../src/object/packed.js';
import { TYPE_NAMES, type Oid, oidToBytes } from '../../src/object/oid.js';
import { toHex, utf8 } from '../../src/platform/bytes.js';
import { nodePlatform } from '../../src/platform/node.js';
import { portablePlatform } from '../../src/platform/portable.js';

const KiB = 1024;
const id = (n: number) => `${n}`.padStart(40, '0') as Oid;

describe('Slabs', () => {
  it('carves zero-filled parts that never overlap out of shared buffers, and gives a big part a buffer of its own', () => {
    const slabs = new Slabs();
    const parts = [10, 0, 300, 16 * KiB, 5].map((n) => slabs.alloc(n));
    for (const p of parts) expect(p.every((b) => b === 0)).toBe(true);
    parts.forEach((p, i) => p.fill(i + 1));
    parts.forEach((p, i) => expect(p.every((b) => b === i + 1)).toBe(true));
    expect(new Set(parts.map((p) => p.buffer)).size).toBe(1);
    expect(parts[0]!.buffer.byteLength).toBeGreaterThan(2 * 16 * KiB);
    const big = slabs.alloc(16 * KiB + 1);
    expect(big.buffer.byteLength).toBe(16 * KiB + 1);
    const copy = slabs.copy(Uint8Array.of(1, 2, 3));
    expect([...copy]).toEqual([1, 2, 3]);
    expect(copy.buffer).toBe(parts[0]!.buffer);
  });

  it('starts a new shared buffer when a part does not fit the rest of the current one', () => {
    const slabs = new Slabs();
    const first = slabs.alloc(1);
    const seen = new Set<ArrayBufferLike>([first.buffer]);
    for (let i = 0; i < 40; i++) seen.add(slabs.alloc(16 * KiB).buffer);
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe('BaseCache with bodies in shared buffers', () => {
  it('counts a shared buffer once, at its full size, while any body in it is cached', () => {
    const slab = new ArrayBuffer(256 * KiB);
    const part = (at: number) => new Uint8Array(slab, at, 1000);
    const c = new BaseCache(300 * KiB);
    for (let i = 0; i < 50; i++) c.set(id(i), part(i * 1000));
    for (let i = 0; i < 50; i++) expect(c.peek(id(i))).toBeDefined(); // 256 KiB counted, not 50 x 256
    // A second shared buffer does not fit beside the first: the least recently used bodies go
    // until the first buffer holds none.
    const other = new Uint8Array(new ArrayBuffer(256 * KiB), 0, 1000);
    c.set(id(100), other);
    expect(c.peek(id(100))).toBeDefined();
    for (let i = 0; i < 50; i++) expect(c.peek(id(i))).toBeUndefined();
  });

  it('frees a shared buffer once its last body leaves, and counts a body that is its own buffer by its size', () => {
    const c = new BaseCache(300 * KiB);
    const slab = new ArrayBuffer(256 * KiB);
    c.set(id(1), new Uint8Array(slab, 0, 10));
    c.set(id(2), new Uint8Array(slab, 10, 10));
    c.set(id(1), new Uint8Array(40 * KiB)); // replaced by a body of its own
    c.set(id(3), new Uint8Array(3 * KiB));
    expect(c.peek(id(2))).toBeDefined(); // 256 + 40 + 3 KiB fit
    c.set(id(2), new Uint8Array(10)); // the slab's last body replaced: its 256 KiB are free
    c.set(id(4), new Uint8Array(200 * KiB));
    for (const n of [1, 2, 3, 4]) expect(c.peek(id(n))).toBeDefined();
  });
});

describe('storedDeltaEntry', () => {
  it('writes the same D value as encodeStoredDelta over refDeltaEntry, from a raw or hex base id, in a given part', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 30 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ maxLength: 300 }),
        (type, size, deltaSize, raw, zlib) => {
          const want = encodeStoredDelta(TYPE_NAMES[type]!, size, refDeltaEntry(deltaSize, raw, zlib));
          const hex = toHex(raw) as Oid;
          const slabs = new Slabs();
          for (const made of [storedDeltaEntry(type, size, deltaSize, raw, zlib), storedDeltaEntry(type, size, deltaSize, hex, zlib, (n) => slabs.alloc(n))]) {
            expect(made.stored).toEqual(want);
            expect(made.entry).toEqual(refDeltaEntry(deltaSize, oidToBytes(hex), zlib));
            expect(made.entry.buffer).toBe(made.stored.buffer);
            expect(made.entry.byteOffset + made.entry.length).toBe(made.stored.byteOffset + made.stored.length);
          }
        },
      ),
    );
  });
});

describe('applyDelta into a given part', () => {
  it('gives the same result as a fresh buffer, for short and long copies and inserts', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.tuple(fc.nat(3000), fc.nat(400), fc.uint8Array({ maxLength: 200 })), { maxLength: 8 }),
        (base, edits) => {
          let target = base;
          for (const [at, drop, insert] of edits) {
            const i = Math.min(at, target.length);
            target = Uint8Array.from([...target.subarray(0, i), ...insert, ...target.subarray(Math.min(target.length, i + drop))]);
          }
          const delta = createDelta(base, target);
          const slabs = new Slabs();
          slabs.alloc(7).fill(0xff); // a neighbour before the part, left as it was
          const into = applyDelta(base, delta, undefined, (n) => slabs.alloc(n));
          expect(into).toEqual(target);
          expect(applyDelta(base, delta)).toEqual(target);
        },
      ),
    );
  });
});

describe('inflatePrefix into a given part', () => {
  it('inflates into the part on Node, the same bytes and length as without it; the portable platform may ignore it', () => {
    const body = utf8('tree deltas and text '.repeat(40));
    const z = nodePlatform.deflate(body);
    const stream = new Uint8Array(z.length + 5);
    stream.set(z);
    for (const p of [nodePlatform, portablePlatform]) {
      const slabs = new Slabs();
      const into = slabs.alloc(body.length + 1);
      const r = p.inflatePrefix(stream, body.length, into)!;
      expect(r.output).toEqual(body);
      expect(r.consumed).toBe(z.length);
      expect(p.inflatePrefix(stream, body.length)).toEqual(r);
      if (p === nodePlatform) expect(r.output.buffer).toBe(into.buffer);
    }
  });
});
