/** What src/index.ts takes from the access layer: tokens, their claims, deny-lists and remote URLs. */
export type { Permission, RefOp, RefPolicy, RefUpdatePolicy, TokenClaims } from './types.js';
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
export { createDenyList, type DenyList } from './revocation.js';
export { createRemoteUrl, type RemoteUrl, type RemoteUrlOptions } from './remote-url.js';
