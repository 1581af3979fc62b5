/** The public surface of the access layer (re-exported by src/index.ts). */
export type { AccessDecision, Permission, RefOp, RefPolicy, RefUpdatePolicy, TokenClaims } from './types.js';
export {
  createTokenService,
  type MintRequest,
  type MintedToken,
  type PrivateKeyInput,
  type PublicKeyInput,
  type TokenAlgorithm,
  type TokenKeys,
  type TokenRejection,
  type TokenService,
  type TokenServiceOptions,
} from './tokens.js';
export {
  checkAccess,
  createTokenAuthorizer,
  parseBasicAuth,
  refPolicyCheck,
  tokenFromHeaders,
  type AccessCheck,
  type AccessRequest,
  type Authorize,
  type AuthorizeContext,
  type TokenAuthorizerOptions,
} from './policy.js';
export { expiresAt, isExpired, mergeEphemeralView, ttlFromPushOptions, type EphemeralTtl } from './ephemeral.js';
export { createDenyList, type DenyList } from './revocation.js';
export { createRemoteUrl, gitUrl, normalizePermissions, type RemoteUrl, type RemoteUrlOptions } from './remote-url.js';
