import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyDelta, createDelta, readDeltaSizes } from '../../src/pack/delta.js';
import { CorruptPackError, LimitExceededError } from '../../src/errors.js';
import { utf8 } from '../../src/platform/bytes.js';
import { pseudoRandom } from './git-helpers.js';

/** A target derived from a base by a few edits, so deltas have something to copy. */
const baseAndTarget = fc
  .tuple(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.tuple(fc.nat(), fc.nat(200), fc.uint8Array({ maxLength: 100 })), { maxLength: 6 }))
  .map(([base, edits]) => {
    const t = Array.from(base);
    for (const [at, del, ins] of edits) {
      const p = t.length === 0 ? 0 : at % t.length;
      t.splice(p, del, ...ins);
    }
    return { base, target: Uint8Array.from(t) };
  });

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

describe('delta', () => {
  it('createDelta then applyDelta gives the target (edited bases)', () => {
    fc.assert(
      fc.property(baseAndTarget, ({ base, target }) => {
        const d = createDelta(base, target);
        expect(readDeltaSizes(d)).toMatchObject({ baseSize: base.length, resultSize: target.length });
        expect(applyDelta(base, d)).toEqual(target);
      }),
      { numRuns: 300 },
    );
  });

  it('createDelta then applyDelta gives the target (unrelated inputs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }), (base, target) => {
        expect(applyDelta(base, createDelta(base, target))).toEqual(target);
      }),
    );
  });

  it('copies most of a lightly edited large file and splits copies over 64 KiB', () => {
    const base = pseudoRandom(300_000, 3);
    const target = base.slice();
    target[150_000] ^= 1;
    const d = createDelta(base, target);
    expect(d.length).toBeLessThan(200);
    expect(applyDelta(base, d)).toEqual(target);
  });

  it('with maxSize, gives up on unrelated content and still encodes a small delta in full', () => {
    const base = pseudoRandom(100_000, 5);
    expect(createDelta(base, pseudoRandom(100_000, 6), 50_000)).toBeUndefined();
    const target = base.slice();
    target[70_000] ^= 1;
    const d = createDelta(base, target, 50_000)!;
    expect(d.length).toBeLessThan(100);
    expect(applyDelta(base, d)).toEqual(target);
    // A limit the finished delta just exceeds.
    expect(createDelta(base, target, d.length - 1)).toBeUndefined();
    expect(createDelta(base, target, d.length)).toEqual(d);
  });

  it('rejects a base of the wrong size', () => {
    const d = createDelta(utf8('abc'), utf8('abcd'));
    expect(() => applyDelta(utf8('ab'), d)).toThrow(CorruptPackError);
  });

  it('rejects a copy outside the base', () => {
    // base 4 bytes, result 8, copy offset 2 size 8
    const d = Uint8Array.from([...varint(4), ...varint(8), 0x80 | 0x01 | 0x10, 2, 8]);
    expect(() => applyDelta(utf8('abcd'), d)).toThrow(CorruptPackError);
  });

  it('rejects op 0, truncated ops and a wrong result size', () => {
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([2, 1, 0]))).toThrow(CorruptPackError);
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([2, 3, 3, 0x61]))).toThrow(CorruptPackError); // insert cut short
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([2, 2, 0x91, 0]))).toThrow(CorruptPackError); // copy bytes missing
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([2, 5, 0x90, 2]))).toThrow(CorruptPackError); // 2 of 5 bytes
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([2, 1, 0x90, 2]))).toThrow(CorruptPackError); // writes past 1
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([2]))).toThrow(CorruptPackError); // header cut
  });

  it('refuses a huge declared result before allocating it', () => {
    const d = Uint8Array.from([...varint(2), ...varint(2 ** 40), 0x90, 2]);
    expect(() => applyDelta(utf8('ab'), d, 1 << 20)).toThrow(LimitExceededError);
    // Without a limit it is still rejected (cannot be allocated, and is never produced).
    expect(() => applyDelta(utf8('ab'), Uint8Array.from([...varint(2), ...new Array(11).fill(0xff), 1]))).toThrow(CorruptPackError);
  });

  it('reads a copy with a 4-byte offset and size 0 meaning 0x10000', () => {
    const base = pseudoRandom(0x1000000 + 0x10000 + 10, 5);
    const d = Uint8Array.from([...varint(base.length), ...varint(0x10000), 0x80 | 0x08, 0x01]);
    expect(applyDelta(base, d)).toEqual(base.subarray(0x1000000, 0x1010000));
  });
});
