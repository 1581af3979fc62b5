import { describe, expect, it } from 'vitest';
import { readPack, readPackBytes, type PackObject, type ReadPackOptions } from '../../src/pack/pack-reader.js';
import { InflateBudget } from '../../src/pack/budget.js';
import { hashObject } from '../../src/object/oid.js';
import { LimitExceededError } from '../../src/errors.js';
import { distinctDelta, encodePackEntry, noise, refDelta, writePackSync, zeroBlobEntry, deltasBeforeBase } from './crafted-packs.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function refusal(pack: Uint8Array, options: ReadPackOptions): Promise<LimitExceededError> {
  const err = await readPackBytes(pack, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LimitExceededError);
  return err as LimitExceededError;
}

describe('the inflated-byte budget (maxInflatedBytes)', () => {
  it('refuses a zlib bomb from its declared size, before inflating it', async () => {
    const pack = writePackSync([zeroBlobEntry(2 * MiB)]);
    expect(pack.length).toBeLessThan(8 * KiB);
    const err = await refusal(pack, { maxInflatedBytes: 1 * MiB });
    expect(err.details.limit).toBe('maxInflatedBytes');
    expect(err.details.max).toBe(1 * MiB);
    expect(err.message).toMatch(/inflates to more than 1048576 bytes.*raise maxInflatedBytes/);
    // Within the budget it reads.
    expect((await readPackBytes(pack, { maxInflatedBytes: 3 * MiB }))[0]!.body.length).toBe(2 * MiB);
  });

  it('charges every entry: many small objects add up', async () => {
    const blobs = Array.from({ length: 20 }, (_, i) => noise(10 * KiB, i + 1));
    const pack = writePackSync(blobs.map((b) => encodePackEntry('blob', b)));
    expect(await readPackBytes(pack, { maxInflatedBytes: 20 * 10 * KiB })).toHaveLength(20);
    const err = await refusal(pack, { maxInflatedBytes: 20 * 10 * KiB - 1 });
    expect(err.details.limit).toBe('maxInflatedBytes');
  });

  it('charges a delta result before building it', async () => {
    const base = noise(64 * KiB, 9);
    const oid = hashObject('blob', base);
    const pack = writePackSync([encodePackEntry('blob', base), refDelta(oid, distinctDelta(64 * KiB, 4 * MiB, 1))]);
    expect(pack.length).toBeLessThan(80 * KiB);
    const err = await refusal(pack, { maxInflatedBytes: 2 * MiB });
    expect(err.details.limit).toBe('maxInflatedBytes');
    expect(err.message).toMatch(/the delta at \d+ \(a result of 4194304 bytes\)/);
    expect((await readPackBytes(pack, { maxInflatedBytes: 5 * MiB }))[1]!.body.length).toBe(4 * MiB);
  });

  it('defaults to 64 x the wire bytes received + 256 MiB, at most 8 GiB', () => {
    const b = new InflateBudget(undefined);
    expect(b.limit).toBe(256 * MiB);
    b.received(1 * MiB);
    expect(b.limit).toBe(256 * MiB + 64 * MiB);
    b.received(1024 * MiB);
    expect(b.limit).toBe(8 * 1024 * MiB);
    const fixed = new InflateBudget(100);
    fixed.received(1 * MiB);
    expect(fixed.limit).toBe(100);
    fixed.charge(60, 'x');
    expect(fixed.fits(40)).toBe(true);
    expect(() => fixed.charge(41, 'y')).toThrow(LimitExceededError);
  });

  it('under the default budget, a small pack cannot rebuild 4 x 256 MiB, even with its base first', async () => {
    const base = noise(64 * KiB, 5);
    const oid = hashObject('blob', base);
    const entries = [encodePackEntry('blob', base)];
    for (let i = 0; i < 4; i++) entries.push(refDelta(oid, distinctDelta(64 * KiB, 256 * MiB, i)));
    const pack = writePackSync(entries);
    let built = 0;
    const err = await (async () => {
      try {
        for await (const batch of readPack(
          (async function* () {
            yield pack;
          })(),
        ))
          built += batch.length;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).details.limit).toBe('maxInflatedBytes');
    expect(built).toBeLessThanOrEqual(2); // the base and one result
  }, 60_000);
});

describe('deltas that wait for their base', () => {
  it('count the results they declare against maxDeferredBytes', async () => {
    // Three tiny deltas declaring 100 KB each, before their base: 300 KB waiting.
    const pack = deltasBeforeBase(3, 100_000);
    expect(pack.length).toBeLessThan(80 * KiB);
    const err = await refusal(pack, { maxDeferredBytes: 250_000 });
    expect(err.details.limit).toBe('maxDeferredBytes');
    expect(await readPackBytes(pack, { maxDeferredBytes: 400_000 })).toHaveLength(4);
  });

  it('refuses 16 x 128 MiB before their base from a tiny pack (default limits)', async () => {
    const pack = deltasBeforeBase(16, 128 * MiB);
    expect(pack.length).toBeLessThan(100 * KiB);
    const err = await refusal(pack, {});
    expect(err.details.limit).toBe('maxDeferredBytes');
  });

  it('are resolved and handed out one at a time once their base arrives', async () => {
    // Four results of 17 MiB (over the 16 MiB batch size) waiting on one base: each leaves in
    // a batch of its own, before the next one is built.
    const pack = deltasBeforeBase(4, 17 * MiB);
    const batches: PackObject[][] = [];
    for await (const batch of readPack(
      (async function* () {
        yield pack;
      })(),
      { maxDeferredBytes: 100 * MiB },
    )) {
      batches.push(batch);
    }
    const big = batches.map((b) => b.filter((o) => o.body.length === 17 * MiB).length);
    expect(big.reduce((a, b) => a + b, 0)).toBe(4);
    expect(Math.max(...big)).toBe(1);
  }, 60_000);
});
