/**
 * An isomorphic-git `http` plugin that serves requests in-process through the shared core: no
 * socket, no server. `git.clone({ http: createIsomorphicTransport({ engine }), url:
 * 'http://local/team/app.git', ... })` works in Node, Electron renderers and browsers alike.
 * The URL's host is ignored; its path is routed exactly as the HTTP handlers route it.
 */
import { handleGitRequest, type GitHttpOptions } from './git-http.js';

/** The request isomorphic-git hands to its http plugin. */
export interface IsomorphicGitRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  onProgress?: unknown;
}

/** The response isomorphic-git expects from its http plugin. */
export interface IsomorphicGitResponse {
  url: string;
  method: string;
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string>;
  body: AsyncIterableIterator<Uint8Array>;
}

/** An isomorphic-git http client. */
export interface IsomorphicHttpClient {
  request(req: IsomorphicGitRequest): Promise<IsomorphicGitResponse>;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

async function* toAsync(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const c of body as AsyncIterable<Uint8Array>) yield c;
}

async function* empty(): AsyncGenerator<Uint8Array> {}

/** Creates the in-process http plugin. */
export function createIsomorphicTransport(options: GitHttpOptions): IsomorphicHttpClient {
  return {
    async request(req) {
      const url = new URL(req.url);
      const method = req.method ?? 'GET';
      const headers = new Headers(req.headers ?? {});
      const r = await handleGitRequest({ method, url: url.pathname + url.search, headers, body: req.body ? toAsync(req.body) : null }, options);
      if (!r) {
        return { url: req.url, method, statusCode: 404, statusMessage: 'Not Found', headers: {}, body: empty() };
      }
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) out[k.toLowerCase()] = v;
      const it = r.body[Symbol.asyncIterator]();
      const body: AsyncIterableIterator<Uint8Array> = {
        next: () => it.next(),
        return: async (v?: unknown) => (await it.return?.(v)) ?? { done: true, value: undefined },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return { url: req.url, method, statusCode: r.status, statusMessage: STATUS_TEXT[r.status] ?? '', headers: out, body };
    },
  };
}
