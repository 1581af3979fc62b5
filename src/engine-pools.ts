/**
 * Forks and the pools they share (storage/pools.ts): the engine's records for a fork, and what
 * deleting a member of a pool clears. A fork copies the source's refs and nothing else: its
 * record names the source's pool, whose objects, commit graph and sweep state both read and
 * write from then on. The pool lives while any member does; the sweep of any member marks from
 * the refs of all of them (repo/sweep.ts).
 */
import { InvalidArgumentError, NotFoundError, RepoExistsError } from './errors.js';
import type { Kv, KvOp } from './storage/kv.js';
import {
  OWN_TAGS,
  POOL_TAGS,
  decodeRepoId,
  encodeRepoId,
  nameKey,
  nextIdKey,
  poolMemberKey,
  prefixRange,
  refKey,
  repoRecordKey,
  repoRecordsRange,
} from './storage/keys.js';
import { joinPoolOps, listedPools, poolMembers } from './storage/pools.js';
import { clearRepoRanges, type OrphanScan } from './storage/orphans.js';
import { encodeSymref } from './refs/ref-store.js';
import { branchRef } from './refs/ref-name.js';
import { fromUtf8, utf8 } from './platform/bytes.js';
import { sweepMarkOp } from './repo/sweep-state.js';
import type { RepoInfo } from './repo/context.js';
import type { EngineEvents } from './webhooks/services.js';

/** A repository's stored record; `pool` is absent for a repository that is its own pool. */
export interface RepoRecord extends RepoInfo {
  id: number;
  pool?: number;
}

/** Options of `Engine.forkRepo`. */
export interface ForkOptions {
  /** Branches the fork gets: `'all'` (the default: every branch and tag) or a list of branch names (no tags). */
  branches?: string[] | 'all';
  /** The fork's default branch: one of its branches. Default: the source's when the fork has it, else the first listed. */
  defaultBranch?: string;
}

/** Throws the 404 of a repository name that has no repository. */
export function repoNotFound(name: string): never {
  throw new NotFoundError('ERR_REPO_NOT_FOUND', `repository "${String(name).slice(0, 200)}" not found`, { details: { name } });
}

/** The pool a record's objects live in. */
export function poolOf(record: RepoRecord): number {
  return record.pool ?? record.id;
}

/** Checks fork options (the JSON API's body has the same shape). */
export function checkForkOptions(options: unknown): ForkOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('fork options must be an object');
  const { branches, defaultBranch } = options as Record<string, unknown>;
  const out: ForkOptions = {};
  if (branches !== undefined && branches !== 'all') {
    if (!Array.isArray(branches) || branches.length === 0 || branches.length > 10_000 || !branches.every((b) => typeof b === 'string')) {
      throw new InvalidArgumentError('branches must be "all" or a non-empty list of branch names');
    }
    for (const b of branches) branchRef(b);
    out.branches = [...new Set(branches as string[])];
  }
  if (defaultBranch !== undefined) {
    branchRef(defaultBranch);
    out.defaultBranch = defaultBranch as string;
  }
  return out;
}

/** The fork's refs: raw values of the source's refs, keyed by full name. */
async function forkedRefs(kv: Kv, source: RepoRecord, options: ForkOptions): Promise<Map<string, Uint8Array>> {
  const refs = new Map<string, Uint8Array>();
  if (options.branches === undefined || options.branches === 'all') {
    for (const prefix of ['refs/heads/', 'refs/tags/']) {
      for await (const [k, v] of kv.entries(prefixRange(refKey(source.id, prefix)))) refs.set(fromUtf8(k, 5), v);
    }
    return refs;
  }
  const names = options.branches.map((b) => branchRef(b));
  const values = await kv.getMany(names.map((n) => refKey(source.id, n)));
  names.forEach((n, i) => {
    const v = values[i];
    if (v === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `branch "${n.slice(11)}" not found in "${source.name}"`, { details: { ref: n } });
    refs.set(n, v);
  });
  return refs;
}

/** The fork's default branch by the rule of `ForkOptions.defaultBranch`. */
function forkDefault(source: RepoRecord, refs: Map<string, Uint8Array>, options: ForkOptions): string {
  const branches = [...refs.keys()].filter((r) => r.startsWith('refs/heads/')).map((r) => r.slice(11));
  const want = options.defaultBranch;
  if (want !== undefined) {
    if (branches.length > 0 && !branches.includes(want)) {
      throw new InvalidArgumentError(`defaultBranch "${want}" is not one of the fork's branches`, { details: { defaultBranch: want } });
    }
    return want;
  }
  if (branches.length === 0 || branches.includes(source.defaultBranch)) return source.defaultBranch;
  return Array.isArray(options.branches) ? options.branches[0]! : branches[0]!;
}

/** The id a new repository of `name` gets (written by the caller's batch, under the engine lock); RepoExistsError if the name is taken. */
export async function claimId(kv: Kv, name: string): Promise<number> {
  if ((await kv.get(nameKey(name))) !== undefined) throw new RepoExistsError(`repository "${name}" already exists`, { details: { name } });
  const next = await kv.get(nextIdKey());
  return next === undefined ? 1 : decodeRepoId(next);
}

/**
 * The record and writes of a new empty repository (under the engine lock): its id claimed, the
 * next id, its name, record and HEAD, and the outbox entries of `repo.created`.
 */
export async function createRepoOps(kv: Kv, name: string, defaultBranch: string, events?: EngineEvents): Promise<{ record: RepoRecord; ops: KvOp[] }> {
  const head = branchRef(defaultBranch);
  const id = await claimId(kv, name);
  const record: RepoRecord = { id, name, defaultBranch: head.slice('refs/heads/'.length), createdAt: new Date().toISOString() };
  const ops: KvOp[] = [
    { type: 'put', key: nextIdKey(), value: encodeRepoId(id + 1) },
    { type: 'put', key: nameKey(name), value: encodeRepoId(id) },
    { type: 'put', key: repoRecordKey(id), value: utf8(JSON.stringify(record)) },
    { type: 'put', key: refKey(id, 'HEAD'), value: encodeSymref(head) },
  ];
  return { record, ops: [...ops, ...((await events?.createdOps(record)) ?? [])] };
}

/**
 * The record and writes of a fork of `source` named `name` (under the engine lock): its id
 * claimed, name, record, HEAD, refs, pool membership, and the outbox entries of `repo.created`
 * (the engine-wide hooks and the source's: webhooks/services.ts).
 */
export async function forkOps(
  kv: Kv,
  source: RepoRecord,
  name: string,
  options: ForkOptions,
  events?: EngineEvents,
): Promise<{ record: RepoRecord; ops: KvOp[] }> {
  const id = await claimId(kv, name);
  const refs = await forkedRefs(kv, source, options);
  const pool = poolOf(source);
  const record: RepoRecord = { id, name, defaultBranch: forkDefault(source, refs, options), createdAt: new Date().toISOString(), pool };
  const ops: KvOp[] = [
    { type: 'put', key: nextIdKey(), value: encodeRepoId(id + 1) },
    { type: 'put', key: nameKey(name), value: encodeRepoId(id) },
    { type: 'put', key: repoRecordKey(id), value: utf8(JSON.stringify(record)) },
    { type: 'put', key: refKey(id, 'HEAD'), value: encodeSymref(branchRef(record.defaultBranch)) },
    ...[...refs].map(([ref, value]): KvOp => ({ type: 'put', key: refKey(id, ref), value })),
    ...(await joinPoolOps(kv, pool, id)),
    ...((await events?.createdOps(record, source)) ?? []),
  ];
  return { record, ops };
}

/** What deleting a repository writes at once, and whether it was its pool's last member (then the pool's ranges go too). */
export async function deleteOps(kv: Kv, record: RepoRecord): Promise<{ ops: KvOp[]; pool: number; last: boolean }> {
  const pool = poolOf(record);
  const last = (await poolMembers(kv, pool)).every((m) => m === record.id);
  const ops: KvOp[] = [
    { type: 'del', key: nameKey(record.name) },
    { type: 'del', key: repoRecordKey(record.id) },
    { type: 'del', key: poolMemberKey(pool, record.id) },
  ];
  // Its refs no longer keep anything: the other members' next sweep looks.
  if (!last) ops.push(sweepMarkOp(pool));
  return { ops, pool, last };
}

/** Clears a deleted repository's own ranges, and its pool's when `pool` is given (it was the last member). */
export async function clearDeleted(kv: Kv, id: number, pool: number | undefined): Promise<boolean> {
  const own = await clearRepoRanges(kv, id, OWN_TAGS);
  const shared = pool === undefined ? false : await clearRepoRanges(kv, pool, POOL_TAGS);
  return own || shared;
}

/** What the orphan scan keeps (read under the engine lock): ids below the next-id counter with a record, and pools with members. */
export async function liveIds(kv: Kv): Promise<Pick<OrphanScan, 'limit' | 'live' | 'livePools'>> {
  const next = await kv.get(nextIdKey());
  // Id 0 holds the engine-wide webhooks (webhooks/store.ts ENGINE_HOOKS): never an orphan.
  const live = new Set<number>([0]);
  for await (const k of kv.keys(repoRecordsRange())) if (k.length === 5) live.add(decodeRepoId(k.subarray(1)));
  return { limit: next === undefined ? 1 : decodeRepoId(next), live, livePools: new Set([...live, ...(await listedPools(kv))]) };
}
