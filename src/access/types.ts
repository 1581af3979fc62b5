/**
 * Shapes shared by the access layer: what a verified token says (`TokenClaims`) and the
 * per-ref push policy built from it (`RefUpdatePolicy`). The `authorize` hook's own types
 * (`AuthorizeContext`, `AccessDecision`) belong to the http layer (http/authorize.ts).
 */
import type { RefUpdateInfo } from '../protocol/backend.js';

/** What a token lets its holder do; `git:write` includes `git:read`. */
export type Permission = 'git:read' | 'git:write';

/** Every permission, in canonical order. */
export const PERMISSIONS: readonly Permission[] = ['git:read', 'git:write'];

/** A restriction on pushes to refs matching a pattern. */
export type RefOp = 'no-push' | 'no-force-push';

/** Every ref operation restriction. */
export const REF_OPS: readonly RefOp[] = ['no-push', 'no-force-push'];

/**
 * `[pattern, ops]`: `pattern` is a full ref name (`refs/heads/main`) or a prefix glob ending
 * in `/*` (`refs/heads/feature/*`, `refs/*`). The first policy whose pattern matches a ref
 * decides; an empty `ops` list allows everything (an exception ahead of a broader rule).
 */
export type RefPolicy = [pattern: string, ops: RefOp[]];

/** The verified content of a token. Times are seconds since the epoch. */
export interface TokenClaims {
  /** The one repository the token is for (exact name). */
  repo: string;
  /**
   * The internal id of that repository when the token was minted (claim `rid`): a token of a
   * deleted repository is refused by a new one of the same name. Absent in tokens of other minters.
   */
  repoId?: number;
  /** Canonical: sorted, no duplicates, `git:read` present whenever `git:write` is. */
  permissions: Permission[];
  /** Bound to the ephemeral namespace: reads see it, writes land in it, whatever the URL. */
  ephemeral?: boolean;
  /** Per-ref push restrictions, first match wins. */
  refs?: RefPolicy[];
  /** Who the token was minted for (free-form, for logs); never used for decisions. */
  sub?: string;
  exp: number;
  iat: number;
  jti: string;
}

/** Decides one ref update of a push: a reason git prints after `ng`, or null to allow. */
export type RefUpdatePolicy = (update: RefUpdateInfo) => string | null;
