/**
 * Namespace rules of the ephemeral ref space, as the access layer exports them. The rules
 * live once, in refs/space.ts, where the engine applies them (merged view, expiry); the
 * `ttl=` push option is read by repo/push-options.ts, beside the receive path that applies it.
 */
export { mergeEphemeralView, ephemeralSource, expiresAt, isExpired, type EphemeralTtl } from '../refs/space.js';
export { ttlFromPushOptions } from '../repo/push-options.js';
