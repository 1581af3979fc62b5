/**
 * Node handlers, `(req, res, next?)`: Git smart HTTP (`createGitNodeHandler`) and the JSON API
 * (`createApiNodeHandler`), both through the one Node adapter (node-adapter.ts). For
 * `http.createServer`, Express/Connect (mounted: routes match `req.url` as the framework rewrote
 * it, or `req.originalUrl`) and Fastify (`request.raw` / `reply.raw` after `reply.hijack()`).
 */
import { NotFoundError } from '../errors.js';
import { errorToResponse, handleGitRequest, type GitHttpOptions } from './git-http.js';
import { apiErrorResponse } from './api/responses.js';
import { handleApiRequest } from './api/handler.js';
import { checkApiOptions, type ApiOptions } from './api/options.js';
import { toNodeHandler, type NodeAdapterOptions, type NodeHandler } from './node-adapter.js';
import { utf8 } from '../platform/bytes.js';
import { enableDepth1Plans } from '../repo/enable.js';

// A Node server has no reason to go without stored depth-1 plans (browser bundles never load this file).
enableDepth1Plans();

/** The handlers' type: `(req, res, next?)`. */
export type { NodeHandler } from './node-adapter.js';

/** Creates a Node request handler serving Git smart HTTP; other paths go to `next()` (or a 404). */
export function createGitNodeHandler(options: GitHttpOptions & NodeAdapterOptions): NodeHandler {
  return toNodeHandler(
    (req) => handleGitRequest(req, options),
    {
      notFound: () => ({ status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: utf8('not found\n') }),
      internalError: (err) => errorToResponse(err, options.onError),
    },
    options,
  );
}

/** Creates the JSON API as a Node handler; paths outside its prefix go to `next()` (or a JSON 404). */
export function createApiNodeHandler(options: ApiOptions): NodeHandler {
  checkApiOptions(options);
  return toNodeHandler((req) => handleApiRequest(req, options), {
    notFound: () => apiErrorResponse(new NotFoundError('ERR_NOT_FOUND', 'not found')),
    internalError: (err) => apiErrorResponse(err, options.onError),
  });
}

/** @deprecated Renamed `createGitNodeHandler` (this name goes away in the next release). */
export const createNodeHandler: (options: GitHttpOptions) => NodeHandler = createGitNodeHandler;
