/**
 * A byte-bounded cache of finished packs. Sandboxes clone the same tip again and again, so the
 * answer to a fresh fetch (no haves, no shallows) is kept whole, keyed by what determines its
 * content: repository, wants, depth, filter, deepen options and the tags include-tag may add.
 * The key holds object ids only, so an entry never goes stale.
 *
 * Concurrent identical requests share one generation, never one socket: a producer (shared-pack.ts)
 * pulls the pack as fast as it is made, whoever reads it, and each request reads the
 * produced chunks at its own pace. A client that stops reading holds only its place in the
 * shared chunks; the others, and the cache entry, do not wait for it. Packs larger than
 * `maxEntryBytes` are not kept; their producer then keeps at most that many bytes ahead of its
 * slowest reader.
 */
import { LRUCache } from 'lru-cache';
import type { Oid } from '../object/oid.js';
import { platform } from '../platform/index.js';
import { toHex, utf8 } from '../platform/bytes.js';
import type { ObjectPlanInput } from './walk.js';
import { SharedPack } from './shared-pack.js';
import type { FullPackOptions } from './full-pack.js';
import type { ClonePlanOptions } from './clone-plan.js';
import type { Depth1PlanOptions } from './depth1-plan.js';

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
  /**
   * Full-clone packs stored per tip set (full-pack.ts). Off by default (a second copy of the
   * history); `true` or `{ minCommits }` (default 1,000: the shortest history that gets one) turns them on.
   */
  fullPacks?: FullPackOptions | boolean;
  /**
   * Clone plans stored per tip set (clone-plan.ts): the ids a full clone sends, so it skips the
   * history walk. On by default (clone-plan.ts CLONE_PLANS_DEFAULT) for histories of `minCommits`
   * (default 1,000) or more; `false` turns them off. Unused while `fullPacks` is on.
   */
  clonePlans?: ClonePlanOptions | boolean;
  /**
   * Depth-1 plans stored per branch tip (depth1-plan.ts): the ids a depth-1 clone of it sends, so
   * a fresh process skips the tree walk and the delta lookups. On by default for tips of
   * `minObjects` (default 1,000) objects or more; `false` turns them off.
   */
  depth1Plans?: Depth1PlanOptions | boolean;
  /** @deprecated Ignored: identical requests share the generation and never wait on each other's sockets. */
  shareWaitMs?: number;
}

/** Key of a cacheable request, or undefined when the answer depends on the client's state. */
export function packCacheKey(repoId: number, input: ObjectPlanInput): string | undefined {
  if ((input.haves?.length ?? 0) > 0 || (input.clientShallows?.length ?? 0) > 0) return undefined;
  const f = input.filter;
  const filter = f === undefined ? '' : f.kind === 'blob:limit' ? `blob:limit=${f.limit}` : f.kind === 'tree' ? `tree:${f.depth}` : f.kind;
  // A full clone's include-tag: the same pack as without it (git clone asks both ways).
  const wants = new Set(input.wants);
  const tags = includeTagAddsNothing(input, wants) ? '' : includeTagsKey(input.includeTags);
  return [
    repoId,
    [...wants].sort().join(','),
    input.depth ?? '',
    input.deepenRelative ? 'r' : '',
    input.deepenSince ?? '',
    (input.deepenNot ?? []).join(','),
    filter,
    tags,
    input.ofsDelta ? 'ofs' : '',
  ].join('|');
}

/** Whether `include-tag` can add nothing to the wants: every tag it could add is wanted (`wants`: the request's, as a set). */
export function includeTagAddsNothing(input: ObjectPlanInput, wants: ReadonlySet<Oid> = new Set(input.wants)): boolean {
  return (input.includeTags ?? []).every((t) => wants.has(t.oid));
}

/** What `include-tag` may add, as a short string (the tags and their targets; a digest when long). */
export function includeTagsKey(includeTags: ObjectPlanInput['includeTags']): string {
  const tagList = (includeTags ?? [])
    .map((t) => `${t.oid}>${t.peeled}`)
    .sort()
    .join(',');
  return tagList.length > 200 ? toHex(platform().sha1(utf8(tagList))) : tagList;
}

/** The engine-wide pack cache. */
export class PackCache {
  readonly options: Required<Omit<PackCacheOptions, 'shareWaitMs' | 'fullPacks' | 'clonePlans' | 'depth1Plans'>> &
    Pick<PackCacheOptions, 'fullPacks' | 'clonePlans' | 'depth1Plans'>;
  readonly #lru: LRUCache<string, CachedPack>;
  readonly #inflight = new Map<string, SharedPack>();
  /** Keys a warm-up is preparing (before its pack flows). */
  readonly #warming = new Set<string>();
  /** Ends when the last `alone` warm-up queued has ended. */
  #alone: Promise<void> = Promise.resolve();
  /** Counters for benchmarks and tests. */
  readonly stats = {
    hits: 0,
    misses: 0,
    shared: 0,
    warmed: 0,
    fullServed: 0,
    fullBuilt: 0,
    fullExtended: 0,
    planServed: 0,
    planBuilt: 0,
    planExtended: 0,
    /** Clone plans built from the sweep's mark record (sweep-record.ts) instead of a walk of the history. */
    planFromMark: 0,
    /** Clone plans made from the pool's import record (import-plan.ts) instead of a walk of the history. */
    planFromImport: 0,
    depth1Served: 0,
    depth1Built: 0,
  };

  constructor(options: PackCacheOptions = {}) {
    this.options = {
      maxBytes: options.maxBytes ?? 256 * 1024 * 1024,
      maxEntryBytes: options.maxEntryBytes ?? 64 * 1024 * 1024,
      warm: options.warm ?? true,
      ...(options.fullPacks !== undefined ? { fullPacks: options.fullPacks } : {}),
      ...(options.clonePlans !== undefined ? { clonePlans: options.clonePlans } : {}),
      ...(options.depth1Plans !== undefined ? { depth1Plans: options.depth1Plans } : {}),
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
   * Answers a cacheable request: from the cache; or by reading the shared production of an
   * identical request in flight; or by generating it. A generation registers for sharing when
   * its pack starts to flow (an answer whose pack is never read, like the shallow-only first
   * round of a v0 deepen, is nobody's to share) and is cached when complete and small enough.
   */
  async serve(key: string, generate: () => Promise<PackAnswer>): Promise<PackAnswer> {
    const hit = this.get(key);
    if (hit) return fromCached(hit);
    const running = this.#inflight.get(key);
    if (running) {
      this.stats.shared++;
      return running.answer();
    }
    this.stats.misses++;
    const answer = await generate();
    const inflight = this.#inflight;
    const lru = this.#lru;
    let registered = false;
    const shared: SharedPack = new SharedPack(answer, this.options.maxEntryBytes, {
      started: () => {
        if (inflight.has(key) || lru.has(key)) return;
        inflight.set(key, shared);
        registered = true;
      },
      oversized: () => {
        if (inflight.get(key) === shared) inflight.delete(key);
      },
      ended: (entry) => {
        if (inflight.get(key) === shared) inflight.delete(key);
        if (registered && entry) lru.set(key, entry);
      },
    });
    return shared.answer();
  }

  /** Whether the pack of `key` is cached or being made (not counted as a hit). */
  holds(key: string): boolean {
    return this.#made(key) || this.#warming.has(key);
  }

  /** Whether the pack of `key` is cached or flowing. */
  #made(key: string): boolean {
    return this.#lru.has(key) || this.#inflight.has(key);
  }

  /**
   * Builds and caches a pack nobody is waiting for yet (warming after a ref moved), one warm-up
   * per key at a time; `generate` may find there is nothing to make (undefined). With `alone`
   * (a large pack: an import's full clone), after the other warm-ups `alone` queued before it,
   * so background work across repositories holds at most one such pack at a time.
   */
  async warm(key: string, generate: () => Promise<PackAnswer | undefined>, options: { alone?: boolean } = {}): Promise<void> {
    if (this.holds(key)) return;
    this.#warming.add(key);
    let release: (() => void) | undefined;
    if (options.alone) {
      const before = this.#alone;
      this.#alone = new Promise<void>((r) => (release = r));
      await before;
    }
    try {
      // A clone may have made it while this one waited its turn.
      if (this.#made(key)) return;
      const made = await generate();
      if (made === undefined) return;
      const answer = await this.serve(key, async () => made);
      for await (const _ of answer.pack) void _;
      this.stats.warmed++;
    } finally {
      this.#warming.delete(key);
      release?.();
    }
  }

  /** Drops every entry. */
  clear(): void {
    this.#lru.clear();
  }
}
