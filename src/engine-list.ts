/**
 * Repositories a page at a time: the name index (`'N' name`, in byte order) is read from just
 * after the cursor's name, `limit` names at a time, and their records in one `getMany`, so a
 * page costs the same with a hundred repositories or a hundred thousand.
 */
import { InvalidArgumentError } from './errors.js';
import type { Kv } from './storage/kv.js';
import { decodeRepoId, nameKey, prefixRange, repoRecordKey } from './storage/keys.js';
import { fromUtf8 } from './platform/bytes.js';
import { decodeCursor, encodeCursor } from './repo/cursor.js';
import type { RepoInfo } from './repo/context.js';
import type { RepoRecord } from './engine-pools.js';

/** Options of `Engine.listReposPage`. */
export interface RepoPageOptions {
  /** Most repositories in the page: 1..1000, default 100. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Only names starting with this (e.g. `team/`). */
  prefix?: string;
}

/** A page of repositories by name, and the cursor of the next page (null after the last). */
export interface RepoPage {
  repos: RepoInfo[];
  nextCursor: string | null;
}

/** Largest page. */
export const MAX_REPO_PAGE = 1000;

const CURSOR_KIND = 'repos';

/** One page of repositories, in name order (byte order of the UTF-8 names). */
export async function listReposPage(kv: Kv, options: RepoPageOptions = {}): Promise<RepoPage> {
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_REPO_PAGE) throw new InvalidArgumentError(`limit must be an integer in 1..${MAX_REPO_PAGE}`);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || prefix.length > 256) throw new InvalidArgumentError('prefix must be a string of at most 256 characters');
  const range = prefixRange(nameKey(prefix));
  let from = range.gte;
  if (options.cursor !== undefined) {
    const pos = decodeCursor(CURSOR_KIND, options.cursor) as { after?: unknown; prefix?: unknown };
    if (typeof pos?.after !== 'string' || pos.prefix !== prefix)
      throw new InvalidArgumentError('invalid cursor: it belongs to another listing (same prefix needed)');
    // The first key after the cursor's name: its key with a NUL byte appended (names hold no NUL).
    const after = nameKey(pos.after);
    from = new Uint8Array(after.length + 1);
    from.set(after);
  }
  const names: [string, number][] = [];
  // One more than the page: whether a next page exists is known without another read.
  for await (const [k, v] of kv.entries({ gte: from, lt: range.lt, limit: limit + 1 })) names.push([fromUtf8(k, 1), decodeRepoId(v)]);
  const more = names.length > limit;
  const page = names.slice(0, limit);
  const records = await kv.getMany(page.map(([, id]) => repoRecordKey(id)));
  const repos: RepoInfo[] = [];
  records.forEach((r) => {
    if (r === undefined) return; // deleted between the two reads
    const rec = JSON.parse(fromUtf8(r)) as RepoRecord;
    repos.push({ name: rec.name, defaultBranch: rec.defaultBranch, createdAt: rec.createdAt });
  });
  const last = page.at(-1)?.[0];
  return { repos, nextCursor: more && last !== undefined ? encodeCursor(CURSOR_KIND, { after: last, prefix }) : null };
}
