/**
 * One repository of a level-git server, as the SDK sees it: every repository route of the JSON
 * API as a method (docs/api.md). Branch and ref names, shas and options are passed through; the
 * server checks them and its errors surface as `LevelGitClientError`s.
 */
import { pathSegments, repoSegment, type Query, type Transport } from './transport.js';
import type {
  Change,
  CommitPage,
  CommitResult,
  CompareInfo,
  DeliveryInfo,
  DiffInfo,
  MergeInfo,
  Person,
  RefInfo,
  RefUpdateInfo,
  RemoteUrl,
  RepoInfo,
  TreeEntry,
  WebhookInfo,
} from './types.js';

/** Options of the diff-producing calls (`compare`, `diff`, `commitDiff`). */
export interface DiffQuery {
  /** Limit the diff to these paths (and what is under them). */
  paths?: string[];
  /** Lines of context around each hunk (3). */
  context?: number;
  /** Detect renames (true). */
  renames?: boolean;
  /** Read names through the ephemeral view. */
  ephemeral?: boolean;
}

/** A token URL's options. */
export interface RemoteUrlOptions {
  /** `git:read` and/or `git:write` (default read). */
  permissions?: string[];
  /** Lifetime in seconds. */
  ttl?: number;
  /** Ref policies: `[pattern, ['no-push' | 'no-force-push']]`. */
  refs?: [string, string[]][];
}

function diffQuery(q: DiffQuery): Query {
  return { path: q.paths, context: q.context, renames: q.renames, ephemeral: q.ephemeral };
}

/** Base64 of bytes, in chunks (no Buffer: browsers and edge runtimes). */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** A repository handle; `info` is what the server last said about it, when known. */
export class RemoteRepo {
  readonly #t: Transport;
  readonly #path: string;

  constructor(
    transport: Transport,
    /** The repository's name (`name` or `owner/name`). */
    readonly id: string,
    /** What the server answered when the handle was made (create, find), if any. */
    readonly info?: RepoInfo,
  ) {
    this.#t = transport;
    this.#path = `/repos/${repoSegment(id)}`;
  }

  /** The default branch the server reported, when known. */
  get defaultBranch(): string | undefined {
    return this.info?.defaultBranch;
  }

  /** The repository's description, fresh from the server. */
  async describe(): Promise<RepoInfo> {
    return this.#t.json('GET', this.#path);
  }

  /** Deletes the repository (admin). */
  async delete(): Promise<void> {
    await this.#t.json('DELETE', this.#path);
  }

  // --- remote URLs -------------------------------------------------------------------------

  /** Mints a token URL (admin): `{ url, token, expiresAt }`. */
  async createRemoteURL(options: RemoteUrlOptions & { ephemeral?: boolean } = {}): Promise<RemoteUrl> {
    return this.#t.json('POST', `${this.#path}/remote-url`, { body: options });
  }

  /** A Git URL carrying a token (`git clone "$url"`); read-only unless `permissions` says otherwise. */
  async getRemoteURL(options: RemoteUrlOptions = {}): Promise<string> {
    return (await this.createRemoteURL(options)).url;
  }

  /** A Git URL whose pushes land in the ephemeral namespace (a sandbox's); read and write by default. */
  async getEphemeralRemoteURL(options: RemoteUrlOptions = {}): Promise<string> {
    return (await this.createRemoteURL({ permissions: ['git:read', 'git:write'], ...options, ephemeral: true })).url;
  }

  /** Moves an ephemeral branch into the regular space (no objects copied). */
  async promoteEphemeralBranch(options: {
    baseBranch: string;
    targetBranch?: string;
    expectedTargetSha?: string;
    expectedSourceSha?: string;
  }): Promise<{ targetBranch: string; sha: string }> {
    return this.#t.json('POST', `${this.#path}/ephemeral/promote`, { body: options });
  }

  // --- commits and reads -------------------------------------------------------------------

  /** Commits file changes to a branch; `Uint8Array` contents travel as base64. */
  async createCommit(options: {
    branch: string;
    message: string;
    author: Person;
    committer?: Person;
    changes: Change[];
    expectedHeadSha?: string;
    baseBranch?: string;
    ephemeral?: boolean;
    ttl?: number;
    idempotencyKey?: string;
  }): Promise<CommitResult> {
    const changes = options.changes.map((c) =>
      'content' in c && c.content instanceof Uint8Array ? { ...c, content: base64(c.content), encoding: 'base64' as const } : c,
    );
    return this.#t.json('POST', `${this.#path}/commits`, { body: { ...options, changes } });
  }

  /** A page of history, newest first (`path`: only commits that changed it). */
  async listCommits(options: { ref?: string; path?: string; limit?: number; cursor?: string; ephemeral?: boolean } = {}): Promise<CommitPage> {
    return this.#t.json('GET', `${this.#path}/commits`, { query: { ...options } });
  }

  /** A file's bytes at a ref (default branch by default). */
  async getFile(options: { path: string; ref?: string; ephemeral?: boolean }): Promise<Uint8Array> {
    const res = await this.#t.request('GET', `${this.#path}/files/${pathSegments(options.path)}`, {
      query: { ref: options.ref, ephemeral: options.ephemeral },
    });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** A file as UTF-8 text. */
  async getFileText(options: { path: string; ref?: string; ephemeral?: boolean }): Promise<string> {
    return new TextDecoder().decode(await this.getFile(options));
  }

  /** The entries of a directory (or, `recursive`, every file under it). */
  async listFiles(options: { ref?: string; path?: string; recursive?: boolean; ephemeral?: boolean } = {}): Promise<TreeEntry[]> {
    return (await this.#t.json<{ entries: TreeEntry[] }>('GET', `${this.#path}/tree`, { query: { ...options } })).entries;
  }

  // --- branches, tags, refs ----------------------------------------------------------------

  /** The branches of one space. */
  async listBranches(options: { ephemeral?: boolean } = {}): Promise<RefInfo[]> {
    return (await this.#t.json<{ branches: RefInfo[] }>('GET', `${this.#path}/branches`, { query: { ...options } })).branches;
  }

  /** Creates a branch from a ref or sha (the default branch by default). */
  async createBranch(options: { name: string; from?: string; ephemeral?: boolean; ttl?: number }): Promise<{ name: string; sha: string; ephemeral: boolean }> {
    return this.#t.json('POST', `${this.#path}/branches`, { body: options });
  }

  /** Deletes a branch; `expectedSha` makes it a compare-and-swap. */
  async deleteBranch(options: { name: string; ephemeral?: boolean; expectedSha?: string }): Promise<void> {
    await this.#t.json('DELETE', `${this.#path}/branches/${pathSegments(options.name)}`, {
      query: { ephemeral: options.ephemeral, expectedSha: options.expectedSha },
    });
  }

  /** The tags. */
  async listTags(): Promise<RefInfo[]> {
    return (await this.#t.json<{ tags: RefInfo[] }>('GET', `${this.#path}/tags`)).tags;
  }

  /** Creates a tag (annotated when `message` is given). */
  async createTag(options: { name: string; target: string; message?: string; tagger?: Person }): Promise<RefInfo> {
    return this.#t.json('POST', `${this.#path}/tags`, { body: options });
  }

  /** Deletes a tag. */
  async deleteTag(options: { name: string }): Promise<void> {
    await this.#t.json('DELETE', `${this.#path}/tags/${pathSegments(options.name)}`);
  }

  /** All-or-nothing ref updates (full names; a zero `oldSha` means "must not exist"). */
  async updateRefs(options: { updates: { ref: string; oldSha?: string; newSha: string }[]; ephemeral?: boolean; ttl?: number }): Promise<RefUpdateInfo[]> {
    return (await this.#t.json<{ updates: RefUpdateInfo[] }>('POST', `${this.#path}/refs`, { body: options })).updates;
  }

  // --- review and merge --------------------------------------------------------------------

  /** GitHub's compare: merge base, ahead/behind, head-only commits and the diff from the base. */
  async compare(options: { base: string; head: string; limit?: number } & DiffQuery): Promise<CompareInfo> {
    return this.#t.json('GET', `${this.#path}/compare`, { query: { base: options.base, head: options.head, limit: options.limit, ...diffQuery(options) } });
  }

  /** The diff of two revisions. */
  async diff(options: { base: string; head: string } & DiffQuery): Promise<DiffInfo> {
    return this.#t.json('GET', `${this.#path}/diff`, { query: { base: options.base, head: options.head, ...diffQuery(options) } });
  }

  /** The unified text `git diff base head` prints (`git diff base...head` with `compare: true`). */
  async diffText(options: { base: string; head: string; compare?: boolean } & DiffQuery): Promise<string> {
    const route = options.compare === true ? 'compare' : 'diff';
    const res = await this.#t.request('GET', `${this.#path}/${route}`, {
      query: { base: options.base, head: options.head, format: 'diff', ...diffQuery(options) },
    });
    return res.text();
  }

  /** A commit's diff against its first parent. */
  async commitDiff(options: { sha: string } & DiffQuery): Promise<DiffInfo> {
    return this.#t.json('GET', `${this.#path}/commits/${encodeURIComponent(options.sha)}/diff`, { query: diffQuery(options) });
  }

  /** Merges `head` into the branch `base` (a conflict throws `ERR_MERGE_CONFLICT` with `details.conflicts`). */
  async merge(options: {
    base: string;
    head: string;
    strategy?: 'merge' | 'squash' | 'fast-forward';
    message?: string;
    author?: Person;
    expectedBaseSha?: string;
    dryRun?: boolean;
  }): Promise<MergeInfo> {
    return this.#t.json('POST', `${this.#path}/merges`, { body: options });
  }

  /** A commit on `branch` undoing `commit`. */
  async revert(options: {
    branch: string;
    commit: string;
    message?: string;
    author?: Person;
    expectedHeadSha?: string;
  }): Promise<{ sha: string; tree: string }> {
    return this.#t.json('POST', `${this.#path}/reverts`, { body: options });
  }

  // --- lifecycle ---------------------------------------------------------------------------

  /** Forks the repository under a new name (objects shared, not copied). */
  async fork(options: { name: string; branches?: string[] | 'all'; defaultBranch?: string }): Promise<RemoteRepo> {
    const info = await this.#t.json<RepoInfo>('POST', `${this.#path}/fork`, { body: options });
    return new RemoteRepo(this.#t, info?.name ?? options.name, info);
  }

  /** The tree as `git archive` makes it, as a stream. */
  async archiveStream(options: { ref?: string; format?: 'tar' | 'tar.gz' | 'zip'; path?: string; prefix?: string } = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#t.request('GET', `${this.#path}/archive`, { query: { ...options } });
    if (res.body === null) return new ReadableStream({ start: (c) => c.close() });
    return res.body;
  }

  /** The tree as `git archive` makes it, whole. */
  async archive(options: { ref?: string; format?: 'tar' | 'tar.gz' | 'zip'; path?: string; prefix?: string } = {}): Promise<Uint8Array> {
    const res = await this.#t.request('GET', `${this.#path}/archive`, { query: { ...options } });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Pushes refs to another Git server over smart HTTP ("graduate" a repository). */
  async pushTo(options: { url: string; refs?: string[]; force?: boolean; username?: string; password?: string }): Promise<RefUpdateInfo[]> {
    return (await this.#t.json<{ updates: RefUpdateInfo[] }>('POST', `${this.#path}/push`, { body: options })).updates;
  }

  // --- webhooks ----------------------------------------------------------------------------

  /** Registers a webhook: signed JSON POSTs for the events named. */
  async createWebhook(options: { url: string; events: string[]; secret: string }): Promise<{ id: string }> {
    return this.#t.json('POST', `${this.#path}/webhooks`, { body: options });
  }

  /** The repository's webhooks (without their secrets). */
  async listWebhooks(): Promise<WebhookInfo[]> {
    return (await this.#t.json<{ webhooks: WebhookInfo[] }>('GET', `${this.#path}/webhooks`)).webhooks;
  }

  /** Removes a webhook. */
  async deleteWebhook(options: { id: string }): Promise<void> {
    await this.#t.json('DELETE', `${this.#path}/webhooks/${encodeURIComponent(options.id)}`);
  }

  /** A webhook's recent deliveries, with the receiver's status codes. */
  async listDeliveries(options: { id: string }): Promise<DeliveryInfo[]> {
    return (await this.#t.json<{ deliveries: DeliveryInfo[] }>('GET', `${this.#path}/webhooks/${encodeURIComponent(options.id)}/deliveries`)).deliveries;
  }
}
