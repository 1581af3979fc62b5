/**
 * Access decisions from verified claims: credentials from HTTP headers, the repository /
 * permission / namespace check, and the per-ref push policy handed to receive-pack and applied
 * by the JSON API. The `authorize` hook built from them lives in http/authorize.ts.
 *
 * Credentials git sends (RFC 7617 Basic, RFC 6750 Bearer):
 *   Authorization: Basic base64(user ":" password)  ; token = password, or user when password is ""
 *   Authorization: Bearer <token>
 */
import type { RefUpdateInfo } from '../protocol/backend.js';
import { matchRefPolicy } from './ref-policy.js';
import type { RefPolicy, RefUpdatePolicy, TokenClaims } from './types.js';

/** Longest `Authorization` header looked at; longer ones are ignored before decoding. */
export const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/** User and password of a `Basic` Authorization header, or null when it is absent or malformed. */
export function parseBasicAuth(header: string | null): { user: string; password: string } | null {
  if (header === null || header.length > MAX_AUTHORIZATION_LENGTH) return null;
  const m = BASIC.exec(header);
  if (m === null || m[1]!.length % 4 !== 0) return null;
  let binary: string;
  try {
    binary = atob(m[1]!);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const colon = text.indexOf(':');
  if (colon < 0) return null; // RFC 7617: user-pass = user-id ":" password
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The token of a request: Basic password (or user when the password is empty), or a Bearer token. */
export function tokenFromHeaders(headers: Headers): string | null {
  const header = headers.get('authorization');
  if (header === null || header.length > MAX_AUTHORIZATION_LENGTH) return null;
  const bearer = BEARER.exec(header);
  if (bearer !== null) return bearer[1]!;
  const basic = parseBasicAuth(header);
  if (basic === null) return null;
  if (basic.password !== '') return basic.password;
  return basic.user !== '' ? basic.user : null;
}

/** What a request wants to do with which repository. */
export interface AccessRequest {
  repo: string;
  action: 'read' | 'write';
  /** The request came through the ephemeral remote URL. */
  ephemeral: boolean;
}

/** Result of `checkAccess`. */
export type AccessCheck = { allow: true; ephemeral: boolean } | { allow: false; status: 403 | 404; message: string };

/**
 * Checks verified claims against a request. A token for another repository gets 403 (the
 * answer does not depend on whether that repository exists, so it reveals nothing; pass
 * `wrongRepoStatus: 404` to answer like a missing repository instead). A token bound to
 * the ephemeral namespace always acts there, even through the plain URL.
 */
export function checkAccess(claims: TokenClaims, req: AccessRequest, options: { wrongRepoStatus?: 403 | 404 } = {}): AccessCheck {
  if (claims.repo !== req.repo) {
    const status = options.wrongRepoStatus ?? 403;
    return {
      allow: false,
      status,
      message: status === 404 ? 'repository not found' : `this token does not grant access to repository ${req.repo}`,
    };
  }
  const needed = req.action === 'write' ? 'git:write' : 'git:read';
  const granted = claims.permissions.includes(needed) || (needed === 'git:read' && claims.permissions.includes('git:write'));
  if (!granted) {
    return { allow: false, status: 403, message: req.action === 'write' ? 'this token is read-only' : 'this token does not allow reading' };
  }
  return { allow: true, ephemeral: req.ephemeral || claims.ephemeral === true };
}

/**
 * A receive-pack policy from a token's ref policies: the first matching pattern decides.
 * `no-push` refuses every create, update and delete of the ref; `no-force-push` refuses
 * non-fast-forward updates and deletes. Without policies every update is allowed.
 */
export function refPolicyCheck(policies: readonly RefPolicy[] | undefined): RefUpdatePolicy {
  if (policies === undefined || policies.length === 0) return () => null;
  const list = policies.map(([p, ops]): RefPolicy => [p, [...ops]]); // later mutation of the input must not matter
  return (u: RefUpdateInfo): string | null => {
    const ops = matchRefPolicy(list, u.ref);
    if (ops === null) return null;
    if (ops.includes('no-push')) return `pushing to ${u.ref} is not allowed by this token`;
    if (ops.includes('no-force-push')) {
      if (u.delete) return `deleting ${u.ref} is not allowed by this token`;
      if (u.force) return `non-fast-forward update of ${u.ref} is not allowed by this token`;
    }
    return null;
  };
}
