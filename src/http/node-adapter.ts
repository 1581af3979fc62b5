/**
 * The one Node adapter: a core handler (exchange.ts) as `(req, res, next?)` for `http.createServer`,
 * Express/Connect (mounted under a path: the core is tried on `req.url` as the framework
 * rewrote it, then on `req.originalUrl`) and Fastify (`request.raw` / `reply.raw` after
 * `reply.hijack()`). Paths the core does not route go to `next()` (or get the fallback 404).
 * Streamed bodies are written part by part as the core yields them (side-band headers beside views
 * of shared pack chunks: nothing is concatenated here), with back-pressure: once more than
 * WRITE_AHEAD_BYTES wait in Node's buffers, the next part is asked for only when the socket
 * drained. A client that disconnects stops the producer, and so
 * does one that stops reading: nothing taken for `writeTimeoutMs` destroys the connection. A body
 * the core did not read is drained so the connection is not left busy.
 * `Expect: 100-continue` is answered by Node's server itself before the handler runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CoreFallbacks, CoreHandler, CoreRequest, CoreResponse } from './exchange.js';

/** A Node request handler (`http.createServer`, Express, Connect, Fastify's raw objects). */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

function toHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else h.set(k, v);
  }
  return h;
}

function originOf(req: IncomingMessage, headers: Headers): string {
  const scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
  try {
    return new URL(`${scheme}://${headers.get('host') ?? 'localhost'}`).origin;
  } catch {
    return `${scheme}://localhost`;
  }
}

/** Options of the Node adapter. */
export interface NodeAdapterOptions {
  /**
   * How long a streamed response waits for the client to take any of what was written before
   * the connection is cut, ms; 0 waits forever. Default 60 s: a client that stops
   * reading must not pin a response (and what it holds) for as long as its socket stays open.
   */
  writeTimeoutMs?: number;
}

/**
 * Bytes a streamed response may leave waiting in Node's buffers before it waits for 'drain'. A
 * pack is written in side-band packets of up to 64 KiB, each past the socket's 16 KiB high-water
 * mark: waiting after every one (a promise, listeners and a timer per packet) cost a full clone
 * served from the pack cache about a third of its CPU. The parts written are views of the pack's
 * chunks, so what waits is mostly references, not copies.
 */
const WRITE_AHEAD_BYTES = 256 * 1024;

/** Default `writeTimeoutMs`. */
export const DEFAULT_WRITE_TIMEOUT_MS = 60_000;

/**
 * Resolves true on 'drain', false on 'close' or when `timeoutMs` (> 0) passes without progress:
 * bytes still waiting in Node's buffers (`writableLength`, which shrinks as the socket takes
 * them) unchanged since the last look. A slow client that keeps reading is never cut.
 */
function waitDrainOrClose(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let pending = res.writableLength;
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (timer !== undefined) clearInterval(timer);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const look = () => {
      if (res.writableLength === pending) done(false);
      pending = res.writableLength;
    };
    const timer = timeoutMs > 0 ? setInterval(look, timeoutMs) : undefined;
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Writes a core response: a whole body with its length, a stream with back-pressure. */
async function writeResponse(res: ServerResponse, r: CoreResponse, writeTimeoutMs = DEFAULT_WRITE_TIMEOUT_MS): Promise<void> {
  res.statusCode = r.status;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  if (r.body === null || r.body instanceof Uint8Array) {
    if (r.body !== null && !res.hasHeader('content-length')) res.setHeader('Content-Length', String(r.body.length));
    res.end(r.body ?? undefined);
    return;
  }
  const it = r.body[Symbol.asyncIterator]();
  let aborted = false;
  const onClose = () => {
    if (!res.writableFinished) aborted = true;
  };
  res.on('close', onClose);
  try {
    for (;;) {
      if (aborted || res.destroyed) {
        await it.return?.();
        return;
      }
      const n = await it.next();
      if (n.done) break;
      if (!res.write(n.value) && res.writableLength > WRITE_AHEAD_BYTES && !(await waitDrainOrClose(res, writeTimeoutMs))) {
        // Gone, or not reading: cut it (a no-op when already closed) and stop the producer.
        res.destroy();
        await it.return?.();
        return;
      }
    }
    res.end();
  } catch {
    // The status is already sent; the core reported what it could in-band. Cut the connection
    // so the client sees a truncated response rather than a clean end.
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}

/** Runs the core on the request's own URL, then on `originalUrl`; false when neither is routed. */
async function serve(req: IncomingMessage, res: ServerResponse, core: CoreHandler, writeTimeoutMs: number): Promise<boolean> {
  const own = req.url ?? '/';
  const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl;
  const headers = toHeaders(req);
  const method = req.method ?? 'GET';
  const base: Omit<CoreRequest, 'url'> = {
    method,
    origin: originOf(req, headers),
    headers,
    body: method === 'GET' || method === 'HEAD' ? null : (req as AsyncIterable<Uint8Array>),
  };
  let result: CoreResponse | null = null;
  for (const url of original && original !== own ? [own, original] : [own]) {
    result = await core({ ...base, url });
    if (result !== null) break;
  }
  if (result === null) return false;
  try {
    await writeResponse(res, result, writeTimeoutMs);
  } finally {
    // An unread request body (an error before it was read) must not keep the socket busy.
    if (!req.readableEnded) req.resume();
  }
  return true;
}

/** A Node handler over `core`; `fallbacks` answer unrouted paths (without `next`) and unexpected failures. */
export function toNodeHandler(core: CoreHandler, fallbacks: CoreFallbacks, options: NodeAdapterOptions = {}): NodeHandler {
  const writeTimeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
  return (req, res, next) => {
    serve(req, res, core, writeTimeoutMs).then(
      (handled) => {
        if (handled) return;
        if (next) next();
        else void writeResponse(res, fallbacks.notFound());
      },
      (err) => {
        if (res.headersSent) res.destroy();
        else void writeResponse(res, fallbacks.internalError(err));
      },
    );
  };
}
