/**
 * The repository facade: multi-file commits, reads at any ref or sha, trees, log, branches and
 * tags, ref transactions (regular and ephemeral spaces), packs out and packs in. Every ref
 * move goes through one place (`#transact`) so the objects check, the hooks and the pack-cache
 * warm-up apply to commits, pushes, API calls, promotion and expiry alike.
 */
import { InvalidArgumentError, NotFoundError, RefConflictError, RefRejectedError, InvalidObjectError } from '../errors.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { type Oid, ZERO_OID, isOid, parseOid } from '../object/oid.js';
import { splitDirPath, splitPath } from '../object/path.js';
import { encodeCommit, encodeTag, type Commit, type Identity } from '../object/commit.js';
import type { TreeEntry } from '../object/tree.js';
import type { ObjectStore } from '../object/object-store.js';
import { decodePacked } from '../object/packed.js';
import { branchRef, parseRefName, tagRef, type RefName } from '../refs/ref-name.js';
import type { RefStore, RefUpdate, AppliedUpdate, RefSpace, RefValue } from '../refs/ref-store.js';
import { InProcessLock } from '../refs/lock.js';
import { applyChanges, groupChanges, type FileChange, type Replaced } from './build-tree.js';
import { addCommitDeltas, type CommitDeltaLimits } from './commit-deltas.js';
import { isAncestor, planObjects, type ObjectPlanInput } from './walk.js';
import type { ObjectFilter } from '../protocol/backend.js';
import { ingestPack, type IngestOptions, type IngestResult } from './ingest.js';
import { SweepGuard, sweepObjects } from './sweep.js';
import { packBytes } from './pack-out.js';
import { checkIdempotencyKey, fingerprint, idempotencyMismatch, idempotencyRecordOp, readIdempotencyRecord } from './idempotency.js';

/** Thrown inside a commit's transaction when a concurrent call with the same idempotency key landed first. */
class IdempotentReplay extends Error {
  constructor(
    readonly result: unknown,
    readonly fingerprint: string,
  ) {
    super('replayed');
  }
}
import { PackCache, packCacheKey, type PackAnswer } from './pack-cache.js';

/** Public facts about a repository. */
export interface RepoInfo {
  name: string;
  defaultBranch: string;
  createdAt: string;
}

/** Who and when, as callers give it (timestamp and timezone default to now and +0000). */
export interface PersonInput {
  name: string;
  email: string;
  /** Seconds since the epoch, or a Date. */
  timestamp?: number | Date;
  /** "+0100" style, or minutes east of UTC. */
  timezone?: string | number;
}

/** Options of `Repository.commit`. */
export interface CommitOptions {
  branch: string;
  message: string;
  author: PersonInput;
  committer?: PersonInput;
  changes: FileChange[];
  /** Compare-and-swap: the branch must be at this sha (zero sha: must not exist). */
  expectedHeadSha?: string;
  /** Start a missing branch from this branch's tip. */
  baseBranch?: string;
  /** Commit to the ephemeral namespace (reads the base through it too). */
  ephemeral?: boolean;
  /** Ephemeral only: lifetime in seconds (default: the engine's). */
  ttlSeconds?: number;
  /**
   * Makes the commit idempotent: a retry with the same key and the same request returns the
   * first result (with `replayed: true`) instead of committing again; the same key with a
   * different request is an InvalidArgumentError. Kept 24 hours, stored atomically with the ref move.
   */
  idempotencyKey?: string;
}

/** Result of a commit. */
export interface CommitResult {
  sha: Oid;
  branch: string;
  ref: RefName;
  tree: Oid;
  parents: Oid[];
  ephemeral: boolean;
  /** Present (true) when an idempotency key returned an earlier commit's result. */
  replayed?: true;
}

/** Why a ref moved; passed to hooks. */
/** What a sweep removed; `busy` when writes kept the repository busy past the wait and the object phase was skipped. */
export interface SweepResult {
  refs: number;
  objects: number;
  busy?: true;
}

export type RefUpdateSource = 'commit' | 'push' | 'api' | 'promote' | 'expire' | 'transaction';

/** What hooks receive. */
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
  beforeRefUpdate?: (e: RefUpdateEvent) => void | string | Promise<void | string>;
  afterRefUpdate?: (e: RefUpdateEvent) => void | Promise<void>;
  /** Called after every ref move (the pack cache warms itself from it). */
  onRefsChanged?: (repo: Repository, updates: AppliedUpdate[]) => void;
  /** Throws if the repository was deleted. */
  assertLive: () => void;
  /** Internal id (pack cache keys). */
  repoId: number;
  /** The engine's pack cache, if enabled. */
  packCache?: PackCache;
  /** Writes in flight and packs being sent, against which the object sweep keeps itself safe. */
  guard: SweepGuard;
  /** Limits of the deltas kept for API commits, or false for none (see commit-deltas.ts). */
  commitDeltas?: CommitDeltaLimits | false;
  /** How long a sweep waits for a moment with no write in flight before it skips the object phase. */
  sweepWaitMs?: number;
}

/** Options of `packObjects`: ids as hex strings; see ObjectPlanInput for the meaning of each. */
export interface PackObjectsOptions {
  wants: readonly string[];
  haves?: readonly string[];
  /** Commits the client has as shallow boundaries. */
  shallows?: readonly string[];
  depth?: number;
  deepenRelative?: boolean;
  deepenSince?: number;
  filter?: ObjectFilter;
  /** Add annotated tags pointing at sent commits. */
  includeTags?: boolean;
}

/** A tree entry as listed by `listTree`. */
export interface ListedEntry {
  path: string;
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  sha: Oid;
  /** Blob size in bytes (blobs only). */
  size?: number;
}

/** A commit as listed by `log`. */
export interface LogEntry {
  sha: Oid;
  message: string;
  author: Identity;
  committer: Identity;
  parents: Oid[];
  tree: Oid;
}

function toIdentity(p: PersonInput, what: string): Identity {
  if (p === null || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.email !== 'string' || p.name.length === 0) {
    throw new InvalidArgumentError(`${what} must be { name, email }`);
  }
  const ts = p.timestamp instanceof Date ? Math.floor(p.timestamp.getTime() / 1000) : (p.timestamp ?? Math.floor(Date.now() / 1000));
  let tz = p.timezone ?? '+0000';
  if (typeof tz === 'number') {
    const sign = tz < 0 ? '-' : '+';
    const a = Math.abs(tz);
    tz = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
  }
  return { name: p.name, email: p.email, timestamp: ts, timezone: tz };
}

/** A repository. Obtain one from the engine (`createRepo`, `getRepo`). */
export class Repository {
  readonly #ctx: RepoContext;
  /** Queues this process's unconditional commits per branch, so they build on each other instead of racing. */
  readonly #commitQueue = new InProcessLock();

  constructor(ctx: RepoContext) {
    this.#ctx = ctx;
  }

  /** The repository's name. */
  get name(): string {
    return this.#ctx.info.name;
  }

  /** Name, default branch and creation time. */
  get info(): RepoInfo {
    return { ...this.#ctx.info };
  }

  /** The object store (advanced use). */
  get objects(): ObjectStore {
    return this.#ctx.objects;
  }

  /** Ref access: `transaction`, `get`, `list`, `head`. */
  get refs(): RepoRefs {
    return new RepoRefs(this, this.#ctx);
  }

  // ---- resolving -------------------------------------------------------------------------

  /** Value of a ref in the given view: the ephemeral view sees ephemeral refs over regular ones. */
  async getRef(ref: string, ephemeral = false): Promise<RefValue | undefined> {
    this.#ctx.assertLive();
    if (ephemeral) {
      const e = await this.#ctx.refs.get(ref, 'ephemeral');
      if (e !== undefined) return e;
    }
    return this.#ctx.refs.get(ref, 'regular');
  }

  /** Every ref visible in a view, sorted by name (ephemeral view: ephemeral over regular). */
  async listRefs(options: { ephemeral?: boolean; prefix?: string; space?: RefSpace } = {}): Promise<[RefName, RefValue][]> {
    this.#ctx.assertLive();
    const prefix = options.prefix ?? 'refs/';
    if (options.space) return this.#ctx.refs.list(options.space, prefix);
    const regular = await this.#ctx.refs.list('regular', prefix);
    if (!options.ephemeral) return regular;
    const merged = new Map<RefName, RefValue>(regular);
    for (const [k, v] of await this.#ctx.refs.list('ephemeral', prefix)) merged.set(k, v);
    return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Resolves a full ref name, a branch or tag short name (branch first), `HEAD`, or a 40-hex
   * sha (which must exist) to an object id.
   */
  async resolve(refOrSha: string, options: { ephemeral?: boolean } = {}): Promise<Oid> {
    this.#ctx.assertLive();
    if (typeof refOrSha !== 'string' || refOrSha.length === 0) throw new InvalidArgumentError('ref must be a non-empty string');
    if (isOid(refOrSha.toLowerCase()) && !refOrSha.startsWith('refs/')) {
      const oid = refOrSha.toLowerCase() as Oid;
      const [has] = await this.#ctx.objects.has([oid]);
      if (!has) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
      return oid;
    }
    const candidates = refOrSha === 'HEAD' || refOrSha.startsWith('refs/') ? [refOrSha] : [`refs/heads/${refOrSha}`, `refs/tags/${refOrSha}`];
    for (const c of candidates) {
      const v = await this.getRef(c, options.ephemeral);
      if (v !== undefined) return v.oid;
    }
    throw new NotFoundError('ERR_REF_NOT_FOUND', `ref "${refOrSha}" not found`, { details: { ref: refOrSha } });
  }

  /** Peels tags until a commit; InvalidObjectError if the chain ends elsewhere. */
  /** True when commit `ancestor` is reachable from commit `descendant` (a fast-forward from one to the other). */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    this.#ctx.assertLive();
    return isAncestor(this.#ctx.objects, parseOid(ancestor, 'ancestor'), parseOid(descendant, 'descendant'));
  }

  async peelToCommit(oid: Oid): Promise<Oid> {
    for (let i = 0; i < 16; i++) {
      const d = await this.#ctx.objects.decode(oid);
      if (d.type === 'commit') return oid;
      if (d.type !== 'tag') break;
      oid = d.tag.object;
    }
    throw new InvalidObjectError(`${oid} does not name a commit`);
  }

  /** The commit a ref, tag or sha names. */
  async resolveCommit(refOrSha: string, options: { ephemeral?: boolean } = {}): Promise<Oid> {
    return this.peelToCommit(await this.resolve(refOrSha, options));
  }

  async #entryAt(refOrSha: string, path: string | undefined, ephemeral: boolean): Promise<{ mode: string; oid: Oid }> {
    const commit = await this.#ctx.objects.commit(await this.resolveCommit(refOrSha, { ephemeral }));
    let cur = { mode: '40000', oid: commit.tree };
    const parts = path === undefined ? [] : splitDirPath(path);
    for (let i = 0; i < parts.length; i++) {
      if (cur.mode !== '40000') break;
      const e = (await this.#ctx.objects.tree(cur.oid)).find((x) => x.name === parts[i]);
      if (e === undefined) {
        throw new NotFoundError('ERR_PATH_NOT_FOUND', `path "${path}" not found at ${refOrSha}`, { details: { path, ref: refOrSha } });
      }
      cur = e;
      if (i < parts.length - 1 && e.mode !== '40000') {
        throw new NotFoundError('ERR_PATH_NOT_FOUND', `path "${path}" not found at ${refOrSha}`, { details: { path, ref: refOrSha } });
      }
    }
    return cur;
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Bytes of a file at a ref, tag or sha. */
  async readFile(refOrSha: string, path: string, options: { ephemeral?: boolean } = {}): Promise<Uint8Array> {
    return (await this.readFileEntry(refOrSha, path, options)).content;
  }

  /** A file's bytes, blob id and mode. */
  async readFileEntry(refOrSha: string, path: string, options: { ephemeral?: boolean } = {}): Promise<{ content: Uint8Array; sha: Oid; mode: string }> {
    splitPath(path);
    const e = await this.#entryAt(refOrSha, path, options.ephemeral ?? false);
    if (e.mode === '40000' || e.mode === '160000') {
      throw new NotFoundError('ERR_PATH_NOT_FOUND', `"${path}" is not a file`, { details: { path } });
    }
    const o = await this.#ctx.objects.read(e.oid);
    return { content: o.body, sha: e.oid, mode: e.mode };
  }

  /** Lists a directory at a ref (recursively: every file and directory below it). */
  async listTree(refOrSha: string, options: { path?: string; recursive?: boolean; ephemeral?: boolean } = {}): Promise<ListedEntry[]> {
    const start = await this.#entryAt(refOrSha, options.path, options.ephemeral ?? false);
    if (start.mode !== '40000') throw new NotFoundError('ERR_PATH_NOT_FOUND', `"${options.path}" is not a directory`, { details: { path: options.path } });
    const base = options.path ? splitDirPath(options.path).join('/') + '/' : '';
    const out: ListedEntry[] = [];
    let level: [string, Oid][] = [[base, start.oid]];
    while (level.length > 0) {
      const trees = await this.#ctx.objects.decodeMany(level.map(([, o]) => o));
      const next: [string, Oid][] = [];
      level.forEach(([prefix], i) => {
        const t = trees[i]!;
        if (t.type !== 'tree') return;
        for (const e of t.entries) {
          const type = e.mode === '40000' ? 'tree' : e.mode === '160000' ? 'commit' : 'blob';
          out.push({ path: prefix + e.name, mode: e.mode === '40000' ? '040000' : e.mode, type, sha: e.oid });
          if (options.recursive && type === 'tree') next.push([`${prefix}${e.name}/`, e.oid]);
        }
      });
      level = next;
    }
    const blobs = out.filter((e) => e.type === 'blob');
    const infos = await this.#ctx.objects.info(blobs.map((b) => b.sha));
    blobs.forEach((b, i) => (b.size = infos[i]?.size));
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Commits reachable from a ref, newest first (by committer date), at most `limit`. */
  async log(refOrSha: string, options: { limit?: number; ephemeral?: boolean } = {}): Promise<LogEntry[]> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit must be a positive integer');
    const start = await this.resolveCommit(refOrSha, options);
    const out: LogEntry[] = [];
    const seen = new Set<Oid>([start]);
    const queue: [Oid, Commit][] = [[start, await this.#ctx.objects.commit(start)]];
    while (queue.length > 0 && out.length < limit) {
      queue.sort((a, b) => b[1].committer.timestamp - a[1].committer.timestamp);
      const [oid, c] = queue.shift()!;
      out.push({ sha: oid, message: c.message, author: c.author, committer: c.committer, parents: c.parents, tree: c.tree });
      const fresh = c.parents.filter((p) => !seen.has(p));
      fresh.forEach((p) => seen.add(p));
      const decoded = await this.#ctx.objects.decodeMany(fresh);
      decoded.forEach((d, i) => d.type === 'commit' && queue.push([fresh[i]!, d.commit]));
    }
    return out;
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Builds a commit from file changes and moves the branch (see CommitOptions). */
  async commit(options: CommitOptions): Promise<CommitResult> {
    this.#ctx.assertLive();
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('commit options must be an object');
    const ref = branchRef(options.branch);
    if (typeof options.message !== 'string') throw new InvalidArgumentError('message must be a string');
    const author = toIdentity(options.author, 'author');
    const committer = options.committer ? toIdentity(options.committer, 'committer') : author;
    const tree = groupChanges(options.changes);
    const expected = options.expectedHeadSha === undefined ? undefined : parseOid(options.expectedHeadSha, 'expectedHeadSha');
    const ephemeral = options.ephemeral === true;
    if (ephemeral) this.#expiry(options.ttlSeconds); // a bad lifetime fails here, before any object is written
    const space: RefSpace = ephemeral ? 'ephemeral' : 'regular';
    const message = options.message.endsWith('\n') || options.message === '' ? options.message : options.message + '\n';

    let idem: { key: string; fingerprint: string } | undefined;
    if (options.idempotencyKey !== undefined) {
      const key = checkIdempotencyKey(options.idempotencyKey);
      const { idempotencyKey: _k, author: a, committer: c, ...rest } = options;
      void _k;
      const fp = fingerprint({ ...rest, author: { name: a.name, email: a.email }, committer: c ? { name: c.name, email: c.email } : undefined });
      const found = await readIdempotencyRecord<CommitResult>(this.#ctx.kv, this.#ctx.repoId, key);
      if (found) {
        if (found.fingerprint !== fp) throw idempotencyMismatch();
        return { ...found.result, replayed: true };
      }
      idem = { key, fingerprint: fp };
    }

    await this.#ctx.guard.beginWrite();
    try {
      const run = () => this.#commitLoop(options, ref, author, committer, tree, expected, ephemeral, space, message, idem);
      // Without an expectation, racing commits of this process would only conflict and retry
      // (and give up after a few rounds): run them one after the other instead.
      return await (expected === undefined ? this.#commitQueue.run(`${space}:${ref}`, run) : run());
    } catch (err) {
      if (err instanceof IdempotentReplay) {
        const r = err.result as CommitResult & { fingerprint?: string };
        if (err.fingerprint !== idem?.fingerprint) throw idempotencyMismatch();
        return { ...r, replayed: true };
      }
      // A concurrent retry of the same request that landed first moved the branch, so this one
      // fails its expectation: it is a replay, not a conflict.
      if (err instanceof RefConflictError && idem !== undefined) {
        const found = await readIdempotencyRecord<CommitResult>(this.#ctx.kv, this.#ctx.repoId, idem.key);
        if (found) {
          if (found.fingerprint !== idem.fingerprint) throw idempotencyMismatch();
          return { ...found.result, replayed: true };
        }
      }
      throw err;
    } finally {
      this.#ctx.guard.endWrite();
    }
  }

  async #commitLoop(
    options: CommitOptions,
    ref: RefName,
    author: Identity,
    committer: Identity,
    tree: ReturnType<typeof groupChanges>,
    expected: Oid | undefined,
    ephemeral: boolean,
    space: RefSpace,
    message: string,
    idem: { key: string; fingerprint: string } | undefined,
  ): Promise<CommitResult> {
    // Without an expectation, a concurrent move of the branch makes us rebuild on the new tip.
    for (let attempt = 0; ; attempt++) {
      // The branch in its own space, read with the view: the compare-and-swap below is against
      // this value (re-reading it after the objects are written would let a commit that landed
      // meanwhile be overwritten).
      const own = await this.#ctx.refs.get(ref, space);
      const current = own ?? (ephemeral ? await this.#ctx.refs.get(ref, 'regular') : undefined);
      let parent: Oid | undefined = current?.oid;
      if (expected !== undefined && (parent ?? ZERO_OID) !== expected) {
        throw new RefConflictError(`branch ${options.branch} is at ${parent ?? 'nothing'}, not ${expected}`, {
          details: { ref, expected, actual: parent ?? ZERO_OID },
        });
      }
      if (parent === undefined && options.baseBranch !== undefined) {
        const base = await this.getRef(branchRef(options.baseBranch), ephemeral);
        if (base === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `base branch "${options.baseBranch}" not found`, { details: { ref: options.baseBranch } });
        parent = await this.peelToCommit(base.oid);
      }
      const baseTree = parent === undefined ? undefined : (await this.#ctx.objects.commit(parent)).tree;
      const writer = this.#ctx.objects.writer();
      const replaced: Replaced[] = [];
      const newTree = (await applyChanges(this.#ctx.objects, writer, baseTree, tree, replaced)) ?? writer.add('tree', new Uint8Array(0));
      if (this.#ctx.commitDeltas !== false) await addCommitDeltas(this.#ctx.objects, writer, replaced, this.#ctx.commitDeltas);
      const parents = parent === undefined ? [] : [parent];
      const sha = writer.add('commit', encodeCommit({ tree: newTree, parents, author, committer, message }));
      await writer.flush();
      // The old value checked is what the branch was in its own space (absent = must not exist).
      const ownOld = own?.oid;
      const result: CommitResult = { sha, branch: options.branch, ref, tree: newTree, parents, ephemeral };
      const kv = this.#ctx.kv;
      const repoId = this.#ctx.repoId;
      try {
        await this.transact(
          [{ ref, oldSha: ownOld ?? ZERO_OID, newSha: sha, space, expiresAt: ephemeral ? this.#expiry(options.ttlSeconds) : undefined }],
          'commit',
          idem && {
            // Under the lock: a concurrent retry that landed first wins; ours is not applied.
            before: async () => {
              const found = await readIdempotencyRecord<CommitResult>(kv, repoId, idem.key);
              if (found) throw new IdempotentReplay(found.result, found.fingerprint);
            },
            extraOps: [idempotencyRecordOp(repoId, idem.key, { fingerprint: idem.fingerprint, result, createdAt: Date.now() })],
          },
        );
      } catch (err) {
        if (err instanceof RefConflictError && expected === undefined && attempt < 8) continue;
        throw err;
      }
      return result;
    }
  }

  #expiry(ttlSeconds: number | undefined): number {
    const ttl = ttlSeconds ?? this.#ctx.ephemeralTtlSeconds;
    if (typeof ttl !== 'number' || !(ttl > 0)) throw new InvalidArgumentError('ttl must be a positive number of seconds');
    return Date.now() + Math.min(ttl, this.#ctx.maxEphemeralTtlSeconds) * 1000;
  }

  /** Expiry time (ms) for an ephemeral ref with this lifetime. */
  ephemeralExpiry(ttlSeconds?: number): number {
    return this.#expiry(ttlSeconds);
  }

  /** The one path every ref move takes: peeled values, object check, hooks, then the write. */
  async transact(updates: RefUpdate[], source: RefUpdateSource, extra?: { before?: () => Promise<void>; extraOps?: KvOp[] }): Promise<AppliedUpdate[]> {
    this.#ctx.assertLive();
    // One typed read of every new value: branches point at commits (git's ref store refuses
    // anything else, and every read of the branch would fail), and tags are peeled from there.
    // Missing objects are the transaction's own check, under the lock.
    const targets = updates.map((u) => (typeof u.newSha === 'string' && isOid(u.newSha.toLowerCase()) && u.newSha !== ZERO_OID ? (u.newSha.toLowerCase() as Oid) : undefined));
    const wanted = [...new Set(targets.filter((t) => t !== undefined))];
    const typeOf = new Map(wanted.map((o, i) => [o, i]));
    const infos = await this.#ctx.objects.info(wanted);
    updates.forEach((u, i) => {
      const t = targets[i];
      const info = t === undefined ? undefined : infos[typeOf.get(t)!];
      if (info !== undefined && info.type !== 'commit' && typeof u.ref === 'string' && u.ref.startsWith('refs/heads/')) {
        throw new InvalidArgumentError(`${u.ref} must point at a commit, not a ${info.type}`, { details: { ref: u.ref, newSha: u.newSha, type: info.type } });
      }
    });
    const withPeeled = await this.#withPeeled(updates, (oid) => infos[typeOf.get(oid) ?? -1]?.type);
    const applied = await this.#ctx.refs.transaction(withPeeled, {
      missingObjects: async (oids) => {
        const has = await this.#ctx.objects.has(oids);
        return oids.filter((_, i) => !has[i]);
      },
      prepare: async (list) => {
        await extra?.before?.();
        if (this.#ctx.beforeRefUpdate) {
          const verdict = await this.#ctx.beforeRefUpdate({ repo: this.name, source, updates: list });
          if (typeof verdict === 'string') throw new RefRejectedError(verdict, { details: { refs: list.map((u) => u.ref) } });
        }
      },
      extraOps: extra?.extraOps,
    });
    this.#ctx.onRefsChanged?.(this, applied);
    if (this.#ctx.afterRefUpdate) {
      Promise.resolve()
        .then(() => this.#ctx.afterRefUpdate!({ repo: this.name, source, updates: applied }))
        .catch(() => undefined);
    }
    return applied;
  }

  /**
   * Each update with the value its tag peels to: one batched read per level of tag nesting,
   * the first level's types given by the caller (`firstTypes`).
   */
  async #withPeeled(updates: RefUpdate[], firstTypes: (oid: Oid) => string | undefined): Promise<RefUpdate[]> {
    const out = [...updates];
    // Index of the update, and the object reached so far.
    let pending = updates.flatMap((u, i) => (u.peeled !== undefined || !isOid(u.newSha) || u.newSha === ZERO_OID ? [] : [[i, u.newSha as Oid] as const]));
    for (let depth = 0; pending.length > 0 && depth < 16; depth++) {
      const types = depth === 0 ? pending.map(([, o]) => firstTypes(o)) : (await this.#ctx.objects.info(pending.map(([, o]) => o))).map((x) => x?.type);
      const tags = pending.filter((_, k) => types[k] === 'tag');
      const decoded = await this.#ctx.objects.decodeMany(tags.map(([, o]) => o));
      pending.forEach(([i, o], k) => {
        if (types[k] !== 'tag' && o !== updates[i]!.newSha) out[i] = { ...updates[i]!, peeled: o };
      });
      pending = tags.flatMap(([i], k) => {
        const d = decoded[k]!;
        return d.type === 'tag' ? [[i, d.tag.object] as const] : [];
      });
    }
    return out;
  }

  // ---- branches and tags -----------------------------------------------------------------

  /** Branches of a space (or the merged ephemeral view with `ephemeral: 'view'`). */
  async listBranches(options: { ephemeral?: boolean } = {}): Promise<{ name: string; sha: Oid }[]> {
    const refs = await this.listRefs({ prefix: 'refs/heads/', space: options.ephemeral ? 'ephemeral' : 'regular' });
    return refs.map(([ref, v]) => ({ name: ref.slice('refs/heads/'.length), sha: v.oid }));
  }

  /** Creates a branch at a ref or sha (which must name a commit). */
  async createBranch(name: string, from: string, options: { ephemeral?: boolean; ttlSeconds?: number } = {}): Promise<{ name: string; sha: Oid }> {
    const ref = branchRef(name);
    const sha = await this.resolveCommit(from, { ephemeral: options.ephemeral });
    const space: RefSpace = options.ephemeral ? 'ephemeral' : 'regular';
    await this.transact([{ ref, oldSha: ZERO_OID, newSha: sha, space, expiresAt: options.ephemeral ? this.#expiry(options.ttlSeconds) : undefined }], 'api');
    return { name: ref.slice('refs/heads/'.length), sha };
  }

  /** Deletes a branch (optionally only if at `expectedSha`). */
  async deleteBranch(name: string, options: { ephemeral?: boolean; expectedSha?: string } = {}): Promise<void> {
    const ref = branchRef(name);
    const space: RefSpace = options.ephemeral ? 'ephemeral' : 'regular';
    const cur = await this.#ctx.refs.get(ref, space);
    if (cur === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `branch "${name}" not found`, { details: { ref } });
    await this.transact([{ ref, oldSha: options.expectedSha ?? cur.oid, newSha: ZERO_OID, space }], 'api');
  }

  /** Tags with their target and, for annotated tags, the peeled commit. */
  async listTags(): Promise<{ name: string; sha: Oid; peeled?: Oid }[]> {
    const refs = await this.listRefs({ prefix: 'refs/tags/' });
    return refs.map(([ref, v]) => ({ name: ref.slice('refs/tags/'.length), sha: v.oid, ...(v.peeled ? { peeled: v.peeled } : {}) }));
  }

  /** Creates a lightweight tag, or an annotated one when `message` is given. */
  async createTag(name: string, target: string, options: { message?: string; tagger?: PersonInput } = {}): Promise<{ name: string; sha: Oid }> {
    const ref = tagRef(name);
    let sha = await this.resolve(target);
    if (options.message !== undefined) {
      // Refuse a taken name before writing the tag object (the transaction still decides races).
      const taken = await this.#ctx.refs.get(ref);
      if (taken !== undefined) throw new RefConflictError(`tag ${ref} already exists`, { details: { ref, expected: ZERO_OID, actual: taken.oid } });
      const [info] = await this.#ctx.objects.info([sha]);
      const writer = this.#ctx.objects.writer();
      const tagger = toIdentity(options.tagger ?? { name: 'level-git', email: 'level-git@localhost' }, 'tagger');
      const msg = options.message.endsWith('\n') ? options.message : options.message + '\n';
      sha = writer.add('tag', encodeTag({ object: sha, type: info!.type, tag: ref.slice('refs/tags/'.length), tagger, message: msg }));
      // Counted as a write from the object to the ref, so a sweep cannot collect the tag in between.
      const tagSha = sha;
      await this.withWrite(async () => {
        await writer.flush();
        await this.transact([{ ref, oldSha: ZERO_OID, newSha: tagSha }], 'api');
      });
      return { name: ref.slice('refs/tags/'.length), sha };
    }
    await this.transact([{ ref, oldSha: ZERO_OID, newSha: sha }], 'api');
    return { name: ref.slice('refs/tags/'.length), sha };
  }

  /** Deletes a tag. */
  async deleteTag(name: string): Promise<void> {
    const ref = tagRef(name);
    const cur = await this.#ctx.refs.get(ref);
    if (cur === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `tag "${name}" not found`, { details: { ref } });
    await this.transact([{ ref, oldSha: cur.oid, newSha: ZERO_OID }], 'api');
  }

  /**
   * Moves an ephemeral branch into the regular space in one transaction (no objects copied):
   * the regular `targetBranch` (default: the same name) is set to the ephemeral tip, checked
   * against `expectedTargetSha` when given, and the ephemeral ref is removed.
   */
  async promote(options: { baseBranch: string; targetBranch?: string; expectedTargetSha?: string }): Promise<{ targetBranch: string; sha: Oid }> {
    const from = branchRef(options.baseBranch);
    const target = branchRef(options.targetBranch ?? options.baseBranch);
    const eph = await this.#ctx.refs.get(from, 'ephemeral');
    if (eph === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `ephemeral branch "${options.baseBranch}" not found`, { details: { ref: from } });
    const expected = options.expectedTargetSha === undefined ? undefined : parseOid(options.expectedTargetSha, 'expectedTargetSha');
    await this.transact(
      [
        { ref: target, oldSha: expected, newSha: eph.oid, space: 'regular' },
        { ref: from, oldSha: eph.oid, newSha: ZERO_OID, space: 'ephemeral' },
      ],
      'promote',
    );
    return { targetBranch: target.slice('refs/heads/'.length), sha: eph.oid };
  }

  // ---- packs -----------------------------------------------------------------------------

  /** Plans a pack: object ids in pack order and the shallow boundary (see walk.ts). */
  planPack(options: ObjectPlanInput) {
    this.#ctx.assertLive();
    return planObjects(this.#ctx.objects, options);
  }

  /**
   * The answer to a fetch: the shallow boundary changes and the pack, served from the pack
   * cache when the request does not depend on the client's state.
   */
  async fetchPack(input: ObjectPlanInput): Promise<PackAnswer> {
    this.#ctx.assertLive();
    const generate = async (): Promise<PackAnswer> => {
      const plan = await planObjects(this.#ctx.objects, input);
      // Deltas kept from pushes go out whenever their base travels too: across history, and
      // within one tree (git push deltas similar files of the same commit against each other).
      return { shallow: plan.shallow, unshallow: plan.unshallow, pack: this.streamPack(plan.oids, { deltas: true, thinBases: plan.clientObjects, ofsDelta: input.ofsDelta }) };
    };
    const cache = this.#ctx.packCache;
    const key = cache?.enabled ? packCacheKey(this.#ctx.repoId, input) : undefined;
    return key === undefined ? generate() : cache!.serve(key, generate);
  }

  /** Pre-builds the pack a `git clone --depth 1` of this tip will ask for. */
  async warmClonePack(tip: Oid): Promise<void> {
    const cache = this.#ctx.packCache;
    if (!cache?.enabled) return;
    const includeTags = await this.annotatedTags(false);
    // As `git clone --depth 1` asks: include-tag and ofs-delta.
    const input: ObjectPlanInput = { wants: [tip], depth: 1, includeTags, ofsDelta: true };
    await cache.warm(packCacheKey(this.#ctx.repoId, input)!, async () => {
      const plan = await planObjects(this.#ctx.objects, input);
      return { shallow: plan.shallow, unshallow: plan.unshallow, pack: this.streamPack(plan.oids, { deltas: true, ofsDelta: true }) };
    });
  }

  /** Annotated tags visible in a view, with their peeled targets (for include-tag). */
  async annotatedTags(ephemeral: boolean): Promise<{ oid: Oid; peeled: Oid }[]> {
    const tags = await this.listRefs({ ephemeral, prefix: 'refs/tags/' });
    return tags.filter(([, v]) => v.peeled !== undefined).map(([, v]) => ({ oid: v.oid, peeled: v.peeled! }));
  }

  /** One complete pack of the objects `options` select (e.g. `{ wants: [sha], depth: 1 }`), streamed. */
  packObjects(options: PackObjectsOptions): AsyncIterable<Uint8Array> {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.wants)) throw new InvalidArgumentError('packObjects needs { wants: [...] }');
    const ids = (list: readonly string[] | undefined, what: string) => (list ?? []).map((w) => parseOid(w, what));
    if (options.depth !== undefined && (!Number.isInteger(options.depth) || options.depth < 1)) throw new InvalidArgumentError('depth must be a positive integer');
    const input: ObjectPlanInput = {
      wants: ids(options.wants, 'want'),
      haves: ids(options.haves, 'have'),
      clientShallows: ids(options.shallows, 'shallow'),
      depth: options.depth,
      deepenRelative: options.deepenRelative,
      deepenSince: options.deepenSince,
      filter: options.filter,
    };
    const self = this;
    return (async function* () {
      if (options.includeTags) input.includeTags = await self.annotatedTags(false);
      const answer = await self.fetchPack(input);
      yield* answer.pack;
    })();
  }

  /**
   * Streams a pack of exactly these stored objects: header, then each batch of stored entries
   * (one batched read, one chunk), then the SHA-1 trailer. No inflate, no deflate, no per-object await.
   */
  streamPack(oids: readonly Oid[], options: { deltas?: boolean; thinBases?: ReadonlySet<Oid>; ofsDelta?: boolean } = {}): AsyncIterable<Uint8Array> {
    const objects = this.#ctx.objects;
    const self = this;
    return (async function* () {
      // Pinned while it streams: a ref that moves away mid-clone does not pull the objects
      // out from under it, and a sweep meanwhile still collects everything else.
      const release = await self.#ctx.guard.pin(oids);
      try {
        yield* packBytes(objects, oids, options.deltas === true, options.thinBases, { ofsDelta: options.ofsDelta });
      } finally {
        release();
      }
    })();
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
    return this.#ctx.guard.write(() => ingestPack(this.#ctx.kv, this.#ctx.objects, src, { ...this.#ctx.ingest, ...options }));
  }

  /** Stores a pack and then applies ref updates, counted as one write (the sweep waits for it). */
  withWrite<T>(fn: () => Promise<T>): Promise<T> {
    return this.#ctx.guard.write(fn);
  }

  /**
   * Removes expired ephemeral refs (afterRefUpdate sees them as source 'expire'), then every
   * object that no ref of either space reaches and no pack being sent still needs. The object
   * phase waits for a moment with no write in flight (up to `waitMs`, default the engine's
   * `sweepWaitMs`, 10 s); if the repository stays busy that long it is skipped (`busy: true`)
   * and the next sweep collects.
   */
  async sweep(options: { waitMs?: number } = {}): Promise<SweepResult> {
    this.#ctx.assertLive();
    const expired = await this.#ctx.refs.sweepExpired();
    if (expired.length > 0) {
      this.#ctx.onRefsChanged?.(this, expired);
      if (this.#ctx.afterRefUpdate) {
        await Promise.resolve(this.#ctx.afterRefUpdate({ repo: this.name, source: 'expire', updates: expired })).catch(() => undefined);
      }
    }
    const waitMs = options.waitMs ?? this.#ctx.sweepWaitMs ?? 10_000;
    const objects = await this.#ctx.guard.exclusive(waitMs, (pinned) =>
      // Under the ref lock too: a ref-only update (a branch made from a raw sha) checks the
      // object exists and moves the ref as one step, never between the mark and the delete.
      this.#ctx.refs.withLock(async () => {
        const tips = [...(await this.#ctx.refs.list('regular')), ...(await this.#ctx.refs.list('ephemeral'))].map(([, v]) => v.oid);
        return sweepObjects(this.#ctx.objects, tips, pinned);
      }),
    );
    return objects === undefined ? { refs: expired.length, objects: 0, busy: true } : { refs: expired.length, objects };
  }

  /** Raw type and body of any object. */
  async readObject(sha: string): Promise<{ type: string; body: Uint8Array }> {
    const oid = parseOid(sha, 'sha');
    const [s] = await this.#ctx.objects.getStored([oid]);
    if (s === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    return decodePacked(s);
  }
}

/** `repo.refs`: transactions and reads of refs. */
export class RepoRefs {
  readonly #repo: Repository;
  readonly #ctx: RepoContext;

  constructor(repo: Repository, ctx: RepoContext) {
    this.#repo = repo;
    this.#ctx = ctx;
  }

  /** Applies `{ref, oldSha?, newSha}` updates all-or-nothing (zero sha: must not exist / delete). */
  transaction(updates: RefUpdate[], options: { source?: RefUpdateSource } = {}): Promise<AppliedUpdate[]> {
    return this.#repo.transact(updates, options.source ?? 'transaction');
  }

  /** A ref's value in one space. */
  get(ref: string, options: { ephemeral?: boolean } = {}): Promise<RefValue | undefined> {
    return this.#ctx.refs.get(ref === 'HEAD' ? ref : parseRefName(ref), options.ephemeral ? 'ephemeral' : 'regular');
  }

  /** Refs of one space under a prefix. */
  list(options: { ephemeral?: boolean; prefix?: string } = {}): Promise<[RefName, RefValue][]> {
    return this.#ctx.refs.list(options.ephemeral ? 'ephemeral' : 'regular', options.prefix ?? 'refs/');
  }

  /** The full name HEAD points at. */
  head(): Promise<string | undefined> {
    return this.#ctx.refs.head();
  }

  /** Points HEAD at a branch. */
  setHead(branch: string): Promise<void> {
    return this.#ctx.refs.setHead(branchRef(branch));
  }
}

export type { TreeEntry };
