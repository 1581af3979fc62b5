/**
 * Remote URLs with a token in them: what a sandbox or an agent puts in `git clone`.
 *
 *   remote-url = scheme "://t:" token "@" host [base-path] "/" repo [ "+ephemeral" ] ".git"
 *
 * The user name `t` is a placeholder: the token travels as the Basic password, which git sends
 * after the server's 401 challenge.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Permission, RefPolicy } from './types.js';
import type { TokenService } from './tokens.js';

/** Options of `createRemoteUrl`. */
export interface RemoteUrlOptions {
  /** Where the Git routes are served, e.g. `http://127.0.0.1:8080` or `https://git.example.com/git`. */
  baseUrl: string;
  /** `git:read` / `git:write` (or the short forms `read` / `write`). Default read. */
  permissions?: readonly (Permission | 'read' | 'write')[];
  /** Token lifetime in seconds (the token service's default and maximum apply). */
  ttl?: number;
  /** Bind the token and the URL to the ephemeral namespace. */
  ephemeral?: boolean;
  /** Per-ref push restrictions carried by the token. */
  refs?: RefPolicy[];
  /** Who the token is for (recorded as `sub`, for logs). */
  sub?: string;
  /** The repository's internal id (the `rid` claim): the engine and the API set it. */
  repoId?: number;
}

/** A remote URL and the token inside it. */
export interface RemoteUrl {
  url: string;
  token: string;
  expiresAt: Date;
}

/** Maps `read`/`write` to `git:read`/`git:write`; InvalidArgumentError for anything else. */
export function normalizePermissions(list: unknown): Permission[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidArgumentError('permissions must be a non-empty array');
  return list.map((p) => {
    if (p === 'read' || p === 'git:read') return 'git:read';
    if (p === 'write' || p === 'git:write') return 'git:write';
    throw new InvalidArgumentError(`unknown permission ${JSON.stringify(p)} (use git:read or git:write)`);
  });
}

/** The Git URL of a repository under `baseUrl`, without credentials. */
export function gitUrl(baseUrl: string, name: string, ephemeral = false): URL {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new InvalidArgumentError(`baseUrl ${JSON.stringify(String(baseUrl).slice(0, 200))} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('baseUrl must be an http or https URL');
  const path = name.split('/').map(encodeURIComponent).join('/');
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${path}${ephemeral ? '+ephemeral' : ''}.git`;
  u.search = '';
  u.hash = '';
  u.username = '';
  u.password = '';
  return u;
}

/**
 * Mints a token for one repository and returns `http://t:<token>@host/<repo>.git`
 * (`<repo>+ephemeral.git` when ephemeral). The repository's existence is the caller's check.
 */
export async function createRemoteUrl(tokens: TokenService, name: string, options: RemoteUrlOptions): Promise<RemoteUrl> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('name must be a non-empty string');
  if (options.ephemeral !== undefined && typeof options.ephemeral !== 'boolean') throw new InvalidArgumentError('ephemeral must be a boolean');
  const u = gitUrl(options.baseUrl, name, options.ephemeral === true);
  const minted = await tokens.mint({
    repo: name,
    permissions: normalizePermissions(options.permissions),
    ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
    ...(options.ephemeral ? { ephemeral: true } : {}),
    ...(options.refs !== undefined ? { refs: options.refs } : {}),
    ...(options.sub !== undefined ? { sub: options.sub } : {}),
    ...(options.repoId !== undefined ? { repoId: options.repoId } : {}),
  });
  u.username = 't';
  u.password = minted.token;
  return { url: u.toString(), token: minted.token, expiresAt: minted.expiresAt };
}
