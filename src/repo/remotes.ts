/**
 * What `repo.fetchFrom` and `repo.pushTo` take and answer. The work is done by src/remote/ (a
 * layer above this one: the smart-HTTP client), which the engine hands in as the context's
 * `remotes`; this module holds only the shapes, so the facade can name them.
 */
import { InvalidArgumentError } from '../errors.js';
import type { FsckOptions } from '../object/fsck.js';
import type { Oid } from '../object/oid.js';
import type { RepoContext } from './context.js';
import type { Repository } from './repository.js';

/** Credentials for a remote (HTTP Basic); never logged, never returned. */
export interface RemoteCredentials {
  username?: string;
  password?: string;
}

/** Options of `repo.fetchFrom`. */
export interface FetchFromOptions extends RemoteCredentials {
  /** One ref to fetch (`main`, `refs/heads/main`, a tag); default every branch and tag. */
  ref?: string;
  /** Commits of history to fetch from each tip (a shallow fetch); default all. */
  depth?: number;
  /** The fetched objects' checks (docs/fsck.md); default the engine's. Real histories may need some ids at 'warn'. */
  fsck?: FsckOptions;
  /** Moves HEAD to the remote's default branch when it was fetched. Default false (imports set it). */
  setHead?: boolean;
  /** Called as the pack arrives and is stored (often: a caller throttles what it shows; cli/progress.ts). */
  onProgress?: (progress: FetchProgress) => void;
}

/** Where a fetch is: `receiving` the pack (objects read of the pack's `total`, bytes so far), then `storing` it (checks, writes, refs). */
export interface FetchProgress {
  phase: 'receiving' | 'storing';
  objects: number;
  /** Objects in the pack, from its header (undefined until it arrived). */
  total?: number;
  bytes: number;
}

/** What `repo.fetchFrom` did. */
export interface FetchFromResult {
  /** The refs set, with their new values. */
  refs: { ref: string; oid: Oid }[];
  /** The remote's default branch (what its HEAD points at), when it says. */
  head?: string;
  /** Commits stored without their parents (a shallow fetch's boundary). */
  shallow: Oid[];
  /** Objects received, and how many were new. */
  objects: number;
  added: number;
  /** The protocol version the remote spoke (2, or 0 for older servers). */
  protocol: 0 | 2;
}

/** Options of `repo.pushTo`. */
export interface PushToOptions extends RemoteCredentials {
  /** Refs to push (`main`, `refs/heads/main`, `v1.0`); default every branch and tag. */
  refs?: string[];
  /** Overwrite remote refs that are not ancestors of ours. Default false. */
  force?: boolean;
}

/** The outcome of one ref of a push: `ok`, `up-to-date`, or `rejected` (with the reason). */
export interface PushRefStatus {
  ref: string;
  status: 'ok' | 'up-to-date' | 'rejected';
  reason?: string;
}

/** What `repo.pushTo` did. */
export interface PushToResult {
  updates: PushRefStatus[];
}

/** The smart-HTTP client the engine provides (src/remote/). */
export interface RemoteService {
  fetchFrom(repo: Repository, url: string, options: FetchFromOptions): Promise<FetchFromResult>;
  pushTo(repo: Repository, url: string, options: PushToOptions): Promise<PushToResult>;
  /** The remote's branches and tags, and the branch its HEAD points at (`git ls-remote`). */
  lsRemote(url: string, options: RemoteCredentials): Promise<{ head?: string; refs: { ref: string; oid: Oid }[] }>;
}

/** The context's remote client; InvalidArgumentError where the repository was built without one. */
export function remotesOf(ctx: RepoContext): RemoteService {
  if (ctx.remotes === undefined) throw new InvalidArgumentError('this repository has no remote client (open it through openEngine)');
  return ctx.remotes;
}
