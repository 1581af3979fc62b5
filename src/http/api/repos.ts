/**
 * Routes of repositories (admin: create, list, delete; read: info) and of remote URLs (admin:
 * mint a token and the Git URL that carries it).
 */
import { InvalidArgumentError } from '../../errors.js';
import { createRemoteUrl, normalizePermissions, type RemoteUrlOptions } from '../../access/remote-url.js';
import { refPoliciesProblem } from '../../access/ref-policy.js';
import type { RefPolicy } from '../../access/types.js';
import { internalsOf } from '../../repo/internals.js';
import { optBool, optPositiveInt, optString, readJson, type JsonBody } from './body.js';
import { json, noContent } from './responses.js';
import type { ApiRoute } from './router.js';
import { importRepo } from './remotes.js';

/** `POST /repos` body. */
export function parseCreateRepoBody(body: JsonBody): { name: string; defaultBranch?: string } {
  if (typeof body.name !== 'string') throw new InvalidArgumentError('name must be a string');
  const defaultBranch = optString(body, 'defaultBranch');
  return { name: body.name, ...(defaultBranch ? { defaultBranch } : {}) };
}

/** `refs`: ref policies, checked by the rule the token service applies (access/ref-policy.ts). */
function optRefPolicies(body: JsonBody): RefPolicy[] | undefined {
  if (body.refs === undefined) return undefined;
  const problem = refPoliciesProblem(body.refs);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return body.refs as RefPolicy[];
}

/** `POST /repos/:repo/remote-url` body, as `createRemoteUrl` options (without the base URL). */
export function parseRemoteUrlBody(body: JsonBody): Omit<RemoteUrlOptions, 'baseUrl'> {
  return {
    permissions: normalizePermissions(body.permissions),
    ttl: optPositiveInt(body, 'ttl'),
    ephemeral: optBool(body, 'ephemeral'),
    refs: optRefPolicies(body),
    sub: optString(body, 'sub'),
  };
}

/** Repository routes. */
export const repoRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos',
    access: 'admin',
    // A page from an opaque cursor: `?limit=` (1..1000, default 100), `?cursor=`, `?prefix=`.
    handle: async (ctx) => {
      const q = ctx.url.searchParams;
      const limit = q.get('limit') === null ? undefined : Number(q.get('limit'));
      return json(200, await ctx.options.engine.listReposPage({ limit, cursor: q.get('cursor') ?? undefined, prefix: q.get('prefix') ?? undefined }));
    },
  },
  {
    method: 'POST',
    path: '/repos',
    access: 'admin',
    handle: async (ctx) => {
      const raw = await readJson(ctx);
      if (raw.source !== undefined) return importRepo(ctx, raw); // import from a Git URL (remotes.ts)
      const b = parseCreateRepoBody(raw);
      const repo = await ctx.options.engine.createRepo(b.name, b.defaultBranch !== undefined ? { defaultBranch: b.defaultBranch } : {});
      return json(201, repo.info, { Location: `${ctx.url.pathname.replace(/\/+$/, '')}/${b.name}` });
    },
  },
  {
    method: 'GET',
    path: '/repos/:repo',
    access: 'read',
    handle: async (ctx) => json(200, (await ctx.options.engine.getRepo(ctx.params.repo!)).info),
  },
  {
    method: 'DELETE',
    path: '/repos/:repo',
    access: 'admin',
    handle: async (ctx) => {
      await ctx.options.engine.deleteRepo(ctx.params.repo!);
      return noContent();
    },
  },
  {
    method: 'POST',
    path: '/repos/:repo/remote-url',
    access: 'admin',
    handle: async (ctx) => {
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const r = await createRemoteUrl(ctx.options.tokens, repo.name, {
        baseUrl: ctx.options.baseUrl ?? ctx.url.origin,
        ...parseRemoteUrlBody(raw),
        repoId: internalsOf(repo).id, // the token dies with this repository, not with its name
      });
      return json(200, { url: r.url, token: r.token, expiresAt: r.expiresAt.toISOString() });
    },
  },
];
