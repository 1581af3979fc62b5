/** Options of the JSON API and their checks (thrown when a handler is created, not per request). */
import { InvalidArgumentError } from '../../errors.js';
import type { Engine } from '../../engine.js';
import type { TokenService } from '../../access/tokens.js';

/**
 * The part of the engine the API uses. `admitToken` (revocation and repository identity of a
 * token, on every request) and `revokeToken` (`POST /tokens/revoke`) are optional for engines
 * wrapped by hand: without them tokens are judged by their signature and claims only.
 */
export type ApiEngine = Pick<Engine, 'createRepo' | 'getRepo' | 'listRepos' | 'listReposPage' | 'deleteRepo' | 'forkRepo'> &
  Partial<Pick<Engine, 'admitToken' | 'revokeToken' | 'webhooks' | 'remotes'>>;

/** Options of the JSON API. */
export interface ApiOptions {
  engine: ApiEngine;
  /** Verifies bearer tokens and mints remote-URL tokens. */
  tokens: TokenService;
  /** The admin key expected in `x-api-key`; without it admin calls are refused. */
  adminKey?: string;
  /** Base URL of the Git routes for remote URLs; default: the request's own origin. */
  baseUrl?: string;
  /** Where the API lives; default `/api/v1`. */
  prefix?: string;
  /** Largest JSON body in bytes; default 32 MiB. */
  maxBodyBytes?: number;
  /** Most changes one API commit may carry; more is a 413 before any object is built. Default 10,000. */
  maxCommitChanges?: number;
  /** Most content bytes one API commit may write (text as UTF-8, base64 decoded); more is a 413. Default 32 MiB. */
  maxCommitBytes?: number;
  /** Called with unexpected (non-level-git) errors, for logging. */
  onError?: (err: unknown) => void;
}

/** Default `maxCommitChanges`: ~0.5 s of tree building on a small machine, done in ~20 ms slices. */
export const DEFAULT_MAX_COMMIT_CHANGES = 10_000;

/** Default `maxCommitBytes`: 32 MiB. */
export const DEFAULT_MAX_COMMIT_BYTES = 32 * 1024 * 1024;

/** Default JSON body limit: 32 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Checks the options once, when a handler is created. */
export function checkApiOptions(options: ApiOptions): void {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
  if (!options.engine) throw new InvalidArgumentError('options.engine is required');
  if (!options.tokens) throw new InvalidArgumentError('options.tokens is required');
  if (options.adminKey !== undefined && (typeof options.adminKey !== 'string' || options.adminKey.length < 16)) {
    throw new InvalidArgumentError('options.adminKey must be a string of at least 16 characters');
  }
  for (const key of ['maxBodyBytes', 'maxCommitChanges', 'maxCommitBytes'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new InvalidArgumentError(`options.${key} must be a positive integer`);
  }
}
