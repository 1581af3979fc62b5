/**
 * Background compaction (src/storage/compaction.ts) against a database that records its
 * `compactRange` calls:
 * - the ranges of large writes (Kv passes only batches of 1 MiB or more) are compacted once they
 *   add up to COMPACT_AFTER_BYTES and writes have been quiet for a moment;
 * - a range a large write filled is compacted again when it is cleared, also when a compaction
 *   of it ran between the write and the clear (a pack's spilled quarantine, cleared after its
 *   commits landed in small batches: the cleared values stayed on disk);
 * - a clear of a range no large write filled (the sweep's routine clears) compacts nothing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPACT_AFTER_BYTES, Compactor } from '../../src/storage/compaction.js';
import type { AnyLevel } from '../../src/storage/kv.js';

/** A stand-in database with `compactRange`, recording the tag and id (first 5 bytes) of every range compacted. */
function recordingDb(): { db: AnyLevel; compacted: string[] } {
  const compacted: string[] = [];
  const db = {
    status: 'open',
    supports: { additionalMethods: { compactRange: true } },
    compactRange: async (start: Uint8Array) => {
      compacted.push(Buffer.from(start.subarray(0, 5)).toString('hex'));
    },
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

  it('compacts the ranges of large writes once quiet, not before they add up to COMPACT_AFTER_BYTES', async () => {
    const { db, compacted } = recordingDb();
    const c = new Compactor(db);
    c.wrote([key('O', 1), key('D', 1)], COMPACT_AFTER_BYTES);
    expect(compacted).toEqual([]);
    await quiet(c);
    expect(new Set(compacted)).toEqual(new Set([hexOf('O', 1), hexOf('D', 1)]));
    compacted.length = 0;
    c.wrote([key('O', 2)], 1000);
    await quiet(c);
    expect(compacted).toEqual([]);
  });

  it('compacts a filled range again when it is cleared, even after a compaction ran in between', async () => {
    const { db, compacted } = recordingDb();
    const c = new Compactor(db);
    c.wrote([key('Q', 1)], COMPACT_AFTER_BYTES);
    await quiet(c); // the quarantine's values compacted while the pack's commits still land
    expect(compacted).toContain(hexOf('Q', 1));
    compacted.length = 0;
    c.cleared(key('Q', 1));
    await quiet(c);
    expect(compacted).toContain(hexOf('Q', 1));
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
});
