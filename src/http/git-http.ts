/**
 * The runtime-neutral core of Git smart HTTP (gitprotocol-http): routes, access check, content
 * types, gzip request bodies, body limits, and the mapping of errors to statuses or `ERR` packets.
 * The node and fetch adapters (node-adapter.ts, fetch-adapter.ts) only translate requests and
 * responses; this file uses web standards only (Headers, DecompressionStream), no `node:` modules.
 *
 * Routes, under an optional base path:
 *   GET  /<repo>.git/info/refs?service=git-upload-pack|git-receive-pack
 *   POST /<repo>.git/git-upload-pack
 *   POST /<repo>.git/git-receive-pack
 * where <repo> is `name` or `owner/name`, `.git` is optional, and a `+ephemeral` suffix on the
 * name selects the ephemeral namespace.
 */
import { spaceOf, type Space } from '../refs/space.js';
import { LevelGitError, LimitExceededError, NotFoundError, ProtocolError } from '../errors.js';
import type { GitBackend } from '../protocol/backend.js';
import type { RefUpdatePolicy, TokenClaims } from '../access/types.js';
import { encodePktLine } from '../protocol/pkt-line.js';
import { advertiseReceivePack, serveReceivePack, type ReceivePackLimits } from '../protocol/receive-pack.js';
import { advertiseUploadPack, advertiseV2, serveUploadPackV0, serveUploadPackV2, type UploadPackLimits } from '../protocol/upload-pack.js';
import { utf8 } from '../platform/bytes.js';
import type { CoreRequest, CoreResponse } from './exchange.js';
import { claimsOfDecision, type Authorize, type GitService } from './authorize.js';

/** The part of the engine the HTTP layer needs. */
export interface GitHttpEngine {
  gitBackend(name: string, opts: { space: Space }): Promise<GitBackend>;
  /** Refuses a verified token that is revoked or of an earlier repository of its name (Engine.admitToken). */
  admitToken?(claims: TokenClaims): Promise<void>;
}

/** Size and count limits of the HTTP layer and the protocol parsers below it. */
export interface GitHttpLimits {
  /** Largest upload-pack request body, after gzip decoding (default 16 MiB). */
  maxUploadPackBody: number;
  /** Largest receive-pack request body, after gzip decoding (default 2 GiB). */
  maxReceivePackBody: number;
  /**
   * Most bytes a gzip request body may decode to (default 256 MiB), enforced as the decoder
   * produces them: a tiny body of highly compressible data is refused, not inflated.
   * git compresses only fetch requests; a push body over this is refused the same way.
   */
  maxGzipBody?: number;
  /**
   * When a request is refused before its body was read (a push whose pack fails early), at
   * most this many more bytes are read and dropped before answering (default 64 MiB), so the
   * client, still sending, reads the answer instead of a reset connection.
   */
  maxDrainBytes?: number;
  /** ...and for at most this long (default 10 s). Past either bound the answer goes out as is. */
  drainTimeoutMs?: number;
  uploadPack?: Partial<UploadPackLimits>;
  receivePack?: Partial<ReceivePackLimits>;
}

/** Default HTTP limits. */
export const DEFAULT_HTTP_LIMITS: GitHttpLimits = {
  maxUploadPackBody: 16 * 1024 * 1024,
  maxReceivePackBody: 2 * 1024 * 1024 * 1024,
  maxGzipBody: 256 * 1024 * 1024,
  maxDrainBytes: 64 * 1024 * 1024,
  drainTimeoutMs: 10_000,
};

/** Largest piece of a gzip body handed to the decoder at once: what one step may expand (≤ ~1032×) stays small. */
const GZIP_INPUT_PIECE = 16 * 1024;

/** Options shared by every adapter. */
export interface GitHttpOptions {
  engine: GitHttpEngine;
  /** Path prefix the routes live under, e.g. `/git`. */
  basePath?: string;
  /** Access check; the default allows everything. */
  authorize?: Authorize;
  limits?: Partial<GitHttpLimits>;
  /** Called with unexpected (non-level-git) errors, for logging. */
  onError?: (err: unknown) => void;
}

/** A parsed Git route. */
export interface GitRoute {
  repo: string;
  ephemeral: boolean;
  endpoint: 'info/refs' | GitService;
}

/** A request as the core sees it (a `CoreRequest` without the origin, which Git routes do not use). */
export type GitHttpRequest = Omit<CoreRequest, 'origin'>;

/** A response as the core produces it: the body is streamed. */
export interface GitHttpResponse extends CoreResponse {
  body: AsyncIterable<Uint8Array>;
}

const ROUTE_RE = /^\/(?:([^/]+)\/)?([^/]+)\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Parses a path (without query) into a Git route, or null when it is not one; `basePath` is stripped first. */
export function parseGitPath(pathname: string, basePath = ''): GitRoute | null {
  const base = basePath.replace(/\/+$/, '');
  if (base !== '') {
    if (pathname !== base && !pathname.startsWith(base + '/')) return null;
    pathname = pathname.slice(base.length);
  }
  const m = ROUTE_RE.exec(pathname);
  if (!m) return null;
  let name: string;
  let owner: string | undefined;
  try {
    name = decodeURIComponent(m[2]!);
    owner = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  if (name.endsWith('.git')) name = name.slice(0, -4);
  let ephemeral = false;
  if (name.endsWith('+ephemeral')) {
    ephemeral = true;
    name = name.slice(0, -'+ephemeral'.length);
  }
  if (!SEGMENT_RE.test(name) || (owner !== undefined && !SEGMENT_RE.test(owner))) return null;
  return { repo: owner === undefined ? name : `${owner}/${name}`, ephemeral, endpoint: m[3] as GitRoute['endpoint'] };
}

/** Which protocol version the `Git-Protocol` header asks for (0 when absent). */
export function requestedVersion(headers: Headers): 0 | 1 | 2 {
  const h = headers.get('git-protocol');
  if (!h) return 0;
  let v: 0 | 1 | 2 = 0;
  for (const part of h.split(':')) {
    if (part === 'version=2') v = 2;
    else if (part === 'version=1' && v < 1) v = 1;
  }
  return v;
}

async function* once(bytes: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const b of bytes) yield b;
}

function textResponse(status: number, message: string, extra: Record<string, string> = {}): GitHttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache', ...extra },
    body: once([utf8(message.endsWith('\n') ? message : message + '\n')]),
  };
}

function gitHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Cache-Control': 'no-cache, max-age=0, must-revalidate',
    Pragma: 'no-cache',
    Expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
  };
}

function unauthorized(message: string): GitHttpResponse {
  return textResponse(401, message, { 'WWW-Authenticate': 'Basic realm="level-git"' });
}

/** Maps an error to an HTTP response (before any git output was sent). */
export function errorToResponse(err: unknown, onError?: (err: unknown) => void): GitHttpResponse {
  if (err instanceof LevelGitError) {
    if (err.status === 401) return unauthorized(err.message);
    return textResponse(err.status, err.message);
  }
  onError?.(err);
  return textResponse(500, 'internal server error');
}

/** Counts bytes and fails with LimitExceededError past `max`, without buffering. */
export async function* limitBody(source: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > max) throw new LimitExceededError(`request body exceeds ${max} bytes`, { details: { limit: max } });
    yield chunk;
  }
}

/**
 * Streams `source` through the web-standard gzip decoder, chunk by chunk, in pieces of at most
 * 16 KiB, and fails with LimitExceededError once the output passes `maxDecoded` bytes.
 */
export async function* gunzip(source: AsyncIterable<Uint8Array>, maxDecoded = Infinity): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let held: Uint8Array | null = null;
  const input = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (held === null) {
        const n = await it.next();
        if (n.done) return controller.close();
        held = n.value;
      }
      controller.enqueue(held.subarray(0, GZIP_INPUT_PIECE));
      held = held.length > GZIP_INPUT_PIECE ? held.subarray(GZIP_INPUT_PIECE) : null;
    },
    async cancel() {
      await it.return?.();
    },
  });
  const output = input.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  const reader = output.getReader();
  let decoded = 0;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        if (err instanceof LevelGitError) throw err;
        throw new ProtocolError('request body is not valid gzip', { cause: err });
      }
      if (r.done) return;
      decoded += r.value.length;
      if (decoded > maxDecoded) {
        throw new LimitExceededError(`gzip request body decodes to more than ${maxDecoded} bytes`, { details: { limit: maxDecoded } });
      }
      yield r.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * A request body read by a parser that may stop early. Stopping never reaches the source (a
 * Node request's iterator would destroy its socket, and git would print "RPC failed ...
 * Connection reset by peer" instead of the answer); `drain` then reads and drops what is
 * left, bounded in bytes and time, so the answer reaches a client that is still sending.
 */
export class RequestBody {
  readonly #it: AsyncIterator<Uint8Array>;
  #ended = false;
  #pending: Promise<IteratorResult<Uint8Array>> | null = null;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #next(): Promise<IteratorResult<Uint8Array>> {
    const n = await (this.#pending ?? this.#it.next());
    this.#pending = null;
    if (n.done) this.#ended = true;
    return n;
  }

  /** The body as a stream; a consumer that stops early leaves the rest for `drain`. */
  async *stream(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const n = await this.#next();
      if (n.done) return;
      yield n.value;
    }
  }

  /** Reads and drops the rest, up to `maxBytes` or `timeoutMs`; true when the body ended. */
  async drain(maxBytes: number, timeoutMs: number): Promise<boolean> {
    let dropped = 0;
    const deadline = Date.now() + timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (!this.#ended && dropped <= maxBytes) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        this.#pending ??= this.#it.next();
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left)));
        const r = await Promise.race([this.#pending, timeout]);
        clearTimeout(timer);
        if (r === 'timeout') return false;
        this.#pending = null;
        if (r.done) this.#ended = true;
        else dropped += r.value.length;
      }
      return this.#ended;
    } catch {
      return false; // the client went away: nothing left to protect
    } finally {
      clearTimeout(timer);
    }
  }
}

function requestBody(req: GitHttpRequest, raw: AsyncIterable<Uint8Array>, max: number, maxGzip: number): AsyncIterable<Uint8Array> {
  const enc = (req.headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return limitBody(raw, max);
  if (enc === 'gzip' || enc === 'x-gzip') return limitBody(gunzip(limitBody(raw, max), maxGzip), max);
  throw new ProtocolError(`unsupported Content-Encoding ${enc}`);
}

/** An `ERR` pkt-line response: git prints `remote error: <message>`. */
function errPacketResponse(service: GitService, message: string): GitHttpResponse {
  return { status: 200, headers: gitHeaders(`application/x-${service}-result`), body: once([encodePktLine(`ERR ${message.replace(/\n/g, ' ')}`)]) };
}

async function openBackend(options: GitHttpOptions, route: GitRoute, ephemeral: boolean): Promise<GitBackend> {
  return options.engine.gitBackend(route.repo, { space: spaceOf(ephemeral) });
}

/**
 * Handles one request. Returns null when the path is not a Git route (the caller falls through).
 * Never throws: every failure becomes a response.
 */
export async function handleGitRequest(req: GitHttpRequest, options: GitHttpOptions): Promise<GitHttpResponse | null> {
  const q = req.url.indexOf('?');
  const pathname = q < 0 ? req.url : req.url.slice(0, q);
  const route = parseGitPath(pathname, options.basePath);
  if (!route) return null;
  try {
    return await handleRoute(req, route, q < 0 ? '' : req.url.slice(q + 1), options);
  } catch (err) {
    return errorToResponse(err, options.onError);
  }
}

async function handleRoute(req: GitHttpRequest, route: GitRoute, query: string, options: GitHttpOptions): Promise<GitHttpResponse> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  let service: GitService;
  if (route.endpoint === 'info/refs') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return textResponse(405, 'method not allowed', { Allow: 'GET' });
    const s = new URLSearchParams(query).get('service');
    if (s !== 'git-upload-pack' && s !== 'git-receive-pack') {
      return textResponse(403, 'only the smart HTTP protocol is supported: ask for ?service=git-upload-pack or git-receive-pack');
    }
    service = s;
  } else {
    if (req.method !== 'POST') return textResponse(405, 'method not allowed', { Allow: 'POST' });
    service = route.endpoint;
    const ct = req.headers.get('content-type');
    if (ct !== null && ct.split(';')[0]!.trim().toLowerCase() !== `application/x-${service}-request`) {
      return textResponse(415, `expected Content-Type application/x-${service}-request`);
    }
  }

  const action = service === 'git-receive-pack' ? 'write' : 'read';
  let ephemeral = route.ephemeral;
  let policy: RefUpdatePolicy | undefined;
  if (options.authorize) {
    const d = await options.authorize({ repo: route.repo, ephemeral: route.ephemeral, action, service, headers: req.headers });
    if (!d.allow) return d.status === 401 ? unauthorized(d.message) : textResponse(d.status, d.message);
    if (d.ephemeral !== undefined) ephemeral = d.ephemeral;
    policy = d.policy;
    // Revocations and repository identity live in the database: asked on every request (401).
    const claims = claimsOfDecision(d);
    if (claims !== undefined) await options.engine.admitToken?.(claims);
  }

  let backend: GitBackend;
  try {
    backend = await openBackend(options, route, ephemeral);
  } catch (err) {
    if (err instanceof NotFoundError) return textResponse(404, `repository not found: ${route.repo}`);
    throw err;
  }

  const version = requestedVersion(req.headers);
  if (route.endpoint === 'info/refs') {
    let body: Uint8Array[];
    if (service === 'git-upload-pack') body = version === 2 ? advertiseV2() : await advertiseUploadPack(backend, { http: true, version1: version === 1 });
    else body = await advertiseReceivePack(backend, { http: true, version1: version === 1 });
    return { status: 200, headers: gitHeaders(`application/x-${service}-advertisement`), body: once(req.method === 'HEAD' ? [] : body) };
  }

  const max = service === 'git-upload-pack' ? limits.maxUploadPackBody : limits.maxReceivePackBody;
  const source = new RequestBody(req.body ?? once([]));
  // Before answering, read what the parser left (bounded): a client still sending reads the answer, not a reset.
  const drained = () => source.drain(limits.maxDrainBytes ?? 0, limits.drainTimeoutMs ?? 0);
  try {
    const body = requestBody(req, source.stream(), max, limits.maxGzipBody ?? Infinity);
    let out: AsyncIterable<Uint8Array>;
    if (service === 'git-upload-pack') {
      const o = { limits: limits.uploadPack };
      out = version === 2 ? await serveUploadPackV2(backend, body, o) : await serveUploadPackV0(backend, body, o);
    } else {
      out = once(await serveReceivePack(backend, body, { limits: limits.receivePack, policy }));
      await drained();
    }
    return { status: 200, headers: gitHeaders(`application/x-${service}-result`), body: guardStream(out, options.onError) };
  } catch (err) {
    await drained();
    // The client speaks pkt-lines here: an ERR packet is what it can print.
    if (err instanceof LevelGitError) return errPacketResponse(service, err.message);
    options.onError?.(err);
    return errPacketResponse(service, 'internal server error');
  }
}

/** Reports unexpected errors raised while the body streams (the adapters then abort the response). */
async function* guardStream(source: AsyncIterable<Uint8Array>, onError?: (err: unknown) => void): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (err) {
    if (!(err instanceof LevelGitError)) onError?.(err);
    throw err;
  }
}
