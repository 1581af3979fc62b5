/**
 * PackCache (src/repo/pack-cache.ts): what makes a request cacheable and which options make two
 * requests different; hits after a completed stream; one generation shared by identical
 * requests in flight, read by each at its own pace; byte bounds and least-recently-used
 * eviction; warming.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Oid } from '../../src/object/oid.js';
import { packCacheKey, PackCache, type PackAnswer } from '../../src/repo/pack-cache.js';
import type { ObjectPlanInput } from '../../src/repo/walk.js';

const oid = (n: number) => n.toString(16).padStart(40, '0') as Oid;
const A = oid(0xa);
const B = oid(0xb);
const C = oid(0xc);

/** A generator of packs of `size` bytes in `parts` chunks, counting its calls. */
function packs(size = 10, parts = 2) {
  const g = {
    calls: 0,
    generate: async (): Promise<PackAnswer> => {
      g.calls++;
      const n = g.calls;
      const chunks = Array.from({ length: parts }, (_, i) => new Uint8Array(Math.floor(size / parts) + (i === 0 ? size % parts : 0)).fill(n));
      return {
        shallow: [A],
        unshallow: [],
        pack: (async function* () {
          yield* chunks;
        })(),
      };
    },
  };
  return g;
}

async function drain(answer: PackAnswer): Promise<number[]> {
  const out: number[] = [];
  for await (const c of answer.pack) out.push(...c);
  return out;
}

/** A pack stream the test releases chunk by chunk. */
function gatedPack() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const g = {
    calls: 0,
    release: () => open(),
    generate: async (): Promise<PackAnswer> => {
      g.calls++;
      return {
        shallow: [],
        unshallow: [],
        pack: (async function* () {
          yield new Uint8Array([1]);
          await gate;
          yield new Uint8Array([2]);
        })(),
      };
    },
  };
  return g;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('packCacheKey', () => {
  const base: ObjectPlanInput = { wants: [A, B] };

  it('is undefined when the answer depends on what the client has', () => {
    expect(packCacheKey(1, { ...base, haves: [C] })).toBeUndefined();
    expect(packCacheKey(1, { ...base, clientShallows: [C] })).toBeUndefined();
    expect(packCacheKey(1, { ...base, haves: [], clientShallows: [] })).toBe(packCacheKey(1, base));
  });

  it('ignores the order and repetition of wants and of include-tag candidates', () => {
    const t = [
      { oid: A, peeled: B },
      { oid: C, peeled: B },
    ];
    expect(packCacheKey(1, { wants: [B, A, B] })).toBe(packCacheKey(1, base));
    expect(packCacheKey(1, { ...base, includeTags: t })).toBe(packCacheKey(1, { ...base, includeTags: [t[1]!, t[0]!] }));
  });

  it('differs whenever an option that shapes the pack differs', () => {
    const variants: ObjectPlanInput[] = [
      base,
      { wants: [A] },
      { ...base, depth: 1 },
      { ...base, depth: 2 },
      { ...base, depth: 1, deepenRelative: true },
      { ...base, deepenSince: 1_700_000_000 },
      { ...base, deepenNot: [C] },
      { ...base, filter: { kind: 'blob:none' } },
      { ...base, filter: { kind: 'blob:limit', limit: 0 } },
      { ...base, filter: { kind: 'blob:limit', limit: 100 } },
      { ...base, filter: { kind: 'tree', depth: 0 } },
      { ...base, filter: { kind: 'tree', depth: 1 } },
      { ...base, includeTags: [{ oid: C, peeled: A }] },
    ];
    const keys = variants.map((v) => packCacheKey(1, v));
    expect(new Set(keys).size).toBe(variants.length);
    expect(packCacheKey(2, base)).not.toBe(packCacheKey(1, base));
  });

  it('is the same with include-tag as without when every tag it could add is wanted (git clone asks both ways)', () => {
    const tags = [{ oid: C, peeled: A }];
    const wantsAll = { wants: [A, B, C] };
    expect(packCacheKey(1, { ...wantsAll, includeTags: tags })).toBe(packCacheKey(1, wantsAll));
    expect(packCacheKey(1, { ...base, includeTags: tags })).not.toBe(packCacheKey(1, base));
  });

  it('stays short however many tags there are, and still tells tag sets apart', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ oid: oid(i + 100), peeled: A }));
    const k1 = packCacheKey(1, { ...base, includeTags: many })!;
    const k2 = packCacheKey(1, { ...base, includeTags: many.slice(1) })!;
    expect(k1.length).toBeLessThan(400);
    expect(k1).not.toBe(k2);
  });
});

describe('PackCache', () => {
  it('answers a repeated request from the cache once the first stream completed', async () => {
    const cache = new PackCache();
    const g = packs(10);
    const first = await cache.serve('k', g.generate);
    expect(await drain(first)).toEqual(new Array(10).fill(1));
    const second = await cache.serve('k', g.generate);
    expect(await drain(second)).toEqual(new Array(10).fill(1));
    expect(second.shallow).toEqual([A]);
    expect(g.calls).toBe(1);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1 });
    expect(cache.get('k')?.bytes).toBe(10);
  });

  it('does not cache a stream that failed; a reader that leaves does not stop the shared generation', async () => {
    const cache = new PackCache();
    const g = packs(10, 5);
    for await (const _ of (await cache.serve('k', g.generate)).pack) break;
    const failing = async (): Promise<PackAnswer> => ({
      shallow: [],
      unshallow: [],
      pack: (async function* () {
        yield new Uint8Array(1);
        throw new Error('storage');
      })(),
    });
    await expect(drain(await cache.serve('f', failing))).rejects.toThrow('storage');
    expect(cache.get('f')).toBeUndefined();
    // The generation is the cache's, not the reader's: it completed and is kept.
    await drain(await cache.serve('k', g.generate));
    expect(g.calls).toBe(1);
  });

  it('shares one generation between identical requests in flight', async () => {
    const cache = new PackCache();
    const g = gatedPack();
    const leader = await cache.serve('k', g.generate);
    const it = leader.pack[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(new Uint8Array([1])); // the leader's pack is flowing
    const follower = cache.serve('k', g.generate);
    await turn();
    g.release();
    while (!(await it.next()).done);
    expect(await drain(await follower)).toEqual([1, 2]);
    expect(g.calls).toBe(1);
    expect(cache.stats.shared).toBe(1);
  });

  it('a reader that stops reading holds nobody: identical requests read the shared generation at their own pace', async () => {
    const cache = new PackCache();
    const g = packs(10, 5);
    const stalled = (await cache.serve('k', g.generate)).pack[Symbol.asyncIterator]();
    await stalled.next(); // reads one chunk, then never again
    expect(await drain(await cache.serve('k', g.generate))).toEqual(new Array(10).fill(1));
    expect(g.calls).toBe(1);
    expect(cache.get('k')?.bytes).toBe(10); // the entry did not wait for the stalled reader either
    await stalled.return?.(undefined);
  });

  it('a gated generation is shared, and a leader that leaves does not cut its followers', async () => {
    const g = gatedPack();
    const cache = new PackCache();
    const leader = (await cache.serve('k', g.generate)).pack[Symbol.asyncIterator]();
    await leader.next();
    const follower = cache.serve('k', g.generate);
    await leader.return?.(undefined);
    g.release();
    expect(await drain(await follower)).toEqual([1, 2]);
    expect(g.calls).toBe(1);
  });

  it('an oversized pack stays within the bound ahead of its slowest reader and stops when every reader left', async () => {
    let produced = 0;
    let closed = false;
    const generate = async (): Promise<PackAnswer> => ({
      shallow: [],
      unshallow: [],
      pack: (async function* () {
        try {
          for (let i = 0; i < 100; i++) {
            produced++;
            yield new Uint8Array(4);
          }
        } finally {
          closed = true;
        }
      })(),
    });
    const cache = new PackCache({ maxEntryBytes: 16 });
    const slow = (await cache.serve('big', generate)).pack[Symbol.asyncIterator]();
    await slow.next();
    for (let i = 0; i < 20; i++) await turn();
    expect(produced).toBeLessThanOrEqual(8); // 16 bytes ahead of the reader, give or take a chunk
    await slow.return?.(undefined);
    for (let i = 0; i < 5; i++) await turn();
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(100);
    expect(cache.get('big')).toBeUndefined();
  });

  it('an answer whose pack is never read does not hold identical requests', async () => {
    const cache = new PackCache();
    const g = packs(4);
    await cache.serve('k', g.generate); // shallow-only round: the pack is never read
    const second = await cache.serve('k', g.generate);
    expect(g.calls).toBe(2);
    expect(await drain(second)).toHaveLength(4);
  });

  it('streams but does not keep packs over maxEntryBytes', async () => {
    const cache = new PackCache({ maxEntryBytes: 8 });
    const g = packs(10, 5);
    expect(await drain(await cache.serve('big', g.generate))).toHaveLength(10);
    expect(cache.get('big')).toBeUndefined();
  });

  it('evicts the least recently used pack to stay within maxBytes', async () => {
    const cache = new PackCache({ maxBytes: 25 });
    for (const k of ['a', 'b']) await drain(await cache.serve(k, packs(10).generate));
    expect(cache.get('a')).toBeDefined(); // a is now more recent than b
    await drain(await cache.serve('c', packs(10).generate));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('never holds more than maxBytes, and keeps the newest pack that fits (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 200 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.nat({ max: 120 })), { minLength: 1, maxLength: 30 }),
        async (maxBytes, reqs) => {
          const cache = new PackCache({ maxBytes: maxBytes + 1, maxEntryBytes: 100 });
          const size = new Map<string, number>();
          for (const [key, bytes] of reqs) {
            const answer = await cache.serve(key, packs(bytes, 3).generate);
            await drain(answer);
            if (!size.has(key)) size.set(key, bytes); // a hit keeps the first size
            const held = [...size].filter(([k]) => cache.get(k) !== undefined);
            expect(held.reduce((s, [, n]) => s + Math.max(1, n), 0)).toBeLessThanOrEqual(maxBytes + 1);
            const n = size.get(key)!;
            if (n <= 100 && Math.max(1, n) <= maxBytes + 1) expect(cache.get(key)).toBeDefined();
            else expect(cache.get(key)).toBeUndefined();
            for (const [k] of size) if (cache.get(k) === undefined) size.delete(k); // evicted: the next request generates anew
          }
        },
      ),
      { seed: 8_019, numRuns: 60 },
    );
  });

  it('warms a pack nobody asked for yet, once', async () => {
    const cache = new PackCache();
    const g = packs(6);
    await cache.warm('w', g.generate);
    await cache.warm('w', g.generate);
    expect(g.calls).toBe(1);
    expect(cache.stats.warmed).toBe(1);
    expect(await drain(await cache.serve('w', g.generate))).toHaveLength(6);
    expect(g.calls).toBe(1);
  });

  it('makes the warm-ups asked to go alone one after another, whatever their keys', async () => {
    const cache = new PackCache();
    let running = 0;
    let most = 0;
    const g = packs(6);
    const generate = async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      const answer = await g.generate();
      return {
        ...answer,
        pack: (async function* () {
          yield* answer.pack;
          running--;
        })(),
      };
    };
    await Promise.all(['a', 'b', 'c'].map((k) => cache.warm(k, generate, { alone: true })));
    expect(most).toBe(1);
    expect(cache.stats.warmed).toBe(3);
    // Without `alone` they overlap, and one that finds nothing to make caches nothing.
    await Promise.all(['d', 'e'].map((k) => cache.warm(k, generate)));
    expect(most).toBe(2);
    await cache.warm('f', async () => undefined, { alone: true });
    expect(cache.holds('f')).toBe(false);
    expect(cache.stats.warmed).toBe(5);
  });

  it('clear drops every pack; maxBytes 0 turns caching off', async () => {
    const cache = new PackCache();
    await drain(await cache.serve('k', packs(3).generate));
    cache.clear();
    expect(cache.get('k')).toBeUndefined();
    expect(new PackCache({ maxBytes: 0 }).enabled).toBe(false);
    expect(cache.enabled).toBe(true);
  });
});
