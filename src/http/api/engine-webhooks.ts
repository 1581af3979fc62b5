/**
 * Engine-wide webhooks (admin): hooks told about the lifecycle of every repository
 * (`repo.created`, `repo.deleted`), where a new repository has no hooks of its own yet to tell
 * (docs/api.md "Remotes and webhooks"). The same shapes as a repository's `…/webhooks` routes.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { CreateWebhookOptions } from '../../webhooks/store.js';
import { readJson } from './body.js';
import { json, noContent } from './responses.js';
import type { ApiRoute, RouteContext } from './router.js';

function webhooksOf(ctx: RouteContext) {
  const hooks = ctx.options.engine.webhooks;
  if (hooks === undefined) throw new InvalidArgumentError('this engine has no webhooks');
  return hooks;
}

/** `/webhooks` routes. */
export const engineWebhookRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/webhooks',
    access: 'admin',
    handle: async (ctx) => {
      const b = await readJson(ctx);
      return json(201, await webhooksOf(ctx).create(null, { url: b.url, events: b.events, secret: b.secret } as CreateWebhookOptions));
    },
  },
  {
    method: 'GET',
    path: '/webhooks',
    access: 'admin',
    handle: async (ctx) => json(200, { webhooks: await webhooksOf(ctx).list(null) }),
  },
  {
    method: 'DELETE',
    path: '/webhooks/:id',
    access: 'admin',
    handle: async (ctx) => {
      await webhooksOf(ctx).remove(null, ctx.params.id!);
      return noContent();
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    access: 'admin',
    handle: async (ctx) => json(200, { deliveries: await webhooksOf(ctx).deliveries(null, ctx.params.id!) }),
  },
];
