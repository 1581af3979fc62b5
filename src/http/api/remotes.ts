/**
 * Routes that talk to other servers (admin): importing a repository from a Git URL (`POST /repos`
 * with `source`, handled here for repos.ts), mirroring one out (`POST /repos/:repo/push`), and
 * webhooks (`/repos/:repo/webhooks`). Credentials in bodies reach the remote client only: they
 * are in no answer and no error message.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { FsckOptions } from '../../object/fsck.js';
import type { CreateWebhookOptions } from '../../webhooks/store.js';
import { isObject, optBool, optPositiveInt, optString, readJson, reqString, type JsonBody } from './body.js';
import { json, noContent, type ApiResponse } from './responses.js';
import type { ApiRoute, RouteContext } from './router.js';

function credentials(body: JsonBody): { username?: string; password?: string } {
  const username = optString(body, 'username');
  const password = optString(body, 'password');
  return { ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/**
 * `POST /repos` with `source: { url, ref?, depth?, username?, password?, fsck? }`: creates the
 * repository (its default branch, unless `defaultBranch` is given, as git clone picks it: the
 * branch `ref` names, else the remote's HEAD), fetches into it, answers 201 once done; a failed
 * import leaves no repository behind.
 */
export async function importRepo(ctx: RouteContext, body: JsonBody): Promise<ApiResponse> {
  const name = reqString(body, 'name');
  const defaultBranch = optString(body, 'defaultBranch');
  if (!isObject(body.source)) throw new InvalidArgumentError('source must be an object { url, ref?, depth?, username?, password? }');
  const src = body.source;
  const url = reqString(src, 'url', 'source.url');
  const ref = optString(src, 'ref', 'source.ref');
  const depth = optPositiveInt(src, 'depth', 'source.depth');
  if (src.fsck !== undefined && !isObject(src.fsck)) throw new InvalidArgumentError('source.fsck must be an object { strict?, severities? }');
  const engine = ctx.options.engine;
  // As git clone: the default branch is the one fetched (`ref`, a branch), else the remote's HEAD.
  const listing = defaultBranch === undefined ? await engine.remotes?.lsRemote(url, credentials(src)) : undefined;
  const picked = ref === undefined ? listing?.head : listing?.refs.find((r) => r.ref === ref || r.ref === `refs/heads/${ref}`)?.ref;
  const initial = defaultBranch ?? (picked?.startsWith('refs/heads/') ? picked.slice('refs/heads/'.length) : undefined);
  const repo = await engine.createRepo(name, initial !== undefined ? { defaultBranch: initial } : {});
  try {
    const result = await repo.fetchFrom(url, {
      ...credentials(src),
      ...(ref !== undefined ? { ref } : {}),
      ...(depth !== undefined ? { depth } : {}),
      ...(src.fsck !== undefined ? { fsck: src.fsck as FsckOptions } : {}),
    });
    const imported = { refs: result.refs, head: result.head ?? null, shallow: result.shallow, objects: result.objects, protocol: result.protocol };
    return json(
      201,
      { ...repo.info, head: (await repo.refs.head()) ?? null, import: imported },
      { Location: `${ctx.url.pathname.replace(/\/+$/, '')}/${name}` },
    );
  } catch (err) {
    await engine.deleteRepo(name).catch(() => undefined);
    throw err;
  }
}

function webhooksOf(ctx: RouteContext) {
  const hooks = ctx.options.engine.webhooks;
  if (hooks === undefined) throw new InvalidArgumentError('this engine has no webhooks');
  return hooks;
}

/** Mirror and webhook routes. */
export const remoteRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/repos/:repo/push',
    access: 'admin',
    handle: async (ctx) => {
      const b = await readJson(ctx);
      const url = reqString(b, 'url');
      if (b.refs !== undefined && (!Array.isArray(b.refs) || b.refs.some((r) => typeof r !== 'string')))
        throw new InvalidArgumentError('refs must be an array of strings');
      const force = optBool(b, 'force');
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const result = await repo.pushTo(url, {
        ...credentials(b),
        ...(b.refs !== undefined ? { refs: b.refs as string[] } : {}),
        ...(force !== undefined ? { force } : {}),
      });
      return json(200, result);
    },
  },
  {
    method: 'POST',
    path: '/repos/:repo/webhooks',
    access: 'admin',
    handle: async (ctx) => {
      const b = await readJson(ctx);
      const hook = await webhooksOf(ctx).create(ctx.params.repo!, { url: b.url, events: b.events, secret: b.secret } as CreateWebhookOptions);
      return json(201, hook);
    },
  },
  {
    method: 'GET',
    path: '/repos/:repo/webhooks',
    access: 'admin',
    handle: async (ctx) => json(200, { webhooks: await webhooksOf(ctx).list(ctx.params.repo!) }),
  },
  {
    method: 'DELETE',
    path: '/repos/:repo/webhooks/:id',
    access: 'admin',
    handle: async (ctx) => {
      await webhooksOf(ctx).remove(ctx.params.repo!, ctx.params.id!);
      return noContent();
    },
  },
  {
    method: 'GET',
    path: '/repos/:repo/webhooks/:id/deliveries',
    access: 'admin',
    handle: async (ctx) => json(200, { deliveries: await webhooksOf(ctx).deliveries(ctx.params.repo!, ctx.params.id!) }),
  },
];
