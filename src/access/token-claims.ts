/**
 * The level-git claims of a token, both ways: what `mint` accepts (`checkMintRequest`), what
 * a verified payload must carry (`claimsFromPayload`), and why a token is refused
 * (`TokenRejection`, `reject`, `mapJoseError`). docs/security.md documents the claims.
 */
import type { JWTPayload } from 'jose';
import { InvalidArgumentError, UnauthorizedError, isLevelGitError } from '../errors.js';
import { copyRefPolicies, refPoliciesProblem } from './ref-policy.js';
import { PERMISSIONS, type Permission, type RefPolicy, type TokenClaims } from './types.js';

/** What `mint` is asked for. */
export interface MintRequest {
  repo: string;
  /** Default `['git:read']`. */
  permissions?: Permission[];
  /** Lifetime in seconds; default `defaultTtlSeconds`, at most `maxTtlSeconds`. */
  ttl?: number;
  ephemeral?: boolean;
  refs?: RefPolicy[];
  /** Who the token is for (an agent id, a user id): recorded as `sub`, for logs. */
  sub?: string;
  /** The repository's internal id (claim `rid`), binding the token to this repository and not its name only. */
  repoId?: number;
}

/** Why a token was refused, in `UnauthorizedError.details.reason`. */
export type TokenRejection =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'lifetime'
  | 'claims'
  | 'revoked'
  | 'repository';

const MAX_REPO_LENGTH = 1024;
const MAX_JTI_LENGTH = 256;
const MAX_SUB_LENGTH = 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: claims refuse control characters; this is that rule.
const CONTROL = /[\x00-\x1f\x7f]/;

/** The UnauthorizedError of a refused token, with `details.reason`. */
export function reject(reason: TokenRejection, message: string, cause?: unknown): UnauthorizedError {
  return new UnauthorizedError(message, { cause, details: { reason } });
}

/** `value` as a positive safe integer, `fallback` when undefined; InvalidArgumentError naming `name` otherwise. */
export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer`, { details: { [name]: value } });
  }
  return value;
}

/** The permissions of `list` in canonical order, `git:write` implying `git:read`. */
export function normalizePermissions(list: readonly string[]): Permission[] {
  const set = new Set(list);
  if (set.has('git:write')) set.add('git:read');
  return PERMISSIONS.filter((p) => set.has(p));
}

function repoProblem(repo: unknown): string | null {
  if (typeof repo !== 'string' || repo.length === 0 || repo.length > MAX_REPO_LENGTH) {
    return `repo must be a string of 1..${MAX_REPO_LENGTH} characters`;
  }
  if (CONTROL.test(repo)) return 'repo must not contain control characters';
  return null;
}

/** A fresh random token id (16 bytes, base64url). */
export function randomJti(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Checks what `mint` was asked for and returns the lifetime to use. Throws
 * InvalidArgumentError for bad claims.
 */
export function checkMintRequest(req: MintRequest, defaultTtl: number, maxTtl: number): number {
  if (typeof req !== 'object' || req === null) throw new InvalidArgumentError('claims must be an object');
  const rp = repoProblem(req.repo);
  if (rp !== null) throw new InvalidArgumentError(rp, { details: { repo: req.repo } });
  const perms = req.permissions ?? ['git:read'];
  if (!Array.isArray(perms) || perms.length === 0) throw new InvalidArgumentError('permissions must be a non-empty array');
  for (const p of perms) {
    if (!(PERMISSIONS as readonly string[]).includes(p)) {
      throw new InvalidArgumentError(`unknown permission ${JSON.stringify(p)} (known: ${PERMISSIONS.join(', ')})`);
    }
  }
  const ttl = positiveInt(req.ttl, 'ttl', defaultTtl);
  if (ttl > maxTtl) throw new InvalidArgumentError(`ttl must not exceed ${maxTtl} s`, { details: { ttl } });
  if (req.ephemeral !== undefined && typeof req.ephemeral !== 'boolean') throw new InvalidArgumentError('ephemeral must be a boolean');
  if (req.refs !== undefined) {
    const problem = refPoliciesProblem(req.refs);
    if (problem !== null) throw new InvalidArgumentError(problem);
  }
  if (req.sub !== undefined && (typeof req.sub !== 'string' || req.sub.length === 0 || req.sub.length > MAX_SUB_LENGTH)) {
    throw new InvalidArgumentError(`sub must be a string of 1..${MAX_SUB_LENGTH} characters`);
  }
  if (req.repoId !== undefined && !isRepoId(req.repoId)) throw new InvalidArgumentError('repoId must be a positive integer');
  return ttl;
}

/** A repository id as the `rid` claim carries it: a positive integer below 2^32. */
function isRepoId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v < 2 ** 32;
}

/** Reads and checks the level-git claims of a payload whose signature and times jose already checked. */
export function claimsFromPayload(p: JWTPayload, maxTtl: number): TokenClaims {
  const bad = (message: string) => reject('claims', `invalid token: ${message}`);
  const rp = repoProblem(p.repo);
  if (rp !== null) throw bad(rp);
  if (typeof p.scope !== 'string') throw bad('scope must be a space-separated string');
  const scopes = p.scope.split(' ');
  for (const s of scopes) {
    if (!(PERMISSIONS as readonly string[]).includes(s)) throw bad(`unknown scope ${JSON.stringify(s)}`);
  }
  if (p.ephemeral !== undefined && typeof p.ephemeral !== 'boolean') throw bad('ephemeral must be a boolean');
  if (p.refs !== undefined) {
    const problem = refPoliciesProblem(p.refs);
    if (problem !== null) throw bad(problem);
  }
  if (p.sub !== undefined && (typeof p.sub !== 'string' || p.sub.length > MAX_SUB_LENGTH)) throw bad('sub must be a short string');
  if (p.rid !== undefined && !isRepoId(p.rid)) throw bad('rid must be a positive integer');
  if (typeof p.jti !== 'string' || p.jti.length === 0 || p.jti.length > MAX_JTI_LENGTH) {
    throw bad(`jti must be a string of 1..${MAX_JTI_LENGTH} characters`);
  }
  const exp = p.exp as number;
  const iat = p.iat as number;
  if (!(exp > iat)) throw reject('lifetime', 'invalid token: exp must be after iat');
  if (exp - iat > maxTtl) throw reject('lifetime', `token lifetime exceeds the ${maxTtl} s maximum`);
  const claims: TokenClaims = {
    repo: p.repo as string,
    permissions: normalizePermissions(scopes),
    exp,
    iat,
    jti: p.jti,
  };
  if (p.ephemeral === true) claims.ephemeral = true;
  if (p.refs !== undefined) claims.refs = copyRefPolicies(p.refs as RefPolicy[]);
  if (p.sub !== undefined) claims.sub = p.sub;
  if (p.rid !== undefined) claims.repoId = p.rid as number;
  return claims;
}

/** Maps an error thrown by jose's `jwtVerify` to the UnauthorizedError with its rejection reason. */
export function mapJoseError(err: unknown): UnauthorizedError {
  if (isLevelGitError(err, 'ERR_UNAUTHORIZED')) return err as UnauthorizedError;
  const code = (err as { code?: string } | null)?.code;
  const claim = (err as { claim?: string } | null)?.claim;
  const why = (err as { reason?: string } | null)?.reason; // jose: 'missing' | 'invalid' | 'check_failed'
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return claim === 'iat' ? reject('lifetime', 'token was issued too long ago', err) : reject('expired', 'token expired', err);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return reject('signature', 'token signature is invalid', err);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return reject('algorithm', 'token algorithm is not accepted', err);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (why === 'check_failed' && (claim === 'nbf' || claim === 'iat')) return reject('not-yet-valid', `token is not valid yet (${claim})`, err);
      return reject('claims', `invalid token: ${(err as Error).message}`, err);
    default:
      return reject('malformed', 'malformed token', err);
  }
}
