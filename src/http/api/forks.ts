/** Routes of forks (admin: a new repository sharing another's objects, engine-pools.ts). */
import { checkForkOptions } from '../../engine-pools.js';
import { readJson, reqString } from './body.js';
import { json } from './responses.js';
import type { ApiRoute } from './router.js';

/** Fork routes. */
export const forkRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/repos/:repo/fork',
    access: 'admin',
    handle: async (ctx) => {
      const body = await readJson(ctx);
      const name = reqString(body, 'name');
      const options = checkForkOptions({ branches: body.branches, defaultBranch: body.defaultBranch });
      const repo = await ctx.options.engine.forkRepo(ctx.params.repo!, name, options);
      const base = ctx.url.pathname.slice(0, ctx.url.pathname.indexOf('/repos/') + '/repos'.length);
      return json(201, repo.info, { Location: `${base}/${name}` });
    },
  },
];
