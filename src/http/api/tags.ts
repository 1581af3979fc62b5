/**
 * Routes of tags: list (read), create and delete (write, judged by the ref policy as a push of
 * `refs/tags/<name>` would be). A tag is annotated when the body has a `message`.
 */
import { ForbiddenError } from '../../errors.js';
import { ZERO_OID } from '../../object/oid.js';
import { tagRef } from '../../refs/ref-name.js';
import { optString, readJson, reqString } from './body.js';
import { optPerson } from './merges.js';
import { checkRefPolicy } from './ref-guard.js';
import { assertReachable } from './reachable.js';
import { json, noContent } from './responses.js';
import type { ApiRoute } from './router.js';

/** Tags are regular refs: a token bound to the ephemeral namespace may not write them. */
function assertUnbound(bound: boolean): void {
  if (bound) throw new ForbiddenError('a token bound to the ephemeral namespace cannot create or delete tags');
}

/** Tag routes. */
export const tagRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:repo/tags',
    access: 'read',
    handle: async (ctx) => json(200, { tags: await (await ctx.options.engine.getRepo(ctx.params.repo!)).listTags() }),
  },
  {
    method: 'POST',
    path: '/repos/:repo/tags',
    access: 'write',
    handle: async (ctx) => {
      assertUnbound(ctx.bound);
      const body = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const name = reqString(body, 'name');
      const target = reqString(body, 'target');
      const message = optString(body, 'message');
      const tagger = optPerson(body, 'tagger');
      const ref = tagRef(name);
      // Tags live in the regular space only: a target must be readable there.
      await assertReachable(ctx.principal, repo, target, 'regular');
      await checkRefPolicy(ctx.policy, repo, [{ ref, ephemeral: false, oldOid: ZERO_OID, newOid: await repo.resolve(target) }]);
      const r = await repo.createTag(name, target, { ...(message !== undefined ? { message } : {}), ...(tagger ? { tagger } : {}) });
      return json(201, { ...r, annotated: message !== undefined });
    },
  },
  {
    method: 'DELETE',
    path: '/repos/:repo/tags/*tag',
    access: 'write',
    handle: async (ctx) => {
      assertUnbound(ctx.bound);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      await checkRefPolicy(ctx.policy, repo, [{ ref: tagRef(ctx.params.tag!), ephemeral: false, newOid: ZERO_OID }]);
      await repo.deleteTag(ctx.params.tag!);
      return noContent();
    },
  },
];
