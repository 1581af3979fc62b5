/**
 * The whole server in one Node request handler: the JSON API under `/api/v1`, Git smart HTTP
 * (with the token authorizer) everywhere else, and `GET /healthz`. `createServer` wraps it in
 * an `http.Server`. This file imports `node:http` (like the node adapters): it is the Node
 * composition, not part of the portable engine.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Engine } from '../engine.js';
import type { TokenService } from '../access/tokens.js';
import { createTokenAuthorizer, type TokenAuthorizerOptions } from './authorize.js';
import { createApiNodeHandler, createGitNodeHandler } from './node-handler.js';
import type { GitHttpLimits } from './git-http.js';

/** Options of `createServer` / `createRequestHandler`. */
export interface ServerOptions {
  engine: Engine;
  tokens: TokenService;
  /** Admin key for `x-api-key`; without it admin API calls are refused. */
  adminKey?: string;
  /** Base URL written into remote URLs; default: each request's own origin. */
  baseUrl?: string;
  /** Largest JSON body, bytes (default 32 MiB). */
  maxBodyBytes?: number;
  /** Git HTTP limits (request body sizes, protocol limits). */
  gitLimits?: Partial<GitHttpLimits>;
  /** Options of the token authorizer of Git routes. */
  authorizer?: TokenAuthorizerOptions;
  /** Called with unexpected errors, for logging. */
  onError?: (err: unknown) => void;
}

/** One Node request handler serving the JSON API and Git smart HTTP. */
export function createRequestHandler(options: ServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const api = createApiNodeHandler({
    engine: options.engine,
    tokens: options.tokens,
    ...(options.adminKey !== undefined ? { adminKey: options.adminKey } : {}),
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
  const git = createGitNodeHandler({
    engine: options.engine,
    authorize: createTokenAuthorizer(options.tokens, options.authorizer ?? {}),
    ...(options.gitLimits !== undefined ? { limits: options.gitLimits } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
  return (req, res) => {
    const url = req.url ?? '/';
    if (url === '/healthz' || url.startsWith('/healthz?')) {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('ok\n');
      return;
    }
    // Only `/api/v1/...` belongs to the API, so an owner named `api` still has Git routes.
    if (url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?')) {
      api(req, res);
      return;
    }
    git(req, res);
  };
}

/** An `http.Server` (not yet listening) serving the JSON API and Git smart HTTP. */
export function createServer(options: ServerOptions): Server {
  const server = createHttpServer(createRequestHandler(options));
  // Large pushes can take a while; Node's default 5-minute request timeout is kept.
  server.keepAliveTimeout = 5000;
  return server;
}
