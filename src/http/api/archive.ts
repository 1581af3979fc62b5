/**
 * The archive route (read): `GET /repos/:repo/archive?ref=&format=tar|tar.gz|zip&path=&prefix=`
 * streams the tree as `git archive` writes it (repo/archive.ts), with the archived tree's id as
 * the ETag (the tree and the commit when export-subst expanded a file; a matching
 * `If-None-Match` is a 304). The revision, the path and export-subst placeholders are checked
 * before the first byte, so a missing one is an ordinary 404 and a refused placeholder a 400.
 */
import { InvalidArgumentError } from '../../errors.js';
import { isOid } from '../../object/oid.js';
import { spaceOf } from '../../refs/space.js';
import type { ArchiveFormat } from '../../repo/archive.js';
import { queryBool } from './body.js';
import { assertReachable } from './reachable.js';
import type { ApiRoute } from './router.js';

const TYPES: Record<ArchiveFormat, { type: string; ext: string }> = {
  tar: { type: 'application/x-tar', ext: 'tar' },
  'tar.gz': { type: 'application/gzip', ext: 'tar.gz' },
  zip: { type: 'application/zip', ext: 'zip' },
};

/** `format`: tar (default), tar.gz (or tgz) or zip. */
function formatOf(url: URL): ArchiveFormat {
  const f = url.searchParams.get('format') ?? 'tar';
  if (f === 'tgz') return 'tar.gz';
  if (f === 'tar' || f === 'tar.gz' || f === 'zip') return f;
  throw new InvalidArgumentError(`format must be tar, tar.gz or zip, not ${JSON.stringify(f.slice(0, 40))}`);
}

/** Archive routes. */
export const archiveRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:repo/archive',
    access: 'read',
    handle: async (ctx) => {
      const repo = await ctx.options.engine.getRepo(ctx.params.repo!);
      const q = ctx.url.searchParams;
      const ref = q.get('ref') ?? repo.info.defaultBranch;
      const view = spaceOf(ctx.bound || queryBool(ctx.url, 'ephemeral'));
      await assertReachable(ctx.principal, repo, ref, view);
      const format = formatOf(ctx.url);
      const a = await repo.archive(ref, { format, view, path: q.get('path') ?? undefined, prefix: q.get('prefix') ?? undefined });
      // The tree decides the bytes, unless export-subst wrote the commit into a file.
      const etag = a.substituted ? `"${a.tree}-${a.commit}"` : `"${a.tree}"`;
      const name = `${repo.name.replace(/^.*\//, '')}-${a.commit.slice(0, 12)}.${TYPES[format].ext}`;
      const headers: Record<string, string> = {
        ETag: etag,
        'Cache-Control': isOid(ref.toLowerCase()) ? 'public, max-age=31536000, immutable' : 'no-cache',
        'Content-Type': TYPES[format].type,
        'Content-Disposition': `attachment; filename="${name}"`,
        'X-Git-Commit': a.commit,
      };
      const inm = ctx.req.headers.get('if-none-match');
      const fresh = inm?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');
      if (fresh || ctx.req.method === 'HEAD') await a.body.return?.(); // unpins the objects
      if (fresh) return { status: 304, headers, body: null };
      return { status: 200, headers, body: ctx.req.method === 'HEAD' ? null : a.body };
    },
  },
];
