/** The promotion route: an ephemeral branch moves into the regular space (write, judged by the ref policy). */
import { ForbiddenError, NotFoundError } from '../../errors.js';
import { parseOid, type Oid } from '../../object/oid.js';
import { optString, readJson, reqString, type JsonBody } from './body.js';
import { checkRefPolicy } from './ref-guard.js';
import { branchRef } from '../../refs/ref-name.js';
import { json } from './responses.js';
import type { ApiRoute } from './router.js';

/** `POST /repos/:repo/ephemeral/promote` body. */
export function parsePromoteBody(body: JsonBody): { baseBranch: string; targetBranch?: string; expectedTargetSha?: Oid; expectedSourceSha?: Oid } {
  const baseBranch = reqString(body, 'baseBranch');
  const targetBranch = optString(body, 'targetBranch');
  const expected = optString(body, 'expectedTargetSha');
  const expectedSource = optString(body, 'expectedSourceSha');
  // Given but empty is a malformed expectation (400), never "no expectation".
  return {
    baseBranch,
    ...(targetBranch !== undefined ? { targetBranch } : {}),
    ...(expected !== undefined ? { expectedTargetSha: parseOid(expected, 'expectedTargetSha') } : {}),
    ...(expectedSource !== undefined ? { expectedSourceSha: parseOid(expectedSource, 'expectedSourceSha') } : {}),
  };
}

/** Promotion routes. */
export const promoteRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/repos/:repo/ephemeral/promote',
    access: 'write',
    handle: async (ctx) => {
      if (ctx.bound) throw new ForbiddenError('a token bound to the ephemeral namespace cannot promote into the regular one');
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const b = parsePromoteBody(raw);
      if (ctx.policy !== undefined) {
        // The regular target moves to the ephemeral source's tip (the caller's expected one, when
        // given): judge that move, and pin both values judged (the target's old value, the
        // source's tip) so a concurrent move of either cannot slip past the judgement.
        const source = branchRef(b.baseBranch);
        const tip = await repo.refs.get(source, { space: 'ephemeral' });
        if (tip === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `ephemeral branch "${b.baseBranch}" not found`, { details: { ref: source } });
        const target = branchRef(b.targetBranch ?? b.baseBranch);
        const [old] = (await checkRefPolicy(ctx.policy, repo, [
          {
            ref: target,
            ephemeral: false,
            ...(b.expectedTargetSha !== undefined ? { oldOid: b.expectedTargetSha } : {}),
            newOid: b.expectedSourceSha ?? tip.oid,
          },
        ]))!;
        b.expectedTargetSha = old;
        b.expectedSourceSha ??= tip.oid;
      }
      return json(200, await repo.promote(b));
    },
  },
];
