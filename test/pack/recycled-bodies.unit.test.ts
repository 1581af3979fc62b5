/**
 * Recycled bodies (pack/slabs.ts `recycle`, as the pack worker reads): parts handed out and not
 * released never share memory, released memory is carved again, and a pack read with recycling,
 * its base cache far smaller than its bodies, gives back every object with the right id and
 * bytes, the same as a read without it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Slabs, classBytes, classOf } from '../../src/pack/slabs.js';
import { readPack, type ReadPackInternals } from '../../src/pack/pack-reader.js';
import { equal } from '../../src/platform/bytes.js';
import { hashObject } from '../../src/object/oid.js';
import { copyOp, encodePackEntry, noise, refDelta, varint, versionChains, writePackSync } from './crafted-packs.js';
import { asAsync, chunks } from './git-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Every object of `pack` read through a 4 MiB base cache, each batch's bodies copied before the
 * next batch is asked for, as the pack worker does.
 */
async function readAll(pack: Uint8Array, packedBaseBytes: number, internals: ReadPackInternals): Promise<{ oid: string; body: Uint8Array }[]> {
  const got: { oid: string; body: Uint8Array }[] = [];
  for await (const batch of readPack(asAsync(chunks(pack, 64 * KiB)), { baseCacheBytes: 4 * MiB, packedBaseBytes }, internals)) {
    for (const o of batch) got.push({ oid: o.oid, body: o.body.slice() });
  }
  return got;
}

describe('Slabs with recycle', () => {
  it('carves a small body again from a body slab once all its parts came back, and never from one with a part still out', () => {
    const slabs = new Slabs(true);
    const first = Array.from({ length: 16 }, () => slabs.allocBody(16 * KiB)); // fills one 256 KiB slab
    expect(new Set(first.map((p) => p.buffer)).size).toBe(1);
    const second = slabs.allocBody(16 * KiB); // a second slab
    expect(second.buffer).not.toBe(first[0]!.buffer);
    for (const p of first.slice(1)) slabs.release(p);
    second.fill(2);
    first[0]!.fill(1);
    // One part of the first slab is still out: the next slab is a fresh one.
    const more = Array.from({ length: 16 }, () => slabs.allocBody(16 * KiB));
    expect(more.some((p) => p.buffer === first[0]!.buffer)).toBe(false);
    expect(first[0]!.every((b) => b === 1)).toBe(true);
    slabs.release(first[0]!);
    const again = Array.from({ length: 16 }, () => slabs.allocBody(16 * KiB));
    expect(again.some((p) => p.buffer === first[0]!.buffer)).toBe(true);
  });

  it('reuses a released big buffer for a body of its size class or a little smaller; a detached or twice-released one is not handed out twice', () => {
    const slabs = new Slabs(true);
    const big = slabs.allocBody(100 * KiB);
    expect(big.buffer.byteLength).toBe(112 * KiB); // 2^16 x 1.75: four classes per power of two
    slabs.release(big);
    slabs.release(big); // ignored
    const a = slabs.allocBody(100 * KiB);
    const b = slabs.allocBody(100 * KiB);
    expect(a.buffer).toBe(big.buffer);
    expect(b.buffer).not.toBe(a.buffer);
    slabs.release(b);
    expect(slabs.allocBody(60 * KiB).buffer).not.toBe(b.buffer); // 64 KiB asked: 112 KiB is more than half again
    expect(slabs.allocBody(80 * KiB).buffer).toBe(b.buffer); // 80 KiB asked, the free 112 KiB taken
    const moved = slabs.allocBody(200 * KiB);
    structuredClone(moved, { transfer: [moved.buffer] }); // what posting it to another thread does
    slabs.release(moved);
    expect(slabs.allocBody(200 * KiB).buffer.byteLength).toBe(224 * KiB);
  });

  it('sizes every class to hold what it is asked for, and no larger than a quarter of a power of two above it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16 * KiB + 1, max: 16 * 1024 * KiB }), (n) => {
        const c = classOf(n);
        expect(classBytes(c)).toBeGreaterThanOrEqual(n);
        expect(classBytes(c - 1)).toBeLessThan(n);
        expect(classOf(classBytes(c))).toBe(c);
        expect(classBytes(c)).toBeLessThan(n * 1.25 + 1);
      }),
      { numRuns: 2000 },
    );
  });

  it('without recycle, release changes nothing and bodies are fresh', () => {
    const slabs = new Slabs();
    const big = slabs.allocBody(100 * KiB);
    slabs.release(big);
    expect(slabs.allocBody(100 * KiB).buffer).not.toBe(big.buffer);
    expect(slabs.recycles).toBe(false);
  });

  it('never lets two bodies that are out share a byte, whatever the order of allocations and releases', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ alloc: fc.oneof(fc.integer({ min: 1, max: 20 * KiB }), fc.integer({ min: 20 * KiB, max: 300 * KiB })) }),
            fc.record({ release: fc.nat() }),
          ),
          {
            maxLength: 120,
          },
        ),
        (ops) => {
          const slabs = new Slabs(true);
          const out: { part: Uint8Array; mark: number }[] = [];
          let mark = 0;
          for (const op of ops) {
            if ('alloc' in op) {
              const part = slabs.allocBody(op.alloc);
              expect(part.length).toBe(op.alloc);
              mark = (mark % 250) + 1;
              part.fill(mark);
              out.push({ part, mark });
            } else if (out.length > 0) {
              const [gone] = out.splice(op.release % out.length, 1);
              slabs.release(gone!.part);
            }
            for (const o of out) expect(o.part[0] === o.mark && o.part[o.part.length - 1] === o.mark && o.part.every((b) => b === o.mark)).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a pack read with recycled bodies', () => {
  it('gives every version of every file with its id and bytes, as a read without recycling does, through a base cache of a fraction of the bodies', async () => {
    // 16 files of 1 to 100 KiB, 20 versions each: 8 MB of bodies through a 4 MiB cache.
    const { pack, objects } = versionChains(16, 20, [1 * KiB, 6 * KiB, 15 * KiB, 17 * KiB, 40 * KiB, 100 * KiB]);
    const recycled = await readAll(pack, 1 * MiB, { recycle: true });
    expect(recycled.map((o) => o.oid)).toEqual(objects.map((o) => o.oid));
    recycled.forEach((o, i) => expect(equal(o.body, objects[i]!.body)).toBe(true));
    const plain = await readAll(pack, 1 * MiB, {});
    expect(plain.map((o) => o.oid)).toEqual(objects.map((o) => o.oid));
  });

  it('keeps the base of deltas that waited for it while their results push it out of the cache and batches are taken', async () => {
    // 450 results of 120 KiB, each two bytes of its own then copies of the base, from one base of
    // 100 KiB sent after them (buffers of one size): four batches, the base out of the cache
    // before the first is taken, its buffer's turn to be reused (were it given back) in the third.
    const base = noise(100 * KiB, 3);
    const entries: Uint8Array[] = [];
    for (let i = 0; i < 450; i++) {
      const delta = [...varint(base.length), ...varint(120 * KiB), 2, i & 0xff, i >> 8, ...copyOp(0, base.length), ...copyOp(0, 20 * KiB - 2)];
      entries.push(refDelta(hashObject('blob', base), Uint8Array.from(delta)));
    }
    entries.push(encodePackEntry('blob', base));
    const pack = writePackSync(entries);
    const plain = await readAll(pack, 0, {});
    const recycled = await readAll(pack, 0, { recycle: true });
    expect(new Set(plain.map((o) => o.oid)).size).toBe(451);
    expect(recycled.map((o) => o.oid)).toEqual(plain.map((o) => o.oid));
    recycled.forEach((o, i) => expect(equal(o.body, plain[i]!.body)).toBe(true));
  });
});
