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
 */
import {
  SignJWT,
  decodeProtectedHeader,
  exportJWK,
  importJWK,
  importPKCS8,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import { InvalidArgumentError, UnauthorizedError, isLevelGitError } from '../errors.js';
import { copyRefPolicies, refPoliciesProblem } from './ref-policy.js';
import { PERMISSIONS, type Permission, type RefPolicy, type TokenClaims } from './types.js';

export type { Permission, RefOp, RefPolicy, TokenClaims } from './types.js';

/** Signature algorithms a token may use. `Ed25519` is accepted on verify as the newer name of `EdDSA`. */
export type TokenAlgorithm = 'HS256' | 'ES256' | 'EdDSA';

/** A key to verify with: Web Crypto key, Node `KeyObject`, public JWK, or PEM (SPKI) string. */
export type PublicKeyInput = CryptoKey | KeyObject | JWK | string;
/** A key to sign with: Web Crypto key, Node `KeyObject`, private JWK, or PEM (PKCS#8) string. */
export type PrivateKeyInput = CryptoKey | KeyObject | JWK | string;

/** The keys a token service signs and verifies with. */
export interface TokenKeys {
  /** HS256 shared secret, at least 32 bytes (a string is taken as its UTF-8 bytes). */
  secret?: Uint8Array | string;
  /** Public keys (P-256 or Ed25519) accepted for ES256 / EdDSA tokens minted elsewhere. */
  publicKeys?: PublicKeyInput | readonly PublicKeyInput[];
  /** Private key (P-256 or Ed25519) to sign with instead of the secret; its public half is trusted too. */
  privateKey?: PrivateKeyInput;
  /** Algorithm to sign with; by default that of `privateKey`, else HS256. */
  algorithm?: TokenAlgorithm;
  /** When set: minted tokens carry it as `iss`, verified tokens must. */
  issuer?: string;
  /** When set: minted tokens carry it as `aud`, verified tokens must. */
  audience?: string;
}

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
  | 'revoked';

const DEFAULT_MAX_TTL = 24 * 3600;
const DEFAULT_TTL = 3600;
const DEFAULT_TOLERANCE = 30;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const MIN_SECRET_BYTES = 32;
const MAX_REPO_LENGTH = 1024;
const MAX_JTI_LENGTH = 256;
const MAX_SUB_LENGTH = 1024;
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

type AsymAlg = 'ES256' | 'EdDSA';
type VerifyKey = { alg: TokenAlgorithm; key: CryptoKey | KeyObject | Uint8Array; kid?: string };
type SignKey = { alg: TokenAlgorithm; key: CryptoKey | KeyObject | Uint8Array; kid?: string };
type Prepared = { sign: SignKey | null; verify: VerifyKey[] };

function reject(reason: TokenRejection, message: string, cause?: unknown): UnauthorizedError {
  return new UnauthorizedError(message, { cause, details: { reason } });
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer`, { details: { [name]: value } });
  }
  return value;
}

function isJwk(k: unknown): k is JWK {
  return typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string';
}

function isCryptoKey(k: unknown): k is CryptoKey {
  return typeof k === 'object' && k !== null && 'algorithm' in k && 'usages' in k && 'type' in k;
}

function isKeyObject(k: unknown): k is KeyObject & { asymmetricKeyType?: string; asymmetricKeyDetails?: { namedCurve?: string } } {
  return typeof k === 'object' && k !== null && 'asymmetricKeyType' in k && 'type' in k && 'export' in k;
}

/** Algorithm of an asymmetric key object/JWK, or null when it is not P-256 / Ed25519. */
function algOfKey(key: CryptoKey | KeyObject | JWK): AsymAlg | null {
  if (isJwk(key)) {
    if (key.kty === 'EC' && key.crv === 'P-256') return 'ES256';
    if (key.kty === 'OKP' && key.crv === 'Ed25519') return 'EdDSA';
    return null;
  }
  if (isCryptoKey(key)) {
    const a = key.algorithm as { name: string; namedCurve?: string };
    if (a.name === 'ECDSA' && a.namedCurve === 'P-256') return 'ES256';
    if (a.name === 'Ed25519' || (a.name === 'EdDSA' && a.namedCurve === 'Ed25519')) return 'EdDSA';
    return null;
  }
  if (isKeyObject(key)) {
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
    if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
    return null;
  }
  return null;
}

function keyKind(key: CryptoKey | KeyObject): string {
  return (key as { type?: string }).type ?? '';
}

/** Public JWK parameters only (drops `d` and anything private). */
function publicJwk(jwk: JWK): JWK {
  const out: JWK = { kty: jwk.kty };
  for (const p of ['crv', 'x', 'y', 'kid'] as const) if (jwk[p] !== undefined) out[p] = jwk[p];
  return out;
}

async function importPem(pem: string, kind: 'spki' | 'pkcs8'): Promise<{ alg: AsymAlg; key: CryptoKey }> {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    try {
      const key = kind === 'spki' ? await importSPKI(pem, alg) : await importPKCS8(pem, alg, { extractable: true });
      return { alg, key };
    } catch {
      // try the next algorithm
    }
  }
  throw new InvalidArgumentError(`keys: PEM ${kind === 'spki' ? 'public' : 'private'} key is not a P-256 or Ed25519 ${kind.toUpperCase()} key`);
}

async function preparePublicKey(input: PublicKeyInput, i: number): Promise<VerifyKey> {
  const what = `keys.publicKeys[${i}]`;
  if (typeof input === 'string') {
    const { alg, key } = await importPem(input, 'spki');
    return { alg, key };
  }
  const alg = algOfKey(input);
  if (alg === null) throw new InvalidArgumentError(`${what} must be a P-256 (ES256) or Ed25519 (EdDSA) public key`);
  if (isJwk(input)) {
    const jwk = publicJwk(input);
    const key = await importJWK(jwk, alg).catch((cause: unknown) => {
      throw new InvalidArgumentError(`${what} is not a valid JWK`, { cause });
    });
    return { alg, key: key as CryptoKey, kid: jwk.kid };
  }
  if (keyKind(input) !== 'public') throw new InvalidArgumentError(`${what} must be a public key`);
  return { alg, key: input };
}

async function preparePrivateKey(input: PrivateKeyInput): Promise<{ sign: SignKey; verify: VerifyKey | null }> {
  let alg: AsymAlg | null;
  let key: CryptoKey | KeyObject;
  let kid: string | undefined;
  if (typeof input === 'string') {
    ({ alg, key } = await importPem(input, 'pkcs8'));
  } else {
    alg = algOfKey(input);
    if (alg === null) throw new InvalidArgumentError('keys.privateKey must be a P-256 (ES256) or Ed25519 (EdDSA) private key');
    if (isJwk(input)) {
      if (typeof input.d !== 'string') throw new InvalidArgumentError('keys.privateKey JWK has no private part ("d")');
      kid = input.kid;
      key = (await importJWK(input, alg, { extractable: true }).catch((cause: unknown) => {
        throw new InvalidArgumentError('keys.privateKey is not a valid JWK', { cause });
      })) as CryptoKey;
    } else {
      if (keyKind(input) !== 'private') throw new InvalidArgumentError('keys.privateKey must be a private key');
      key = input;
    }
  }
  // Trust our own public half, so a service that signs can also verify without more setup.
  let verify: VerifyKey | null = null;
  try {
    const pub = publicJwk(await exportJWK(key));
    verify = { alg, key: (await importJWK(pub, alg)) as CryptoKey, kid };
  } catch {
    verify = null; // not extractable: the caller must list the public key in publicKeys
  }
  return { sign: { alg, key, kid }, verify };
}

function normalizePermissions(list: readonly string[]): Permission[] {
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

function randomJti(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Reads and checks the level-git claims of a payload whose signature and times jose already checked. */
function claimsFromPayload(p: JWTPayload, maxTtl: number): TokenClaims {
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
  return claims;
}

function mapJoseError(err: unknown): UnauthorizedError {
  if (isLevelGitError(err, 'ERR_UNAUTHORIZED')) return err as UnauthorizedError;
  const code = (err as { code?: string } | null)?.code;
  const claim = (err as { claim?: string } | null)?.claim;
  const why = (err as { reason?: string } | null)?.reason; // jose: 'missing' | 'invalid' | 'check_failed'
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return claim === 'iat'
        ? reject('lifetime', 'token was issued too long ago', err)
        : reject('expired', 'token expired', err);
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
  for (const name of ['issuer', 'audience'] as const) {
    const v = keys[name];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw new InvalidArgumentError(`keys.${name} must be a non-empty string`);
  }

  let secret: Uint8Array<ArrayBuffer> | null = null;
  if (keys.secret !== undefined) {
    const raw: unknown = typeof keys.secret === 'string' ? new TextEncoder().encode(keys.secret) : keys.secret;
    if (!(raw instanceof Uint8Array)) throw new InvalidArgumentError('keys.secret must be a Uint8Array or a string');
    if (raw.length < MIN_SECRET_BYTES) throw new InvalidArgumentError(`keys.secret must have at least ${MIN_SECRET_BYTES} bytes`);
    secret = new Uint8Array(raw); // a copy: the caller may reuse its buffer
  }
  const publicInputs: readonly PublicKeyInput[] =
    keys.publicKeys === undefined ? [] : Array.isArray(keys.publicKeys) ? keys.publicKeys : [keys.publicKeys as PublicKeyInput];
  if (secret === null && publicInputs.length === 0 && keys.privateKey === undefined) {
    throw new InvalidArgumentError('keys needs a secret, publicKeys or a privateKey');
  }
  const algorithm = keys.algorithm;
  if (algorithm !== undefined && !['HS256', 'ES256', 'EdDSA'].includes(algorithm)) {
    throw new InvalidArgumentError('keys.algorithm must be HS256, ES256 or EdDSA');
  }
  if (algorithm === 'HS256' && secret === null) throw new InvalidArgumentError('keys.algorithm HS256 needs keys.secret');
  if (algorithm === 'HS256' && keys.privateKey !== undefined) {
    throw new InvalidArgumentError('keys.algorithm HS256 signs with keys.secret: leave out keys.privateKey (list its public key in publicKeys to accept its tokens)');
  }
  if ((algorithm === 'ES256' || algorithm === 'EdDSA') && keys.privateKey === undefined) {
    throw new InvalidArgumentError(`keys.algorithm ${algorithm} needs keys.privateKey`);
  }

  // Key import is asynchronous (Web Crypto); do it once, on first use.
  let prepared: Promise<Prepared> | null = null;
  const prepare = (): Promise<Prepared> =>
    (prepared ??= (async () => {
      const verify: VerifyKey[] = [];
      // Import the HMAC key once: handing jose raw bytes re-imports them on every call.
      const hmac =
        secret === null
          ? null
          : await globalThis.crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
      if (hmac !== null) verify.push({ alg: 'HS256', key: hmac });
      for (let i = 0; i < publicInputs.length; i++) verify.push(await preparePublicKey(publicInputs[i]!, i));
      let sign: SignKey | null = null;
      if (keys.privateKey !== undefined) {
        const p = await preparePrivateKey(keys.privateKey);
        if (algorithm !== undefined && algorithm !== p.sign.alg) {
          throw new InvalidArgumentError(`keys.algorithm ${algorithm} does not fit the private key (${p.sign.alg})`);
        }
        sign = p.sign;
        if (p.verify !== null) verify.push(p.verify);
        else if (!verify.some((k) => k.alg === p.sign.alg)) {
          throw new InvalidArgumentError('keys.privateKey is not extractable: list its public key in keys.publicKeys');
        }
      } else if (hmac !== null) {
        sign = { alg: 'HS256', key: hmac };
      }
      return { sign, verify };
    })());

  async function mint(req: MintRequest): Promise<MintedToken> {
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
    const { sign } = await prepare();
    if (sign === null) throw new InvalidArgumentError('this token service has no signing key (secret or privateKey)');

    const permissions = normalizePermissions(perms);
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
