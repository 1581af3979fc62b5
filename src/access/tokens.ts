/**
 * Repository-scoped access tokens: JWTs (JWS compact form) minted and verified locally, with
 * no lookup per request. docs/security.md documents the format for backends that mint their
 * own tokens with a private key.
 *
 * Token = JWS compact serialization (RFC 7515) of a JWT (RFC 7519):
 *   header  = { "alg": "HS256" | "ES256" | "EdDSA" | "Ed25519", "typ"?: "JWT", "kid"?: string }
 *   payload = {
 *     "repo": string,                      ; the one repository (exact name)
 *     "scope": scope-token *( SP scope-token ),  scope-token = "git:read" / "git:write"
 *     "ephemeral"?: boolean,               ; bound to the ephemeral namespace
 *     "refs"?: [[pattern, [op...]]...],    ; see ref-policy.ts
 *     "exp": NumericDate, "iat": NumericDate, "jti": string,   ; all three required
 *     "sub"?: string, "iss"?: string, "aud"?: string | string[], "nbf"?: NumericDate
 *   }
 * Rules: exp - iat <= maxTtlSeconds; iat not in the future (beyond the clock tolerance);
 * unknown scope tokens are refused; other unknown claims are ignored.
 *
 * This module is the service (options, mint, verify); key material lives in token-keys.ts,
 * the claims and the reasons a token is refused in token-claims.ts.
 */
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { InvalidArgumentError } from '../errors.js';
import { copyRefPolicies } from './ref-policy.js';
import { checkKeys, prepareKeys, type PreparedKeys, type TokenKeys } from './token-keys.js';
import { checkMintRequest, claimsFromPayload, mapJoseError, normalizePermissions, positiveInt, randomJti, reject, type MintRequest } from './token-claims.js';
import type { TokenClaims } from './types.js';

export type { Permission, RefOp, RefPolicy, TokenClaims } from './types.js';
export type { PrivateKeyInput, PublicKeyInput, TokenAlgorithm, TokenKeys } from './token-keys.js';
export type { MintRequest, TokenRejection } from './token-claims.js';

/** Options of `createTokenService`. */
export interface TokenServiceOptions {
  keys: TokenKeys;
  /** Longest lifetime (exp - iat) minted or accepted, in seconds. Default 24 h. */
  maxTtlSeconds?: number;
  /** Lifetime of a minted token when none is asked for, in seconds. Default 1 h. */
  defaultTtlSeconds?: number;
  /** Deny-list check run after the signature is verified; should answer from memory. */
  isRevoked?: (jti: string) => boolean | Promise<boolean>;
  /** Allowed clock skew when checking exp / nbf / iat, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Current time in milliseconds since the epoch (tests inject it). Default `Date.now`. */
  now?: () => number;
  /** Longest token string verified; longer ones are refused before any decoding. Default 8192. */
  maxTokenLength?: number;
}

/** A minted token. */
export interface MintedToken {
  token: string;
  expiresAt: Date;
  claims: TokenClaims;
}

/** Mints and verifies repository-scoped tokens. */
export interface TokenService {
  /** Signs a token for one repository. Throws InvalidArgumentError for bad claims or a verify-only service. */
  mint(claims: MintRequest): Promise<MintedToken>;
  /** Verifies a token; throws UnauthorizedError (`details.reason` says why) unless it is valid now. */
  verify(token: string): Promise<TokenClaims>;
}

const DEFAULT_MAX_TTL = 24 * 3600;
const DEFAULT_TTL = 3600;
const DEFAULT_TOLERANCE = 30;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Creates a token service over the given keys. Throws InvalidArgumentError for bad options. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  const { keys } = options;
  if (typeof keys !== 'object' || keys === null) throw new InvalidArgumentError('options.keys must be an object');
  const maxTtl = positiveInt(options.maxTtlSeconds, 'maxTtlSeconds', DEFAULT_MAX_TTL);
  const defaultTtl = positiveInt(options.defaultTtlSeconds, 'defaultTtlSeconds', Math.min(DEFAULT_TTL, maxTtl));
  if (defaultTtl > maxTtl) throw new InvalidArgumentError('defaultTtlSeconds must not exceed maxTtlSeconds');
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_TOLERANCE;
  if (typeof tolerance !== 'number' || !Number.isSafeInteger(tolerance) || tolerance < 0) {
    throw new InvalidArgumentError('clockToleranceSeconds must be a non-negative integer');
  }
  const maxTokenLength = positiveInt(options.maxTokenLength, 'maxTokenLength', DEFAULT_MAX_TOKEN_LENGTH);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new InvalidArgumentError('now must be a function');
  const isRevoked = options.isRevoked;
  if (isRevoked !== undefined && typeof isRevoked !== 'function') throw new InvalidArgumentError('isRevoked must be a function');
  const checked = checkKeys(keys);

  // Key import is asynchronous (Web Crypto); do it once, on first use.
  let prepared: Promise<PreparedKeys> | null = null;
  const prepare = (): Promise<PreparedKeys> => (prepared ??= prepareKeys(checked));

  async function mint(req: MintRequest): Promise<MintedToken> {
    const ttl = checkMintRequest(req, defaultTtl, maxTtl);
    const { sign } = await prepare();
    if (sign === null) throw new InvalidArgumentError('this token service has no signing key (secret or privateKey)');

    const permissions = normalizePermissions(req.permissions ?? ['git:read']);
    const iat = Math.floor(now() / 1000);
    const claims: TokenClaims = { repo: req.repo, permissions, exp: iat + ttl, iat, jti: randomJti() };
    const payload: JWTPayload = { repo: claims.repo, scope: permissions.join(' ') };
    if (req.ephemeral === true) payload.ephemeral = claims.ephemeral = true;
    if (req.refs !== undefined) {
      claims.refs = copyRefPolicies(req.refs);
      payload.refs = copyRefPolicies(req.refs);
    }
    const jwt = new SignJWT(payload)
      .setProtectedHeader(sign.kid === undefined ? { alg: sign.alg, typ: 'JWT' } : { alg: sign.alg, typ: 'JWT', kid: sign.kid })
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .setJti(claims.jti);
    if (req.sub !== undefined) jwt.setSubject((claims.sub = req.sub));
    if (keys.issuer !== undefined) jwt.setIssuer(keys.issuer);
    if (keys.audience !== undefined) jwt.setAudience(keys.audience);
    const token = await jwt.sign(sign.key);
    return { token, expiresAt: new Date(claims.exp * 1000), claims };
  }

  async function verify(token: string): Promise<TokenClaims> {
    // Configuration errors (bad keys) surface on every call, whatever the token looks like.
    const { verify: keyring } = await prepare();
    if (typeof token !== 'string' || token.length === 0) throw reject('missing', 'no token');
    if (token.length > maxTokenLength) throw reject('malformed', `token longer than ${maxTokenLength} characters`);
    if (!JWS_COMPACT.test(token)) throw reject('malformed', 'malformed token');
    let header: { alg?: unknown; kid?: unknown };
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw reject('malformed', 'malformed token header', cause);
    }
    const alg = header.alg === 'Ed25519' ? 'EdDSA' : header.alg;
    let candidates = keyring.filter((k) => k.alg === alg);
    if (candidates.length === 0) throw reject('algorithm', `token algorithm ${JSON.stringify(header.alg)} is not accepted`);
    if (typeof header.kid === 'string' && candidates.some((k) => k.kid === header.kid)) {
      candidates = candidates.filter((k) => k.kid === header.kid);
    }
    const verifyOptions = {
      algorithms: alg === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [alg as string],
      requiredClaims: ['exp', 'iat', 'jti'],
      maxTokenAge: maxTtl,
      clockTolerance: tolerance,
      currentDate: new Date(now()),
      ...(keys.issuer !== undefined ? { issuer: keys.issuer } : {}),
      ...(keys.audience !== undefined ? { audience: keys.audience } : {}),
    };
    let payload: JWTPayload | null = null;
    let lastError: unknown = null;
    for (const k of candidates) {
      try {
        payload = (await jwtVerify(token, k.key, verifyOptions)).payload;
        break;
      } catch (err) {
        lastError = err;
        // Only a signature mismatch means "try the next key"; anything else is final.
        if ((err as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break;
      }
    }
    if (payload === null) throw mapJoseError(lastError);
    const claims = claimsFromPayload(payload, maxTtl);
    if (isRevoked !== undefined) {
      let revoked: boolean;
      try {
        revoked = await isRevoked(claims.jti);
      } catch (cause) {
        // Fail closed: a deny-list that cannot answer must not let tokens through.
        throw reject('revoked', 'could not check whether the token is revoked', cause);
      }
      if (revoked) throw reject('revoked', 'token has been revoked');
    }
    return claims;
  }

  return { mint, verify };
}
