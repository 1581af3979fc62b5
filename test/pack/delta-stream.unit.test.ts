/**
 * The streaming delta applier (pack/delta-stream.ts) against `applyDelta`: the same result and
 * object id, whether the result is collected whole or deflated into a blob entry in pieces, and
 * whether the base is in memory or stored in chunks read back one at a time (inflated in the
 * reader, kept windows, a read behind them inflated over again and charged to the budget); the
 * same refusals for corrupt deltas.
 */
import { describe, expect, it } from 'vitest';
import { deflateSync, inflateSync } from 'node:zlib';
import { ChunkedBase, MemoryBase, StreamingDelta, type BaseSource } from '../../src/pack/delta-stream.js';
import { applyDelta, createDelta } from '../../src/pack/delta.js';
import { InflateBudget } from '../../src/pack/budget.js';
import { encodeEntryHeader } from '../../src/pack/entry.js';
import { hashObject } from '../../src/object/oid.js';
import { concat, equal } from '../../src/platform/bytes.js';
import { CorruptPackError, LimitExceededError } from '../../src/errors.js';
import { copyOp, noise, varint } from './crafted-packs.js';

const MiB = 1024 * 1024;

async function run(base: BaseSource, delta: Uint8Array, collect: boolean): Promise<{ body: Uint8Array; oid: string }> {
  const sd = new StreamingDelta(base, 'blob', delta, 512 * MiB, collect);
  const pieces: Uint8Array[] = [];
  while (!sd.done) {
    await sd.step();
    pieces.push(...sd.takePieces());
  }
  if (collect) return { body: sd.body, oid: sd.oid() };
  // The pieces are a whole blob entry: header, then a zlib stream of the result, cut into pieces
  // of exactly 1 MiB (the last shorter), so the consumer stores each as a chunk without a copy.
  for (const p of pieces.slice(0, -1)) expect(p.length).toBe(MiB);
  expect(pieces.at(-1)!.length).toBeLessThanOrEqual(MiB);
  const entry = concat(pieces);
  const header = encodeEntryHeader(3, sd.resultSize);
  expect(equal(entry.subarray(0, header.length), header)).toBe(true);
  return { body: new Uint8Array(inflateSync(entry.subarray(header.length))), oid: sd.oid() };
}

/** `body` stored as a blob entry in chunks of `size`, fetched one at a time; counts fetches. */
function chunked(body: Uint8Array, size: number, budget: InflateBudget): { base: ChunkedBase; fetched: () => number } {
  const entry = concat([encodeEntryHeader(3, body.length), new Uint8Array(deflateSync(body, { level: 1 }))]);
  let n = 0;
  const base = new ChunkedBase(
    body.length,
    async (i) => {
      n++;
      if (i * size >= entry.length) throw new Error('past the end');
      return entry.slice(i * size, (i + 1) * size);
    },
    budget,
  );
  return { base, fetched: () => n };
}

/** Copies of 64 KiB blocks of a base of `size` bytes, in the order given. */
function blockDelta(size: number, blocks: number[]): Uint8Array {
  const ops = [...varint(size), ...varint(blocks.length * 0x10000)];
  for (const b of blocks) ops.push(...copyOp(b * 0x10000, 0x10000));
  return Uint8Array.from(ops);
}

describe('streaming delta application', () => {
  const base = noise(3 * MiB + 777, 3);
  const target = concat([base.subarray(2 * MiB), new TextEncoder().encode('middle'), base.subarray(0, 2 * MiB), noise(70_000, 9)]);
  const delta = createDelta(base, target);
  const want = applyDelta(base, delta);

  it('gives applyDelta’s result and id, collected or streamed, from memory or from chunks', async () => {
    for (const collect of [true, false]) {
      const fromMemory = await run(new MemoryBase(base), delta, collect);
      expect(equal(fromMemory.body, want)).toBe(true);
      expect(fromMemory.oid).toBe(hashObject('blob', want));
      const fromChunks = await run(chunked(base, 256 * 1024, new InflateBudget(undefined)).base, delta, collect);
      expect(equal(fromChunks.body, want)).toBe(true);
      expect(fromChunks.oid).toBe(hashObject('blob', want));
    }
  });

  it('reads a chunked base once when copies go forward, and charges reading it again', async () => {
    const size = 12 * MiB;
    const big = noise(size, 5);
    const forward = chunked(big, MiB, new InflateBudget(undefined));
    const blocks = Array.from({ length: size / 0x10000 }, (_, i) => i);
    expect(equal((await run(forward.base, blockDelta(size, blocks), false)).body, big)).toBe(true);
    expect(forward.fetched()).toBeLessThanOrEqual(13);

    // Backwards, 64 KiB at a time: the kept windows absorb most; what is inflated again is
    // charged, and a small fixed budget refuses it.
    const budget = new InflateBudget(MiB);
    const backward = chunked(big, MiB, budget);
    const reversed = [...blocks].reverse();
    await expect(run(backward.base, blockDelta(size, reversed), true)).rejects.toBeInstanceOf(LimitExceededError);
    const roomy = chunked(big, MiB, new InflateBudget(undefined));
    const out = await run(roomy.base, blockDelta(size, reversed), true);
    expect(out.oid).toBe(hashObject('blob', concat(reversed.map((b) => big.subarray(b * 0x10000, (b + 1) * 0x10000)))));
  });

  it('refuses what applyDelta refuses', async () => {
    const small = noise(1000, 1);
    const bad = (ops: number[]) => Uint8Array.from([...varint(small.length), ...ops]);
    // Wrong base size, a copy outside the base, writing past the result, the reserved op, short.
    const cases = [
      Uint8Array.from([...varint(999), ...varint(1), 1, 65]),
      bad([...varint(10), 0x91, 0xf0, 0xff]),
      bad([...varint(1), 2, 65, 66]),
      bad([...varint(1), 0]),
      bad([...varint(5), 1, 65]),
    ];
    for (const d of cases) {
      expect(() => applyDelta(small, d)).toThrow(CorruptPackError);
      await expect(
        (async () => {
          await run(new MemoryBase(small), d, true);
        })(),
      ).rejects.toBeInstanceOf(CorruptPackError);
    }
  });
});
