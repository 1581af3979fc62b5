/**
 * Background compaction (src/storage/compaction.ts) against a database that records its
 * `compactRange` calls and reports a fixed size for every range:
 * - large writes alone compact nothing (fresh puts leave no dead values; compacting rewrites
 *   every live value of the range);
 * - a range a large write filled is compacted when it is cleared, once;
 * - a clear of a range no large write filled (the sweep's routine clears) compacts nothing;
 * - dropped values compact their range once they reach DEAD_SHARE of its size, adding up
 *   across drops until they do.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Compactor, DEAD_SHARE } from '../../src/storage/compaction.js';
import type { AnyLevel } from '../../src/storage/kv.js';

/** Every range's size on disk, as the stand-in reports it. */
const RANGE_BYTES = 1_000_000;

/** A stand-in database with `compactRange` and `approximateSize`, recording the tag and id (first 5 bytes) of every range compacted. */
function recordingDb(): { db: AnyLevel; compacted: string[] } {
  const compacted: string[] = [];
  const db = {
    status: 'open',
    supports: { additionalMethods: { compactRange: true, approximateSize: true } },
    compactRange: async (start: Uint8Array) => {
      compacted.push(Buffer.from(start.subarray(0, 5)).toString('hex'));
    },
    approximateSize: async () => RANGE_BYTES,
  };
  return { db: db as unknown as AnyLevel, compacted };
}

const key = (tag: string, id: number, rest = 0) => Uint8Array.of(tag.charCodeAt(0), 0, 0, 0, id, rest, 1, 2, 3);
const hexOf = (tag: string, id: number) => Buffer.from(key(tag, id).subarray(0, 5)).toString('hex');

/** Lets the quiet time pass and the scheduled compaction run. */
async function quiet(c: Compactor): Promise<void> {
  await vi.advanceTimersByTimeAsync(10_000);
  await c.idle();
}

describe('Compactor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('compacts nothing after large writes alone', async () => {
    const { db, compacted } = recordingDb();
    const c = new Compactor(db);
    c.wrote([key('O', 1), key('D', 1)]);
    c.wrote([key('O', 1)]);
    await quiet(c);
    expect(compacted).toEqual([]);
  });

  it('compacts a filled range when it is cleared, once, and each of its slices', async () => {
    const { db, compacted } = recordingDb();
    const c = new Compactor(db);
    c.wrote([key('Q', 1), key('O', 1)]);
    c.cleared(key('Q', 1));
    await quiet(c);
    expect(compacted.length).toBeGreaterThan(1);
    expect(new Set(compacted)).toEqual(new Set([hexOf('Q', 1)]));
    // Once: a second clear of the emptied range compacts nothing.
    compacted.length = 0;
    c.cleared(key('Q', 1));
    await quiet(c);
    expect(compacted).toEqual([]);
  });

  it('compacts nothing for a clear of a range no large write filled', async () => {
    const { db, compacted } = recordingDb();
    const c = new Compactor(db);
    c.cleared(key('Q', 2));
    c.cleared(key('Q', 3));
    await quiet(c);
    expect(compacted).toEqual([]);
  });

  it('compacts a range once the values dropped in it reach their share of it, adding up drops', async () => {
    const { db, compacted } = recordingDb();
    const c = new Compactor(db);
    const below = Math.floor(RANGE_BYTES * DEAD_SHARE) - 1;
    c.dropped(key('O', 1), below);
    c.dropped(key('D', 1), below);
    await quiet(c);
    expect(compacted).toEqual([]);
    // The next drop in O adds up past the share: O alone is compacted; D keeps counting.
    c.dropped(key('O', 1), 2);
    c.dropped(key('D', 1), 0);
    await quiet(c);
    expect(new Set(compacted)).toEqual(new Set([hexOf('O', 1)]));
    compacted.length = 0;
    c.dropped(key('D', 1), 2);
    await quiet(c);
    expect(new Set(compacted)).toEqual(new Set([hexOf('D', 1)]));
    // Compacted ranges start counting again from nothing.
    compacted.length = 0;
    c.dropped(key('O', 1), below);
    await quiet(c);
    expect(compacted).toEqual([]);
  });

  it('does nothing on a database that cannot compact or tell a range size', async () => {
    const compacted: string[] = [];
    const db = {
      status: 'open',
      supports: { additionalMethods: { compactRange: true } },
      compactRange: async (start: Uint8Array) => void compacted.push(Buffer.from(start).toString('hex')),
    } as unknown as AnyLevel;
    const c = new Compactor(db);
    expect(c.enabled).toBe(false);
    c.wrote([key('Q', 1)]);
    c.cleared(key('Q', 1));
    c.dropped(key('O', 1), RANGE_BYTES);
    await quiet(c);
    expect(compacted).toEqual([]);
  });
});
