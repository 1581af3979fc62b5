/** Routes of commits: the log (read) and multi-file commits (write, judged by the ref policy). */
import { spaceOf } from '../../refs/space.js';
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import { DEFAULT_MAX_COMMIT_BYTES, DEFAULT_MAX_COMMIT_CHANGES } from './options.js';
import type { FileChange } from '../../repo/build-tree.js';
import type { CommitOptions, PersonInput } from '../../repo/repository.js';
import { decodeBase64, isObject, optBool, optPositiveInt, optString, queryBool, readJson, reqString, type JsonBody } from './body.js';
import { checkRefPolicy } from './ref-guard.js';
import { assertReachable } from './reachable.js';
import { branchRef } from '../../refs/ref-name.js';
import { json } from './responses.js';
import type { ApiRoute } from './router.js';
import { isNdjson, ndjsonCommit } from './commit-ndjson.js';

/** Most commits one log call returns. */
export const MAX_LOG_LIMIT = 1000;

/** `?limit=` of the log: 1..MAX_LOG_LIMIT, default 50. */
export function parseLogLimit(url: URL): number {
  const raw = url.searchParams.get('limit');
  const limit = raw === null ? 50 : Number(raw);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LOG_LIMIT) throw new InvalidArgumentError(`limit must be an integer in 1..${MAX_LOG_LIMIT}`);
  return limit;
}

/** The budget of one API commit, checked while its body is parsed (413 before any object is built). */
export interface CommitBudget {
  /** Most changes (writes and deletes). */
  maxChanges: number;
  /** Most content bytes, summed over the writes (UTF-8 text as encoded, base64 as decoded). */
  maxBytes: number;
}

const DEFAULT_BUDGET: CommitBudget = { maxChanges: DEFAULT_MAX_COMMIT_CHANGES, maxBytes: DEFAULT_MAX_COMMIT_BYTES };

/** Bytes `s` takes in UTF-8, counted without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 4; // a surrogate pair: one 4-byte character
      i++;
    } else n += 3;
  }
  return n;
}

/** `changes` of a commit body: writes (utf-8 or base64 content, optional mode) and deletes, within `budget` (413 past it). */
export function parseChanges(raw: unknown, budget: CommitBudget = DEFAULT_BUDGET): FileChange[] {
  if (!Array.isArray(raw)) throw new InvalidArgumentError('changes must be an array');
  if (raw.length > budget.maxChanges) {
    throw new LimitExceededError(`a commit may have at most ${budget.maxChanges} changes (this one has ${raw.length})`, {
      details: { limit: budget.maxChanges },
    });
  }
  let bytes = 0;
  const spend = (n: number) => {
    bytes += n;
    if (bytes > budget.maxBytes)
      throw new LimitExceededError(`a commit may write at most ${budget.maxBytes} bytes of content`, { details: { limit: budget.maxBytes } });
  };
  return raw.map((c: unknown, i): FileChange => {
    if (!isObject(c)) throw new InvalidArgumentError(`changes[${i}] must be an object`);
    if (typeof c.path !== 'string') throw new InvalidArgumentError(`changes[${i}].path must be a string`);
    if (c.delete === true) return { path: c.path, delete: true };
    if (c.delete !== undefined && c.delete !== false) throw new InvalidArgumentError(`changes[${i}].delete must be true or absent`);
    if (typeof c.content !== 'string') throw new InvalidArgumentError(`changes[${i}].content must be a string`);
    const encoding = c.encoding ?? 'utf-8';
    let content: string | Uint8Array;
    if (encoding === 'utf-8' || encoding === 'utf8') spend(utf8Length((content = c.content)));
    else if (encoding === 'base64') spend((content = decodeBase64(c.content, `changes[${i}].content`)).length);
    else throw new InvalidArgumentError(`changes[${i}].encoding must be "utf-8" or "base64"`);
    if (c.mode !== undefined && typeof c.mode !== 'string' && typeof c.mode !== 'number') throw new InvalidArgumentError(`changes[${i}].mode must be a string`);
    return c.mode === undefined ? { path: c.path, content } : { path: c.path, content, mode: String(c.mode) };
  });
}

/** An author or committer: `{ name, email, timestamp?, timezone? }` (the repository checks the values). */
function parsePerson(v: unknown, what: string): PersonInput {
  const bad = () => new InvalidArgumentError(`${what} must be { name, email }`);
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.email !== 'string') throw bad();
  const { timestamp, timezone } = v;
  if (timestamp !== undefined && timestamp !== null && typeof timestamp !== 'number')
    throw new InvalidArgumentError(`${what}.timestamp must be a number of seconds`);
  if (timezone !== undefined && timezone !== null && typeof timezone !== 'string' && typeof timezone !== 'number')
    throw new InvalidArgumentError(`${what}.timezone must be a string or a number of minutes`);
  return {
    name: v.name,
    email: v.email,
    ...(typeof timestamp === 'number' ? { timestamp } : {}),
    ...(typeof timezone === 'string' || typeof timezone === 'number' ? { timezone } : {}),
  };
}

/** `POST /repos/:repo/commits` body as commit options; `ephemeral` is what the body asked (the caller's binding is added by the route). */
export function parseCommitBody(body: JsonBody, budget: CommitBudget = DEFAULT_BUDGET): Omit<CommitOptions, 'space'> & { ephemeral: boolean } {
  const branch = reqString(body, 'branch');
  const message = reqString(body, 'message');
  const changes = parseChanges(body.changes, budget);
  const author = parsePerson(body.author, 'author');
  const committer = body.committer === undefined || body.committer === null ? undefined : parsePerson(body.committer, 'committer');
  const key = body.idempotencyKey;
  if (key !== undefined && key !== null && typeof key !== 'string')
    throw new InvalidArgumentError('idempotencyKey must be 1..200 printable ASCII characters without spaces');
  return {
    branch,
    message,
    author,
    ...(committer !== undefined ? { committer } : {}),
    changes,
    expectedHeadSha: optString(body, 'expectedHeadSha'),
    baseBranch: optString(body, 'baseBranch'),
    ephemeral: optBool(body, 'ephemeral') === true,
    ttlSeconds: optPositiveInt(body, 'ttl'),
    ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
  };
}

/** Commit routes. */
export const commitRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:repo/commits',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const limit = parseLogLimit(ctx.url);
      const ref = ctx.url.searchParams.get('ref') ?? repo.info.defaultBranch;
      const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
      await assertReachable(ctx.principal, repo, ref, view);
      // `?path=` keeps the commits that change it; `?cursor=` continues a page (repo/history.ts).
      const page = await repo.history(ref, {
        limit,
        view,
        path: ctx.url.searchParams.get('path') ?? undefined,
        cursor: ctx.url.searchParams.get('cursor') ?? undefined,
      });
      return json(200, {
        commits: page.commits.map((c) => ({ sha: c.sha, message: c.message, author: c.author, committer: c.committer, parents: c.parents, tree: c.tree })),
        nextCursor: page.nextCursor,
      });
    },
  },
  {
    method: 'POST',
    path: '/repos/:repo/commits',
    access: 'write',
    handle: async (ctx) => {
      const o = ctx.options;
      const budget = { maxChanges: o.maxCommitChanges ?? DEFAULT_MAX_COMMIT_CHANGES, maxBytes: o.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES };
      if (isNdjson(ctx.req.headers)) {
        // Files streamed line by line (commit-ndjson.ts): the metadata line is judged first.
        const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
        const prepare = async (meta: JsonBody) => {
          const { ephemeral: asked, changes: _, ...options } = parseCommitBody({ ...meta, changes: [] }, budget);
          const ephemeral = ctx.bound || asked;
          await checkRefPolicy(ctx.policy, repo, [{ ref: branchRef(options.branch), ephemeral, newOid: 'descendant' }]);
          return { ...options, space: spaceOf(ephemeral) };
        };
        const { replayed, ...result } = await ndjsonCommit(ctx.req.body, repo, budget, prepare, (options, changes) => repo.commit({ ...options, changes }));
        return json(201, result, replayed ? { 'Idempotent-Replayed': 'true' } : {});
      }
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const { ephemeral: asked, ...options } = parseCommitBody(raw, budget);
      const ephemeral = ctx.bound || asked;
      await checkRefPolicy(ctx.policy, repo, [{ ref: branchRef(options.branch), ephemeral, newOid: 'descendant' }]);
      const { replayed, ...result } = await repo.commit({ ...options, space: spaceOf(ephemeral) });
      return json(201, result, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    },
  },
];
