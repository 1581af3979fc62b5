import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSideband, encodeSideband, MAX_SIDEBAND_PAYLOAD, SidebandAbort, sidebandStream } from '../../src/protocol/sideband.js';
import { decodeAllPkts } from '../../src/protocol/pkt-line.js';
import { concat, fromUtf8 } from '../../src/platform/bytes.js';

async function collectAll(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('side-band-64k', () => {
  it('splits a stream into channel-1 packets of at most 65515 bytes that reassemble exactly (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 4 }), async (sizes) => {
        const chunks = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (j + i) & 255));
        const pkts = await collectAll(
          sidebandStream(
            (async function* () {
              yield* chunks;
            })(),
          ),
        );
        const data: Uint8Array[] = [];
        for (const raw of pkts) {
          // A yielded chunk may hold several packets; each packet stays within the limit (below).
          for (const p of decodeAllPkts(raw)) {
            expect(p.type).toBe('data');
            if (p.type !== 'data') continue;
            const { channel, data: d } = decodeSideband(p.data);
            expect(channel).toBe(1);
            expect(d.length).toBeLessThanOrEqual(MAX_SIDEBAND_PAYLOAD);
            data.push(d);
          }
        }
        expect(Buffer.compare(concat(data), concat(chunks))).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it('frames progress on 2 and errors on 3', () => {
    const [p] = encodeSideband(2, 'counting\n');
    expect(fromUtf8(p!)).toBe('000e\x02counting\n');
    const [e] = encodeSideband(3, 'boom\n');
    expect(fromUtf8(e!)).toBe('000a\x03boom\n');
  });

  it('turns a failure of the source into a channel-3 packet and an abort', async () => {
    const out: Uint8Array[] = [];
    const src = (async function* () {
      yield new Uint8Array([1, 2, 3]);
      throw new Error('disk on fire');
    })();
    await expect(
      (async () => {
        for await (const c of sidebandStream(src)) out.push(c);
      })(),
    ).rejects.toBeInstanceOf(SidebandAbort);
    expect(out).toHaveLength(2);
    expect(fromUtf8(out[1]!)).toBe('0012\x03disk on fire\n');
  });
});
