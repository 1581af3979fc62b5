/**
 * The SDK's one way to the server: `fetch` with the API prefix, the caller's credentials, JSON
 * in and out, and every non-2xx answer turned into a `LevelGitClientError` that carries the
 * server's code, message, status and extra fields. Web standards only (browsers, Deno, Bun,
 * edge runtimes, Node ≥ 18).
 */
import { LevelGitError, type ErrorCode } from '../errors.js';

/** How the client reaches and authenticates to a level-git server. */
export interface ClientOptions {
  /** The server's origin, e.g. `https://git.example.com` (a path prefix before `/api/v1` is kept). */
  url: string;
  /** The admin key (`x-api-key`): every call. */
  apiKey?: string;
  /** A repository token (`Authorization: Bearer`): the calls its permissions allow, on its repository. */
  token?: string;
  /** The API prefix; `/api/v1` by default. */
  prefix?: string;
  /** The `fetch` to use (a wrapper with retries, a test double); `globalThis.fetch` by default. */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** Facts of an error answered by the server: its HTTP status and the other fields of its JSON error. */
export interface ClientErrorDetails {
  status: number;
  [field: string]: unknown;
}

/** An error answer of the server: `code` is the server's stable code (docs/errors.md). */
export class LevelGitClientError extends LevelGitError<ClientErrorDetails> {
  /** The server's code as sent, including the API's own (`ERR_METHOD_NOT_ALLOWED`, `ERR_INTERNAL`, …). */
  readonly serverCode: string;

  constructor(code: string, message: string, details: ClientErrorDetails) {
    super(code as ErrorCode, message, { details });
    this.serverCode = code;
  }

  /** The HTTP status the server answered. */
  override get status(): number {
    return this.details.status;
  }
}

/** A query: absent values are left out, booleans become `true`/`false`, arrays repeat the key. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** One request's shape. */
export interface CallOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses answered without throwing (404 for `findOne`). */
  allow?: readonly number[];
  signal?: AbortSignal;
}

/** Percent-encodes a repository name as one path segment (`owner/name` → `owner%2Fname`). */
export function repoSegment(name: string): string {
  return encodeURIComponent(name);
}

/** Percent-encodes a path of several segments, keeping its slashes. */
export function pathSegments(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The HTTP side of the SDK. */
export class Transport {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;

  constructor(options: ClientOptions) {
    if (typeof options.url !== 'string' || options.url === '') throw new TypeError('url is required');
    const prefix = (options.prefix ?? '/api/v1').replace(/\/+$/, '');
    this.#base = options.url.replace(/\/+$/, '') + prefix;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('no fetch: pass options.fetch');
    this.#fetch = f.bind(globalThis);
    this.#headers = { ...options.headers };
    if (options.apiKey !== undefined) this.#headers['x-api-key'] = options.apiKey;
    if (options.token !== undefined) this.#headers.authorization = `Bearer ${options.token}`;
  }

  /** The absolute URL of an API path with its query. */
  url(path: string, query?: Query): string {
    const u = new URL(this.#base + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) u.searchParams.append(k, one);
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  /** Sends a request; throws `LevelGitClientError` for an error answer not in `allow`. */
  async request(method: string, path: string, options: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.#headers, ...options.headers };
    let body: BodyInit | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (options.signal !== undefined) init.signal = options.signal;
    const res = await this.#fetch(this.url(path, options.query), init);
    if (res.ok || options.allow?.includes(res.status)) return res;
    throw await errorOf(res);
  }

  /** A JSON call: the parsed body (undefined for 204 or an allowed error status). */
  async json<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const res = await this.request(method, path, options);
    if (res.status === 204 || !res.ok) {
      await res.body?.cancel();
      return undefined as T;
    }
    return (await res.json()) as T;
  }
}

/** The error an answer carries (`{ error: { code, message, ...} }`), or a generic one for a non-JSON answer. */
async function errorOf(res: Response): Promise<LevelGitClientError> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const e = parsed.error;
    if (e !== undefined && typeof e.code === 'string') {
      const { code, message, ...rest } = e as Record<string, unknown>;
      return new LevelGitClientError(code as string, typeof message === 'string' ? message : (code as string), { status: res.status, ...rest });
    }
  } catch {
    // not JSON: fall through
  }
  const code = res.status === 401 ? 'ERR_UNAUTHORIZED' : res.status === 403 ? 'ERR_FORBIDDEN' : res.status === 404 ? 'ERR_NOT_FOUND' : 'ERR_HTTP';
  return new LevelGitClientError(code, `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, { status: res.status });
}
