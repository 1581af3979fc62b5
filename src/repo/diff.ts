/**
 * Tree-to-tree diffs of a repository: the walk compares two trees a level at a time (one batched
 * read per level) and never opens a subtree whose id is the same on both sides, so the cost
 * follows what changed, not the size of the tree. Deleted and added files are paired into
 * renames (src/diff/renames.ts), then each changed text file gets git's line diff and hunks
 * (src/diff/). Output order is git's: by path, a rename at its new path; a change between a file
 * and a symlink or submodule is a type change (printed as a deletion and a creation, as git does).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { isTreeMode, nameToBytes, TREE_MODE, type TreeEntry } from '../object/tree.js';
import { compare } from '../platform/bytes.js';
import type { View } from '../refs/space.js';
import { isBinary } from '../diff/binary.js';
import { findRenames, type RenameCandidate } from '../diff/renames.js';
import { scorePercent, spanHashes } from '../diff/similarity.js';
import { defaultAbbrevLength, formatFile, makeHunks, uniqueAbbrev, type Hunk } from '../diff/unified.js';
import { oidToBytes } from '../object/oid.js';
import { diffLines, splitLines } from '../diff/xdiff.js';
import type { RepoContext } from './context.js';
import { peel, resolveRevision } from './revision.js';

/** Options of `Repository.diff` (and of the files of `compare`). */
export interface DiffOptions {
  /** Only paths equal to or under one of these (`src`, `src/a.ts`). */
  paths?: string[];
  /** Context lines around changes (default 3). */
  contextLines?: number;
  /** Pair deleted and added files into renames (default true): exact, then by similarity. */
  renames?: boolean;
  /** Include hunks per file (default true). */
  hunks?: boolean;
  /** Files larger than this (bytes) get no line diff and `truncated: true` (default 8 MiB). */
  maxFileBytes?: number;
  /** At most this many files get a line diff; the rest are listed with `truncated: true` (default 3000). */
  maxFiles?: number;
  /** Also build the unified text `git diff` prints (`patch`). */
  patch?: boolean;
  /**
   * Least length of abbreviated ids in `index` lines; default git's (`core.abbrev` unset): from the
   * repository's object count, 7 under 2^14 objects, 8 under 2^16, … Either way an id is
   * lengthened until no other object of the repository starts with it, as git does.
   */
  abbrev?: number;
  view?: View;
}

/** One hunk as the API shows it: the shape of src/diff/unified.ts `Hunk`, its lines decoded as UTF-8. */
export type DiffHunk = Hunk;

/** One changed file. */
export interface DiffFile {
  path: string;
  oldPath?: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'type-changed';
  oldMode?: string;
  newMode?: string;
  oldSha?: Oid;
  newSha?: Oid;
  binary: boolean;
  additions: number;
  deletions: number;
  /** Rename similarity, percent. */
  similarity?: number;
  hunks?: DiffHunk[];
  /** No line diff: the file is over `maxFileBytes`, or past `maxFiles`. */
  truncated?: true;
}

/** A diff: the files, and the unified text when asked. */
export interface DiffResult {
  files: DiffFile[];
  /** True when some file was not line-diffed (see DiffFile.truncated). */
  truncated?: true;
  /** The unified text (bytes, as `git diff` prints them), with `patch: true`. */
  patch?: Uint8Array;
}

type Side = { mode: string; oid: Oid };
type Raw = { path: string; old?: Side; new?: Side };

const latin1 = new TextDecoder('latin1');
const utf8Decoder = new TextDecoder();
/** A path as the byte string the formatters work on. */
const bytePath = (p: string) => latin1.decode(nameToBytes(p));
const kind = (mode: string) => (mode === '120000' ? 'link' : mode === '160000' ? 'gitlink' : isTreeMode(mode) ? 'tree' : 'file');

/** git's empty tree: a diff from it lists every file as added, whether or not the store holds it. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904' as Oid;

/** The tree a ref, sha, commit or tag names (the empty tree's id: undefined, no tree); errors for blobs. */
export async function treeOf(ctx: RepoContext, refOrSha: string, view: View): Promise<Oid | undefined> {
  if (refOrSha === EMPTY_TREE) return undefined;
  const oid = await resolveRevision(ctx.objects, ctx.refs, refOrSha, view);
  const [p] = await peel(ctx.objects, [oid]);
  if (p!.type === 'tree') return p!.oid;
  if (p!.type === 'commit') return (await ctx.objects.commit(p!.oid)).tree;
  throw new InvalidArgumentError(`${refOrSha} names a ${p!.type ?? 'missing object'}, not a commit or tree`, { details: { ref: refOrSha } });
}

function inPaths(path: string, isTree: boolean, paths: readonly string[] | undefined): boolean {
  if (paths === undefined) return true;
  return paths.some((s) => path === s || path.startsWith(s + '/') || (isTree && s.startsWith(path + '/')));
}

/** Changed entries between two trees (files only; a subtree on one side is walked whole), in path order. */
export async function changedEntries(ctx: RepoContext, oldTree: Oid | undefined, newTree: Oid | undefined, paths?: readonly string[]): Promise<Raw[]> {
  const out: Raw[] = [];
  let level: { prefix: string; a?: Oid; b?: Oid }[] = oldTree === newTree ? [] : [{ prefix: '', a: oldTree, b: newTree }];
  while (level.length > 0) {
    const ids = [...new Set(level.flatMap((l) => [l.a, l.b].filter((x): x is Oid => x !== undefined)))];
    const decoded = await ctx.objects.decodeMany(ids);
    const trees = new Map<Oid, readonly TreeEntry[]>(
      ids.map((o, i) => {
        const d = decoded[i]!;
        return [o, d.type === 'tree' ? d.entries : []];
      }),
    );
    const next: typeof level = [];
    for (const l of level) {
      const ea = new Map((l.a ? trees.get(l.a)! : []).map((e) => [e.name, e]));
      const eb = new Map((l.b ? trees.get(l.b)! : []).map((e) => [e.name, e]));
      for (const name of new Set([...ea.keys(), ...eb.keys()])) {
        const x = ea.get(name);
        const y = eb.get(name);
        if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
        const path = l.prefix + name;
        const xt = x !== undefined && isTreeMode(x.mode);
        const yt = y !== undefined && isTreeMode(y.mode);
        if (!inPaths(path, xt || yt, paths)) continue;
        if (xt || yt) {
          if (xt !== yt || x === undefined || y === undefined) {
            // A file on one side, a directory on the other: the file is deleted or added on its own.
            if (x && !xt) out.push({ path, old: x });
            if (y && !yt) out.push({ path, new: y });
          }
          next.push({ prefix: path + '/', a: xt ? x!.oid : undefined, b: yt ? y!.oid : undefined });
        } else out.push({ path, ...(x ? { old: x } : {}), ...(y ? { new: y } : {}) });
      }
    }
    level = next;
  }
  const keyed = out.map((r) => ({ r, k: nameToBytes(r.path) }));
  keyed.sort((p, q) => compare(p.k, q.k));
  return keyed.map((x) => x.r);
}

/** Bytes of blobs (a gitlink reads as git shows it: `Subproject commit <id>`). */
async function readContents(ctx: RepoContext, sides: readonly Side[]): Promise<Uint8Array[]> {
  const blobs = sides.filter((s) => s.mode !== '160000').map((s) => s.oid);
  const unique = [...new Set(blobs)];
  const raws = await ctx.objects.readMany(unique);
  const byOid = new Map<Oid, Uint8Array>();
  unique.forEach((o, i) => {
    const r = raws[i];
    if (r === undefined) throw new InvalidArgumentError(`blob ${o} is missing`, { details: { oid: o } });
    byOid.set(o, r.body);
  });
  return sides.map((s) => (s.mode === '160000' ? new TextEncoder().encode(`Subproject commit ${s.oid}\n`) : byOid.get(s.oid)!));
}

/** Sizes of blobs without inflating them. */
async function sizes(ctx: RepoContext, sides: readonly Side[]): Promise<number[]> {
  const infos = await ctx.objects.info(sides.map((s) => s.oid));
  return infos.map((i, k) => (sides[k]!.mode === '160000' ? 60 : (i?.size ?? 0)));
}

/** A diff of two trees (see DiffOptions). */
export async function diffTrees(ctx: RepoContext, oldTree: Oid | undefined, newTree: Oid | undefined, options: DiffOptions = {}): Promise<DiffResult> {
  const context = options.contextLines ?? 3;
  if (!Number.isSafeInteger(context) || context < 0) throw new InvalidArgumentError('contextLines must be a non-negative integer');
  const raws = await changedEntries(ctx, oldTree, newTree, options.paths);
  const files: (DiffFile & { _old?: Side; _new?: Side })[] = [];
  const deleted = raws.filter((r) => r.old && !r.new);
  const added = raws.filter((r) => r.new && !r.old);
  const renameOf = new Map<Raw, { from: Raw; score: number }>();
  const renamedFrom = new Set<Raw>();
  if (options.renames !== false && deleted.length > 0 && added.length > 0) {
    const cand = (r: Raw, s: Side): RenameCandidate => ({ path: r.path, mode: s.mode, oid: s.oid });
    const hashes = async (which: 'src' | 'dst', idx: number[]) => {
      const sides = idx.map((i) => (which === 'src' ? deleted[i]!.old! : added[i]!.new!));
      return (await readContents(ctx, sides)).map(spanHashes);
    };
    const pairs = await findRenames(
      deleted.map((r) => cand(r, r.old!)),
      added.map((r) => cand(r, r.new!)),
      hashes,
    );
    for (const p of pairs) {
      renameOf.set(added[p.dst]!, { from: deleted[p.src]!, score: p.score });
      renamedFrom.add(deleted[p.src]!);
    }
  }
  for (const r of raws) {
    if (renamedFrom.has(r)) continue;
    const ren = renameOf.get(r);
    const old = ren ? ren.from.old : r.old;
    const neu = r.new;
    const status: DiffFile['status'] = ren
      ? 'renamed'
      : !old
        ? 'added'
        : !neu
          ? 'deleted'
          : kind(old.mode) !== kind(neu.mode) && !(kind(old.mode) === 'file' && kind(neu.mode) === 'file')
            ? 'type-changed'
            : 'modified';
    files.push({
      path: r.path,
      ...(ren ? { oldPath: ren.from.path, similarity: scorePercent(ren.score) } : {}),
      status,
      ...(old ? { oldMode: old.mode, oldSha: old.oid } : {}),
      ...(neu ? { newMode: neu.mode, newSha: neu.oid } : {}),
      binary: false,
      additions: 0,
      deletions: 0,
      _old: old,
      _new: neu,
    });
  }
  return finishFiles(ctx, files, options, context);
}

/** Line diffs, counts, hunks and the unified text of the listed files. */
async function finishFiles(ctx: RepoContext, files: (DiffFile & { _old?: Side; _new?: Side })[], options: DiffOptions, context: number): Promise<DiffResult> {
  const maxFileBytes = options.maxFileBytes ?? 8 * 1024 * 1024;
  const maxFiles = options.maxFiles ?? 3000;
  const wantHunks = options.hunks !== false;
  let truncated = false;
  const parts: string[] = [];
  let diffed = 0;
  const abbrev = options.patch ? await abbreviations(ctx, files, options.abbrev) : undefined;
  // Read contents in batches so a large diff does not hold every blob at once.
  const BATCH = 64;
  for (let start = 0; start < files.length; start += BATCH) {
    const batch = files.slice(start, start + BATCH);
    const sides = batch.flatMap((f) => [f._old, f._new].filter((s): s is Side => s !== undefined));
    const sz = await sizes(ctx, sides);
    const tooBig = new Set(sides.filter((_, i) => sz[i]! > maxFileBytes).map((s) => s.oid));
    const readable = sides.filter((s) => !tooBig.has(s.oid));
    const contents = await readContents(ctx, readable);
    const content = new Map(readable.map((s, i) => [s.oid + s.mode, contents[i]!]));
    for (const f of batch) {
      const o = f._old;
      const n = f._new;
      delete f._old;
      delete f._new;
      if (f.oldSha === f.newSha && o !== undefined) {
        // Same content under another mode or path: nothing to diff, but git still says whether it is binary.
        const same = content.get(o.oid + o.mode);
        f.binary = same !== undefined && isBinary(same);
        if (options.patch) parts.push(formatFile(patchView(f, [], false), abbrev));
        continue;
      }
      if ((o && tooBig.has(o.oid)) || (n && tooBig.has(n.oid)) || diffed >= maxFiles) {
        f.truncated = true;
        truncated = true;
        continue;
      }
      diffed++;
      const a = o ? content.get(o.oid + o.mode)! : new Uint8Array(0);
      const b = n ? content.get(n.oid + n.mode)! : new Uint8Array(0);
      const ab = o !== undefined && isBinary(a);
      const bb = n !== undefined && isBinary(b);
      f.binary = ab || bb;
      let hunks: Hunk[] = [];
      const la = splitLines(a);
      const lb = splitLines(b);
      if (!f.binary) {
        const changes = diffLines(la, lb, { indentHeuristic: true });
        for (const c of changes) (f.additions += c.chg2), (f.deletions += c.chg1);
        hunks = makeHunks(la, lb, changes, context);
        if (wantHunks) f.hunks = hunks.map(publicHunk);
      }
      if (options.patch) {
        const typeChange =
          f.status === 'type-changed'
            ? {
                deleted: ab ? [] : makeHunks(la, [], diffLines(la, []), context),
                added: bb ? [] : makeHunks([], lb, diffLines([], lb), context),
                oldBinary: ab,
                newBinary: bb,
              }
            : undefined;
        parts.push(formatFile(patchView(f, hunks, f.binary, typeChange), abbrev));
      }
    }
  }
  const result: DiffResult = { files };
  if (truncated) result.truncated = true;
  if (options.patch) {
    const text = parts.join('');
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    result.patch = bytes;
  }
  return result;
}

/**
 * The `index`-line abbreviation of every id the files print, as git chooses it: the least length
 * from the object count (one pass over the id keys), then a key-range probe per id for others
 * sharing its prefix.
 */
async function abbreviations(ctx: RepoContext, files: readonly DiffFile[], least?: number): Promise<(sha: string) => string> {
  const shas = new Set<string>([ZERO_OID]);
  for (const f of files) for (const s of [f.oldSha, f.newSha]) if (s !== undefined) shas.add(s);
  let min = least;
  if (min === undefined) {
    let count = 0;
    for await (const _ of ctx.objects.allOids()) count++;
    min = defaultAbbrevLength(count);
  }
  const len = min;
  const out = new Map<string, string>();
  await Promise.all(
    [...shas].map(async (sha) => {
      // Every id sharing `len` digits with `sha` shares its first len/2 bytes.
      const others = await ctx.objects.idsWithPrefix(oidToBytes(sha as Oid).subarray(0, Math.floor(len / 2)));
      out.set(sha, uniqueAbbrev(sha, len, others));
    }),
  );
  return (sha) => out.get(sha) ?? sha.slice(0, len);
}

const ZERO_OID = '0'.repeat(40);

function patchView(f: DiffFile, hunks: Hunk[], binary: boolean, typeChange?: Parameters<typeof formatFile>[0]['typeChange']) {
  return {
    status: f.status,
    path: bytePath(f.path),
    ...(f.oldPath !== undefined ? { oldPath: bytePath(f.oldPath) } : {}),
    oldMode: f.oldMode === undefined ? undefined : f.oldMode === TREE_MODE ? '040000' : f.oldMode,
    newMode: f.newMode,
    oldSha: f.oldSha,
    newSha: f.newSha,
    binary,
    similarity: f.similarity,
    hunks,
    typeChange,
  };
}

function publicHunk(h: Hunk): DiffHunk {
  const dec = (s: string) => {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return utf8Decoder.decode(b);
  };
  return {
    oldStart: h.oldStart,
    oldLines: h.oldLines,
    newStart: h.newStart,
    newLines: h.newLines,
    header: dec(h.header),
    lines: h.lines.map((l) => dec(l.endsWith('\n') ? l.slice(0, -1) : l)),
  };
}

/** The diff between what two revisions name (refs, shas of commits or trees). */
export async function diff(ctx: RepoContext, base: string, head: string, options: DiffOptions = {}): Promise<DiffResult> {
  ctx.assertLive();
  const view = options.view ?? 'regular';
  const [a, b] = await Promise.all([treeOf(ctx, base, view), treeOf(ctx, head, view)]);
  return diffTrees(ctx, a, b, options);
}
