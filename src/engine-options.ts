/**
 * The engine's option and result types (engine.ts re-exports them): what `openEngine` takes and
 * what `Engine.sweep` takes and answers.
 */
import type { AnyLevel } from './storage/kv.js';
import type { RefLock } from './refs/lock.js';
import type { RefUpdateEvent } from './repo/repository.js';
import type { CommitDeltaLimits } from './repo/commit-deltas.js';
import type { IngestOptions } from './repo/ingest.js';
import type { PackCacheOptions } from './repo/pack-cache.js';
import type { TokenService } from './access/tokens.js';
import type { FsckOptions } from './object/fsck.js';
import type { RemoteEngineOptions } from './webhooks/services.js';
import type { LeaseOptions } from './repo/sweep-leases.js';

/** Options of `openEngine` (`allowPrivateRemotes`, `remotes` and `webhooks`: src/webhooks/services.ts). */
export interface EngineOptions extends RemoteEngineOptions {
  /** Any abstract-level database. Either this or `path`. */
  db?: AnyLevel;
  /** Directory of the embedded on-disk database (classic-level via `level`). */
  path?: string;
  /** Bytes of decoded trees and commits to cache. Default 64 MiB. */
  cacheBytes?: number;
  /** Bytes of object bodies resolved from stored delta chains kept for reuse. Default 32 MiB. */
  deltaCacheBytes?: number;
  /**
   * Repositories kept open (the `Repository` objects `getRepo`/`findRepo` answer, about 6 KB
   * each), least recently used first out; one asked for again is reopened from its record (two
   * reads). Default 1,000.
   */
  maxOpenRepos?: number;
  /** The ref-transaction serialization point. Default: an in-process lock per repository (on browser-level, a Web Locks one shared by the origin's tabs). */
  lock?: RefLock;
  /** Default lifetime of ephemeral refs in seconds. Default 24 hours. */
  ephemeralTtlSeconds?: number;
  /** Longest lifetime of ephemeral refs in seconds. Default 30 days. */
  maxEphemeralTtlSeconds?: number;
  /** Limits of pack ingestion (object size, pack size, delta depth...). */
  ingest?: IngestOptions;
  /** Signs repository tokens: enables `engine.remoteUrl` (see access/tokens.ts). */
  tokens?: TokenService;
  /** Default base URL of `engine.remoteUrl`, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** The cache of finished packs (fresh clones of the same tip are served from memory). */
  packCache?: PackCacheOptions;
  /** Runs before any ref moves (push, API commit, promotion, expiry); return a string to refuse with that message. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing allows the update; `void` keeps `() => {}` assignable.
  beforeRefUpdate?: (event: RefUpdateEvent) => void | string | Promise<void | string>;
  /**
   * Kept deltas of API commits: each changed blob or tree is also stored as a delta against the
   * version it replaces, so full clones and fetches of histories built through the API are as
   * small as git's. Limits per commit, or `false` to store whole objects only. Default
   * `{ maxObjectBytes: 1 MiB, maxTotalBytes: 16 MiB }`.
   */
  commitDeltas?: Partial<CommitDeltaLimits> | false;
  /** How long `sweep` waits per repository for a moment with no write in flight before skipping its object phase. Default 10 s. */
  sweepWaitMs?: number;
  /**
   * The sweep's mark records (docs/storage.md, "Mark records"): the ids of every object the
   * regular refs reach, stored by a sweep once they number `minObjects` (default 50,000), so the
   * next sweep (an ephemeral ref expired) walks only what changed since. `false`: none are
   * written or used (20 bytes per object saved; each sweep walks the whole history).
   */
  sweepMarkRecords?: { minObjects?: number } | false;
  /** Runs after refs moved. Errors are ignored. */
  afterRefUpdate?: (event: RefUpdateEvent) => void | Promise<void>;
  /**
   * The object checks of pushes, `indexPack` and API commits (docs/fsck.md): `strict` (default
   * true, as `receive.fsckObjects`) and `severities`, git's `receive.fsck.<msg-id>` levels,
   * e.g. `{ badTimezone: 'warn' }`. Validated by `openEngine` (InvalidArgumentError).
   */
  fsck?: FsckOptions;
  /**
   * How the sweep coordinates with other processes: `'process'` (default: in memory, this
   * process is the only one writing) or `'database'` (several processes over one database, with
   * a shared `lock`: writes in flight, sweep gates and pins are leases in the database, one
   * process sweeps at a time, repositories are looked up by name on each use). An object sets
   * the lease: `{ leaseMs }` (default 30 000). docs/scale-out.md.
   */
  coordination?: 'process' | 'database' | LeaseOptions;
}

/** What `Engine.sweep` removed, and which repositories failed (the others were still swept). */
export interface EngineSweepResult {
  refs: number;
  objects: number;
  /** Repositories whose object phase was skipped because writes kept them busy past `waitMs`. */
  busy?: number;
  /** Repositories whose sweep threw; absent when none. */
  failed?: number;
  /** The error of each failed repository, in name order (absent when none). */
  errors?: { repo: string; error: unknown }[];
  /** Deleted repositories whose leftover keys (a push that landed after the delete) were cleared; absent when none. */
  reclaimed?: number;
  /** True when another process was sweeping (coordination `'database'`): this call swept nothing. */
  skipped?: true;
}

/** Options of `Engine.sweep`. */
export interface EngineSweepOptions {
  /** How long each repository waits for a moment with no write in flight. Default: the engine's `sweepWaitMs`. */
  waitMs?: number;
  /** Called for each repository whose sweep threw (the sweep goes on with the next one). */
  onError?: (error: unknown, repo: string) => void;
}
