/**
 * Node adapter: `(req, res, next?)` for `http.createServer`, Express/Connect (mounted under a
 * path: routes match `req.url` as the framework rewrote it, or `req.originalUrl`) and Fastify
 * (through `request.raw` / `reply.raw` after `reply.hijack()`). Paths that are not Git routes
 * go to `next()` (or get a 404 without one). Responses are written with back-pressure; a client
 * that disconnects stops the pack producer. `Expect: 100-continue` is answered by Node's server
 * itself before the handler runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleGitRequest, type GitHttpOptions, type GitHttpRequest } from './git-http.js';

function toHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else h.set(k, v);
  }
  return h;
}

function waitDrainOrClose(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

async function serve(req: IncomingMessage, res: ServerResponse, options: GitHttpOptions, urls: string[]): Promise<boolean> {
  let result = null;
  for (const url of urls) {
    const r: GitHttpRequest = { method: req.method ?? 'GET', url, headers: toHeaders(req), body: req };
    result = await handleGitRequest(r, options);
    if (result) break;
  }
  if (!result) return false;
  res.statusCode = result.status;
  for (const [k, v] of Object.entries(result.headers)) res.setHeader(k, v);
  const it = result.body[Symbol.asyncIterator]();
  let aborted = false;
  const onClose = () => {
    if (!res.writableFinished) aborted = true;
  };
  res.on('close', onClose);
  try {
    for (;;) {
      if (aborted || res.destroyed) {
        await it.return?.();
        return true;
      }
      const n = await it.next();
      if (n.done) break;
      if (!res.write(n.value) && !(await waitDrainOrClose(res))) {
        await it.return?.();
        return true;
      }
    }
    res.end();
  } catch {
    // The status is already sent; the protocol layer reported what it could in-band. Cut the
    // connection so the client sees a truncated response rather than a clean end.
    res.destroy();
  } finally {
    res.off('close', onClose);
    // An unread request body (e.g. an error before the pack was read) must not keep the socket busy.
    if (!req.readableEnded) req.resume();
  }
  return true;
}

/** Creates a Node request handler serving Git smart HTTP. */
export function createNodeHandler(
  options: GitHttpOptions,
): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void {
  return (req, res, next) => {
    const own = req.url ?? '/';
    const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl;
    const urls = original && original !== own ? [own, original] : [own];
    serve(req, res, options, urls).then(
      (handled) => {
        if (handled) return;
        if (next) next();
        else {
          res.statusCode = 404;
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end('not found\n');
        }
      },
      (err) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end('internal server error\n');
        } else res.destroy();
        options.onError?.(err);
      },
    );
  };
}
