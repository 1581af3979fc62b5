/**
 * The whole server in one Node request handler: the JSON API under `/api/v1`, Git smart HTTP
 * (with the token authorizer) everywhere else, and `GET /healthz`. `createServer` wraps it in
 * an `http.Server`. This file imports `node:http` (like the node adapters): it is the Node
 * composition, not part of the portable engine.
 *
 * Timeouts suited to Git: a push or clone may last far longer than Node's 5-minute
 * `requestTimeout` (which answers 408 mid-push), so that one is off; what is cut instead is a
 * connection idle for `idleTimeoutMs` while it is the peer's turn: headers not arriving
 * (`headersTimeoutMs`), a request body that stopped arriving while the server waits for it,
 * a response the client stopped reading, an idle keep-alive connection (`keepAliveTimeoutMs`).
 * Time the server itself spends working (planning a pack, checking a push) is never counted.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
  /** Most content bytes of one API commit, JSON or NDJSON (default 32 MiB). */
  maxCommitBytes?: number;
  /** Git HTTP limits (request body sizes, protocol limits). */
  gitLimits?: Partial<GitHttpLimits>;
  /** Options of the token authorizer of Git routes. */
  authorizer?: TokenAuthorizerOptions;
  /** Called with unexpected errors, for logging. */
  onError?: (err: unknown) => void;
  /**
   * Longest silence of a connection while it is the peer's turn (a body that stops arriving,
   * a response nobody reads), ms; also the write timeout of streamed responses. Default 60 s;
   * 0 turns it off. A transfer that keeps moving is never cut, however long it takes.
   */
  idleTimeoutMs?: number;
  /** Time to receive a request's headers, ms. Default 20 s. */
  headersTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, ms. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Most connections served at once (`server.maxConnections`); more are refused. Default: no cap. */
  maxConnections?: number;
}

/** Default `idleTimeoutMs`. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** One Node request handler serving the JSON API and Git smart HTTP. */
export function createRequestHandler(options: ServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const api = createApiNodeHandler({
    engine: options.engine,
    tokens: options.tokens,
    ...(options.adminKey !== undefined ? { adminKey: options.adminKey } : {}),
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.maxCommitBytes !== undefined ? { maxCommitBytes: options.maxCommitBytes } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
  const git = createGitNodeHandler({
    writeTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
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

/** The exchange a connection is serving, for the idle check. */
const serving = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();

/**
 * True when a silent connection is waiting on its peer: no request in progress (headers not
 * sent, or an idle keep-alive), a body the server is ready to read that is not arriving, or
 * written bytes the client does not take. False while the server itself works.
 */
function waitingOnPeer(socket: Socket): boolean {
  const ex = serving.get(socket);
  if (!ex || ex.res.writableFinished) return true;
  const { req, res } = ex;
  if (res.writableLength > 0 || socket.writableLength > 0) return true;
  // A body that stopped arriving; unless the server is the one behind (its buffer is full).
  return !req.complete && req.readableLength < req.readableHighWaterMark;
}

/** An `http.Server` (not yet listening) serving the JSON API and Git smart HTTP, with the timeouts of the module comment. */
export function createServer(options: ServerOptions): Server {
  const handler = createRequestHandler(options);
  const server = createHttpServer({ requestTimeout: 0, headersTimeout: options.headersTimeoutMs ?? 20_000 }, (req, res) => {
    serving.set(req.socket, { req, res });
    handler(req, res);
  });
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000;
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  if (idle > 0) {
    server.timeout = idle;
    // With a listener, Node leaves the decision here (without one it destroys the socket).
    server.on('timeout', (socket: Socket) => {
      if (waitingOnPeer(socket)) socket.destroy();
      else socket.setTimeout(idle); // the server is working: look again later
    });
  }
  return server;
}
