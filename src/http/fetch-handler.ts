/**
 * Fetch-style handlers, `(Request) => Promise<Response | undefined>`: Git smart HTTP
 * (`createGitFetchHandler`) and the JSON API (`createApiFetchHandler`), both through the one
 * fetch adapter (fetch-adapter.ts). For Deno, Bun, Cloudflare-style workers, Hono and Node's
 * own `fetch` types.
 */
import { handleGitRequest, type GitHttpOptions } from './git-http.js';
import { handleApiRequest } from './api/handler.js';
import { checkApiOptions, type ApiOptions } from './api/options.js';
import { toFetchHandler } from './fetch-adapter.js';
import { utf8 } from '../platform/bytes.js';

/** A web-standard handler: `undefined` for paths it does not serve (when it falls through), so handlers can be chained. */
export type FetchHandler = (req: Request) => Promise<Response | undefined>;

/** Options of the Git fetch handler. */
export interface FetchHandlerOptions extends GitHttpOptions {
  /** Resolve to `undefined` (instead of a 404 Response) for paths that are not Git routes, to chain handlers. */
  fallthrough?: boolean;
}

/** Creates a fetch-style handler serving Git smart HTTP. */
export function createGitFetchHandler(options: FetchHandlerOptions): FetchHandler {
  const notFound = () => ({ status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: utf8('not found\n') });
  return toFetchHandler((req) => handleGitRequest(req, options), options.fallthrough ? undefined : notFound);
}

/** Creates the JSON API as a fetch-style handler; paths outside its prefix resolve to `undefined`. */
export function createApiFetchHandler(options: ApiOptions): FetchHandler {
  checkApiOptions(options);
  return toFetchHandler((req) => handleApiRequest(req, options));
}

/** @deprecated Renamed `createGitFetchHandler` (this name goes away in the next release). */
export const createFetchHandler: (options: FetchHandlerOptions) => FetchHandler = createGitFetchHandler;

/** @deprecated Renamed `createApiFetchHandler` (this name goes away in the next release). */
export const createApiHandler: (options: ApiOptions) => FetchHandler = createApiFetchHandler;

/** @deprecated The type of `createApiFetchHandler`'s handler: use `FetchHandler`. */
export type ApiHandler = FetchHandler;
