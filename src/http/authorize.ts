/**
 * The `authorize` hook of the Git handlers: what it is asked (`AuthorizeContext`), what it
 * answers (`AccessDecision`), and `createTokenAuthorizer`, the hook that trusts the tokens of
 * a token service. The decisions themselves (repository, permission, namespace, ref policies)
 * are access/'s; this file turns them into the hook's answer.
 */
import { isLevelGitError, type UnauthorizedError } from '../errors.js';
import { checkAccess, refPolicyCheck, tokenFromHeaders } from '../access/policy.js';
import type { TokenService } from '../access/tokens.js';
import type { RefUpdatePolicy, TokenClaims } from '../access/types.js';

/** The two Git services served over HTTP. */
export type GitService = 'git-upload-pack' | 'git-receive-pack';

/** What the `authorize` hook is asked about one request. */
export interface AuthorizeContext {
  /** Repository name as in the URL (`name` or `owner/name`), without `.git` and `+ephemeral`. */
  repo: string;
  /** The URL asked for the ephemeral namespace. */
  ephemeral: boolean;
  /** `read` for upload-pack, `write` for receive-pack (including its `info/refs`). */
  action: 'read' | 'write';
  service: GitService;
  headers: Headers;
}

/**
 * The hook's answer: `ephemeral` overrides the URL's choice of namespace; `policy` refuses
 * single ref updates of a push (a reason git prints after `ng`).
 */
export type AccessDecision = { allow: true; ephemeral?: boolean; policy?: RefUpdatePolicy } | { allow: false; status: 401 | 403 | 404; message: string };

/** The verified token behind each decision of `createTokenAuthorizer` (kept beside the answer, whose shape stays the hook's). */
const decisionClaims = new WeakMap<AccessDecision, TokenClaims>();

/**
 * The verified token an allowing decision of `createTokenAuthorizer` was made on, or undefined
 * (another hook, an anonymous read): the handler asks the engine whether that token is revoked
 * or belongs to an earlier repository of the name (`Engine.admitToken`).
 */
export function claimsOfDecision(decision: AccessDecision): TokenClaims | undefined {
  return decisionClaims.get(decision);
}

function allowWith(claims: TokenClaims, decision: AccessDecision): AccessDecision {
  decisionClaims.set(decision, claims);
  return decision;
}

/** The `authorize` hook: decides a request, 401 without valid credentials, 403 when they do not allow it. */
export type Authorize = (ctx: AuthorizeContext) => Promise<AccessDecision>;

/** Options of `createTokenAuthorizer`. */
export interface TokenAuthorizerOptions {
  /** Status for a valid token of another repository: 403 (default) or 404. */
  wrongRepoStatus?: 403 | 404;
  /** Repositories anyone may read without a token (a public repository); default none. */
  anonymousRead?: (repo: string) => boolean | Promise<boolean>;
}

/** An `authorize` hook that trusts tokens from `tokens`. */
export function createTokenAuthorizer(tokens: TokenService, opts: TokenAuthorizerOptions = {}): Authorize {
  return async (ctx) => {
    const token = tokenFromHeaders(ctx.headers);
    if (token === null) {
      if (ctx.action === 'read' && !ctx.ephemeral && opts.anonymousRead !== undefined && (await opts.anonymousRead(ctx.repo))) {
        return { allow: true, ephemeral: false };
      }
      return { allow: false, status: 401, message: 'authentication required' };
    }
    let claims: TokenClaims;
    try {
      claims = await tokens.verify(token);
    } catch (err) {
      if (isLevelGitError(err, 'ERR_UNAUTHORIZED')) return { allow: false, status: 401, message: (err as UnauthorizedError).message };
      throw err; // misconfiguration, not the client's fault
    }
    const check = checkAccess(claims, ctx, opts.wrongRepoStatus === undefined ? {} : { wrongRepoStatus: opts.wrongRepoStatus });
    if (!check.allow) return check;
    if (ctx.action === 'write' && claims.refs !== undefined) {
      return allowWith(claims, { allow: true, ephemeral: check.ephemeral, policy: refPolicyCheck(claims.refs) });
    }
    return allowWith(claims, { allow: true, ephemeral: check.ephemeral });
  };
}
