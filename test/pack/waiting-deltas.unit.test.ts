/**
 * WaitingDeltas: deltas held for a base later in the pack, by the base's offset or id, bounded by
 * their data, zlib stream and declared result, and what is left at the pack's end.
 */
import { describe, expect, it } from 'vitest';
import { CorruptPackError, LimitExceededError } from '../../src/errors.js';
import type { Oid } from '../../src/object/oid.js';
import { createDelta } from '../../src/pack/delta.js';
import { deferred, WaitingDeltas } from '../../src/pack/waiting-deltas.js';

const base = new Uint8Array(1000).map((_, i) => i % 251);
const result = new Uint8Array(3000).map((_, i) => (i * 7) % 253);
const data = createDelta(base, result);
const zlib = new Uint8Array(40);
const oid = (c: string) => c.repeat(40) as Oid;

describe('WaitingDeltas', () => {
  it('counts a delta by its data, zlib stream and declared result, and copies its data', () => {
    const d = deferred(100, data, zlib);
    expect(d.cost).toBe(data.length + zlib.length + result.length);
    expect(d.delta).toEqual(data);
    expect(d.delta.buffer).not.toBe(data.buffer);
  });

  it('hands out the deltas waiting on an entry by its offset and by its id together, once', () => {
    const w = new WaitingDeltas(1 << 20);
    const a = deferred(100, data, zlib);
    const b = deferred(200, data, zlib);
    const c = deferred(300, data, zlib);
    w.onOffset(50, a);
    w.onOid(oid('a'), b);
    w.onOffset(50, c);
    w.onOid(oid('b'), deferred(400, data, zlib));
    expect(w.take(50, oid('a'))).toEqual([a, c, b]);
    expect(w.take(50, oid('a'))).toBeUndefined();
    for (const d of [a, b, c]) w.done(d);
    // One still waits on an id never seen: the pack is corrupt, and the error names the id.
    expect(() => w.finish()).toThrow(CorruptPackError);
    expect(() => w.finish()).toThrow(`pack has 1 deltas that cannot be resolved: missing delta base ${oid('b')}`);
  });

  it('ends clean once every delta taken is resolved', () => {
    const w = new WaitingDeltas(1 << 20);
    const a = deferred(100, data, zlib);
    w.onOffset(10, a);
    w.done(w.take(10, oid('c'))![0]!);
    expect(() => w.finish()).not.toThrow();
  });

  it('refuses a delta past its bound with maxDeferredBytes, counting what was resolved out', () => {
    const one = deferred(100, data, zlib).cost;
    const w = new WaitingDeltas(2 * one);
    const a = deferred(100, data, zlib);
    w.onOffset(1, a);
    w.onOffset(1, deferred(200, data, zlib));
    let err: unknown;
    try {
      w.onOffset(2, deferred(300, data, zlib));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).details).toMatchObject({ limit: 'maxDeferredBytes', max: 2 * one, size: 3 * one });
    // Once one is resolved there is room again.
    const fresh = new WaitingDeltas(2 * one);
    fresh.onOffset(1, a);
    fresh.onOffset(1, deferred(200, data, zlib));
    fresh.done(fresh.take(1, oid('d'))![0]!);
    expect(() => fresh.onOffset(2, deferred(300, data, zlib))).not.toThrow();
  });
});
