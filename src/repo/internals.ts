/**
 * The repository's internal interface: what the protocol backend (git-backend.ts), the engine
 * and the JSON API need beyond the documented `Repository` API — the object store, the ref-update
 * pipeline, write accounting, pack serving. It is reached with `internalsOf(repo)` and is not
 * exported from the package (src/index.ts), so users see only the facade.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { AppliedUpdate, RefUpdate, RefValue } from '../refs/ref-store.js';
import type { View } from '../refs/space.js';
import type { RefUpdateSource, RepoCore } from './context.js';
import type { PackAnswer } from './pack-cache.js';
import { ephemeralExpiry, transact, type TransactExtra } from './ref-updates.js';
import { findRef, peelToCommit } from './revision.js';
import { type StreamPackOptions, annotatedTags, fetchPack, streamPack, warmClonePack } from './serve-packs.js';
import type { Repository } from './repository.js';
import { markSweepNeeded, withdrawSweepMarker } from './sweep-state.js';
import type { ObjectPlanInput } from './walk.js';
import type { IngestOptions, IngestResult } from './ingest.js';

/** What repo/'s neighbours use of a repository beyond its public API. */
export interface RepoInternals {
  /** The repository's internal id: never reused, so it tells a repository from a later one of the same name. */
  readonly id: number;
  /** The repository's object store. */
  readonly objects: ObjectStore;
  /** Moves refs through the ref-update pipeline (ref-updates.ts). */
  transact(updates: RefUpdate[], source: RefUpdateSource, extra?: TransactExtra): Promise<AppliedUpdate[]>;
  /** Records that stored objects may be unreferenced (sweep-state.ts); returns what withdraws that marker. */
  markSweep(): Promise<() => Promise<void>>;
  /** Runs `fn` counted as one write (a pack stored then refs moved): the sweep waits for it. */
  withWrite<T>(fn: () => Promise<T>): Promise<T>;
  /** Stores a pack (`Repository.indexPack`) inside a write the caller holds (`withWrite`), not one of its own. */
  ingest(source: AsyncIterable<Uint8Array>, options?: IngestOptions): Promise<IngestResult>;
  /** The answer to a fetch, from the pack cache when it can be. */
  fetchPack(input: ObjectPlanInput): Promise<PackAnswer>;
  /** A pack of exactly these stored objects, pinned while it streams. */
  streamPack(oids: readonly Oid[], options?: StreamPackOptions): AsyncIterable<Uint8Array>;
  /** Pre-builds the depth-1 clone pack of a tip. */
  warmClonePack(tip: Oid): Promise<void>;
  /** Annotated tags visible in a view, with their peeled targets (include-tag). */
  annotatedTags(view: View): Promise<{ oid: Oid; peeled: Oid }[]>;
  /** The first ref a (short) name stands for in a view, in git's rev-parse order (revision.ts). */
  findRef(name: string, view: View, options?: { refsPrefix?: boolean }): Promise<{ ref: string; value: RefValue } | undefined>;
  /** The commit a tag chain ends at. */
  peelToCommit(oid: Oid): Promise<Oid>;
  /** Expiry (ms since the epoch) of an ephemeral ref written now with this lifetime. */
  ephemeralExpiry(ttlSeconds?: number): number;
}

const registry = new WeakMap<Repository, RepoInternals>();

/** Builds and records the internals of a repository (called once, by its constructor). */
export function registerInternals(core: RepoCore): void {
  const { ctx } = core;
  registry.set(core.repo, {
    id: ctx.repoId,
    objects: ctx.objects,
    transact: (updates, source, extra) => transact(core, updates, source, extra),
    withWrite: (fn) => ctx.guard.write(fn),
    ingest: async (source, options = {}) => {
      ctx.assertLive();
      const { ingestPack } = await import('./ingest.js');
      return ingestPack(ctx.kv, ctx.objects, source, { ...ctx.ingest, ...options }, ctx.guard);
    },
    markSweep: async () => {
      const key = await markSweepNeeded(ctx.kv, ctx.poolId);
      return () => withdrawSweepMarker(ctx.kv, key);
    },
    fetchPack: (input) => fetchPack(ctx, input),
    streamPack: (oids, options) => streamPack(ctx, oids, options),
    warmClonePack: (tip) => warmClonePack(ctx, tip),
    annotatedTags: (view) => annotatedTags(ctx, view),
    findRef: (name, view, options) => findRef(ctx.refs, name, view, options),
    peelToCommit: (oid) => peelToCommit(ctx.objects, oid),
    ephemeralExpiry: (ttlSeconds) => ephemeralExpiry(ctx, ttlSeconds),
  });
}

/** The internals of a repository opened by an engine. */
export function internalsOf(repo: Repository): RepoInternals {
  const internals = registry.get(repo);
  if (internals === undefined) throw new InvalidArgumentError('not a repository opened by an engine');
  return internals;
}
