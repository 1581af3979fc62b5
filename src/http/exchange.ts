/**
 * The request and response every core handler of this layer speaks (the Git smart HTTP core in
 * `git-http.ts`, the JSON API in `api/`). The adapters (`node-adapter.ts`, `fetch-adapter.ts`)
 * translate Node's `(req, res)` and the web `Request`/`Response` to and from these shapes, once
 * for both cores. Web standards only (Headers), no `node:` modules.
 */

/** A request as a core handler sees it. */
export interface CoreRequest {
  method: string;
  /** Path and query as received, e.g. `/git/team/app.git/info/refs?service=git-upload-pack`. */
  url: string;
  /** `scheme://host[:port]` the request was sent to (remote URLs and `Location` are built from it). */
  origin: string;
  headers: Headers;
  /** The request body; null for GET and HEAD. */
  body: AsyncIterable<Uint8Array> | null;
}

/** A response of a core handler: a small body in one piece, or a stream (packs). */
export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | AsyncIterable<Uint8Array> | null;
}

/** A core handler: null when the request is not one of its routes (the adapter falls through). Never throws. */
export type CoreHandler = (req: CoreRequest) => Promise<CoreResponse | null>;

/** What an adapter answers when the core routes nothing or fails unexpectedly. */
export interface CoreFallbacks {
  /** The answer for a path that is not the core's, when nothing else may handle it. */
  notFound: () => CoreResponse;
  /** The answer for an unexpected rejection of the core (reported through the core's `onError`). */
  internalError: (err: unknown) => CoreResponse;
}

/** True for a body sent in one piece (its length is known). */
export function isWholeBody(body: CoreResponse['body']): body is Uint8Array | null {
  return body === null || body instanceof Uint8Array;
}
