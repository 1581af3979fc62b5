/**
 * The repository facade: the documented API (docs/api.md) and nothing else. Each member checks
 * its arguments and hands over to one service module: revision.ts (resolution, peeling),
 * read.ts (files, trees, log), commit.ts (the commit pipeline), branches.ts (branches, tags,
 * promotion), ref-updates.ts (the one path every ref move takes), serve-packs.ts (packs out),
 * ingest.ts (packs in), sweep.ts. What the protocol backend and the engine need beyond this API
 * they reach through internals.ts, which the package does not export.
 */
import { type Oid, parseOid } from '../object/oid.js';
import type { TreeEntry } from '../object/tree.js';
import { branchRef, parseRefName, type RefName } from '../refs/ref-name.js';
import type { AppliedUpdate, RefUpdate, RefValue } from '../refs/ref-store.js';
import { InProcessLock } from '../refs/lock.js';
import type { Space, View } from '../refs/space.js';
import type { RefUpdateSource, RepoContext, RepoCore, RepoInfo } from './context.js';
import { commit, type CommitOptions, type CommitResult, type PersonInput } from './commit.js';
import { createBranch, createTag, deleteBranch, deleteTag, promote, type PromoteOptions } from './branches.js';
import { listTree, log, readFileEntry, readFileStream, resolveCommit, type ListedEntry, type LogEntry } from './read.js';
import { transact } from './ref-updates.js';
import type { DiffOptions, DiffResult } from './diff.js';
import type { CompareResult, MergeCheck, MergeOptions, MergeResult, RevertOptions } from './merge.js';
import { listView, readRef, resolveRevision } from './revision.js';
import { packObjects, planPack, type PackObjectsOptions } from './serve-packs.js';
import type { IngestOptions, IngestResult } from './ingest.js';
import { internalsOf, registerInternals } from './internals.js';
import { sweepRepository, type SweepResult } from './sweep.js';
import { isAncestor, type ObjectPlan, type ObjectPlanInput } from './walk.js';
import { remotesOf, type FetchFromOptions, type FetchFromResult, type PushToOptions, type PushToResult } from './remotes.js';

// The review services (diff, compare, merge, revert) and archives are installed, not imported
// (services.ts), so a browser bundle holds them only when its app enables them; pack ingestion
// loads on first use, so a bundle the bundler splits leaves it out of its first chunk.
import { loadService } from './services.js';
import type { Archive, ArchiveOptions } from './archive.js';
import { history, type HistoryOptions, type HistoryPage } from './history.js';

export type { RepoInfo, RepoContext, RefUpdateEvent, RefUpdateSource } from './context.js';
export type { CommitOptions, CommitResult, PersonInput } from './commit.js';
export type { ListedEntry, LogEntry } from './read.js';
export type { PackObjectsOptions } from './serve-packs.js';
export type { SweepResult } from './sweep.js';
export type { Archive, ArchiveFormat, ArchiveOptions } from './archive.js';
export type { HistoryOptions, HistoryPage } from './history.js';
export type { DiffFile, DiffHunk, DiffOptions, DiffResult } from './diff.js';
export type { CompareResult, ConflictKind, MergeCheck, MergeConflict, MergeOptions, MergeResult, RevertOptions } from './merge.js';
export type { TreeEntry };
export type { FetchFromOptions, FetchFromResult, PushToOptions, PushToResult, PushRefStatus, RemoteCredentials } from './remotes.js';

/** Options of reads that resolve names: `view: 'ephemeral'` sees ephemeral refs over regular ones. */
export interface ReadOptions {
  view?: View;
}

/** A repository. Obtain one from the engine (`createRepo`, `getRepo`). */
export class Repository {
  readonly #core: RepoCore;
  readonly #ctx: RepoContext;
  readonly #refs: RepoRefs;
  /** Queues this process's unconditional commits per branch, so they build on each other instead of racing (the engine's, shared by every object of a repository). */
  readonly #commitQueue: InProcessLock;

  /** Used by the engine; use `engine.createRepo` / `engine.getRepo`. */
  constructor(ctx: RepoContext) {
    this.#ctx = ctx;
    this.#commitQueue = ctx.commitQueue ?? new InProcessLock();
    this.#core = { ctx, repo: this };
    this.#refs = new RepoRefs(this.#core);
    registerInternals(this.#core);
  }

  /** The repository's name. */
  get name(): string {
    return this.#ctx.info.name;
  }

  /** Name, default branch and creation time. */
  get info(): RepoInfo {
    return { ...this.#ctx.info };
  }

  /** Ref access: `transaction`, `get`, `list`, `head`, `setHead`. */
  get refs(): RepoRefs {
    return this.#refs;
  }

  // ---- refs and revisions ----------------------------------------------------------------

  /** A ref's value through a view (default regular; `'ephemeral'`: ephemeral over regular). */
  async getRef(ref: string, options: ReadOptions = {}): Promise<RefValue | undefined> {
    this.#ctx.assertLive();
    return readRef(this.#ctx.refs, ref, options.view ?? 'regular');
  }

  /**
   * Refs under `prefix` (default `refs/`), sorted by name: of one space exactly with `space`,
   * else as a view shows them (default regular; `'ephemeral'`: ephemeral over regular).
   */
  async listRefs(options: { space?: Space; view?: View; prefix?: string } = {}): Promise<[RefName, RefValue][]> {
    this.#ctx.assertLive();
    const prefix = options.prefix ?? 'refs/';
    if (options.space) return this.#ctx.refs.list(options.space, prefix);
    return listView(this.#ctx.refs, options.view ?? 'regular', prefix);
  }

  /**
   * Resolves a full ref name, `HEAD`, a short name (tag, then branch, as git rev-parse does),
   * or a 40-hex sha (which must exist) to an object id.
   */
  async resolve(refOrSha: string, options: ReadOptions = {}): Promise<Oid> {
    this.#ctx.assertLive();
    return resolveRevision(this.#ctx.objects, this.#ctx.refs, refOrSha, options.view ?? 'regular');
  }

  /** The commit a ref, tag or sha names (tags peeled); InvalidObjectError when it names no commit. */
  resolveCommit(refOrSha: string, options: ReadOptions = {}): Promise<Oid> {
    return resolveCommit(this.#ctx, refOrSha, options.view ?? 'regular');
  }

  /** True when commit `ancestor` is reachable from commit `descendant` (a fast-forward from one to the other). */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    this.#ctx.assertLive();
    return isAncestor(this.#ctx.objects, parseOid(ancestor, 'ancestor'), parseOid(descendant, 'descendant'));
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Bytes of a file at a ref, tag or sha. */
  async readFile(refOrSha: string, path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    return (await this.readFileEntry(refOrSha, path, options)).content;
  }

  /** A file's bytes, blob id and mode. */
  readFileEntry(refOrSha: string, path: string, options: ReadOptions = {}): Promise<{ content: Uint8Array; sha: Oid; mode: string }> {
    return readFileEntry(this.#ctx, refOrSha, path, options.view ?? 'regular');
  }

  /** A file's blob id, mode, size and bytes as a stream (a big blob is never held whole). */
  readFileStream(
    refOrSha: string,
    path: string,
    options: ReadOptions = {},
  ): Promise<{ sha: Oid; mode: string; size: number; content: AsyncIterable<Uint8Array> }> {
    return readFileStream(this.#ctx, refOrSha, path, options.view ?? 'regular');
  }

  /** Lists a directory at a ref (recursively: every file and directory below it), sorted by path. */
  listTree(refOrSha: string, options: { path?: string; recursive?: boolean; view?: View } = {}): Promise<ListedEntry[]> {
    return listTree(this.#ctx, refOrSha, options, options.view ?? 'regular');
  }

  /** The tree at a ref as `git archive` writes it (tar, tar.gz or zip), streamed; the revision and path are checked first. */
  archive(refOrSha: string, options: ArchiveOptions = {}): Promise<Archive> {
    return loadService('archive', 'archive').then((m) => m.archive(this.#ctx, refOrSha, options));
  }

  /** A page of `log` (of one path, with `path`), resumable from the returned opaque `nextCursor`. */
  history(refOrSha: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return history(this.#ctx, refOrSha, options);
  }

  /** Commits reachable from a ref, newest first (by committer date), at most `limit` (default 100). */
  log(refOrSha: string, options: { limit?: number; view?: View } = {}): Promise<LogEntry[]> {
    return log(this.#ctx, refOrSha, options.limit, options.view ?? 'regular');
  }

  /** Raw type and body of any object. */
  async readObject(sha: string): Promise<{ type: string; body: Uint8Array }> {
    const oid = parseOid(sha, 'sha');
    return this.#ctx.objects.read(oid);
  }

  /** Files changed from `base` to `head` (refs or shas of commits or trees), with hunks and optionally the unified text. */
  diff(base: string, head: string, options: DiffOptions = {}): Promise<DiffResult> {
    return loadService('diff', 'diff').then((m) => m.diff(this.#ctx, base, head, options));
  }

  /** Like GitHub's compare: merge base, ahead/behind, head-only commits (newest first, `limit`) and the diff from the merge base to head. */
  compare(base: string, head: string, options: DiffOptions & { limit?: number } = {}): Promise<CompareResult> {
    return loadService('merge', 'compare').then((m) => m.compare(this.#core, base, head, options));
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Builds a commit from file changes and moves the branch (see CommitOptions). */
  commit(options: CommitOptions): Promise<CommitResult> {
    return commit(this.#core, this.#commitQueue, options);
  }

  /** Branches of one space (default regular). */
  async listBranches(options: { space?: Space } = {}): Promise<{ name: string; sha: Oid }[]> {
    const refs = await this.listRefs({ prefix: 'refs/heads/', space: options.space ?? 'regular' });
    return refs.map(([ref, v]) => ({ name: ref.slice('refs/heads/'.length), sha: v.oid }));
  }

  /** Creates a branch at a ref or sha (which must name a commit); in the ephemeral space with a lifetime. */
  createBranch(name: string, from: string, options: { space?: Space; ttlSeconds?: number } = {}): Promise<{ name: string; sha: Oid }> {
    return createBranch(this.#core, name, from, options);
  }

  /** Deletes a branch of one space (optionally only if at `expectedSha`). */
  deleteBranch(name: string, options: { space?: Space; expectedSha?: string } = {}): Promise<void> {
    return deleteBranch(this.#core, name, options);
  }

  /** Tags with their target and, for annotated tags, the peeled commit. */
  async listTags(): Promise<{ name: string; sha: Oid; peeled?: Oid }[]> {
    const refs = await this.listRefs({ prefix: 'refs/tags/' });
    return refs.map(([ref, v]) => ({ name: ref.slice('refs/tags/'.length), sha: v.oid, ...(v.peeled ? { peeled: v.peeled } : {}) }));
  }

  /** Creates a lightweight tag, or an annotated one when `message` is given. */
  createTag(name: string, target: string, options: { message?: string; tagger?: PersonInput } = {}): Promise<{ name: string; sha: Oid }> {
    return createTag(this.#core, name, target, options);
  }

  /** Deletes a tag. */
  deleteTag(name: string): Promise<void> {
    return deleteTag(this.#core, name);
  }

  /**
   * Moves an ephemeral branch into the regular space in one transaction (no objects copied):
   * the regular `targetBranch` (default: the same name) is set to the ephemeral tip, checked
   * against `expectedTargetSha` when given, and the ephemeral ref is removed.
   */
  promote(options: PromoteOptions): Promise<{ targetBranch: string; sha: Oid }> {
    return promote(this.#core, options);
  }

  /** Merges `head` into the branch `base` ('merge', 'squash' or 'fast-forward'); `dryRun` answers whether it merges without writing. */
  merge(options: MergeOptions & { dryRun: true }): Promise<MergeCheck>;
  merge(options: MergeOptions): Promise<MergeResult>;
  merge(options: MergeOptions): Promise<MergeResult | MergeCheck> {
    return loadService('merge', 'merge').then((m) => m.merge(this.#core, options));
  }

  /** A new commit on `branch` undoing `commit` (against its first parent). */
  revert(options: RevertOptions): Promise<{ sha: Oid; tree: Oid }> {
    return loadService('merge', 'revert').then((m) => m.revertOrPick(this.#core, options, false));
  }

  /** A new commit on `branch` applying what `commit` changed (against its first parent), with its message and author. */
  cherryPick(options: RevertOptions): Promise<{ sha: Oid; tree: Oid }> {
    return loadService('merge', 'cherryPick').then((m) => m.revertOrPick(this.#core, options, true));
  }

  // ---- packs -----------------------------------------------------------------------------

  /** Plans a pack: object ids in pack order and the shallow boundary, without the bytes (see walk.ts). */
  planPack(input: ObjectPlanInput): Promise<ObjectPlan> {
    return planPack(this.#ctx, input);
  }

  /** One complete pack of the objects `options` select (e.g. `{ wants: [sha], depth: 1 }`), streamed. */
  packObjects(options: PackObjectsOptions): AsyncIterable<Uint8Array> {
    return packObjects(this.#ctx, options);
  }

  /** Stores every object of a pack (checked and connected); moves no ref. */
  async indexPack(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: IngestOptions = {}): Promise<IngestResult> {
    this.#ctx.assertLive();
    const src: AsyncIterable<Uint8Array> =
      Symbol.asyncIterator in (source as object)
        ? (source as AsyncIterable<Uint8Array>)
        : (async function* () {
            yield* source as Iterable<Uint8Array>;
          })();
    return this.#ctx.guard.write(() => internalsOf(this).ingest(src, options));
  }

  // ---- remotes ---------------------------------------------------------------------------

  /** Fetches branches and tags (or one `ref`) and their objects from a Git server over smart HTTP, and sets the refs here. */
  fetchFrom(url: string, options: FetchFromOptions = {}): Promise<FetchFromResult> {
    this.#ctx.assertLive();
    return remotesOf(this.#ctx).fetchFrom(this, url, options);
  }

  /** Pushes branches and tags (or `refs`) to a Git server over smart HTTP, sending what it lacks. */
  pushTo(url: string, options: PushToOptions = {}): Promise<PushToResult> {
    this.#ctx.assertLive();
    return remotesOf(this.#ctx).pushTo(this, url, options);
  }

  /**
   * Removes expired ephemeral refs (afterRefUpdate sees them as source 'expire'), then every
   * object that no ref of either space reaches and no pack being sent still needs. The object
   * phase waits for a moment with no write in flight (up to `waitMs`, default the engine's
   * `sweepWaitMs`, 10 s); if the repository stays busy that long it is skipped (`busy: true`)
   * and the next sweep collects.
   */
  sweep(options: { waitMs?: number } = {}): Promise<SweepResult> {
    return sweepRepository(this.#core, options.waitMs ?? this.#ctx.sweepWaitMs ?? 10_000);
  }
}

/** `repo.refs`: transactions and reads of refs, one space at a time. */
export class RepoRefs {
  readonly #core: RepoCore;

  /** Made by its Repository (`repo.refs`). */
  constructor(core: RepoCore) {
    this.#core = core;
  }

  /** Applies `{ ref, oldOid?, newOid, space? }` updates all-or-nothing (zero oid: must not exist / delete). */
  transaction(updates: RefUpdate[], options: { source?: RefUpdateSource } = {}): Promise<AppliedUpdate[]> {
    return transact(this.#core, updates, options.source ?? 'transaction');
  }

  /** A ref's value in one space (default regular). */
  get(ref: string, options: { space?: Space } = {}): Promise<RefValue | undefined> {
    return this.#core.ctx.refs.get(ref === 'HEAD' ? ref : parseRefName(ref), options.space ?? 'regular');
  }

  /** Refs of one space (default regular) under a prefix (default `refs/`). */
  list(options: { space?: Space; prefix?: string } = {}): Promise<[RefName, RefValue][]> {
    return this.#core.ctx.refs.list(options.space ?? 'regular', options.prefix ?? 'refs/');
  }

  /** The full name HEAD points at. */
  head(): Promise<string | undefined> {
    return this.#core.ctx.refs.head();
  }

  /** Points HEAD at a branch. */
  setHead(branch: string): Promise<void> {
    return this.#core.ctx.refs.setHead(branchRef(branch));
  }
}
