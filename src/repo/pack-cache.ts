/**
 * A byte-bounded cache of finished packs. Sandboxes clone the same tip again and again, so the
 * answer to a fresh fetch (no haves, no shallows) is kept whole, keyed by what determines its
 * content: repository, wants, depth, filter, deepen options and the tags include-tag may add.
 * The key holds object ids only, so an entry never goes stale. Concurrent identical requests
 * share one generation; packs larger than `maxEntryBytes` are generated per request.
 */
import { LRUCache } from 'lru-cache';
import type { Oid } from '../object/oid.js';
import { platform } from '../platform/index.js';
import { toHex, utf8 } from '../platform/bytes.js';
import type { ObjectPlanInput } from './walk.js';

/** A finished pack and the shallow boundary that goes with it. */
export interface CachedPack {
  chunks: Uint8Array[];
  bytes: number;
  shallow: Oid[];
  unshallow: Oid[];
}

/** A fetch answer: shallow boundary changes and the pack stream. */
export interface PackAnswer {
  shallow: Oid[];
  unshallow: Oid[];
  pack: AsyncIterable<Uint8Array>;
}

function fromCached(p: CachedPack): PackAnswer {
  return {
    shallow: p.shallow,
    unshallow: p.unshallow,
    pack: (async function* () {
      yield* p.chunks;
    })(),
  };
}

/** Options of the pack cache. */
export interface PackCacheOptions {
  /** Total bytes of cached packs. Default 256 MiB; 0 disables the cache. */
  maxBytes?: number;
  /** Largest single pack kept. Default 64 MiB. */
  maxEntryBytes?: number;
  /** Pre-build the depth-1 pack of a branch's new tip when it moves. Default true. */
  warm?: boolean;
  /** How long a request waits for an identical one that is generating. Default 30 s. */
  shareWaitMs?: number;
}

/** Key of a cacheable request, or undefined when the answer depends on the client's state. */
export function packCacheKey(repoId: number, input: ObjectPlanInput): string | undefined {
  if ((input.haves?.length ?? 0) > 0 || (input.clientShallows?.length ?? 0) > 0) return undefined;
  const f = input.filter;
  const filter = f === undefined ? '' : f.kind === 'blob:limit' ? `blob:limit=${f.limit}` : f.kind === 'tree' ? `tree:${f.depth}` : f.kind;
  const tagList = (input.includeTags ?? [])
    .map((t) => `${t.oid}>${t.peeled}`)
    .sort()
    .join(',');
  const tags = tagList.length > 200 ? toHex(platform().sha1(utf8(tagList))) : tagList;
  return [
    repoId,
    [...new Set(input.wants)].sort().join(','),
    input.depth ?? '',
    input.deepenRelative ? 'r' : '',
    input.deepenSince ?? '',
    (input.deepenNot ?? []).join(','),
    filter,
    tags,
    input.ofsDelta ? 'ofs' : '',
  ].join('|');
}

/** The engine-wide pack cache. */
export class PackCache {
  readonly options: Required<PackCacheOptions>;
  readonly #lru: LRUCache<string, CachedPack>;
  readonly #inflight = new Map<string, Promise<CachedPack | undefined>>();
  /** Counters for benchmarks and tests. */
  readonly stats = { hits: 0, misses: 0, shared: 0, warmed: 0 };

  constructor(options: PackCacheOptions = {}) {
    this.options = {
      maxBytes: options.maxBytes ?? 256 * 1024 * 1024,
      maxEntryBytes: options.maxEntryBytes ?? 64 * 1024 * 1024,
      warm: options.warm ?? true,
      shareWaitMs: options.shareWaitMs ?? 30_000,
    };
    this.#lru = new LRUCache<string, CachedPack>({ maxSize: Math.max(1, this.options.maxBytes), sizeCalculation: (p) => Math.max(1, p.bytes) });
  }

  /** True when caching is on. */
  get enabled(): boolean {
    return this.options.maxBytes > 0;
  }

  /** A cached pack, counting the hit. */
  get(key: string): CachedPack | undefined {
    const hit = this.#lru.get(key);
    if (hit) this.stats.hits++;
    return hit;
  }

  /**
   * Answers a cacheable request: from the cache; or by waiting for an identical request that
   * is generating right now; or by generating it, streaming it to this caller while keeping a
   * copy (up to `maxEntryBytes`) that is cached when the stream completes.
   */
  async serve(key: string, generate: () => Promise<PackAnswer>): Promise<PackAnswer> {
    const hit = this.get(key);
    if (hit) return fromCached(hit);
    const running = this.#inflight.get(key);
    if (running) {
      this.stats.shared++;
      // Bounded wait: a stalled leader must not hold followers forever.
      let timer: Parameters<typeof clearTimeout>[0];
      const done = await Promise.race([running, new Promise<undefined>((r) => (timer = setTimeout(r, this.options.shareWaitMs)))]);
      clearTimeout(timer);
      if (done) return fromCached(done);
      return generate();
    }
    this.stats.misses++;
    const answer = await generate();
    const limit = this.options.maxEntryBytes;
    const inflight = this.#inflight;
    const lru = this.#lru;
    // The leader registers when its pack starts to flow (an answer whose pack is never read,
    // like the shallow-only first round of a v0 deepen, must not make others wait).
    async function* tee(): AsyncGenerator<Uint8Array> {
      if (inflight.has(key) || lru.has(key)) {
        yield* answer.pack;
        return;
      }
      let settle!: (p: CachedPack | undefined) => void;
      inflight.set(key, new Promise((r) => (settle = r)));
      let chunks: Uint8Array[] | undefined = [];
      let bytes = 0;
      let complete = false;
      try {
        for await (const c of answer.pack) {
          if (chunks) {
            bytes += c.length;
            if (bytes > limit) chunks = undefined;
            else chunks.push(c);
          }
          yield c;
        }
        complete = true;
      } finally {
        const entry = complete && chunks ? { chunks, bytes, shallow: answer.shallow, unshallow: answer.unshallow } : undefined;
        if (entry) lru.set(key, entry);
        inflight.delete(key);
        settle(entry);
      }
    }
    return { shallow: answer.shallow, unshallow: answer.unshallow, pack: tee() };
  }

  /** Builds and caches a pack nobody is waiting for yet (warming after a ref moved). */
  async warm(key: string, generate: () => Promise<PackAnswer>): Promise<void> {
    if (this.#lru.has(key) || this.#inflight.has(key)) return;
    const answer = await this.serve(key, generate);
    for await (const _ of answer.pack) void _;
    this.stats.warmed++;
  }

  /** Drops every entry. */
  clear(): void {
    this.#lru.clear();
  }
}
