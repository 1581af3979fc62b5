/**
 * The engine: opens a database, creates, finds, lists and deletes repositories, and hands out
 * Repository objects and protocol backends. One engine per database; it may serve any number
 * of repositories and concurrent callers.
 */
import { InvalidArgumentError, InvalidRepoNameError, NotFoundError, ClosedError, StorageError } from './errors.js';
import { Kv, VIEW_DEFAULTS, type AnyLevel } from './storage/kv.js';
import { decodeRepoId, nameKey, repoRecordKey, repoRecordsRange } from './storage/keys.js';
import { fromUtf8 } from './platform/bytes.js';
import { clearOrphanRanges } from './storage/orphans.js';
import { poolMembers } from './storage/pools.js';
import { listReposPage, type RepoPage, type RepoPageOptions } from './engine-list.js';
import { checkForkOptions, clearDeleted, deleteOps, forkOps, liveIds, poolOf, repoNotFound, type ForkOptions, type RepoRecord } from './engine-pools.js';
import { createRepoOps } from './engine-pools.js';
import { createObjectCache, ObjectStore, type ObjectCache } from './object/object-store.js';
import { InProcessLock, type RefLock } from './refs/lock.js';
import { LRUCache } from 'lru-cache';
import { defaultRefLock } from './refs/web-locks.js';
import { RefStore } from './refs/ref-store.js';
import { Repository, type RepoInfo, type RepoContext } from './repo/repository.js';
import { SweepGuard } from './repo/sweep.js';
import { HeldTable } from './engine-held.js';
import { sweepRepositories, sweepWork } from './engine-sweep.js';
import { WarmJobs } from './engine-warm.js';
import { DEFAULT_COMMIT_DELTA_LIMITS } from './repo/commit-deltas.js';
import { RepoGitBackend } from './repo/git-backend.js';
import { internalsOf } from './repo/internals.js';
import type { Space } from './refs/space.js';
import { PackCache } from './repo/pack-cache.js';
import { ZERO_OID } from './object/oid.js';
import type { TokenClaims } from './access/types.js';
import { reject } from './access/token-claims.js';
import { RevocationStore } from './storage/revocations.js';
import { createRemoteUrl, type RemoteUrl, type RemoteUrlOptions } from './access/remote-url.js';
import type { Oid } from './object/oid.js';
import { fsckConfig, type FsckConfig } from './object/fsck.js';
import type { EngineOptions, EngineSweepOptions, EngineSweepResult } from './engine-options.js';
import { applyDelta } from './pack/delta.js';
import { engineEvents } from './engine-events.js';
import type { EngineEvents } from './webhooks/services.js';
import { LeaseCoordinator } from './repo/sweep-leases.js';

export type { EngineOptions, EngineSweepOptions, EngineSweepResult } from './engine-options.js';
export type { ForkOptions } from './engine-pools.js';
export type { RepoPage, RepoPageOptions } from './engine-list.js';

/** Repositories kept open by default (`maxOpenRepos`). */
const DEFAULT_MAX_OPEN_REPOS = 1000;

/** How often the sweep looks for keys of repository ids without a record (besides its first run). */
const ORPHAN_SCAN_INTERVAL_MS = 3600_000;
/** Clock skew allowed between a token's `iat` and its repository's creation, for tokens without `rid` (other minters). */
export const TOKEN_CREATION_SKEW_SECONDS = 30;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$/;

/** Checks a repository name: one optional owner prefix (`team/project`), no `.git` suffix. */
export function checkRepoName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || /\.git$/i.test(name) || name.includes('..') || /\.lock(\/|$)/.test(name)) {
    throw new InvalidRepoNameError(
      `invalid repository name ${JSON.stringify(typeof name === 'string' ? name.slice(0, 200) : name)}: use letters, digits, ".", "_" and "-", optionally one "owner/" prefix, not ending in ".git"`,
    );
  }
  return name;
}

/** An open engine. */
export class Engine {
  readonly #kv: Kv;
  readonly #ownsDb: boolean;
  readonly #cache: ObjectCache;
  readonly #lock: RefLock;
  readonly #options: EngineOptions;
  readonly #fsck: FsckConfig;
  /** Open repositories by name, the least recently used closed first past `maxOpenRepos`. */
  readonly #repos: LRUCache<string, Repository>;
  /** Unconditional API commits of this process, queued per repository and branch (shared by every object of a repository). */
  readonly #commitQueue = new InProcessLock();
  /** The engine-wide cache of finished packs. */
  readonly packCache: PackCache;
  readonly #events: EngineEvents | undefined;
  /** Webhooks of repositories by name (src/webhooks/): create, list, remove, deliveries; undefined without `enableRemotes`. */
  readonly webhooks: EngineEvents['webhooks'] | undefined;
  /** The smart-HTTP client (`lsRemote`); undefined without `enableRemotes`. */
  readonly remotes: EngineEvents['remotes'] | undefined;
  /** Per repository id, while a repository object holds it: whether it was deleted (engine-held.ts). */
  readonly #lives = new HeldTable<{ deleted: boolean }>(() => ({ deleted: false }));
  /** Background work after a branch moved (engine-warm.ts). */
  readonly #warming = new WarmJobs(() => this.#closed);
  readonly #revoked: RevocationStore;
  #closed = false;
  /** Aborted by `close`: running sweeps stop at their next check. */
  readonly #abort = new AbortController();
  readonly #sweeps = new Set<Promise<unknown>>();
  /** Sweep guards by pool id, while anything holds them (engine-held.ts). */
  readonly #guards = new HeldTable((id) => new SweepGuard({ signal: this.#abort.signal, remote: this.#coord?.forRepo(id) }));
  /** Guards of deleted repositories until their last write ended. */
  readonly #reclaim = new Map<number, { guard: SweepGuard; pool?: number }>();
  /** When the next full scan for keys of repository ids without a record is due (ms since the epoch). */
  #orphanScanAt = 0;
  /** Leases in the database when several processes share it (`coordination`), else undefined. */
  readonly #coord: LeaseCoordinator | undefined;

  /** Use `openEngine`. */
  constructor(kv: Kv, ownsDb: boolean, options: EngineOptions) {
    this.#kv = kv;
    this.#ownsDb = ownsDb;
    this.#options = options;
    this.#fsck = fsckConfig(options.fsck);
    this.#cache = createObjectCache(options.cacheBytes, { resolvedBytes: options.deltaCacheBytes, applyDelta });
    this.#lock = options.lock ?? defaultRefLock(kv); // cross-tab on IndexedDB (refs/web-locks.ts)
    this.#repos = new LRUCache({ max: options.maxOpenRepos ?? DEFAULT_MAX_OPEN_REPOS });
    this.packCache = new PackCache(options.packCache);
    this.#revoked = new RevocationStore(kv);
    this.#events = engineEvents(kv, options, async (name) => internalsOf(await this.getRepo(name)).id);
    this.webhooks = this.#events?.webhooks;
    this.remotes = this.#events?.remotes;
    const c = options.coordination;
    this.#coord = c === undefined || c === 'process' ? undefined : new LeaseCoordinator(kv, c === 'database' ? {} : c);
  }

  #check(): void {
    if (this.#closed) throw new ClosedError();
  }

  /** Creates a repository. RepoExistsError if the name is taken. */
  async createRepo(name: string, options: { defaultBranch?: string } = {}): Promise<Repository> {
    this.#check();
    checkRepoName(name);
    return this.#lock.run('engine', async () => {
      // With `repo.created` in the same batch (webhooks/services.ts: who receives it).
      const { record, ops } = await createRepoOps(this.#kv, name, options.defaultBranch ?? 'main', this.#events);
      await this.#kv.batch(ops);
      this.#events?.kick();
      return this.#open(record);
    });
  }

  /**
   * Creates `name` as a fork of `source` (engine-pools.ts): its branches and tags (or the listed
   * branches), sharing the source's objects through their pool; nothing is copied.
   */
  async forkRepo(source: string, name: string, options: ForkOptions = {}): Promise<Repository> {
    this.#check();
    checkRepoName(name);
    const opts = checkForkOptions(options);
    return this.#lock.run('engine', async () => {
      const src = (await this.#record(source)) ?? repoNotFound(source);
      // Counted as a write of the pool: no sweep deletes what the copied refs name meanwhile.
      return this.#guards.of(poolOf(src)).write(async () => {
        const { record, ops } = await forkOps(this.#kv, src, name, opts, this.#events);
        await this.#kv.batch(ops);
        this.#events?.kick();
        return this.#open(record);
      });
    });
  }

  /** The repository of `record`: the one this engine holds, else a new one, held unless `hold` is false (a sweep's). */
  #open(record: RepoRecord, hold = true): Repository {
    // The sweep's lookups do not count as uses: it goes through every repository.
    const cached = hold ? this.#repos.get(record.name) : this.#repos.peek(record.name);
    if (cached) return cached;
    const poolId = poolOf(record);
    // Shared with every other object of this repository while one is held: deleteRepo marks it.
    const life = this.#lives.of(record.id);
    const objects = new ObjectStore(this.#kv, poolId, this.#cache);
    const refs = new RefStore(this.#kv, record.id, this.#lock);
    const o = this.#options;
    const ctx: RepoContext = {
      kv: this.#kv,
      objects,
      refs,
      info: { name: record.name, defaultBranch: record.defaultBranch, createdAt: record.createdAt },
      ephemeralTtlSeconds: o.ephemeralTtlSeconds ?? 24 * 3600,
      maxEphemeralTtlSeconds: o.maxEphemeralTtlSeconds ?? 30 * 24 * 3600,
      ingest: { ...o.ingest, fsck: this.#fsck },
      beforeRefUpdate: o.beforeRefUpdate,
      afterRefUpdate: o.afterRefUpdate,
      guard: this.#guards.of(poolId),
      sweepWaitMs: o.sweepWaitMs,
      sweepMarkRecords: o.sweepMarkRecords,
      commitQueue: this.#commitQueue,
      commitDeltas: o.commitDeltas === false ? false : { ...DEFAULT_COMMIT_DELTA_LIMITS, ...o.commitDeltas },
      repoId: record.id,
      poolId,
      poolRefs: async () => (await poolMembers(this.#kv, poolId)).map((id) => (id === record.id ? refs : new RefStore(this.#kv, id, this.#lock))),
      packCache: this.packCache,
      ...this.#events?.context(record.id, record.name),
      // Materializes the new tip's depth-1 objects (and warms its clone pack when the cache warms).
      onRefsChanged: (repo, updates) => {
        for (const u of updates) {
          if (u.newOid === ZERO_OID || !u.ref.startsWith('refs/heads/') || u.space !== 'regular') continue;
          this.#warming.schedule(`${record.id}:${u.ref}`, u.newOid, (tip) => internalsOf(repo).warmClonePack(tip));
        }
      },
      assertLive: () => {
        this.#check();
        if (life.deleted) throw new NotFoundError('ERR_REPO_NOT_FOUND', `repository "${record.name}" was deleted`, { details: { name: record.name } });
      },
    };
    const repo = new Repository(ctx);
    if (hold) this.#repos.set(record.name, repo);
    return repo;
  }

  /** Repository objects of `id` still held fail their next call (NotFoundError). */
  #markDeleted(id: number): void {
    const life = this.#lives.peek(id);
    if (life !== undefined) life.deleted = true;
  }

  async #record(name: string): Promise<RepoRecord | undefined> {
    const idBytes = await this.#kv.get(nameKey(name));
    if (idBytes === undefined) return undefined;
    const rec = await this.#kv.get(repoRecordKey(decodeRepoId(idBytes)));
    return rec === undefined ? undefined : (JSON.parse(fromUtf8(rec)) as RepoRecord);
  }

  /** A repository by name; NotFoundError (ERR_REPO_NOT_FOUND) if there is none. */
  async getRepo(name: string): Promise<Repository> {
    const r = await this.findRepo(name);
    if (r === undefined) throw new NotFoundError('ERR_REPO_NOT_FOUND', `repository "${String(name).slice(0, 200)}" not found`, { details: { name } });
    return r;
  }

  /** A repository by name, or undefined. */
  async findRepo(name: string): Promise<Repository | undefined> {
    this.#check();
    if (typeof name !== 'string') throw new InvalidArgumentError('repository name must be a string');
    const cached = this.#repos.get(name);
    // Several processes: another may have deleted (and re-created) it; the name decides.
    if (cached && this.#coord !== undefined && !(await this.#current(name, cached))) this.#repos.delete(name);
    else if (cached) return cached;
    const rec = await this.#record(name);
    return rec === undefined ? undefined : this.#open(rec);
  }

  /**
   * The repository of a record just listed, for the sweep: the one held, else one opened for
   * the sweep only (not held). Undefined when it was deleted meanwhile (its name no longer
   * names this id: one read per repository with work).
   */
  async #forSweep(rec: RepoRecord): Promise<Repository | undefined> {
    const cached = this.#repos.peek(rec.name);
    if (cached !== undefined && internalsOf(cached).id === rec.id && (this.#coord === undefined || (await this.#current(rec.name, cached)))) return cached;
    // Deleted since the listing (here or, with several processes, anywhere): its name no longer names this id.
    const id = await this.#kv.get(nameKey(rec.name));
    if (id === undefined || decodeRepoId(id) !== rec.id) return undefined;
    return this.#open(rec, false);
  }

  async #current(name: string, repo: Repository): Promise<boolean> {
    const id = await this.#kv.get(nameKey(name));
    if (id !== undefined && decodeRepoId(id) === internalsOf(repo).id) return true;
    this.#markDeleted(internalsOf(repo).id);
    return false;
  }

  /** Every repository, sorted by name. */
  async listRepos(): Promise<RepoInfo[]> {
    return (await this.#records()).map((r) => ({ name: r.name, defaultBranch: r.defaultBranch, createdAt: r.createdAt }));
  }

  /** Every repository's record, sorted by name (one scan of the records). */
  async #records(): Promise<RepoRecord[]> {
    this.#check();
    const out: RepoRecord[] = [];
    for await (const [, v] of this.#kv.entries(repoRecordsRange())) {
      if (v.length > 0) out.push(JSON.parse(fromUtf8(v)) as RepoRecord);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A page of repositories in name order from an opaque cursor (engine-list.ts): `{ repos, nextCursor }`. */
  listReposPage(options: RepoPageOptions = {}): Promise<RepoPage> {
    this.#check();
    return listReposPage(this.#kv, options);
  }

  /** Deletes a repository: its name is free at once, its data is cleared by key range. */
  async deleteRepo(name: string): Promise<void> {
    this.#check();
    await this.#lock.run('engine', async () => {
      const rec = await this.#record(name);
      if (rec === undefined) throw new NotFoundError('ERR_REPO_NOT_FOUND', `repository "${String(name).slice(0, 200)}" not found`, { details: { name } });
      const { ops, pool, last } = await deleteOps(this.#kv, rec);
      for (const op of (await this.#events?.deletedOps(rec.id, name)) ?? []) ops.push(op);
      await this.#kv.batch(ops);
      this.#events?.kick();
      this.#markDeleted(rec.id);
      this.#repos.delete(name);
      // A write in flight (a push storing its pack) may still land under this id: the sweep
      // clears the ranges again once the last one ended. The pool's go only with its last member.
      const guard = this.#guards.peek(pool);
      if (last) this.#guards.delete(pool);
      if (guard !== undefined) this.#reclaim.set(rec.id, { guard, pool: last ? pool : undefined });
      await clearDeleted(this.#kv, rec.id, last ? pool : undefined);
    });
  }

  /**
   * A Git URL with a short-lived token for one repository: `{ url, token, expiresAt }`, the URL
   * being `http://t:<token>@host/<name>.git` (`+ephemeral.git` when `ephemeral`). Needs the
   * `tokens` option; `baseUrl` defaults to the engine's.
   */
  async remoteUrl(name: string, options: Partial<RemoteUrlOptions> = {}): Promise<RemoteUrl> {
    const tokens = this.#options.tokens;
    if (tokens === undefined) throw new InvalidArgumentError('engine.remoteUrl needs openEngine({ tokens }) (see createTokenService)');
    const baseUrl = options.baseUrl ?? this.#options.baseUrl;
    if (baseUrl === undefined) throw new InvalidArgumentError('remoteUrl needs a baseUrl (option, or openEngine({ baseUrl }))');
    const repo = await this.getRepo(name);
    return createRemoteUrl(tokens, repo.name, { ...options, baseUrl, repoId: internalsOf(repo).id });
  }

  /**
   * Refuses (UnauthorizedError) a verified token that was revoked (`revokeToken`, by any
   * process over this database) or that belongs to an earlier repository of its name: its `rid`
   * is not this repository's id, or, without `rid`, it was issued before this repository was
   * created (less `TOKEN_CREATION_SKEW_SECONDS` for the minter's clock). Reads the database, so it
   * is current everywhere. A repository that does not exist is left to the caller's 404.
   */
  async admitToken(claims: Pick<TokenClaims, 'repo' | 'repoId' | 'iat' | 'jti'>): Promise<void> {
    this.#check();
    if (await this.#revoked.isRevoked(claims.jti)) throw reject('revoked', 'token has been revoked');
    const idBytes = typeof claims.repo === 'string' ? await this.#kv.get(nameKey(claims.repo)) : undefined;
    if (idBytes === undefined) return;
    const stale = () => reject('repository', `token was issued for an earlier repository named "${claims.repo}"`);
    if (claims.repoId !== undefined) {
      if (claims.repoId !== decodeRepoId(idBytes)) throw stale();
      return;
    }
    const rec = await this.#kv.get(repoRecordKey(decodeRepoId(idBytes)));
    const created = rec === undefined ? NaN : Date.parse((JSON.parse(fromUtf8(rec)) as RepoRecord).createdAt) / 1000;
    if (claims.iat < Math.floor(created) - TOKEN_CREATION_SKEW_SECONDS) throw stale();
  }

  /** Revokes a token (its `jti`, until its `exp`), in the database: every engine over it refuses it from now on. */
  async revokeToken(claims: Pick<TokenClaims, 'jti' | 'exp'>): Promise<void> {
    this.#check();
    if (typeof claims.jti !== 'string' || claims.jti.length === 0) throw new InvalidArgumentError('jti must be a non-empty string');
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new InvalidArgumentError('exp must be a number of seconds');
    await this.#revoked.revoke(claims.jti, claims.exp);
  }

  /**
   * The protocol backend of a repository for one space (used by the HTTP handlers): pushes
   * write to that space, fetches read through the view of the same name.
   */
  async gitBackend(name: string, options: { space?: Space } = {}): Promise<RepoGitBackend> {
    return new RepoGitBackend(await this.getRepo(name), { space: options.space });
  }

  /**
   * Removes expired ephemeral refs of every repository (hooks see them as source 'expire'),
   * then objects no ref reaches. Returns what was removed; `busy` counts repositories whose
   * object phase was skipped because writes kept them busy past `waitMs` (see Repository.sweep).
   * A repository whose sweep fails (a broken object) does not stop the others: it is counted
   * in `failed`, its error listed in `errors` and passed to `onError`.
   */
  async sweep(options: EngineSweepOptions = {}): Promise<EngineSweepResult> {
    this.#check();
    const run =
      this.#coord === undefined
        ? this.#sweepAll(options)
        : this.#coord.lead('sweep', () => this.#sweepAll(options)).then((r) => (r.ran ? r.value : { refs: 0, objects: 0, skipped: true as const }));
    this.#sweeps.add(run);
    try {
      return await run;
    } finally {
      this.#sweeps.delete(run);
    }
  }

  async #sweepAll(options: EngineSweepOptions): Promise<EngineSweepResult> {
    // Repositories nobody asked for are opened for their sweep only, not held: a tick over
    // 100,000 of them would otherwise keep 100,000 `Repository` objects for good. Their records
    // come from the one listing, not a read each; an idle one (no work: engine-sweep.ts) is not opened.
    const source = {
      repos: async () => {
        const work = await sweepWork(this.#kv);
        return (await this.#records()).filter((r) => work(r.id, poolOf(r))).map((r) => ({ name: r.name, open: () => this.#forSweep(r) }));
      },
    };
    const result = await sweepRepositories(source, () => this.#check(), options);
    this.#check();
    const reclaimed = await this.#reclaimOrphans();
    await this.#revoked.purge(); // revocations of tokens that expired meanwhile
    if (reclaimed > 0) result.reclaimed = reclaimed;
    return result;
  }

  /**
   * Clears what is left under repository ids that have no record: ids this engine deleted once
   * their last write ended, and (on the first sweep, then hourly) every id found in any
   * per-repository range, for what a crash or another process left. Ids are never reused and
   * a new repository's record lands in the same batch as its first keys, so an id below the
   * next-id counter with no record is dead for good. Returns how many ids had keys cleared.
   */
  async #reclaimOrphans(): Promise<number> {
    let reclaimed = 0;
    for (const [id, { guard, pool }] of this.#reclaim) {
      if (!guard.idle) continue;
      if (await clearDeleted(this.#kv, id, pool)) reclaimed++;
      this.#reclaim.delete(id);
    }
    if (Date.now() < this.#orphanScanAt) return reclaimed;
    this.#orphanScanAt = Date.now() + ORPHAN_SCAN_INTERVAL_MS;
    const live = await this.#lock.run('engine', () => liveIds(this.#kv));
    const skip = (id: number) => this.#reclaim.has(id) || [...this.#reclaim.values()].some((r) => r.pool === id);
    return reclaimed + (await clearOrphanRanges(this.#kv, { ...live, skip, check: () => this.#check() }));
  }

  /**
   * Resolves once the background work that branch moves started has ended (each new tip's
   * depth-1 objects materialized, its stored packs and plans refreshed), including work queued
   * meanwhile. For tests and measurements that need a quiet engine; nothing waits for it otherwise.
   */
  settled(): Promise<void> {
    return this.#warming.settled();
  }

  /** Closes the engine (and the database when the engine opened it); a running sweep is stopped, not waited for. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new ClosedError());
    await this.#events?.close();
    // Sweeps stop at their next check (a few milliseconds): let them leave before the database closes.
    await Promise.allSettled(this.#sweeps);
    await this.#coord?.close();
    this.#kv.markClosed();
    if (this.#ownsDb) await this.#kv.db.close();
  }
}

/** Opens an engine over `db`, or over the embedded on-disk database at `path`. */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('openEngine needs { db } or { path }');
  fsckConfig(options.fsck); // bad fsck options fail here, before the database is opened
  const open = options.maxOpenRepos;
  if (open !== undefined && (!Number.isInteger(open) || open < 1)) throw new InvalidArgumentError('maxOpenRepos must be a positive integer');
  let db = options.db;
  let owns = false;
  if (db === undefined) {
    if (typeof options.path !== 'string' || options.path.length === 0) throw new InvalidArgumentError('openEngine needs { db } or { path }');
    const { Level } = await import('level');
    db = new Level(options.path, VIEW_DEFAULTS) as unknown as AnyLevel;
    owns = true;
  }
  if (db.status === 'opening' || db.status === 'closed') {
    try {
      await db.open();
    } catch (err) {
      const where = options.path === undefined ? 'the database' : `the database at ${options.path}`;
      throw new StorageError(
        `cannot open ${where}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
        { cause: err },
      );
    }
  }
  return new Engine(new Kv(db), owns, options);
}

export type { Oid };
