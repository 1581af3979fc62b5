/**
 * The order of a pack's deltas (repo/delta-order.ts), over random plans: every chain within
 * MAX_CHAIN after `chainDepths` cut it, depths consistent with the bases left, and in
 * `byDepth`'s order every delta after its base, each delta once.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_CHAIN, THIN, WHOLE, byDepth, chainDepths } from '../../src/repo/delta-order.js';

/** A plan of `n` positions: chains of random lengths (some past MAX_CHAIN), bases anywhere in the pack, some thin. */
const plans = fc.record({ chains: fc.array(fc.integer({ min: 1, max: 130 }), { minLength: 1, maxLength: 12 }), seed: fc.integer() }).map(({ chains, seed }) => {
  let x = seed >>> 0 || 1;
  const rand = (k: number) => (x = (x * 1103515245 + 12345) >>> 0) % k;
  const n = chains.reduce((a, b) => a + b, 0);
  const slots = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rand(i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  const base = new Int32Array(n).fill(WHOLE);
  let at = 0;
  for (const len of chains) {
    // A chain's links at shuffled positions: link k is a delta of link k - 1; its root whole or thin.
    base[slots[at]!] = rand(3) === 0 ? THIN : WHOLE;
    for (let k = 1; k < len; k++) base[slots[at + k]!] = slots[at + k - 1]!;
    at += len;
  }
  return base;
});

describe('delta order', () => {
  it('cuts chains at MAX_CHAIN and sends every delta after its base', () => {
    fc.assert(
      fc.property(plans, (planned) => {
        const base = planned.slice();
        const wasDelta = new Uint8Array(base.length);
        for (let i = 0; i < base.length; i++) if (base[i] !== WHOLE) wasDelta[i] = 1;
        const depth = chainDepths(base);
        const wrong: number[] = [];
        for (let i = 0; i < base.length; i++) {
          const b = base[i]!;
          if (depth[i] !== (b === WHOLE ? 0 : b === THIN ? 1 : depth[b]! + 1) || depth[i]! > MAX_CHAIN) wrong.push(i);
          // Only a link of a chain is cut to whole, never given another base.
          if (b !== WHOLE && b !== planned[i]) wrong.push(i);
        }
        expect(wrong).toEqual([]);
        const order = byDepth(wasDelta, depth);
        expect(order.length).toBe(wasDelta.reduce((a, b) => a + b, 0));
        const at = new Map(Array.from(order, (p, k) => [p, k]));
        expect(at.size).toBe(order.length);
        const early = Array.from(order).filter((p) => base[p]! >= 0 && wasDelta[base[p]!] === 1 && at.get(base[p]!)! > at.get(p)!);
        expect(early).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('takes the positions given first in their order within a depth', () => {
    const wasDelta = Uint8Array.of(1, 1, 1, 1, 0, 1);
    const depth = Uint8Array.of(1, 1, 2, 1, 0, 1);
    expect(Array.from(byDepth(wasDelta, depth))).toEqual([0, 1, 3, 5, 2]);
    const first = [5, 2, 1];
    expect(Array.from(byDepth(wasDelta, depth, first, (i) => first.includes(i)))).toEqual([5, 1, 0, 3, 2]);
  });
});
