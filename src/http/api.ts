/**
 * The JSON API: repositories, remote URLs, multi-file commits, reads, branches, ref
 * transactions and promotion, over web standards only (Headers, Request, Response; no `node:`
 * modules). `createApiHandler` gives a `(Request) => Promise<Response | undefined>` handler,
 * `createApiNodeHandler` a `(req, res, next?)` one; both run `handleApiRequest`.
 *
 * Routes (under `/api/v1`; `:name` is `name` or `owner/name`, or `owner%2Fname`):
 *   POST   /repos                          admin   create
 *   GET    /repos                          admin   list
 *   GET    /repos/:name                    read    info
 *   DELETE /repos/:name                    admin   delete
 *   POST   /repos/:name/remote-url         admin   mint a token URL
 *   POST   /repos/:name/commits            write   commit file changes
 *   GET    /repos/:name/commits            read    log
 *   GET    /repos/:name/files/<path>       read    raw bytes (ETag, Range, If-None-Match)
 *   GET    /repos/:name/tree               read    list a directory
 *   GET    /repos/:name/branches           read    list branches
 *   POST   /repos/:name/branches           write   create a branch
 *   DELETE /repos/:name/branches/<branch>  write   delete a branch
 *   POST   /repos/:name/refs               write   all-or-nothing ref updates
 *   POST   /repos/:name/ephemeral/promote  write   ephemeral branch -> regular branch
 * Errors: `{"error": {"code", "message"}}` with the status of the LevelGitError code.
 */
import {
  ForbiddenError,
  InvalidArgumentError,
  RefRejectedError,
  LevelGitError,
  LimitExceededError,
  NotFoundError,
  UnauthorizedError,
} from '../errors.js';
import type { Engine } from '../engine.js';
import type { Repository } from '../repo/repository.js';
import type { RefUpdate } from '../refs/ref-store.js';
import type { FileChange } from '../repo/build-tree.js';
import type { TokenService } from '../access/tokens.js';
import type { RefUpdatePolicy, TokenClaims } from '../access/types.js';
import { checkAccess, refPolicyCheck, tokenFromHeaders } from '../access/policy.js';
import { ZERO_OID, type Oid } from '../object/oid.js';
import { describeRefUpdate } from '../repo/ref-update-kind.js';
import { internalsOf } from '../repo/internals.js';
import type { Space } from '../refs/space.js';
import { platform } from '../platform/index.js';
import { toHex, utf8 } from '../platform/bytes.js';
import { createRemoteUrl } from '../access/remote-url.js';

/** The part of the engine the API uses. */
export type ApiEngine = Pick<Engine, 'createRepo' | 'getRepo' | 'listRepos' | 'deleteRepo'>;

/** Options of the JSON API. */
export interface ApiOptions {
  engine: ApiEngine;
  /** Verifies bearer tokens and mints remote-URL tokens. */
  tokens: TokenService;
  /** The admin key expected in `x-api-key`; without it admin calls are refused. */
  adminKey?: string;
  /** Base URL of the Git routes for remote URLs; default: the request's own origin. */
  baseUrl?: string;
  /** Where the API lives; default `/api/v1`. */
  prefix?: string;
  /** Largest JSON body in bytes; default 32 MiB. */
  maxBodyBytes?: number;
  /** Called with unexpected (non-level-git) errors, for logging. */
  onError?: (err: unknown) => void;
}

/** A request as the API core sees it. */
export interface ApiRequest {
  method: string;
  /** Absolute URL (scheme, host, path, query). */
  url: string;
  headers: Headers;
  body: AsyncIterable<Uint8Array> | null;
}

/** A response of the API core (bodies are small JSON or one file's bytes). */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

/** Default JSON body limit: 32 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Most updates one `refs` call may carry. */
export const MAX_REF_UPDATES = 1000;
/** Most commits one log call returns. */
export const MAX_LOG_LIMIT = 1000;

/** The ref space (and read view) named by the JSON API's `ephemeral` flag. */
const spaceOf = (ephemeral: boolean): Space => (ephemeral ? 'ephemeral' : 'regular');

const SUBRESOURCES = new Set(['remote-url', 'commits', 'files', 'tree', 'branches', 'refs', 'ephemeral']);

type Principal = { admin: true } | { admin: false; claims: TokenClaims };

interface Ctx {
  req: ApiRequest;
  url: URL;
  options: ApiOptions;
  principal: Principal;
}

function json(status: number, value: unknown, extra: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra }, body: utf8(JSON.stringify(value)) };
}

function noContent(): ApiResponse {
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

function methodNotAllowed(allow: string): ApiResponse {
  return json(405, { error: { code: 'ERR_METHOD_NOT_ALLOWED', message: `method not allowed (allowed: ${allow})` } }, { Allow: allow });
}

/** Compares two secrets in time independent of where they differ (digests of equal length). */
export function secretsEqual(a: string, b: string): boolean {
  const x = platform().sha1(utf8(`level-git-key:${a}`));
  const y = platform().sha1(utf8(`level-git-key:${b}`));
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

async function authenticate(req: ApiRequest, options: ApiOptions): Promise<Principal> {
  const key = req.headers.get('x-api-key');
  if (key !== null) {
    if (options.adminKey === undefined || options.adminKey.length === 0 || !secretsEqual(key, options.adminKey)) {
      throw new UnauthorizedError('invalid API key');
    }
    return { admin: true };
  }
  const token = tokenFromHeaders(req.headers);
  if (token === null) throw new UnauthorizedError('authentication required: send x-api-key or Authorization: Bearer <token>');
  return { admin: false, claims: await options.tokens.verify(token) };
}

function requireAdmin(ctx: Ctx): void {
  if (!ctx.principal.admin) throw new ForbiddenError('this call needs the admin API key');
}

/**
 * Checks the caller may `action` on `repo`; returns whether the caller is bound to the
 * ephemeral namespace and, for a write with a token carrying ref policies, the policy.
 */
function requireRepo(ctx: Ctx, repo: string, action: 'read' | 'write'): { boundEphemeral: boolean; policy?: RefUpdatePolicy } {
  const p = ctx.principal;
  if (p.admin) return { boundEphemeral: false };
  const check = checkAccess(p.claims, { repo, action, ephemeral: false });
  if (!check.allow) throw new ForbiddenError(check.message);
  if (action === 'write' && p.claims.refs !== undefined && p.claims.refs.length > 0) return { boundEphemeral: check.ephemeral, policy: refPolicyCheck(p.claims.refs) };
  return { boundEphemeral: check.ephemeral };
}

/**
 * Applies a token's ref policies to API writes as receive-pack applies them to a push: each
 * update is described (create, delete, or a fast-forward or not, against `oldSha` or the
 * current value) and a refusal is a 403 ERR_REF_REJECTED. Returns the old values it judged by,
 * which the caller pins as compare-and-swap expectations so the judgement cannot go stale.
 */
async function enforceRefPolicy(
  policy: RefUpdatePolicy | undefined,
  repo: Repository,
  updates: readonly { ref: string; oldSha?: string; newSha?: string; ephemeral: boolean }[],
): Promise<string[] | undefined> {
  if (policy === undefined) return undefined;
  const olds: string[] = [];
  const hex = /^[0-9a-f]{40}$/i;
  for (const u of updates) {
    // A malformed sha is refused by the operation itself (400); there is nothing to judge.
    if ((u.oldSha !== undefined && !hex.test(u.oldSha)) || (u.newSha !== undefined && !hex.test(u.newSha))) {
      olds.push(u.oldSha ?? ZERO_OID);
      continue;
    }
    const old = (u.oldSha ?? (await repo.getRef(u.ref, { view: spaceOf(u.ephemeral) }))?.oid ?? ZERO_OID).toLowerCase() as Oid;
    // A commit (no newSha yet) always builds on the current tip: a create or a fast-forward.
    const info = u.newSha === undefined
      ? { ref: u.ref, oldOid: old, newOid: old, force: false, delete: false, create: old === ZERO_OID }
      : await describeRefUpdate(internalsOf(repo).objects, u.ref, old, u.newSha.toLowerCase() as Oid);
    const refusal = policy(info);
    if (refusal) throw new RefRejectedError(refusal, { details: { ref: u.ref } });
    olds.push(old);
  }
  return olds;
}

async function readJson(ctx: Ctx): Promise<Record<string, unknown>> {
  const max = ctx.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const declared = ctx.req.headers.get('content-length');
  if (declared !== null && Number(declared) > max) throw new LimitExceededError(`request body exceeds ${max} bytes`, { details: { limit: max } });
  const parts: Uint8Array[] = [];
  let total = 0;
  if (ctx.req.body) {
    for await (const chunk of ctx.req.body) {
      total += chunk.length;
      if (total > max) throw new LimitExceededError(`request body exceeds ${max} bytes`, { details: { limit: max } });
      parts.push(chunk);
    }
  }
  let text: string;
  try {
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    text = new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch (cause) {
    throw new InvalidArgumentError('request body is not UTF-8', { cause });
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError('request body is not valid JSON', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('request body must be a JSON object');
  return value as Record<string, unknown>;
}

function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidArgumentError(`${key} must be a string`);
  return v;
}

function optBool(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${key} must be a boolean`);
  return v;
}

function optPositiveInt(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(`${key} must be a positive integer`);
  return v;
}

function queryBool(url: URL, key: string): boolean {
  const v = url.searchParams.get(key);
  if (v === null || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new InvalidArgumentError(`query parameter ${key} must be true or false`);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (whitespace ignored) to bytes. */
export function decodeBase64(s: string, what = 'content'): Uint8Array {
  const clean = s.replace(/[\s]+/g, '');
  if (clean.length % 4 !== 0 || !BASE64.test(clean)) throw new InvalidArgumentError(`${what} is not valid base64`);
  let bin: string;
  try {
    bin = atob(clean);
  } catch (cause) {
    throw new InvalidArgumentError(`${what} is not valid base64`, { cause });
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function parseChanges(raw: unknown): FileChange[] {
  if (!Array.isArray(raw)) throw new InvalidArgumentError('changes must be an array');
  return raw.map((c: unknown, i): FileChange => {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new InvalidArgumentError(`changes[${i}] must be an object`);
    const o = c as Record<string, unknown>;
    if (typeof o.path !== 'string') throw new InvalidArgumentError(`changes[${i}].path must be a string`);
    if (o.delete === true) return { path: o.path, delete: true };
    if (o.delete !== undefined && o.delete !== false) throw new InvalidArgumentError(`changes[${i}].delete must be true or absent`);
    if (typeof o.content !== 'string') throw new InvalidArgumentError(`changes[${i}].content must be a string`);
    const encoding = o.encoding ?? 'utf-8';
    let content: string | Uint8Array;
    if (encoding === 'utf-8' || encoding === 'utf8') content = o.content;
    else if (encoding === 'base64') content = decodeBase64(o.content, `changes[${i}].content`);
    else throw new InvalidArgumentError(`changes[${i}].encoding must be "utf-8" or "base64"`);
    if (o.mode !== undefined && typeof o.mode !== 'string' && typeof o.mode !== 'number') throw new InvalidArgumentError(`changes[${i}].mode must be a string`);
    return o.mode === undefined ? { path: o.path, content } : { path: o.path, content, mode: String(o.mode) };
  });
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidArgumentError('malformed percent-encoding in the URL');
  }
}

/**
 * Splits the segments after `/repos/` into the repository name and the rest. A first segment
 * holding `%2F` is the whole name; otherwise a second segment that is not a sub-resource
 * keyword is the project part of `owner/project`.
 */
export function splitRepoPath(segments: readonly string[]): { name: string; rest: string[] } {
  const first = decodeSegment(segments[0]!);
  if (first.includes('/')) return { name: first, rest: segments.slice(1) };
  if (segments.length === 1 || SUBRESOURCES.has(segments[1]!)) return { name: first, rest: segments.slice(1) };
  return { name: `${first}/${decodeSegment(segments[1]!)}`, rest: segments.slice(2) };
}

function etagMatches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((s) => s.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}

/** Parses a single `bytes=` range against `size`: the range, 'unsatisfiable', or null (ignore the header). */
export function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // multiple or malformed ranges: serve the whole file
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable'; // an empty file has no last bytes to send
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

async function serveFile(ctx: Ctx, repo: Repository, path: string, ephemeral: boolean): Promise<ApiResponse> {
  const ref = ctx.url.searchParams.get('ref') ?? repo.info.defaultBranch;
  const entry = await repo.readFileEntry(ref, path, { view: spaceOf(ephemeral) });
  const etag = `"${entry.sha}"`;
  const size = entry.content.length;
  const immutable = /^[0-9a-f]{40}$/i.test(ref);
  const base: Record<string, string> = {
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Git-Mode': entry.mode,
  };
  const inm = ctx.req.headers.get('if-none-match');
  if (inm !== null && etagMatches(inm, etag)) return { status: 304, headers: base, body: null };
  const head = ctx.req.method === 'HEAD';
  const rangeHeader = ctx.req.headers.get('range');
  const ifRange = ctx.req.headers.get('if-range');
  if (rangeHeader !== null && (ifRange === null || ifRange.trim() === etag)) {
    const r = parseRange(rangeHeader, size);
    if (r === 'unsatisfiable') {
      return { status: 416, headers: { ...base, 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json; charset=utf-8' }, body: utf8(JSON.stringify({ error: { code: 'ERR_RANGE_NOT_SATISFIABLE', message: `range not satisfiable for ${size} bytes` } })) };
    }
    if (r !== null) {
      const part = entry.content.subarray(r.start, r.end + 1);
      return {
        status: 206,
        headers: { ...base, 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${r.start}-${r.end}/${size}`, 'Content-Length': String(part.length) },
        body: head ? null : part,
      };
    }
  }
  return { status: 200, headers: { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, body: head ? null : entry.content };
}

async function repoRoutes(ctx: Ctx, name: string, rest: string[]): Promise<ApiResponse> {
  const { engine } = ctx.options;
  const method = ctx.req.method;
  const sub = rest[0];

  if (sub === undefined) {
    if (method === 'GET' || method === 'HEAD') {
      requireRepo(ctx, name, 'read');
      return json(200, (await engine.getRepo(name)).info);
    }
    if (method === 'DELETE') {
      requireAdmin(ctx);
      await engine.deleteRepo(name);
      return noContent();
    }
    return methodNotAllowed('GET, DELETE');
  }

  switch (sub) {
    case 'remote-url': {
      if (rest.length !== 1) break;
      if (method !== 'POST') return methodNotAllowed('POST');
      requireAdmin(ctx);
      const body = await readJson(ctx);
      const repo = await engine.getRepo(name);
      const baseUrl = ctx.options.baseUrl ?? ctx.url.origin;
      const ephemeral = optBool(body, 'ephemeral');
      const r = await createRemoteUrl(ctx.options.tokens, repo.name, {
        baseUrl,
        permissions: body.permissions as never,
        ttl: optPositiveInt(body.ttl, 'ttl'),
        ephemeral,
        refs: body.refs as never,
        sub: optString(body, 'sub'),
      });
      return json(200, { url: r.url, token: r.token, expiresAt: r.expiresAt.toISOString() });
    }
    case 'commits': {
      if (rest.length !== 1) break;
      if (method === 'GET' || method === 'HEAD') {
        const { boundEphemeral } = requireRepo(ctx, name, 'read');
        const repo = await engine.getRepo(name);
        const limitRaw = ctx.url.searchParams.get('limit');
        const limit = limitRaw === null ? 50 : Number(limitRaw);
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LOG_LIMIT) throw new InvalidArgumentError(`limit must be an integer in 1..${MAX_LOG_LIMIT}`);
        const ref = ctx.url.searchParams.get('ref') ?? repo.info.defaultBranch;
        const log = await repo.log(ref, { limit, view: spaceOf(boundEphemeral || queryBool(ctx.url, 'ephemeral')) });
        return json(200, { commits: log.map((c) => ({ sha: c.sha, message: c.message, author: c.author, committer: c.committer, parents: c.parents, tree: c.tree })) });
      }
      if (method !== 'POST') return methodNotAllowed('GET, POST');
      const { boundEphemeral, policy } = requireRepo(ctx, name, 'write');
      const body = await readJson(ctx);
      const repo = await engine.getRepo(name);
      const branch = optString(body, 'branch');
      if (branch === undefined) throw new InvalidArgumentError('branch is required');
      await enforceRefPolicy(policy, repo, [{ ref: `refs/heads/${branch}`, ephemeral: boundEphemeral || optBool(body, 'ephemeral') === true }]);
      const message = optString(body, 'message');
      if (message === undefined) throw new InvalidArgumentError('message is required');
      const changes = parseChanges(body.changes);
      const ephemeral = boundEphemeral || optBool(body, 'ephemeral') === true;
      const key = body.idempotencyKey;
      const r = await repo.commit({
        branch,
        message,
        author: body.author as never,
        ...(body.committer !== undefined ? { committer: body.committer as never } : {}),
        changes,
        expectedHeadSha: optString(body, 'expectedHeadSha'),
        baseBranch: optString(body, 'baseBranch'),
        space: spaceOf(ephemeral),
        ttlSeconds: optPositiveInt(body.ttl, 'ttl'),
        ...(key !== undefined && key !== null ? { idempotencyKey: key as string } : {}),
      });
      const { replayed, ...result } = r;
      return json(201, result, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    }
    case 'files': {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed('GET, HEAD');
      const { boundEphemeral } = requireRepo(ctx, name, 'read');
      if (rest.length < 2) throw new InvalidArgumentError('a file path is required: /files/<path>');
      const path = rest.slice(1).map(decodeSegment).join('/');
      const repo = await engine.getRepo(name);
      return serveFile(ctx, repo, path, boundEphemeral || queryBool(ctx.url, 'ephemeral'));
    }
    case 'tree': {
      if (rest.length !== 1) break;
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed('GET');
      const { boundEphemeral } = requireRepo(ctx, name, 'read');
      const repo = await engine.getRepo(name);
      const ref = ctx.url.searchParams.get('ref') ?? repo.info.defaultBranch;
      const path = ctx.url.searchParams.get('path') ?? undefined;
      const entries = await repo.listTree(ref, { path, recursive: queryBool(ctx.url, 'recursive'), view: spaceOf(boundEphemeral || queryBool(ctx.url, 'ephemeral')) });
      return json(200, { entries });
    }
    case 'branches': {
      if (rest.length === 1) {
        if (method === 'GET' || method === 'HEAD') {
          const { boundEphemeral } = requireRepo(ctx, name, 'read');
          const repo = await engine.getRepo(name);
          return json(200, { branches: await repo.listBranches({ space: spaceOf(boundEphemeral || queryBool(ctx.url, 'ephemeral')) }) });
        }
        if (method !== 'POST') return methodNotAllowed('GET, POST');
        const { boundEphemeral, policy } = requireRepo(ctx, name, 'write');
        const body = await readJson(ctx);
        const repo = await engine.getRepo(name);
        const branchName = optString(body, 'name');
        if (branchName === undefined) throw new InvalidArgumentError('name is required');
        const ephemeral = boundEphemeral || optBool(body, 'ephemeral') === true;
        await enforceRefPolicy(policy, repo, [{ ref: `refs/heads/${branchName}`, oldSha: ZERO_OID, ephemeral }]);
        const from = optString(body, 'from') ?? repo.info.defaultBranch;
        const r = await repo.createBranch(branchName, from, { space: spaceOf(ephemeral), ttlSeconds: optPositiveInt(body.ttl, 'ttl') });
        return json(201, { ...r, ephemeral });
      }
      if (method !== 'DELETE') return methodNotAllowed('DELETE');
      const { boundEphemeral, policy } = requireRepo(ctx, name, 'write');
      const branchName = rest.slice(1).map(decodeSegment).join('/');
      const repo = await engine.getRepo(name);
      const expected = ctx.url.searchParams.get('expectedSha') ?? undefined;
      const ephemeral = boundEphemeral || queryBool(ctx.url, 'ephemeral');
      await enforceRefPolicy(policy, repo, [{ ref: `refs/heads/${branchName}`, newSha: ZERO_OID, ephemeral }]);
      // An empty expectedSha is a malformed expectation (400), not none.
      await repo.deleteBranch(branchName, { space: spaceOf(ephemeral), ...(expected !== undefined ? { expectedSha: expected } : {}) });
      return noContent();
    }
    case 'refs': {
      if (rest.length !== 1) break;
      if (method !== 'POST') return methodNotAllowed('POST');
      const { boundEphemeral, policy } = requireRepo(ctx, name, 'write');
      const body = await readJson(ctx);
      const repo = await engine.getRepo(name);
      const raw = body.updates;
      if (!Array.isArray(raw) || raw.length === 0) throw new InvalidArgumentError('updates must be a non-empty array');
      if (raw.length > MAX_REF_UPDATES) throw new LimitExceededError(`at most ${MAX_REF_UPDATES} updates per call`);
      const ephemeral = boundEphemeral || optBool(body, 'ephemeral') === true;
      const expiresAt = ephemeral ? internalsOf(repo).ephemeralExpiry(optPositiveInt(body.ttl, 'ttl')) : undefined;
      const updates: RefUpdate[] = raw.map((u: unknown, i) => {
        if (u === null || typeof u !== 'object') throw new InvalidArgumentError(`updates[${i}] must be an object`);
        const o = u as Record<string, unknown>;
        if (typeof o.ref !== 'string') throw new InvalidArgumentError(`updates[${i}].ref must be a string`);
        if (typeof o.newSha !== 'string') throw new InvalidArgumentError(`updates[${i}].newSha must be a string`);
        if (o.oldSha !== undefined && o.oldSha !== null && typeof o.oldSha !== 'string') throw new InvalidArgumentError(`updates[${i}].oldSha must be a string`);
        return {
          ref: o.ref,
          newOid: o.newSha,
          ...(typeof o.oldSha === 'string' ? { oldOid: o.oldSha } : {}),
          space: spaceOf(ephemeral),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        };
      });
      if (policy !== undefined) {
        // Full names are checked (and short ones refused) by the transaction; judge valid ones only.
        const full = updates.filter((u) => u.ref.startsWith('refs/'));
        const olds = await enforceRefPolicy(policy, repo, full.map((u) => ({ ref: u.ref, oldSha: u.oldOid, newSha: u.newOid.toLowerCase(), ephemeral })));
        full.forEach((u, i) => (u.oldOid ??= olds![i]));
      }
      const applied = await repo.refs.transaction(updates, { source: 'api' });
      return json(200, { updates: applied.map((u) => ({ ref: u.ref, space: u.space, oldSha: u.oldOid, newSha: u.newOid })) });
    }
    case 'ephemeral': {
      if (rest.length !== 2 || rest[1] !== 'promote') break;
      if (method !== 'POST') return methodNotAllowed('POST');
      const { boundEphemeral, policy } = requireRepo(ctx, name, 'write');
      if (boundEphemeral) throw new ForbiddenError('a token bound to the ephemeral namespace cannot promote into the regular one');
      const body = await readJson(ctx);
      const repo = await engine.getRepo(name);
      const baseBranch = optString(body, 'baseBranch');
      if (baseBranch === undefined) throw new InvalidArgumentError('baseBranch is required');
      const targetBranch = optString(body, 'targetBranch');
      const expectedTargetSha = optString(body, 'expectedTargetSha');
      if (policy !== undefined) {
        const source = await repo.refs.get(`refs/heads/${baseBranch}`, { space: 'ephemeral' });
        if (source !== undefined) {
          const ref = `refs/heads/${targetBranch ?? baseBranch}`;
          await enforceRefPolicy(policy, repo, [{ ref, oldSha: expectedTargetSha, newSha: source.oid, ephemeral: false }]);
        }
      }
      // Given but empty is a malformed expectation (400 from promote), never "no expectation".
      const r = await repo.promote({ baseBranch, ...(targetBranch !== undefined ? { targetBranch } : {}), ...(expectedTargetSha !== undefined ? { expectedTargetSha } : {}) });
      return json(200, r);
    }
  }
  throw new NotFoundError('ERR_NOT_FOUND', `no such API route: ${ctx.url.pathname}`);
}

async function route(ctx: Ctx, segments: string[]): Promise<ApiResponse> {
  if (segments[0] !== 'repos') throw new NotFoundError('ERR_NOT_FOUND', `no such API route: ${ctx.url.pathname}`);
  if (segments.length === 1) {
    const method = ctx.req.method;
    if (method === 'POST') {
      requireAdmin(ctx);
      const body = await readJson(ctx);
      const name = body.name;
      if (typeof name !== 'string') throw new InvalidArgumentError('name must be a string');
      const defaultBranch = optString(body, 'defaultBranch');
      const repo = await ctx.options.engine.createRepo(name, defaultBranch ? { defaultBranch } : {});
      return json(201, repo.info, { Location: `${ctx.url.pathname.replace(/\/+$/, '')}/${name}` });
    }
    if (method === 'GET' || method === 'HEAD') {
      requireAdmin(ctx);
      return json(200, { repos: await ctx.options.engine.listRepos() });
    }
    return methodNotAllowed('GET, POST');
  }
  const { name, rest } = splitRepoPath(segments.slice(1));
  return repoRoutes(ctx, name, rest);
}

/** Handles one request; null when the path is not under the API prefix. Never throws. */
export async function handleApiRequest(req: ApiRequest, options: ApiOptions): Promise<ApiResponse | null> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return null;
  }
  const prefix = (options.prefix ?? '/api/v1').replace(/\/+$/, '');
  if (url.pathname !== prefix && !url.pathname.startsWith(prefix + '/')) return null;
  const segments = url.pathname.slice(prefix.length).split('/').filter((s) => s !== '');
  try {
    const principal = await authenticate(req, options);
    const ctx: Ctx = { req, url, options, principal };
    const res = await route(ctx, segments);
    if (req.method === 'HEAD') return { ...res, body: null };
    return res;
  } catch (err) {
    return apiErrorResponse(err, options.onError);
  }
}

async function* readableToIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A web-standard handler: `undefined` for paths outside the API, so handlers can be chained. */
export type ApiHandler = (req: Request) => Promise<Response | undefined>;

/** Creates the JSON API as a `(Request) => Promise<Response | undefined>` handler. */
export function createApiHandler(options: ApiOptions): ApiHandler {
  checkOptions(options);
  return async (req) => {
    const r = await handleApiRequest({ method: req.method, url: req.url, headers: req.headers, body: req.body ? readableToIterable(req.body) : null }, options);
    if (r === null) return undefined;
    return new Response(r.body as BodyInit | null, { status: r.status, headers: r.headers });
  };
}

function checkOptions(options: ApiOptions): void {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
  if (!options.engine) throw new InvalidArgumentError('options.engine is required');
  if (!options.tokens) throw new InvalidArgumentError('options.tokens is required');
  if (options.adminKey !== undefined && (typeof options.adminKey !== 'string' || options.adminKey.length < 16)) {
    throw new InvalidArgumentError('options.adminKey must be a string of at least 16 characters');
  }
  if (options.maxBodyBytes !== undefined && (!Number.isSafeInteger(options.maxBodyBytes) || options.maxBodyBytes <= 0)) {
    throw new InvalidArgumentError('options.maxBodyBytes must be a positive integer');
  }
}

/** The shape of a Node `IncomingMessage` the adapter needs (no `node:` import here). */
export interface NodeLikeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  socket?: { encrypted?: boolean };
  readableEnded?: boolean;
  resume(): unknown;
}

/** The shape of a Node `ServerResponse` the adapter needs. */
export interface NodeLikeResponse {
  statusCode: number;
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  end(chunk?: Uint8Array): unknown;
}

/** Creates the JSON API as a Node `(req, res, next?)` handler (http.createServer, Express, Connect). */
export function createApiNodeHandler(options: ApiOptions): (req: NodeLikeRequest, res: NodeLikeResponse, next?: (err?: unknown) => void) => void {
  checkOptions(options);
  return (req, res, next) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      else headers.set(k, v);
    }
    const host = headers.get('host') ?? 'localhost';
    const scheme = req.socket?.encrypted ? 'https' : 'http';
    const path = req.originalUrl ?? req.url ?? '/';
    let absolute: string;
    try {
      absolute = new URL(path, `${scheme}://${host}`).toString();
    } catch {
      absolute = new URL(path, `${scheme}://localhost`).toString();
    }
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    handleApiRequest({ method, url: absolute, headers, body: hasBody ? req : null }, options).then(
      (r) => {
        if (r === null) {
          if (next) return next();
          const nf = apiErrorResponse(new NotFoundError('ERR_NOT_FOUND', 'not found'));
          r = nf;
        }
        res.statusCode = r.status;
        for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
        if (r.body && !r.headers['Content-Length']) res.setHeader('Content-Length', String(r.body.length));
        res.end(r.body ?? undefined);
        // A body we did not read (an early error) must not keep the connection busy.
        if (!req.readableEnded) req.resume();
      },
      (err) => {
        options.onError?.(err);
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        }
      },
    );
  };
}

export { createRemoteUrl, gitUrl, type RemoteUrl, type RemoteUrlOptions } from '../access/remote-url.js';
