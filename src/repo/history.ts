/**
 * The log a page at a time, optionally of one path: the walk of `log` (read.ts: newest committer
 * date first, ties in the order met) from a revision, resumable from an opaque cursor that holds
 * the walk's frontier (the commits met but not yet listed) and what was already met of it. With
 * a path, a commit is listed when its entry at the path (blob, tree or absence) differs from
 * every parent's (from nothing, for a root commit): git log's rule for which commits touch a
 * path, though every parent is walked (no history simplification).
 */
import { InvalidArgumentError } from '../errors.js';
import { type Oid, isOid } from '../object/oid.js';
import type { Commit } from '../object/commit.js';
import { splitDirPath } from '../object/path.js';
import { isTreeMode } from '../object/tree.js';
import type { View } from '../refs/space.js';
import type { RepoContext } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { resolveCommit, type LogEntry } from './read.js';
import { isAncestor } from './walk.js';

/** Options of `repo.history`. */
export interface HistoryOptions {
  /** Only commits that change this file or directory. */
  path?: string;
  /** Most commits in the page: 1..1000, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page (of the same revision and path). */
  cursor?: string;
  view?: View;
}

/** A page of history and the cursor of the next (null after the last). */
export interface HistoryPage {
  commits: LogEntry[];
  nextCursor: string | null;
}

const KIND = 'history';
/** Most commits the frontier a cursor carries may hold (a wider one fails the request with a 400). */
const MAX_FRONTIER = 512;

/** The object at `parts` below `tree`, or undefined. */
async function entryAt(ctx: RepoContext, tree: Oid, parts: readonly string[]): Promise<Oid | undefined> {
  let cur = tree;
  for (let i = 0; i < parts.length; i++) {
    const e = (await ctx.objects.tree(cur)).find((x) => x.name === parts[i]);
    if (e === undefined) return undefined;
    if (i < parts.length - 1 && !isTreeMode(e.mode)) return undefined;
    cur = e.oid;
  }
  return cur;
}

/** True when `c` changes the path against every parent (or adds it, as a root). */
async function touches(ctx: RepoContext, c: Commit, parts: readonly string[]): Promise<boolean> {
  const mine = await entryAt(ctx, c.tree, parts);
  if (c.parents.length === 0) return mine !== undefined;
  const parents = await ctx.objects.decodeMany(c.parents);
  for (const p of parents) {
    if (p.type !== 'commit') continue;
    if (p.commit.tree === c.tree || (await entryAt(ctx, p.commit.tree, parts)) === mine) return false;
  }
  return true;
}

/** One page of history from `refOrSha`. */
export async function history(ctx: RepoContext, refOrSha: string, options: HistoryOptions = {}): Promise<HistoryPage> {
  const limit = options.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new InvalidArgumentError('limit must be an integer in 1..1000');
  const path = options.path ?? '';
  const parts = path === '' ? [] : splitDirPath(path);
  const start = await resolveCommit(ctx, refOrSha, options.view ?? 'regular');
  let frontier: Oid[] = [start];
  let seen = new Set<Oid>([start]);
  let first = start;
  if (options.cursor !== undefined) {
    const pos = decodeCursor(KIND, options.cursor) as { start?: unknown; path?: unknown; queue?: unknown; seen?: unknown };
    const oids = (v: unknown) => Array.isArray(v) && v.length <= MAX_FRONTIER * 4 && v.every((x) => typeof x === 'string' && isOid(x));
    // A branch that moved on since the first page still continues it (the cursor's start is one of its ancestors).
    const sameLine = pos?.start === start || (typeof pos?.start === 'string' && isOid(pos.start) && (await isAncestor(ctx.objects, pos.start as Oid, start)));
    if (!sameLine || pos.path !== path || !oids(pos.queue) || !oids(pos.seen)) {
      throw new InvalidArgumentError('invalid cursor: it belongs to another revision or path, or the branch was rewritten');
    }
    first = pos.start as Oid;
    frontier = pos.queue as Oid[];
    seen = new Set([...frontier, ...(pos.seen as Oid[])]);
  }
  const decoded = await ctx.objects.decodeMany(frontier);
  const queue: [Oid, Commit][] = [];
  decoded.forEach((d, i) => d.type === 'commit' && queue.push([frontier[i]!, d.commit]));
  const out: LogEntry[] = [];
  while (queue.length > 0 && out.length < limit) {
    queue.sort((a, b) => b[1].committer.timestamp - a[1].committer.timestamp);
    const [oid, c] = queue.shift()!;
    if (parts.length === 0 || (await touches(ctx, c, parts))) {
      out.push({ sha: oid, message: c.message, author: c.author, committer: c.committer, parents: c.parents, tree: c.tree });
    }
    const fresh = c.parents.filter((p) => !seen.has(p));
    for (const p of fresh) seen.add(p);
    const ds = await ctx.objects.decodeMany(fresh);
    ds.forEach((d, i) => d.type === 'commit' && queue.push([fresh[i]!, d.commit]));
  }
  if (queue.length === 0) return { commits: out, nextCursor: null };
  if (queue.length > MAX_FRONTIER) throw new InvalidArgumentError(`history too wide to page here (${queue.length} open lines of history)`);
  queue.sort((a, b) => b[1].committer.timestamp - a[1].committer.timestamp);
  // Commits met below the frontier's own parents are not needed: the frontier is what is left to list,
  // and a parent two lines share is met again only through them.
  const q = queue.map(([o]) => o);
  const parentsSeen = queue.flatMap(([, c]) => c.parents).filter((p) => seen.has(p) && !q.includes(p));
  return { commits: out, nextCursor: encodeCursor(KIND, { start: first, path, queue: q, seen: [...new Set(parentsSeen)] }) };
}
