/**
 * The delta entries a pack keeps between its passes (repo/kept-entries.ts): whatever the
 * memory budget, the scratch-file budget, the arena size, the depths they are regrouped by and
 * the batches they are read back in, every entry kept reads back as the bytes given, the rest
 * say they were not kept; a scratch file that fails part way loses nothing silently.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeptEntries, ScratchPool } from '../../src/repo/kept-entries.js';
import type { ScratchFile } from '../../src/platform/types.js';

/**
 * Scratch files in memory, a fresh one per open (a closed one refuses reads); `failAfter`:
 * appends (over all files) that succeed before every further one throws.
 */
function memoryScratch(failAfter = Number.POSITIVE_INFINITY) {
  const stats = { opened: 0, open: 0, appends: 0, reads: 0 };
  const open = (): ScratchFile => {
    let data = new Uint8Array(0);
    let closed = false;
    stats.opened++;
    stats.open++;
    return {
      append(bytes) {
        if (stats.appends >= failAfter) throw new Error('no space left on device');
        stats.appends++;
        const at = data.length;
        const grown = new Uint8Array(at + bytes.length);
        grown.set(data);
        grown.set(bytes, at);
        data = grown;
        return at;
      },
      read(position, length) {
        if (closed) throw new Error('scratch file read after close');
        if (position + length > data.length) throw new Error('scratch file read past its end');
        stats.reads++;
        return data.slice(position, position + length);
      },
      close() {
        if (!closed) stats.open--;
        closed = true;
      },
    };
  };
  return { open, stats };
}

describe('kept delta entries', () => {
  it('read back as given from memory, the scratch file or neither, through regrouping and prefetching', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300, size: 'max' }), { minLength: 1, maxLength: 120, size: 'max' }),
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 0, max: 20000 }),
        fc.integer({ min: 64, max: 1024 }),
        fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer(),
        fc.integer({ min: 0, max: 40000 }),
        async (entries, budget, spill, arena, failAfter, batch, seed, poolBytes) => {
          const n = entries.length;
          const scratch = memoryScratch(failAfter);
          // The process's scratch budget, shared with other packs: what it lacks is not kept.
          const pool = new ScratchPool(poolBytes);
          const kept = new KeptEntries(n, budget, spill, scratch.open, arena, pool);
          // Kept in a shuffled order, as a scan of the store meets them.
          const order = Array.from(entries.keys());
          let s = seed;
          for (let i = n - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) | 0;
            const j = (s >>> 8) % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          for (const p of order) kept.keep(p, entries[p]!);
          expect([...kept.keptOrder()]).toEqual(order.filter((p) => kept.wasKept(p)));
          const depth = Uint8Array.from(entries, (_, p) => (p * 7 + seed) % 5);
          await kept.regroup(depth);
          // Read back in the pack's order: depth by depth, kept ones in the order kept.
          const sendOrder = [0, 1, 2, 3, 4].flatMap((d) => [...kept.keptOrder()].filter((p) => depth[p] === d));
          for (let at = 0; at < sendOrder.length; at += batch) {
            const positions = sendOrder.slice(at, at + batch);
            kept.prefetch(positions);
            for (const p of positions) {
              // Let go by a failed regroup: it reads again from the store (not kept).
              if (!kept.has(p)) continue;
              expect(Buffer.from(kept.get(p)).equals(Buffer.from(entries[p]!))).toBe(true);
            }
          }
          // Without a failure, what fit a budget was kept.
          if (failAfter === undefined && poolBytes >= 2 * spill + 2 * arena && entries.every((e) => e.length <= arena)) {
            const total = entries.reduce((sum, e) => sum + e.length, 0);
            if (total <= budget) expect(order.every((p) => kept.has(p))).toBe(true);
          }
          expect(pool.left).toBeGreaterThanOrEqual(0);
          kept.close();
          expect(scratch.stats.open).toBe(0);
          expect(pool.left).toBe(poolBytes);
        },
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('write past the memory budget to the scratch file and read a regrouped depth back in few reads', async () => {
    const scratch = memoryScratch();
    const n = 4000;
    const entries = Array.from({ length: n }, (_, p) => Uint8Array.from({ length: 40 + (p % 60) }, (_, i) => (p * 31 + i) & 0xff));
    const kept = new KeptEntries(n, 10_000, 1 << 30, scratch.open, 4096);
    for (let p = 0; p < n; p++) kept.keep(p, entries[p]!);
    expect(kept.spilled).toBe(true);
    expect(entries.every((_, p) => kept.has(p))).toBe(true);
    const depth = Uint8Array.from(entries, (_, p) => p % 10);
    await kept.regroup(depth);
    const appended = scratch.stats.appends;
    const reads = scratch.stats.reads;
    // One depth's 400 entries, in the order kept, in one batch: a read per bucket (1/16 of an
    // arena) at most, not one per entry.
    const one = [...kept.keptOrder()].filter((p) => depth[p] === 3);
    const bytes = one.reduce((sum, p) => sum + entries[p]!.length, 0);
    kept.prefetch(one);
    expect(scratch.stats.reads - reads).toBeLessThanOrEqual(Math.ceil(bytes / 256) + 1);
    expect(scratch.stats.reads - reads).toBeLessThan(one.length / 2);
    for (const p of one) expect(Buffer.from(kept.get(p)).equals(Buffer.from(entries[p]!))).toBe(true);
    expect(scratch.stats.appends).toBe(appended);
    kept.close();
  });

  it('let go of what a failing scratch file did not take, while spilling or while regrouping', async () => {
    // 100 entries of 50 bytes in arenas of 256 (five each), nothing in memory by budget: 19
    // arenas written, the 20th still being filled; regrouped into buckets of one entry each.
    const cases: [failAfter: number, keptAfterKeep: number, keptAfterRegroup: number][] = [
      [0, 5, 5], // the first write fails: the arena being filled stays, nothing more is kept
      [2, 15, 5], // two arenas written; every regroup write fails: their entries let go
      [21, 100, 7], // all written; two of the regroup's writes succeed
      [Number.POSITIVE_INFINITY, 100, 100],
    ];
    for (const [failAfter, afterKeep, afterRegroup] of cases) {
      const scratch = memoryScratch(failAfter);
      const n = 100;
      const kept = new KeptEntries(n, 0, 1 << 20, scratch.open, 256);
      for (let p = 0; p < n; p++) kept.keep(p, new Uint8Array(50).fill(p));
      const held = () => Array.from({ length: n }, (_, p) => p).filter((p) => kept.has(p));
      expect(held().length, `failAfter ${failAfter}`).toBe(afterKeep);
      await kept.regroup(Uint8Array.from({ length: n }, (_, p) => p % 3));
      expect(held().length, `failAfter ${failAfter}`).toBe(afterRegroup);
      for (const p of held()) expect(kept.get(p)).toEqual(new Uint8Array(50).fill(p));
      kept.close();
      expect(scratch.stats.open).toBe(0);
    }
  });

  it('share one scratch budget between packs: what one holds, another cannot take until it closes', async () => {
    const pool = new ScratchPool(3 * 256);
    const entries = (p: number) => new Uint8Array(50).fill(p);
    const one = new KeptEntries(100, 0, 1 << 20, memoryScratch().open, 256, pool);
    for (let p = 0; p < 100; p++) one.keep(p, entries(p));
    // Three arenas of 250 bytes fit the pool; the fourth arena stays in memory, then nothing.
    expect(Array.from({ length: 100 }, (_, p) => one.has(p)).filter(Boolean).length).toBe(20);
    const other = new KeptEntries(100, 0, 1 << 20, memoryScratch().open, 256, pool);
    for (let p = 0; p < 100; p++) other.keep(p, entries(p));
    expect(Array.from({ length: 100 }, (_, p) => other.has(p)).filter(Boolean).length).toBe(5);
    other.close();
    // Regrouping needs room for the second copy (the first is given back after it): with 18
    // bytes left, every filed entry is let go (read again from the store).
    await one.regroup(new Uint8Array(100));
    expect(Array.from({ length: 100 }, (_, p) => one.has(p)).filter(Boolean).length).toBe(5);
    one.close();
    expect(pool.left).toBe(3 * 256);
  });

  it('keep nothing past the memory budget without a scratch file', () => {
    const kept = new KeptEntries(10, 100, 1 << 30, null, 64);
    for (let p = 0; p < 10; p++) kept.keep(p, new Uint8Array(30).fill(p));
    expect(kept.spilled).toBe(false);
    const held = Array.from({ length: 10 }, (_, p) => kept.has(p));
    expect(held.filter(Boolean).length).toBeGreaterThan(0);
    expect(held.filter(Boolean).length).toBeLessThan(10);
    for (let p = 0; p < 10; p++) if (held[p]) expect(kept.get(p)).toEqual(new Uint8Array(30).fill(p));
  });
});
