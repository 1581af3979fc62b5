/**
 * Key material of the token service: which keys sign and verify, checked when the service is
 * created and imported (asynchronously, through Web Crypto) once, on first use. HS256 takes a
 * shared secret; ES256 (P-256) and EdDSA (Ed25519) take Web Crypto keys, Node `KeyObject`s,
 * JWKs or PEM strings. Each verify key records whether it is the service's own signing key,
 * so the service can tell its own tokens from those of other issuers.
 */
import { exportJWK, importJWK, importPKCS8, importSPKI, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { InvalidArgumentError } from '../errors.js';

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

/** A key tokens are verified with; `own` when it is the service's signing key (secret or private key's half). */
export type VerifyKey = { alg: TokenAlgorithm; key: CryptoKey | KeyObject | Uint8Array; kid?: string; own: boolean };
/** The key minted tokens are signed with. */
export type SignKey = { alg: TokenAlgorithm; key: CryptoKey | KeyObject | Uint8Array; kid?: string };
/** Imported keys: the signing key (null for a verify-only service) and the keyring. */
export type PreparedKeys = { sign: SignKey | null; verify: VerifyKey[] };
/** Keys checked synchronously by `checkKeys`, ready for `prepareKeys`. */
export type CheckedKeys = {
  secret: Uint8Array<ArrayBuffer> | null;
  publicInputs: readonly PublicKeyInput[];
  privateKey: PrivateKeyInput | undefined;
  algorithm: TokenAlgorithm | undefined;
};

const MIN_SECRET_BYTES = 32;

type AsymAlg = 'ES256' | 'EdDSA';

/**
 * Checks `keys` without importing them (issuer, audience, secret length, algorithm against the
 * keys given). Throws InvalidArgumentError.
 */
export function checkKeys(keys: TokenKeys): CheckedKeys {
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
    throw new InvalidArgumentError(
      'keys.algorithm HS256 signs with keys.secret: leave out keys.privateKey (list its public key in publicKeys to accept its tokens)',
    );
  }
  if ((algorithm === 'ES256' || algorithm === 'EdDSA') && keys.privateKey === undefined) {
    throw new InvalidArgumentError(`keys.algorithm ${algorithm} needs keys.privateKey`);
  }
  return { secret, publicInputs, privateKey: keys.privateKey, algorithm };
}

/** Imports checked keys: the signing key and every verify key. Throws InvalidArgumentError for unusable keys. */
export async function prepareKeys(keys: CheckedKeys): Promise<PreparedKeys> {
  const { secret, publicInputs, privateKey, algorithm } = keys;
  const verify: VerifyKey[] = [];
  // Import the HMAC key once: handing jose raw bytes re-imports them on every call.
  const hmac = secret === null ? null : await globalThis.crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  if (hmac !== null) verify.push({ alg: 'HS256', key: hmac, own: true });
  for (let i = 0; i < publicInputs.length; i++) verify.push(await preparePublicKey(publicInputs[i]!, i));
  let sign: SignKey | null = null;
  if (privateKey !== undefined) {
    const p = await preparePrivateKey(privateKey);
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
    return { alg, key, own: false };
  }
  const alg = algOfKey(input);
  if (alg === null) throw new InvalidArgumentError(`${what} must be a P-256 (ES256) or Ed25519 (EdDSA) public key`);
  if (isJwk(input)) {
    const jwk = publicJwk(input);
    const key = await importJWK(jwk, alg).catch((cause: unknown) => {
      throw new InvalidArgumentError(`${what} is not a valid JWK`, { cause });
    });
    return { alg, key: key as CryptoKey, kid: jwk.kid, own: false };
  }
  if (keyKind(input) !== 'public') throw new InvalidArgumentError(`${what} must be a public key`);
  return { alg, key: input, own: false };
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
    verify = { alg, key: (await importJWK(pub, alg)) as CryptoKey, kid, own: true };
  } catch {
    verify = null; // not extractable: the caller must list the public key in publicKeys
  }
  return { sign: { alg, key, kid }, verify };
}
