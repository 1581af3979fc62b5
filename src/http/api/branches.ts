/** Routes of branches: list (read), create and delete (write, judged by the ref policy). */
import { spaceOf } from '../../refs/space.js';
import { ZERO_OID } from '../../object/oid.js';
import { optBool, optPositiveInt, optString, queryBool, readJson, reqString, type JsonBody } from './body.js';
import { checkRefPolicy } from './ref-guard.js';
import { assertReachable } from './reachable.js';
import { branchRef } from '../../refs/ref-name.js';
import { json, noContent } from './responses.js';
import type { ApiRoute } from './router.js';

/** `POST /repos/:repo/branches` body; `ephemeral` is what the body asked. */
export function parseCreateBranchBody(body: JsonBody): { name: string; from?: string; ephemeral: boolean; ttlSeconds?: number } {
  const name = reqString(body, 'name');
  const from = optString(body, 'from');
  return { name, ...(from !== undefined ? { from } : {}), ephemeral: optBool(body, 'ephemeral') === true, ttlSeconds: optPositiveInt(body, 'ttl') };
}

/** Branch routes. */
export const branchRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:repo/branches',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      return json(200, { branches: await repo.listBranches({ space: spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral')) }) });
    },
  },
  {
    method: 'POST',
    path: '/repos/:repo/branches',
    access: 'write',
    handle: async (ctx) => {
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const b = parseCreateBranchBody(raw);
      const ephemeral = ctx.bound || b.ephemeral;
      await checkRefPolicy(ctx.policy, repo, [{ ref: branchRef(b.name), ephemeral, oldOid: ZERO_OID, newOid: 'descendant' }]);
      const from = b.from ?? repo.info.defaultBranch;
      // A branch must not make an unreachable commit readable again (the merged view: all the token may read).
      await assertReachable(ctx.principal, repo, from, 'ephemeral');
      const r = await repo.createBranch(b.name, from, { space: spaceOf(ephemeral), ttlSeconds: b.ttlSeconds });
      return json(201, { ...r, ephemeral });
    },
  },
  {
    method: 'DELETE',
    path: '/repos/:repo/branches/*branch',
    access: 'write',
    handle: async (ctx) => {
      const name = ctx.params.branch!;
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      // An empty expectedSha is a malformed expectation (400 from the transaction), not none.
      const expectedSha = ctx.url.searchParams.get('expectedSha') ?? undefined;
      const ephemeral = ctx.bound || queryBool(ctx.url, 'ephemeral');
      await checkRefPolicy(ctx.policy, repo, [{ ref: branchRef(name), ephemeral, newOid: ZERO_OID }]);
      await repo.deleteBranch(name, { space: spaceOf(ephemeral), ...(expectedSha !== undefined ? { expectedSha } : {}) });
      return noContent();
    },
  },
];
