/**
 * Repository-scoped access tokens: JWTs (JWS compact form) minted and verified locally, with
 * no lookup per request. docs/security.md documents the format for backends that mint their
 * own tokens with a private key.
 *
 * Token = JWS compact serialization (RFC 7515) of a JWT (RFC 7519):
 *   header  = { "alg": "HS256" | "ES256" | "EdDSA" | "Ed25519", "typ"?: "JWT", "kid"?: string,
 *               "minter"?: "level-git" }      ; set by `mint`: exact expiry, see below
 *   payload = {
 *     "repo": string,                      ; the one repository (exact name)
 *     "rid"?: integer,                     ; its internal id: refused by a new repository of that name
 *     "scope": scope-token *( SP scope-token ),  scope-token = "git:read" / "git:write"
 *     "ephemeral"?: boolean,               ; bound to the ephemeral namespace
 *     "refs"?: [[pattern, [op...]]...],    ; see ref-policy.ts
 *     "exp": NumericDate, "iat": NumericDate, "jti": string,   ; all three required
 *     "sub"?: string, "iss"?: string, "aud"?: string | string[], "nbf"?: NumericDate
 *   }
 * Rules: exp - iat <= maxTtlSeconds; iat not in the future (beyond the clock tolerance: 0 s for
 * tokens minted by this service, marked `"minter": "level-git"` in the header and signed with
 * its own key; `clockToleranceSeconds` for every other token);
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
  /**
   * Allowed clock skew when checking exp / nbf / iat of tokens from other issuers (any token
   * not minted by a level-git token service with this service's key), in seconds. Default 30.
   */
  clockToleranceSeconds?: number;
  /**
   * Allowed clock skew, in seconds, for tokens minted by a token service with this service's
   * own signing key (`keys.secret`, or `keys.privateKey`): default 0, so a token this service
   * minted ends exactly at its `exp` (= `expiresAt`). Raise it only when services on other
   * hosts, whose clocks may differ, mint with the same key.
   */
  ownClockToleranceSeconds?: number;
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
/** The service checks its own tokens against its own clock: no skew to allow for. */
const DEFAULT_OWN_TOLERANCE = 0;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
/**
 * Protected-header parameter that marks a token this service minted. It only chooses the clock
 * tolerance, and only with the service's own key: whoever holds that key can set any exp anyway.
 */
const MINTER_HEADER = 'minter';
const MINTER = 'level-git';
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function nonNegativeInt(value: unknown, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return v;
}

/** Creates a token service over the given keys. Throws InvalidArgumentError for bad options. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  const { keys } = options;
  if (typeof keys !== 'object' || keys === null) throw new InvalidArgumentError('options.keys must be an object');
  const maxTtl = positiveInt(options.maxTtlSeconds, 'maxTtlSeconds', DEFAULT_MAX_TTL);
  const defaultTtl = positiveInt(options.defaultTtlSeconds, 'defaultTtlSeconds', Math.min(DEFAULT_TTL, maxTtl));
  if (defaultTtl > maxTtl) throw new InvalidArgumentError('defaultTtlSeconds must not exceed maxTtlSeconds');
  const tolerance = nonNegativeInt(options.clockToleranceSeconds, 'clockToleranceSeconds', DEFAULT_TOLERANCE);
  const ownTolerance = nonNegativeInt(options.ownClockToleranceSeconds, 'ownClockToleranceSeconds', DEFAULT_OWN_TOLERANCE);
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
    if (req.repoId !== undefined) payload.rid = claims.repoId = req.repoId;
    if (req.ephemeral === true) payload.ephemeral = claims.ephemeral = true;
    if (req.refs !== undefined) {
      claims.refs = copyRefPolicies(req.refs);
      payload.refs = copyRefPolicies(req.refs);
    }
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: sign.alg, typ: 'JWT', ...(sign.kid === undefined ? {} : { kid: sign.kid }), [MINTER_HEADER]: MINTER })
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
    let header: { alg?: unknown; kid?: unknown; [MINTER_HEADER]?: unknown };
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
      currentDate: new Date(now()),
      ...(keys.issuer !== undefined ? { issuer: keys.issuer } : {}),
      ...(keys.audience !== undefined ? { audience: keys.audience } : {}),
    };
    let payload: JWTPayload | null = null;
    let lastError: unknown = null;
    for (const k of candidates) {
      try {
        // Exact times for a token this service minted (its mark, signed by its own key), skew allowed for others'.
        const clockTolerance = k.own && header[MINTER_HEADER] === MINTER ? ownTolerance : tolerance;
        payload = (await jwtVerify(token, k.key, { ...verifyOptions, clockTolerance })).payload;
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
