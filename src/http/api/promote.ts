/** The promotion route: an ephemeral branch moves into the regular space (write, judged by the ref policy). */
import { ForbiddenError, NotFoundError } from '../../errors.js';
import { parseOid, type Oid } from '../../object/oid.js';
import { optString, readJson, reqString, type JsonBody } from './body.js';
import { checkRefPolicy, refOfBranch } from './ref-guard.js';
import { json } from './responses.js';
import type { ApiRoute } from './router.js';

/** `POST /repos/:repo/ephemeral/promote` body. */
export function parsePromoteBody(body: JsonBody): { baseBranch: string; targetBranch?: string; expectedTargetSha?: Oid } {
  const baseBranch = reqString(body, 'baseBranch');
  const targetBranch = optString(body, 'targetBranch');
  const expected = optString(body, 'expectedTargetSha');
  // Given but empty is a malformed expectation (400), never "no expectation".
  return {
    baseBranch,
    ...(targetBranch !== undefined ? { targetBranch } : {}),
    ...(expected !== undefined ? { expectedTargetSha: parseOid(expected, 'expectedTargetSha') } : {}),
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
        // The regular target moves to the ephemeral source's tip: judge that move, and pin the
        // target's old value judged so a concurrent move of the target cannot slip past.
        const source = refOfBranch(b.baseBranch);
        const tip = await repo.refs.get(source, { space: 'ephemeral' });
        if (tip === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `ephemeral branch "${b.baseBranch}" not found`, { details: { ref: source } });
        const target = refOfBranch(b.targetBranch ?? b.baseBranch);
        const [old] = (await checkRefPolicy(ctx.policy, repo, [
          { ref: target, ephemeral: false, ...(b.expectedTargetSha !== undefined ? { oldOid: b.expectedTargetSha } : {}), newOid: tip.oid },
        ]))!;
        b.expectedTargetSha = old;
      }
      return json(200, await repo.promote(b));
    },
  },
];
