/**
 * Archives of a revision's tree, as `git archive` writes them (archive/ holds the formats): the
 * entries in git's order (each directory before its contents, tree order within a directory),
 * an optional `prefix` written literally in front of every path (and, ending in `/`, as a first
 * directory entry), and an optional `path` that works as git's pathspec does: only what lies at
 * or below it, with the directories leading to it. Everything that can fail with a 4xx (the
 * revision, the path, a refused export-subst placeholder) is checked before the stream starts
 * (archive-plan.ts, which also applies `.gitattributes` and pins the objects); blobs are read in
 * batches as it runs.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { splitDirPath } from '../object/path.js';
import { isTreeMode } from '../object/tree.js';
import type { View } from '../refs/space.js';
import type { ArchiveEntry } from '../archive/entry.js';
import { TarEncoder } from '../archive/tar.js';
import { ZipEncoder } from '../archive/zip.js';
import { gzipStream } from '../archive/gzip.js';
import type { RepoContext } from './context.js';
import { resolveCommit } from './read.js';
import { type ArchivePlan, planArchive } from './archive-plan.js';

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
  /** True when export-subst expanded a file: the bytes then depend on the commit, not only the tree. */
  substituted: boolean;
  /** The bytes. Its objects stay pinned against the sweep until it ends; call `return()` to drop it unread. */
  body: AsyncIterableIterator<Uint8Array>;
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

/** The archive's bytes: blobs read in batches as the plan's entries are written; the pin released at the end. */
async function* entriesOf(ctx: RepoContext, plan: ArchivePlan): AsyncGenerator<ArchiveEntry> {
  const { entries } = plan;
  for (let i = 0; i < entries.length; i += BATCH) {
    const chunk = entries.slice(i, i + BATCH);
    const unread = chunk.filter((e) => e.kind !== 'dir' && e.content === undefined);
    const raws = await ctx.objects.readMany(unread.map((e) => e.oid));
    unread.forEach((e, j) => {
      const r = raws[j];
      if (r === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${e.oid} not found`, { details: { oid: e.oid } });
      e.content = r.body;
    });
    for (const e of chunk) {
      yield e;
      if (!e.substituted) e.content = undefined; // let the bytes go once written
    }
  }
}

/**
 * A body that releases the plan's pin when it ends, fails or is closed (`return()`), even if
 * it never started: an archive answered with 304, or dropped, must not pin objects forever.
 */
function pinnedBody(inner: AsyncGenerator<Uint8Array>, release: () => void): AsyncIterableIterator<Uint8Array> {
  let released = false;
  const finish = () => {
    if (!released) {
      released = true;
      release();
    }
  };
  const body: AsyncIterableIterator<Uint8Array> = {
    [Symbol.asyncIterator]: () => body,
    next: async () => {
      try {
        const r = await inner.next();
        if (r.done) finish();
        return r;
      } catch (err) {
        finish();
        throw err;
      }
    },
    return: async (value?: unknown) => {
      finish();
      return inner.return(value as undefined);
    },
  };
  return body;
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
  const plan = await planArchive(ctx, commitOid, commit, parts, prefix);
  const entries = async function* (): AsyncGenerator<ArchiveEntry> {
    // git writes a prefix ending in "/" as a directory of its own, first (with the root tree's id).
    if (prefix.endsWith('/')) yield { path: prefix.replace(/\/+$/, '/'), kind: 'dir', mode: 0o40777, oid: commit.tree };
    yield* entriesOf(ctx, plan);
  };
  const bytes = format === 'zip' ? zipBody(entries(), mtime, commitOid) : tarBody(entries(), mtime, commitOid);
  const body = pinnedBody(format === 'tar.gz' ? gzipStream(bytes) : bytes, plan.release);
  return { commit: commitOid, tree: target, format, substituted: plan.substituted, body };
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
