/**
 * The one fetch-style adapter: a core handler (exchange.ts) as `(Request) => Promise<Response |
 * undefined>` for Deno, Bun, Cloudflare-style workers, Hono and Node's own `fetch` types. Request
 * and response bodies stream (ReadableStream), with back-pressure through `pull`; cancelling the
 * response stops the producer (a pack being written).
 */
import { isWholeBody, type CoreHandler, type CoreResponse } from './exchange.js';

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
export function toResponse(r: CoreResponse): Response {
  const body = isWholeBody(r.body) ? (r.body as BodyInit | null) : iterableToReadable(r.body);
  return new Response(body, { status: r.status, headers: r.headers });
}

/**
 * A web-standard handler over `core`. Paths the core does not route resolve to `notFound()`
 * when given, else to `undefined` (so handlers can be chained).
 */
export function toFetchHandler(core: CoreHandler, notFound?: () => CoreResponse): (req: Request) => Promise<Response | undefined> {
  return async (req) => {
    const url = new URL(req.url);
    const r = await core({
      method: req.method,
      url: url.pathname + url.search,
      origin: url.origin,
      headers: req.headers,
      body: req.body ? readableToIterable(req.body) : null,
    });
    if (r !== null) return toResponse(r);
    return notFound === undefined ? undefined : toResponse(notFound());
  };
}
