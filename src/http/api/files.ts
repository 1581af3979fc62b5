/**
 * Routes of file contents and trees (read). Files answer raw bytes with an ETag (the blob's
 * sha), conditional requests (`If-None-Match`) and single byte ranges (`Range`, `If-Range`).
 */
import { isOid } from '../../object/oid.js';
import { spaceOf } from '../../refs/space.js';
import { InvalidArgumentError } from '../../errors.js';
import { concat, utf8 } from '../../platform/bytes.js';
import { queryBool } from './body.js';
import type { ApiResponse } from './responses.js';
import { json } from './responses.js';
import type { ApiRoute, RouteContext } from './router.js';
import { assertReachable } from './reachable.js';

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

/** A file to answer: its bytes from `start` to `end` (inclusive) whole, or streamed for a big one. */
interface FileBody {
  sha: string;
  mode: string;
  size: number;
  bytes(start: number, end: number): Uint8Array | AsyncIterable<Uint8Array>;
}

/** Files from this size on are streamed (a chunked blob is inflated piece by piece, object/chunked.ts). */
const STREAM_FILES_OVER = 4 * 1024 * 1024;

/** Bytes `start`..`end` (inclusive) of a stream. */
async function* sliceStream(source: AsyncIterable<Uint8Array>, start: number, end: number): AsyncGenerator<Uint8Array> {
  let at = 0;
  for await (const piece of source) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end + 1 - at, piece.length);
    if (to > from) yield piece.subarray(from, to);
    at += piece.length;
    if (at > end) return;
  }
}

/** The answer for one file's bytes, honouring conditional and range headers. */
function fileResponse(ctx: RouteContext, ref: string, entry: FileBody): ApiResponse {
  const etag = `"${entry.sha}"`;
  const size = entry.size;
  const immutable = isOid(ref.toLowerCase());
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
      return {
        status: 416,
        headers: { ...base, 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json; charset=utf-8' },
        body: utf8(JSON.stringify({ error: { code: 'ERR_RANGE_NOT_SATISFIABLE', message: `range not satisfiable for ${size} bytes` } })),
      };
    }
    if (r !== null) {
      return {
        status: 206,
        headers: {
          ...base,
          'Content-Type': 'application/octet-stream',
          'Content-Range': `bytes ${r.start}-${r.end}/${size}`,
          'Content-Length': String(r.end + 1 - r.start),
        },
        body: head ? null : entry.bytes(r.start, r.end),
      };
    }
  }
  return {
    status: 200,
    headers: { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
    body: head ? null : entry.bytes(0, size - 1),
  };
}

async function serveFile(ctx: RouteContext): Promise<ApiResponse> {
  if (ctx.params.path === '') throw new InvalidArgumentError('a file path is required: /files/<path>');
  const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
  const ref = ctx.url.searchParams.get('ref') ?? repo.info.defaultBranch;
  const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
  await assertReachable(ctx.principal, repo, ref, view);
  const file = await repo.readFileStream(ref, ctx.params.path!, { view });
  if (file.size >= STREAM_FILES_OVER) return fileResponse(ctx, ref, { ...file, bytes: (start, end) => sliceStream(file.content, start, end) });
  const parts: Uint8Array[] = [];
  for await (const p of file.content) parts.push(p);
  const content = concat(parts);
  return fileResponse(ctx, ref, { ...file, bytes: (start, end) => content.subarray(start, end + 1) });
}

/** File and tree routes (`HEAD` on files is listed in `Allow`, as it always was). */
export const fileRoutes: readonly ApiRoute[] = [
  { method: 'GET', path: '/repos/:repo/files/*path?', access: 'read', handle: serveFile },
  { method: 'HEAD', path: '/repos/:repo/files/*path?', access: 'read', handle: serveFile },
  {
    method: 'GET',
    path: '/repos/:repo/tree',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const ref = ctx.url.searchParams.get('ref') ?? repo.info.defaultBranch;
      const path = ctx.url.searchParams.get('path') ?? undefined;
      const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
      await assertReachable(ctx.principal, repo, ref, view);
      const entries = await repo.listTree(ref, { path, recursive: queryBool(ctx.url, 'recursive'), view });
      return json(200, { entries });
    },
  },
];
