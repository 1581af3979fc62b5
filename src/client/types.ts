/**
 * The JSON shapes of the API as the SDK returns them (docs/api.md is the reference). Shas are
 * 40-hex strings; times are ISO strings or seconds as the server sends them.
 */

/** A repository as the server describes it. */
export interface RepoInfo {
  name: string;
  defaultBranch: string;
  createdAt: string | number;
}

/** A page of repositories. */
export interface RepoPage {
  repos: RepoInfo[];
  /** Pass back as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

/** An author or committer. */
export interface Person {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  /** `+0200`, or minutes east of UTC. */
  timezone?: string | number;
}

/** One file change of a commit. */
export type Change =
  | { path: string; content: string | Uint8Array; encoding?: 'utf-8' | 'base64'; mode?: '100644' | '100755' | '120000' }
  | { path: string; delete: true };

/** A commit as `createCommit` answers it. */
export interface CommitResult {
  sha: string;
  branch: string;
  ref: string;
  tree: string;
  parents: string[];
  ephemeral: boolean;
}

/** A commit of a log. */
export interface CommitInfo {
  sha: string;
  message: string;
  author: Record<string, unknown>;
  committer: Record<string, unknown>;
  parents: string[];
  tree: string;
}

/** A page of a log. */
export interface CommitPage {
  commits: CommitInfo[];
  nextCursor?: string;
}

/** An entry of a tree listing. */
export interface TreeEntry {
  path: string;
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  sha: string;
  size?: number;
}

/** A branch or tag. */
export interface RefInfo {
  name: string;
  sha: string;
  peeled?: string;
}

/** A minted remote URL. */
export interface RemoteUrl {
  url: string;
  token: string;
  expiresAt: string;
}

/** One file of a diff. */
export interface DiffFileInfo {
  path: string;
  oldPath?: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'type-changed';
  oldMode?: string;
  newMode?: string;
  oldSha?: string;
  newSha?: string;
  binary: boolean;
  additions: number;
  deletions: number;
  similarity?: number;
  hunks?: unknown[];
  truncated?: boolean;
}

/** A diff. */
export interface DiffInfo {
  files: DiffFileInfo[];
  truncated?: boolean;
}

/** A compare (GitHub's): the merge base, counts, head-only commits and the diff from the base. */
export interface CompareInfo extends DiffInfo {
  mergeBase: string | null;
  ahead: number;
  behind: number;
  commits: CommitInfo[];
}

/** A merge's answer (`dryRun` answers `{ mergeable, conflicts, tree? }`). */
export interface MergeInfo {
  sha?: string;
  strategy?: 'merge' | 'squash' | 'fast-forward';
  fastForward?: boolean;
  tree?: string;
  upToDate?: boolean;
  mergeable?: boolean;
  conflicts?: { path: string; kind: string }[];
}

/** The answer of a ref update list (refs transaction, mirror push). */
export interface RefUpdateInfo {
  ref: string;
  space?: 'regular' | 'ephemeral';
  oldSha?: string;
  newSha?: string;
  status?: string;
}

/** A webhook as listed (the secret is never returned). */
export interface WebhookInfo {
  id: string;
  url: string;
  events: string[];
  [field: string]: unknown;
}

/** A delivery attempt of a webhook. */
export interface DeliveryInfo {
  id: string;
  event: string;
  status?: number;
  [field: string]: unknown;
}
