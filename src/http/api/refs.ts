/** The ref transaction route: all-or-nothing updates of full ref names (write, judged by the ref policy). */
import { spaceOf } from '../../refs/space.js';
import { internalsOf } from '../../repo/internals.js';
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import { ZERO_OID, parseOid, type Oid } from '../../object/oid.js';
import { isObject, optBool, optPositiveInt, readJson, type JsonBody } from './body.js';
import { checkRefPolicy } from './ref-guard.js';
import { assertReachable } from './reachable.js';
import { parseRefName } from '../../refs/ref-name.js';
import { json } from './responses.js';
import type { ApiRoute } from './router.js';

/** Most updates one `refs` call may carry. */
export const MAX_REF_UPDATES = 1000;

/** One update of a `refs` body: the ref as given (the transaction checks the name), shas parsed. */
export interface RefsBodyUpdate {
  ref: string;
  oldSha?: Oid;
  newSha: Oid;
}

/** `POST /repos/:repo/refs` body; `ephemeral` is what the body asked. */
export function parseRefsBody(body: JsonBody): { updates: RefsBodyUpdate[]; ephemeral: boolean; ttlSeconds?: number } {
  const raw = body.updates;
  if (!Array.isArray(raw) || raw.length === 0) throw new InvalidArgumentError('updates must be a non-empty array');
  if (raw.length > MAX_REF_UPDATES) throw new LimitExceededError(`at most ${MAX_REF_UPDATES} updates per call`);
  const ephemeral = optBool(body, 'ephemeral') === true;
  const ttlSeconds = optPositiveInt(body, 'ttl');
  const updates = raw.map((u: unknown, i): RefsBodyUpdate => {
    if (!isObject(u)) throw new InvalidArgumentError(`updates[${i}] must be an object`);
    if (typeof u.ref !== 'string') throw new InvalidArgumentError(`updates[${i}].ref must be a string`);
    if (typeof u.newSha !== 'string') throw new InvalidArgumentError(`updates[${i}].newSha must be a string`);
    if (u.oldSha !== undefined && u.oldSha !== null && typeof u.oldSha !== 'string') throw new InvalidArgumentError(`updates[${i}].oldSha must be a string`);
    const newSha = parseOid(u.newSha, `updates[${i}].newSha`);
    return typeof u.oldSha === 'string' ? { ref: u.ref, oldSha: parseOid(u.oldSha, `updates[${i}].oldSha`), newSha } : { ref: u.ref, newSha };
  });
  return { updates, ephemeral, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) };
}

/** Ref transaction routes. */
export const refRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/repos/:repo/refs',
    access: 'write',
    handle: async (ctx) => {
      const raw = await readJson(ctx);
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const b = parseRefsBody(raw);
      const ephemeral = ctx.bound || b.ephemeral;
      const expiresAt = ephemeral ? internalsOf(repo).ephemeralExpiry(b.ttlSeconds) : undefined;
      // A ref must not make an unreachable object readable again (the merged view: all the token may read).
      for (const u of b.updates) if (u.newSha !== ZERO_OID) await assertReachable(ctx.principal, repo, u.newSha, 'ephemeral');
      if (ctx.policy !== undefined) {
        // Judge every update on its full name; pin each old value judged as the update's expectation.
        const olds = await checkRefPolicy(
          ctx.policy,
          repo,
          b.updates.map((u) => ({ ref: parseRefName(u.ref), ephemeral, ...(u.oldSha !== undefined ? { oldOid: u.oldSha } : {}), newOid: u.newSha })),
        );
        b.updates.forEach((u, i) => (u.oldSha = olds![i]));
      }
      const applied = await repo.refs.transaction(
        b.updates.map((u) => ({
          ref: u.ref,
          ...(u.oldSha !== undefined ? { oldOid: u.oldSha } : {}),
          newOid: u.newSha,
          space: spaceOf(ephemeral),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        })),
        { source: 'api' },
      );
      // The JSON names (`oldSha`, `newSha`) are this API's, whatever the domain calls them.
      return json(200, { updates: applied.map((a) => ({ ref: a.ref, space: a.space, oldSha: a.oldOid, newSha: a.newOid })) });
    },
  },
];
