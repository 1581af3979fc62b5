/**
 * Reads at a revision: a file, a directory listing, the log. Each resolves its revision through
 * a view (revision.ts) and walks trees in batched reads.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { splitDirPath, splitPath } from '../object/path.js';
import type { Commit, Identity } from '../object/commit.js';
import { TREE_MODE, displayMode, entryType, isGitlinkMode, isTreeMode } from '../object/tree.js';
import type { View } from '../refs/space.js';
import type { RepoContext } from './context.js';
import { peelToCommit, resolveRevision } from './revision.js';

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

/** The commit a ref, tag or sha names, through a view. */
export async function resolveCommit(ctx: RepoContext, refOrSha: string, view: View): Promise<Oid> {
  ctx.assertLive();
  return peelToCommit(ctx.objects, await resolveRevision(ctx.objects, ctx.refs, refOrSha, view));
}

/** The entry at `path` of the commit `refOrSha` names (its root tree when `path` is undefined). */
async function entryAt(ctx: RepoContext, refOrSha: string, path: string | undefined, view: View): Promise<{ mode: string; oid: Oid }> {
  const commit = await ctx.objects.commit(await resolveCommit(ctx, refOrSha, view));
  let cur: { mode: string; oid: Oid } = { mode: TREE_MODE, oid: commit.tree };
  const parts = path === undefined ? [] : splitDirPath(path);
  for (let i = 0; i < parts.length; i++) {
    if (!isTreeMode(cur.mode)) break;
    const e = (await ctx.objects.tree(cur.oid)).find((x) => x.name === parts[i]);
    if (e === undefined) {
      throw new NotFoundError('ERR_PATH_NOT_FOUND', `path "${path}" not found at ${refOrSha}`, { details: { path, ref: refOrSha } });
    }
    cur = e;
    if (i < parts.length - 1 && !isTreeMode(e.mode)) {
      throw new NotFoundError('ERR_PATH_NOT_FOUND', `path "${path}" not found at ${refOrSha}`, { details: { path, ref: refOrSha } });
    }
  }
  return cur;
}

/** A file's bytes, blob id and mode. */
export async function readFileEntry(ctx: RepoContext, refOrSha: string, path: string, view: View): Promise<{ content: Uint8Array; sha: Oid; mode: string }> {
  splitPath(path);
  const e = await entryAt(ctx, refOrSha, path, view);
  if (isTreeMode(e.mode) || isGitlinkMode(e.mode)) {
    throw new NotFoundError('ERR_PATH_NOT_FOUND', `"${path}" is not a file`, { details: { path } });
  }
  const o = await ctx.objects.read(e.oid);
  return { content: o.body, sha: e.oid, mode: e.mode };
}

/** A file as a stream: its blob id, mode, size and bytes (a chunked blob, object/chunked.ts, inflated piece by piece, never whole). */
export async function readFileStream(
  ctx: RepoContext,
  refOrSha: string,
  path: string,
  view: View,
): Promise<{ sha: Oid; mode: string; size: number; content: AsyncIterable<Uint8Array> }> {
  splitPath(path);
  const e = await entryAt(ctx, refOrSha, path, view);
  if (isTreeMode(e.mode) || isGitlinkMode(e.mode)) throw new NotFoundError('ERR_PATH_NOT_FOUND', `"${path}" is not a file`, { details: { path } });
  const chunked = await ctx.objects.chunkedRef(e.oid);
  if (chunked !== undefined) return { sha: e.oid, mode: e.mode, size: chunked.size, content: ctx.objects.inflateChunked(chunked) };
  const o = await ctx.objects.read(e.oid);
  return {
    sha: e.oid,
    mode: e.mode,
    size: o.body.length,
    content: (async function* () {
      yield o.body;
    })(),
  };
}

/** Lists a directory at a revision (recursively: every file and directory below it), sorted by path. */
export async function listTree(ctx: RepoContext, refOrSha: string, options: { path?: string; recursive?: boolean }, view: View): Promise<ListedEntry[]> {
  const start = await entryAt(ctx, refOrSha, options.path, view);
  if (!isTreeMode(start.mode)) throw new NotFoundError('ERR_PATH_NOT_FOUND', `"${options.path}" is not a directory`, { details: { path: options.path } });
  const base = options.path ? splitDirPath(options.path).join('/') + '/' : '';
  const out: ListedEntry[] = [];
  let level: [string, Oid][] = [[base, start.oid]];
  while (level.length > 0) {
    const trees = await ctx.objects.decodeMany(level.map(([, o]) => o));
    const next: [string, Oid][] = [];
    level.forEach(([prefix], i) => {
      const t = trees[i]!;
      if (t.type !== 'tree') return;
      for (const e of t.entries) {
        const type = entryType(e.mode);
        out.push({ path: prefix + e.name, mode: displayMode(e.mode), type, sha: e.oid });
        if (options.recursive && type === 'tree') next.push([`${prefix}${e.name}/`, e.oid]);
      }
    });
    level = next;
  }
  const blobs = out.filter((e) => e.type === 'blob');
  const infos = await ctx.objects.info(blobs.map((b) => b.sha));
  blobs.forEach((b, i) => (b.size = infos[i]?.size));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Commits reachable from a revision, newest first (by committer date), at most `limit` (default 100). */
export async function log(ctx: RepoContext, refOrSha: string, limit: number | undefined, view: View): Promise<LogEntry[]> {
  const max = limit ?? 100;
  if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('limit must be a positive integer');
  const start = await resolveCommit(ctx, refOrSha, view);
  const out: LogEntry[] = [];
  const seen = new Set<Oid>([start]);
  const queue: [Oid, Commit][] = [[start, await ctx.objects.commit(start)]];
  while (queue.length > 0 && out.length < max) {
    queue.sort((a, b) => b[1].committer.timestamp - a[1].committer.timestamp);
    const [oid, c] = queue.shift()!;
    out.push({ sha: oid, message: c.message, author: c.author, committer: c.committer, parents: c.parents, tree: c.tree });
    const fresh = c.parents.filter((p) => !seen.has(p));
    fresh.forEach((p) => seen.add(p));
    const decoded = await ctx.objects.decodeMany(fresh);
    decoded.forEach((d, i) => d.type === 'commit' && queue.push([fresh[i]!, d.commit]));
  }
  return out;
}
