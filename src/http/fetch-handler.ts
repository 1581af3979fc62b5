/**
 * Fetch-style adapter: `(Request) => Promise<Response>` for Deno, Bun, Cloudflare-style workers,
 * Hono and Node's own `fetch` types. Request and response bodies stream (ReadableStream), with
 * back-pressure through `pull`; cancelling the response stops the pack producer.
 */
import { handleGitRequest, type GitHttpOptions, type GitHttpResponse } from './git-http.js';

/** Options of the fetch adapter. */
export interface FetchHandlerOptions extends GitHttpOptions {
  /** Resolve to `undefined` (instead of a 404 Response) for paths that are not Git routes, to chain handlers. */
  fallthrough?: boolean;
}

/** Reads a web ReadableStream as an AsyncIterable, releasing it when the consumer stops early. */
export async function* readableToIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Wraps an AsyncIterable as a pull-based ReadableStream (one chunk per pull: back-pressure). */
export function iterableToReadable(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const n = await it.next();
        if (n.done) controller.close();
        else controller.enqueue(n.value);
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** Turns a core response into a web Response. */
export function toResponse(r: GitHttpResponse): Response {
  return new Response(iterableToReadable(r.body), { status: r.status, headers: r.headers });
}

/** Creates a `(Request) => Promise<Response | undefined>` handler serving Git smart HTTP. */
export function createFetchHandler(options: FetchHandlerOptions): (req: Request) => Promise<Response | undefined> {
  return async (req: Request) => {
    const url = new URL(req.url);
    const r = await handleGitRequest(
      { method: req.method, url: url.pathname + url.search, headers: req.headers, body: req.body ? readableToIterable(req.body) : null },
      options,
    );
    if (!r) return options.fallthrough ? undefined : new Response('not found\n', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    return toResponse(r);
  };
}
