import { describe, expect, it } from 'vitest';
import { NO_PACKED, PackedBases } from '../../src/pack/packed-bases.js';
import { createDelta } from '../../src/pack/delta.js';
import { platform } from '../../src/platform/index.js';
import { utf8 } from '../../src/platform/bytes.js';
import type { Oid } from '../../src/object/oid.js';

const text = (n: number, seed: number) => utf8(Array.from({ length: n }, (_, i) => `line ${i} of version ${seed % 7 === 0 ? i : seed}\n`).join(''));
const MAX = 1 << 30;

/** A chain of versions: v0 whole, each next one a delta of the one before, added as the reader adds them. */
function chain(bases: PackedBases, length: number): { oids: Oid[]; bodies: Uint8Array[]; numbers: number[] } {
  const oids: Oid[] = [];
  const bodies: Uint8Array[] = [];
  const numbers: number[] = [];
  for (let v = 0; v < length; v++) {
    const body = text(200, v);
    const oid = `${v}`.padStart(40, '0') as Oid;
    const n =
      v === 0
        ? bases.add(oid, platform().deflate(body), body.length, NO_PACKED, body.length)
        : (() => {
            const delta = createDelta(bodies[v - 1]!, body);
            return bases.add(oid, platform().deflate(delta), delta.length, numbers[v - 1]!, body.length);
          })();
    oids.push(oid);
    bodies.push(body);
    numbers.push(n);
  }
  return { oids, bodies, numbers };
}

describe('PackedBases', () => {
  it('rebuilds a body from its chain, starting from a body still held, and hands each one rebuilt to keep', () => {
    const bases = new PackedBases(1 << 20);
    const { oids, bodies, numbers } = chain(bases, 6);
    const kept: Oid[] = [];
    const none = () => undefined;
    expect(bases.rebuild(numbers[5]!, none, (oid) => kept.push(oid), MAX)).toEqual(bodies[5]);
    expect(kept).toEqual(oids); // from the whole entry up the chain
    const fromHeld: Oid[] = [];
    const held = (oid: Oid) => (oid === oids[3] ? bodies[3] : undefined);
    expect(bases.rebuild(numbers[5]!, held, (oid) => fromHeld.push(oid), MAX)).toEqual(bodies[5]);
    expect(fromHeld).toEqual([oids[4], oids[5]]);
  });

  it('forgets the oldest entries past its byte bound: a chain through one of them is not rebuilt', () => {
    const bases = new PackedBases(2000);
    const { numbers, bodies } = chain(bases, 40);
    const none = () => undefined;
    expect(bases.rebuild(numbers[39]!, none, () => {}, MAX)).toBeUndefined(); // its whole entry is gone
    expect(
      bases.rebuild(
        numbers[39]!,
        (oid) => (oid === `${38}`.padStart(40, '0') ? bodies[38] : undefined),
        () => {},
        MAX,
      ),
    ).toEqual(bodies[39]);
    expect(bases.rebuild(NO_PACKED, none, () => {}, MAX)).toBeUndefined();
  });

  it('stops rebuilding once the bytes rebuilt pass twice the bytes resolved plus the floor', () => {
    const bases = new PackedBases(1 << 20, 0);
    const { numbers, bodies } = chain(bases, 3);
    const none = () => undefined;
    // Each rebuild of the last version rebuilds the whole chain: as many bytes as were resolved.
    let answers = 0;
    while (bases.rebuild(numbers[2]!, none, () => {}, MAX) !== undefined) {
      answers++;
      expect(answers).toBeLessThan(10);
    }
    expect(answers).toBe(2);
    // Spent for good: even a whole entry is no longer inflated again.
    expect(bases.rebuild(numbers[0]!, none, () => {}, MAX)).toBeUndefined();
    expect(bodies).toHaveLength(3);
  });
});
