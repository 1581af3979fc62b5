/**
 * Token routes (admin): `POST /tokens/revoke` `{ token }` revokes a token in the engine's
 * database, so every process over it refuses the token from the next request on. The token must
 * verify (signature and claims) with the API's token service; one that expired or was already
 * revoked needs nothing and is answered 204 too.
 */
import { InvalidArgumentError, isLevelGitError, type UnauthorizedError } from '../../errors.js';
import type { TokenClaims } from '../../access/types.js';
import { readJson, reqString } from './body.js';
import { noContent } from './responses.js';
import type { ApiRoute, RouteContext } from './router.js';

/** Reasons of a refused token that mean "nothing left to revoke". */
const ALREADY_DEAD = new Set(['expired', 'revoked']);

async function revoke(ctx: RouteContext) {
  const token = reqString(await readJson(ctx), 'token');
  const { engine, tokens } = ctx.options;
  if (engine.revokeToken === undefined) throw new InvalidArgumentError('this engine cannot store revocations (it has no revokeToken)');
  let claims: TokenClaims;
  try {
    claims = await tokens.verify(token);
  } catch (err) {
    if (!isLevelGitError(err, 'ERR_UNAUTHORIZED')) throw err;
    const reason = (err as UnauthorizedError).details?.reason;
    if (typeof reason === 'string' && ALREADY_DEAD.has(reason)) return noContent();
    throw new InvalidArgumentError(`token is not a token of this server: ${(err as Error).message}`, { details: { reason } });
  }
  await engine.revokeToken({ jti: claims.jti, exp: claims.exp });
  return noContent();
}

/** Token routes. */
export const tokenRoutes: readonly ApiRoute[] = [{ method: 'POST', path: '/tokens/revoke', access: 'admin', handle: revoke }];
