/**
 * What a repository is made of: the context its engine hands it (stores, limits, hooks, the
 * pack cache, the sweep guard) and the facts and events its public API speaks of. Every
 * service module of repo/ works on a `RepoCore`: the context and the facade it serves.
 */
import type { InProcessLock } from '../refs/lock.js';
import type { Kv } from '../storage/kv.js';
import type { ObjectStore } from '../object/object-store.js';
import type { RefStore, AppliedUpdate } from '../refs/ref-store.js';
import type { IngestOptions } from './ingest.js';
import type { PackCache } from './pack-cache.js';
import type { SweepGuard } from './sweep.js';
import type { CommitDeltaLimits } from './commit-deltas.js';
import type { Repository } from './repository.js';
import type { RemoteService } from './remotes.js';
import type { KvOp } from '../storage/kv.js';

/** Public facts about a repository. */
export interface RepoInfo {
  name: string;
  defaultBranch: string;
  createdAt: string;
}

/** Why a ref moved; passed to hooks. */
export type RefUpdateSource = 'commit' | 'push' | 'api' | 'promote' | 'expire' | 'transaction' | 'merge' | 'revert' | 'fetch';

/** What hooks receive: the repository, why the refs move, and each ref's old and new value. */
export interface RefUpdateEvent {
  repo: string;
  source: RefUpdateSource;
  updates: AppliedUpdate[];
}

/** What a repository needs from its engine. */
export interface RepoContext {
  kv: Kv;
  objects: ObjectStore;
  refs: RefStore;
  info: RepoInfo;
  /** Default lifetime of ephemeral refs, seconds. */
  ephemeralTtlSeconds: number;
  /** Longest lifetime of ephemeral refs, seconds. */
  maxEphemeralTtlSeconds: number;
  ingest: IngestOptions;
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing allows the update; `void` keeps `() => {}` assignable.
  beforeRefUpdate?: (e: RefUpdateEvent) => void | string | Promise<void | string>;
  afterRefUpdate?: (e: RefUpdateEvent) => void | Promise<void>;
  /** Called after every ref move (the pack cache warms itself from it). */
  onRefsChanged?: (repo: Repository, updates: AppliedUpdate[]) => void;
  /** Throws if the repository was deleted. */
  assertLive: () => void;
  /** Internal id (pack cache keys). */
  repoId: number;
  /** Id of the object pool the repository shares (its own id unless it is a fork or was forked): objects, commit graph and sweep state live under it. */
  poolId: number;
  /** Ref stores of every member of the pool, this repository's included: the sweep marks from all of them. */
  poolRefs: () => Promise<RefStore[]>;
  /** The engine's pack cache, if enabled. */
  packCache?: PackCache;
  /** Writes in flight and packs being sent, against which the object sweep keeps itself safe. */
  guard: SweepGuard;
  /** Limits of the deltas kept for API commits, or false for none (see commit-deltas.ts). */
  commitDeltas?: CommitDeltaLimits | false;
  /** How long a sweep waits for a moment with no write in flight before it skips the object phase. */
  sweepWaitMs?: number;
  /** Queues this process's unconditional commits (keyed by repository and branch), shared by every `Repository` object of the engine. */
  commitQueue?: InProcessLock;
  /** The sweep's mark records (sweep-record.ts): the fewest objects to keep one, or false for none. Default on. */
  sweepMarkRecords?: { minObjects?: number } | false;
  /** The smart-HTTP client of `fetchFrom`/`pushTo` (src/remote/, from the engine). */
  remotes?: RemoteService;
  /** Writes joining a ref move's batch (the webhook outbox, src/webhooks/), decided under the lock. */
  eventOps?: (source: RefUpdateSource, updates: readonly AppliedUpdate[]) => Promise<KvOp[]>;
  /** Called after a batch with `eventOps` landed (wakes the webhook delivery loop). */
  onEventsWritten?: () => void;
}

/** A repository's context with the facade that hooks and the pack-cache warm-up are given. */
export interface RepoCore {
  readonly ctx: RepoContext;
  readonly repo: Repository;
}
