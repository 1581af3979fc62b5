/**
 * Routes of review and merge: compare and diff (read; JSON, or the unified text with
 * `Accept: text/x-diff` or `?format=diff`), merges and reverts (write, judged by the ref policy
 * on the branch that moves; the old value judged is pinned as the compare-and-swap). A conflict
 * is a 409 `ERR_MERGE_CONFLICT` whose error carries the conflict list. A token bound to the
 * ephemeral namespace reads through the ephemeral view and cannot merge or revert (the branch
 * that moves is a regular one).
 */
import { ForbiddenError, InvalidArgumentError, MergeConflictError } from '../../errors.js';
import { type Oid, parseOid } from '../../object/oid.js';
import { EMPTY_TREE } from '../../repo/diff.js';
import { branchRef } from '../../refs/ref-name.js';
import { spaceOf } from '../../refs/space.js';
import type { CompareResult, DiffOptions, DiffResult, MergeOptions, PersonInput, RevertOptions } from '../../repo/repository.js';
import { isObject, optBool, optString, queryBool, readJson, reqString, type JsonBody } from './body.js';
import { assertReachable } from './reachable.js';
import { checkRefPolicy } from './ref-guard.js';
import { json, type ApiResponse } from './responses.js';
import type { ApiRoute, RouteContext } from './router.js';

/** Whether the caller asked for the unified text. */
function wantsText(ctx: RouteContext): boolean {
  const format = ctx.url.searchParams.get('format');
  if (format !== null && format !== 'diff' && format !== 'json') throw new InvalidArgumentError('format must be "diff" or "json"');
  if (format !== null) return format === 'diff';
  return (ctx.req.headers.get('accept') ?? '').includes('text/x-diff');
}

/** `?path=` (repeatable) and `?context=` of a diff. */
function parseDiffQuery(url: URL): DiffOptions {
  const paths = url.searchParams.getAll('path');
  const ctxRaw = url.searchParams.get('context');
  const context = ctxRaw === null ? undefined : Number(ctxRaw);
  if (context !== undefined && (!Number.isSafeInteger(context) || context < 0 || context > 10_000))
    throw new InvalidArgumentError('context must be an integer in 0..10000');
  const renames = url.searchParams.get('renames') === null ? undefined : queryBool(url, 'renames');
  return { ...(paths.length > 0 ? { paths } : {}), ...(context !== undefined ? { contextLines: context } : {}), ...(renames !== undefined ? { renames } : {}) };
}

function diffResponse(result: DiffResult | CompareResult): ApiResponse {
  if (result.patch !== undefined) return { status: 200, headers: { 'Content-Type': 'text/x-diff', 'Cache-Control': 'no-store' }, body: result.patch };
  return json(200, result);
}

function requiredQuery(url: URL, key: string): string {
  const v = url.searchParams.get(key);
  if (v === null || v === '') throw new InvalidArgumentError(`query parameter ${key} is required`);
  return v;
}

/** An author: `{ name, email, timestamp?, timezone? }` (the repository checks the values). */
export function optPerson(body: JsonBody, key: string): PersonInput | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.email !== 'string') throw new InvalidArgumentError(`${key} must be { name, email }`);
  const { timestamp, timezone } = v;
  if (timestamp !== undefined && typeof timestamp !== 'number') throw new InvalidArgumentError(`${key}.timestamp must be a number of seconds`);
  if (timezone !== undefined && typeof timezone !== 'string' && typeof timezone !== 'number')
    throw new InvalidArgumentError(`${key}.timezone must be a string or a number of minutes`);
  return { name: v.name, email: v.email, ...(timestamp !== undefined ? { timestamp } : {}), ...(timezone !== undefined ? { timezone } : {}) };
}

/** `POST /repos/:repo/merges` body. */
export function parseMergeBody(body: JsonBody): MergeOptions {
  const strategy = optString(body, 'strategy');
  if (strategy !== undefined && strategy !== 'merge' && strategy !== 'squash' && strategy !== 'fast-forward') {
    throw new InvalidArgumentError('strategy must be "merge", "squash" or "fast-forward"');
  }
  const expected = optString(body, 'expectedBaseSha');
  const author = optPerson(body, 'author');
  const message = optString(body, 'message');
  return {
    base: reqString(body, 'base'),
    head: reqString(body, 'head'),
    ...(strategy !== undefined ? { strategy } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(author !== undefined ? { author } : {}),
    ...(expected !== undefined ? { expectedBaseSha: parseOid(expected, 'expectedBaseSha') } : {}),
    dryRun: optBool(body, 'dryRun') === true,
  };
}

/** `POST /repos/:repo/reverts` body. */
export function parseRevertBody(body: JsonBody): RevertOptions {
  const expected = optString(body, 'expectedHeadSha');
  const author = optPerson(body, 'author');
  const message = optString(body, 'message');
  return {
    branch: reqString(body, 'branch'),
    commit: reqString(body, 'commit'),
    ...(message !== undefined ? { message } : {}),
    ...(author !== undefined ? { author } : {}),
    ...(expected !== undefined ? { expectedHeadSha: parseOid(expected, 'expectedHeadSha') } : {}),
  };
}

/** The 409 of a merge conflict, with the conflict list beside code and message. */
function conflictResponse(err: MergeConflictError): ApiResponse {
  return json(409, { error: { code: err.code, message: err.message, conflicts: err.details.conflicts ?? [] } });
}

/** Runs a write that may conflict. */
async function orConflict(run: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof MergeConflictError) return conflictResponse(err);
    throw err;
  }
}

/** Judges the move of `branch` (a descendant of its tip) and returns the tip judged, to pin. */
async function judge(ctx: RouteContext, repo: Parameters<typeof checkRefPolicy>[1], branch: string, expected: string | undefined): Promise<Oid | undefined> {
  if (ctx.bound) throw new ForbiddenError('a token bound to the ephemeral namespace cannot merge into or revert on a regular branch');
  const olds = await checkRefPolicy(ctx.policy, repo, [
    { ref: branchRef(branch), ephemeral: false, ...(expected !== undefined ? { oldOid: expected as Oid } : {}), newOid: 'descendant' },
  ]);
  return olds?.[0];
}

/** Review and merge routes. */
export const mergeRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:repo/compare',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
      const limitRaw = ctx.url.searchParams.get('limit');
      const limit = limitRaw === null ? undefined : Number(limitRaw);
      if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0 || limit > 10_000))
        throw new InvalidArgumentError('limit must be an integer in 0..10000');
      const text = wantsText(ctx);
      const base = requiredQuery(ctx.url, 'base');
      const head = requiredQuery(ctx.url, 'head');
      for (const rev of [base, head]) await assertReachable(ctx.principal, repo, rev, view);
      const result = await repo.compare(base, head, {
        ...parseDiffQuery(ctx.url),
        view,
        ...(limit !== undefined ? { limit } : {}),
        ...(text ? { patch: true, hunks: false } : {}),
      });
      return diffResponse(result);
    },
  },
  {
    method: 'GET',
    path: '/repos/:repo/diff',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
      const text = wantsText(ctx);
      const base = requiredQuery(ctx.url, 'base');
      const head = requiredQuery(ctx.url, 'head');
      for (const rev of [base, head]) await assertReachable(ctx.principal, repo, rev, view);
      const result = await repo.diff(base, head, {
        ...parseDiffQuery(ctx.url),
        view,
        ...(text ? { patch: true, hunks: false } : {}),
      });
      return diffResponse(result);
    },
  },
  {
    method: 'GET',
    path: '/repos/:repo/commits/:sha/diff',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
      await assertReachable(ctx.principal, repo, ctx.params.sha!, view);
      const sha = await repo.resolveCommit(ctx.params.sha!, { view });
      const [c] = await repo.log(sha, { limit: 1, view });
      const parent = c!.parents[0];
      const text = wantsText(ctx);
      const options = { ...parseDiffQuery(ctx.url), view, ...(text ? { patch: true, hunks: false } : {}) };
      // A root commit is diffed against the empty tree (git's well-known id; Repository.diff knows it).
      const result = await repo.diff(parent ?? EMPTY_TREE, sha, options);
      return diffResponse(result);
    },
  },
  {
    method: 'POST',
    path: '/repos/:repo/merges',
    access: 'write',
    handle: async (ctx) => {
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const b = parseMergeBody(raw);
      await assertReachable(ctx.principal, repo, b.head, 'ephemeral');
      const pinned = await judge(ctx, repo, b.base, b.expectedBaseSha);
      if (pinned !== undefined) b.expectedBaseSha = pinned;
      return orConflict(async () => {
        if (b.dryRun) return json(200, await repo.merge({ ...b, dryRun: true }));
        const r = await repo.merge(b);
        return json(r.upToDate ? 200 : 201, r);
      });
    },
  },
  {
    method: 'POST',
    path: '/repos/:repo/reverts',
    access: 'write',
    handle: async (ctx) => {
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const b = parseRevertBody(raw);
      await assertReachable(ctx.principal, repo, b.commit, 'ephemeral');
      const pinned = await judge(ctx, repo, b.branch, b.expectedHeadSha);
      if (pinned !== undefined) b.expectedHeadSha = pinned;
      return orConflict(async () => json(201, await repo.revert(b)));
    },
  },
];
