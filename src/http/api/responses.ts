/**
 * The JSON API's answers: JSON bodies, 204, 405 with `Allow`, and errors as
 * `{"error": {"code", "message"}}` with the status of the LevelGitError code.
 */
import { LevelGitError } from '../../errors.js';
import { utf8 } from '../../platform/bytes.js';

/** A response of the API (bodies are small JSON or one file's bytes, or a stream: archives). */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** One piece, or a stream (a big file). */
  body: Uint8Array | AsyncIterable<Uint8Array> | null;
}

/** A JSON response, never cached. */
export function json(status: number, value: unknown, extra: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra }, body: utf8(JSON.stringify(value)) };
}

/** 204 No Content. */
export function noContent(): ApiResponse {
  return { status: 204, headers: { 'Cache-Control': 'no-store' }, body: null };
}

/** The JSON error response for an error (500 for anything that is not a LevelGitError). */
export function apiErrorResponse(err: unknown, onError?: (err: unknown) => void): ApiResponse {
  if (err instanceof LevelGitError) {
    const extra: Record<string, string> = err.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="level-git"' } : {};
    return json(err.status, { error: { code: err.code, message: err.message } }, extra);
  }
  onError?.(err);
  return json(500, { error: { code: 'ERR_INTERNAL', message: 'internal server error' } });
}

/** 405 for a known path asked with a method it does not serve; `allow` lists the ones it does. */
export function methodNotAllowed(allow: string): ApiResponse {
  return json(405, { error: { code: 'ERR_METHOD_NOT_ALLOWED', message: `method not allowed (allowed: ${allow})` } }, { Allow: allow });
}
