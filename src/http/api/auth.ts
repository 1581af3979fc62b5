/**
 * Who is calling and what a route lets them do. The admin key (`x-api-key`) may do everything;
 * a repository token (`Authorization: Bearer`, or Basic with the token as password) is checked
 * by access/'s `checkAccess` against the route's repository and access level, and brings its
 * ephemeral binding and, for writes, its ref policies (judged by ref-guard.ts). A token the
 * engine does not admit (revoked, or of a deleted repository of the same name) is a 401.
 */
import { ForbiddenError, UnauthorizedError } from '../../errors.js';
import { checkAccess, refPolicyCheck, tokenFromHeaders } from '../../access/policy.js';
import type { RefUpdatePolicy, TokenClaims } from '../../access/types.js';
import { platform } from '../../platform/index.js';
import { utf8 } from '../../platform/bytes.js';
import type { ApiOptions } from './options.js';

/** The caller of one request. */
export type Principal = { admin: true } | { admin: false; claims: TokenClaims };

/** The claims of an anonymous caller of a `public` route: no repository, no permission. */
export const PUBLIC_CLAIMS: TokenClaims = Object.freeze({ repo: '', permissions: [], exp: 0, iat: 0, jti: '' });

/** Who may call a route: the admin key only, a token of the route's repository that may read or write, or anyone (`public`: no credentials read). */
export type Access = 'admin' | 'read' | 'write' | 'public';

/** What a route may do for its caller. */
export interface Grant {
  /** The caller is bound to the ephemeral namespace: reads see it, writes land in it. */
  bound: boolean;
  /** The token's ref policies, for writes of a token that carries some. */
  policy?: RefUpdatePolicy;
}

/** Compares two secrets in time independent of where they differ (digests of equal length). */
export function secretsEqual(a: string, b: string): boolean {
  const x = platform().sha1(utf8(`level-git-key:${a}`));
  const y = platform().sha1(utf8(`level-git-key:${b}`));
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** The caller of a request; 401 without valid credentials. */
export async function authenticate(headers: Headers, options: ApiOptions): Promise<Principal> {
  const key = headers.get('x-api-key');
  if (key !== null) {
    if (options.adminKey === undefined || options.adminKey.length === 0 || !secretsEqual(key, options.adminKey)) {
      throw new UnauthorizedError('invalid API key');
    }
    return { admin: true };
  }
  const token = tokenFromHeaders(headers);
  if (token === null) throw new UnauthorizedError('authentication required: send x-api-key or Authorization: Bearer <token>');
  const claims = await options.tokens.verify(token);
  // Revoked, or minted for an earlier repository of this name: read from the database each time.
  await options.engine.admitToken?.(claims);
  return { admin: false, claims };
}

/** Checks `principal` may use a route of `access` on `repo` (undefined for routes without one); 403 otherwise. */
export function grant(principal: Principal, access: Access, repo: string | undefined): Grant {
  if (principal.admin || access === 'public') return { bound: false };
  if (access === 'admin' || repo === undefined) throw new ForbiddenError('this call needs the admin API key');
  const check = checkAccess(principal.claims, { repo, action: access, ephemeral: false });
  if (!check.allow) throw new ForbiddenError(check.message);
  const refs = principal.claims.refs;
  if (access === 'write' && refs !== undefined && refs.length > 0) return { bound: check.ephemeral, policy: refPolicyCheck(refs) };
  return { bound: check.ephemeral };
}
