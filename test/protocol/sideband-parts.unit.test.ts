/**
 * sidebandParts (src/protocol/sideband.ts): frames a pack on channel 1 without copying it (each
 * payload is a view of the source chunk, so a chunk shared by many clients stays one buffer),
 * with progress lines on channel 2; packProgress (src/protocol/progress.ts) words them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSideband, MAX_SIDEBAND_PAYLOAD, SidebandAbort, sidebandParts } from '../../src/protocol/sideband.js';
import { packHeaderCount, packProgress } from '../../src/protocol/progress.js';
import { decodeAllPkts } from '../../src/protocol/pkt-line.js';
import { concat, fromUtf8 } from '../../src/platform/bytes.js';
import { encodePackHeader } from '../../src/pack/pack-writer.js';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

async function* from(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** Channel and data of every packet in the concatenated parts. */
function packets(parts: Uint8Array[]): { channel: number; data: Uint8Array }[] {
  return decodeAllPkts(concat(parts)).map((p) => {
    if (p.type !== 'data') throw new Error(`unexpected ${p.type}`);
    return decodeSideband(p.data);
  });
}

describe('sidebandParts', () => {
  it('frames any chunking into packets within the limit that reassemble exactly, payloads being views of the source (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 4 }), fc.constantFrom(MAX_SIDEBAND_PAYLOAD, 995), async (sizes, max) => {
        const chunks = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (j * 7 + i) & 255));
        const parts = await collect(sidebandParts(from(chunks), { maxPayload: max }));
        const pkts = packets(parts);
        for (const p of pkts) {
          expect(p.channel).toBe(1);
          expect(p.data.length).toBeLessThanOrEqual(max);
        }
        expect(Buffer.compare(concat(pkts.map((p) => p.data)), concat(chunks))).toBe(0);
        const sources = new Set(chunks.map((c) => c.buffer));
        // Every part is a 5-byte header or a view of a source chunk: nothing of the pack is copied.
        for (const part of parts) expect(part.length === 5 || sources.has(part.buffer as ArrayBuffer)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('sends the progress lines due before each chunk and at the end, on channel 2', async () => {
    const due = [['a\n'], ['b\n', 'c\n']];
    const parts = await collect(sidebandParts(from([new Uint8Array([9])]), { progress: () => due.shift() ?? [] }));
    expect(packets(parts).map((p) => `${p.channel}:${fromUtf8(p.data)}`)).toEqual(['2:a\n', '1:\t', '2:b\n', '2:c\n']);
  });

  it('turns a failure of the source into a channel-3 packet and an abort', async () => {
    const out: Uint8Array[] = [];
    const src = (async function* () {
      yield new Uint8Array([1, 2, 3]);
      throw new Error('disk on fire');
    })();
    await expect(
      (async () => {
        for await (const c of sidebandParts(src)) out.push(c);
      })(),
    ).rejects.toBeInstanceOf(SidebandAbort);
    expect(fromUtf8(out.at(-1)!)).toBe('0012\x03disk on fire\n');
  });
});

describe('packProgress', () => {
  it("words a pack's count as C git does, passing the pack through unchanged", async () => {
    const chunks = [encodePackHeader(3), new Uint8Array([1, 2, 3]), new Uint8Array(20)];
    const p = packProgress(from(chunks));
    const it = p.pack[Symbol.asyncIterator]();
    expect(p.take()).toEqual([]);
    expect((await it.next()).value).toBe(chunks[0]);
    expect(p.take()).toEqual(['Enumerating objects: 3, done.\n', 'Counting objects: 100% (3/3), done.\n']);
    expect((await it.next()).value).toBe(chunks[1]);
    expect((await it.next()).value).toBe(chunks[2]);
    expect(p.take()).toEqual([]);
    expect((await it.next()).done).toBe(true);
    expect(p.take()).toEqual(['Total 3, reused 3, pack-reused 0\n']);
  });

  it('says nothing about a stream that is not a pack', async () => {
    const p = packProgress(from([new Uint8Array(4)]));
    await collect(p.pack);
    expect(p.take()).toEqual([]);
    expect(packHeaderCount(encodePackHeader(70_000))).toBe(70_000);
  });
});
