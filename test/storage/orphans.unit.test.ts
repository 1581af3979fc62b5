/**
 * storage/orphans.ts: the scan for keys under repository ids without a record clears exactly
 * the dead ids' ranges (below the limit, not live, not skipped; pool ranges by the live pools),
 * whatever their mix with live ids, checked against the rule over random layouts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { Kv, type AnyLevel } from '../../src/storage/kv.js';
import { OWN_TAGS, POOL_TAGS, REPO_TAGS, TAG, repoKey } from '../../src/storage/keys.js';
import { clearOrphanRanges } from '../../src/storage/orphans.js';

const view = { keyEncoding: 'view', valueEncoding: 'view' } as const;

describe('clearOrphanRanges', () => {
  it('clears exactly the ranges of dead ids, live ones between them untouched', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.constantFrom(...REPO_TAGS)), { maxLength: 120 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 60 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 60 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 64 }),
        async (keys, liveList, poolList, skipList, limit) => {
          const db = new MemoryLevel<Uint8Array, Uint8Array>(view);
          const kv = new Kv(db as unknown as AnyLevel);
          for (const [id, tag] of keys) await db.put(repoKey(tag, id, new Uint8Array([1, 2])), new Uint8Array(0));
          const live = new Set(liveList);
          const livePools = new Set([...liveList, ...poolList]);
          const skip = new Set(skipList);
          const dies = (id: number, tag: number) => id < limit && !(POOL_TAGS.includes(tag) ? livePools : live).has(id) && !skip.has(id);
          const cleared = await clearOrphanRanges(kv, { limit, live, livePools, skip: (id) => skip.has(id) });
          const left = new Set<string>();
          for await (const k of db.keys()) left.add(`${k[0]}:${(k[1]! << 24) | (k[2]! << 16) | (k[3]! << 8) | k[4]!}`);
          const expected = new Set(keys.filter(([id, tag]) => !dies(id, tag)).map(([id, tag]) => `${tag}:${id}`));
          expect(left).toEqual(expected);
          expect(cleared).toBe(new Set(keys.filter(([id, tag]) => dies(id, tag)).map(([id]) => id)).size);
          await db.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('does not seek where every id is live', async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>(view);
    const kv = new Kv(db as unknown as AnyLevel);
    for (let id = 1; id <= 500; id++)
      for (const tag of [TAG.ref, TAG.object, OWN_TAGS[0]!]) await db.put(repoKey(tag, id, new Uint8Array([1])), new Uint8Array(0));
    const live = new Set(Array.from({ length: 501 }, (_, i) => i));
    let seeks = 0;
    const keys = kv.keys.bind(kv);
    kv.keys = (range) => {
      seeks++;
      return keys(range);
    };
    expect(await clearOrphanRanges(kv, { limit: 501, live })).toBe(0);
    expect(seeks).toBe(0);
    await db.close();
  });
});
