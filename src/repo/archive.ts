/**
 * Archives of a revision's tree, as `git archive` writes them (archive/ holds the formats): the
 * entries in git's order (each directory before its contents, tree order within a directory),
 * an optional `prefix` written literally in front of every path (and, ending in `/`, as a first
 * directory entry), and an optional `path` that works as git's pathspec does: only what lies at
 * or below it, with the directories leading to it. Everything that can fail with a 4xx (the
 * revision, the path) is checked before the stream starts; blobs are read in batches as it runs.
 * `.gitattributes` (`export-ignore`, `export-subst`) is not applied.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { splitDirPath } from '../object/path.js';
import { isGitlinkMode, isTreeMode, type TreeEntry } from '../object/tree.js';
import type { View } from '../refs/space.js';
import type { ArchiveEntry } from '../archive/entry.js';
import { TarEncoder } from '../archive/tar.js';
import { ZipEncoder } from '../archive/zip.js';
import { gzipStream } from '../archive/gzip.js';
import type { RepoContext } from './context.js';
import { resolveCommit } from './read.js';

/** Archive formats. */
export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip';

/** Options of `repo.archive`. */
export interface ArchiveOptions {
  /** Default 'tar'. */
  format?: ArchiveFormat;
  /** Only this file or directory (and the directories leading to it), as a pathspec of `git archive`. */
  path?: string;
  /** Prepended to every path, as `git archive --prefix` (end it with `/` for a top-level directory). */
  prefix?: string;
  view?: View;
}

/** An archive ready to stream: the commit and the tree it archives (the ETag), and the bytes. */
export interface Archive {
  commit: Oid;
  /** The tree (or, for a `path` naming a file, the blob) archived. */
  tree: Oid;
  format: ArchiveFormat;
  body: AsyncIterable<Uint8Array>;
}

/** Blobs read per batch while streaming. */
const BATCH = 64;

/** Checks the format and prefix (the path is checked against the tree). */
function checkOptions(options: ArchiveOptions): { format: ArchiveFormat; prefix: string } {
  const format = options.format ?? 'tar';
  if (format !== 'tar' && format !== 'tar.gz' && format !== 'zip')
    throw new InvalidArgumentError(`unknown archive format "${String(format)}" (tar, tar.gz or zip)`);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || prefix.length > 1024 || prefix.includes('\0') || prefix.startsWith('/') || prefix.split('/').includes('..')) {
    throw new InvalidArgumentError('prefix must be a relative path without ".." or NUL');
  }
  return { format, prefix };
}

/** The entries `git archive` writes for `root`, in its order, blobs read in batches. */
async function* walk(ctx: RepoContext, root: Oid, base: string): AsyncGenerator<ArchiveEntry> {
  const entries = await ctx.objects.tree(root);
  for (let i = 0; i < entries.length; i += BATCH) {
    const chunk = entries.slice(i, i + BATCH);
    const blobs = chunk.filter((e) => !isTreeMode(e.mode) && !isGitlinkMode(e.mode));
    const raws = await ctx.objects.readMany(blobs.map((e) => e.oid));
    const bodies = new Map<Oid, Uint8Array>();
    blobs.forEach((e, j) => {
      const r = raws[j];
      if (r === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${e.oid} not found`, { details: { oid: e.oid } });
      bodies.set(e.oid, r.body);
    });
    for (const e of chunk) {
      const path = base + e.name;
      if (isTreeMode(e.mode)) {
        yield { path: `${path}/`, kind: 'dir', mode: 0o40000, oid: e.oid };
        yield* walk(ctx, e.oid, `${path}/`);
      } else yield entryOf(e, path, bodies.get(e.oid));
    }
  }
}

function entryOf(e: TreeEntry, path: string, content: Uint8Array | undefined): ArchiveEntry {
  const mode = Number.parseInt(e.mode, 8);
  if (isGitlinkMode(e.mode)) return { path: `${path}/`, kind: 'dir', mode, oid: e.oid };
  return { path, kind: e.mode === '120000' ? 'symlink' : 'file', mode, oid: e.oid, content };
}

/** The entries of a pathspec: the directories leading to `path`, then what is at it. */
async function* walkPath(ctx: RepoContext, root: Oid, parts: string[], prefix: string): AsyncGenerator<ArchiveEntry> {
  let tree = root;
  let base = prefix;
  for (let i = 0; i < parts.length; i++) {
    const e = (await ctx.objects.tree(tree)).find((x) => x.name === parts[i])!;
    if (!isTreeMode(e.mode)) {
      const body = isGitlinkMode(e.mode) ? undefined : (await ctx.objects.read(e.oid)).body;
      yield entryOf(e, base + e.name, body);
      return;
    }
    base += `${e.name}/`;
    yield { path: base, kind: 'dir', mode: 0o40000, oid: e.oid };
    tree = e.oid;
  }
  yield* walk(ctx, tree, base);
}

/** Resolves the revision and path (NotFoundError for either), then returns the archive to stream. */
export async function archive(ctx: RepoContext, refOrSha: string, options: ArchiveOptions = {}): Promise<Archive> {
  const { format, prefix } = checkOptions(options);
  const commitOid = await resolveCommit(ctx, refOrSha, options.view ?? 'regular');
  const commit = await ctx.objects.commit(commitOid);
  const parts = options.path === undefined || options.path === '' ? [] : splitDirPath(options.path);
  let target = commit.tree;
  for (let i = 0; i < parts.length; i++) {
    const e = (await ctx.objects.tree(target)).find((x) => x.name === parts[i]);
    if (e === undefined || (i < parts.length - 1 && !isTreeMode(e.mode))) {
      throw new NotFoundError('ERR_PATH_NOT_FOUND', `path "${options.path}" not found at ${refOrSha}`, { details: { path: options.path, ref: refOrSha } });
    }
    target = e.oid;
  }
  const mtime = commit.committer.timestamp;
  const entries = async function* (): AsyncGenerator<ArchiveEntry> {
    // git writes a prefix ending in "/" as a directory of its own, first (with the root tree's id).
    if (prefix.endsWith('/')) yield { path: prefix.replace(/\/+$/, '/'), kind: 'dir', mode: 0o40777, oid: commit.tree };
    yield* parts.length === 0 ? walk(ctx, commit.tree, prefix) : walkPath(ctx, commit.tree, parts, prefix);
  };
  const body = format === 'zip' ? zipBody(entries(), mtime, commitOid) : tarBody(entries(), mtime, commitOid);
  return { commit: commitOid, tree: target, format, body: format === 'tar.gz' ? gzipStream(body) : body };
}

async function* tarBody(entries: AsyncIterable<ArchiveEntry>, mtime: number, commit: Oid): AsyncGenerator<Uint8Array> {
  const tar = new TarEncoder({ mtime });
  yield* tar.globalHeader(commit);
  for await (const e of entries) yield* tar.entry(e);
  yield tar.finish();
}

async function* zipBody(entries: AsyncIterable<ArchiveEntry>, mtime: number, commit: Oid): AsyncGenerator<Uint8Array> {
  const zip = new ZipEncoder({ mtime });
  for await (const e of entries) yield* zip.entry(e);
  yield* zip.finish(commit);
}
