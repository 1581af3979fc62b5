/**
 * Three-way merge of trees, the way git's default merge (merge-ort) decides it, over the paths
 * either side changed (found by repo/diff.ts' walk, which skips unchanged subtrees):
 * - a path changed on one side only takes that side; changed identically on both, either;
 * - changed differently on both: regular files get a three-way line merge (src/diff/merge3.ts;
 *   binary files conflict) and a mode merge (both changed the mode differently: conflict);
 *   symlinks, submodules and a file against a symlink conflict;
 * - deleted on one side and changed on the other: `modify-delete`; added differently on both:
 *   `add-add` (a line merge over an empty base);
 * - renames (exact and by similarity, per side against the base) carry the other side's edits of
 *   the old path to the new one; a rename against a delete, two different renames of one path,
 *   or a rename onto a path the other side added: `rename`;
 * - a file where the result has a directory: `file-directory`.
 * The result is written as the first side's tree with the merged paths replaced
 * (repo/tree-edit.ts), so only the subtrees on changed paths are rebuilt.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectWriter } from '../object/object-store.js';
import { isBinary } from '../diff/binary.js';
import { mergeLines } from '../diff/merge3.js';
import { findRenames } from '../diff/renames.js';
import { spanHashes } from '../diff/similarity.js';
import { splitLines } from '../diff/xdiff.js';
import type { RepoContext } from './context.js';
import { changedEntries } from './diff.js';
import { editTree, type EntryEdit } from './tree-edit.js';

/** Why a path did not merge. */
export type ConflictKind = 'content' | 'add-add' | 'modify-delete' | 'rename' | 'mode' | 'file-directory';

/** One conflicting path. */
export interface MergeConflict {
  path: string;
  kind: ConflictKind;
}

/** A merged tree, or the conflicts that prevent it. */
export interface TreeMergeResult {
  tree?: Oid;
  conflicts: MergeConflict[];
}

type Entry = { mode: string; oid: Oid } | undefined;

const same = (x: Entry, y: Entry) => (x === undefined ? y === undefined : y !== undefined && x.mode === y.mode && x.oid === y.oid);
/** git's empty blob. */
const EMPTY_BLOB = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
const isRegular = (m: string) => m === '100644' || m === '100755';
const kindOf = (m: string) => (isRegular(m) ? 'file' : m);

/** What one side did to each changed path, with its renames. */
async function sideChanges(ctx: RepoContext, base: Oid, side: Oid) {
  const raws = await changedEntries(ctx, base, side);
  const now = new Map<string, Entry>();
  const was = new Map<string, Entry>();
  for (const r of raws) {
    now.set(r.path, r.new);
    was.set(r.path, r.old);
  }
  // As in git's merges, empty files are never paired as renames (every empty file is the same blob).
  const deleted = raws.filter((r) => r.old && !r.new && r.old.oid !== EMPTY_BLOB);
  const added = raws.filter((r) => r.new && !r.old && r.new.oid !== EMPTY_BLOB);
  const renames = new Map<string, string>();
  if (deleted.length > 0 && added.length > 0) {
    const read = async (oids: Oid[]) => {
      const raws = await ctx.objects.readMany(oids);
      return raws.map((r) => spanHashes(r === undefined ? new Uint8Array(0) : r.body));
    };
    const pairs = await findRenames(
      deleted.map((r) => ({ path: r.path, mode: r.old!.mode, oid: r.old!.oid })),
      added.map((r) => ({ path: r.path, mode: r.new!.mode, oid: r.new!.oid })),
      (which, idx) => read(idx.map((i) => (which === 'src' ? deleted[i]!.old!.oid : added[i]!.new!.oid))),
    );
    for (const p of pairs) renames.set(deleted[p.src]!.path, added[p.dst]!.path);
  }
  return { now, was, renames };
}

/** Merges `theirs` into `ours` with `base` as their common ancestor tree. Writes blobs and trees to `writer` only when clean. */
export async function mergeTrees(ctx: RepoContext, writer: ObjectWriter, base: Oid, ours: Oid, theirs: Oid): Promise<TreeMergeResult> {
  if (ours === theirs || base === theirs) return { tree: ours, conflicts: [] };
  if (base === ours) return { tree: theirs, conflicts: [] };
  const [a, b] = await Promise.all([sideChanges(ctx, base, ours), sideChanges(ctx, base, theirs)]);
  const conflicts: MergeConflict[] = [];
  const baseOf = new Map<string, Entry>([...a.was, ...b.was]);
  const O = (p: string) => baseOf.get(p);
  const A = (p: string) => (a.now.has(p) ? a.now.get(p) : O(p));
  const B = (p: string) => (b.now.has(p) ? b.now.get(p) : O(p));
  // Per path: [base, ours, theirs] after renames moved the other side's edits along.
  const triples = new Map<string, [Entry, Entry, Entry]>();
  for (const p of new Set([...a.now.keys(), ...b.now.keys()])) triples.set(p, [O(p), A(p), B(p)]);
  const carry = (x: typeof a, y: typeof b, xIsOurs: boolean) => {
    for (const [from, to] of x.renames) {
      const yTo = y.renames.get(from);
      if (yTo !== undefined) {
        if (yTo !== to) for (const path of [from, to, yTo]) conflicts.push({ path, kind: 'rename' });
        else if (xIsOurs) triples.set(to, [O(from), A(to), B(to)]);
        continue;
      }
      if (!y.now.has(from)) continue; // the other side left the old path alone
      const yFrom = y.now.get(from);
      // Deleted on the other side, or turned into another kind of entry (git breaks such a pair
      // into a deletion and an addition): the rename meets a deletion.
      const o = O(from);
      if (yFrom === undefined || o === undefined || kindOf(yFrom.mode) !== kindOf(o.mode)) {
        conflicts.push({ path: to, kind: 'modify-delete' });
        // What the other side put at the old path in place of the file stays, as an addition.
        if (yFrom !== undefined) triples.set(from, xIsOurs ? [undefined, undefined, yFrom] : [undefined, yFrom, undefined]);
        continue;
      }
      if (y.now.has(to) && y.now.get(to) !== undefined) {
        // The other side put something at the new path too (its own rename there, or an
        // addition): one conflict there; the old path's edits went into it.
        conflicts.push({ path: to, kind: 'rename' });
        triples.set(from, [O(from), undefined, undefined]);
        continue;
      }
      // The other side edited the old path: its edit lands on the new one.
      const xTo = (xIsOurs ? A : B)(to);
      triples.set(to, xIsOurs ? [O(from), xTo, yFrom] : [O(from), yFrom, xTo]);
      triples.set(from, [O(from), undefined, undefined]);
    }
  };
  carry(a, b, true);
  carry(b, a, false);
  const renameConflicts = new Set(conflicts.map((c) => c.path));
  const edits = new Map<string, EntryEdit>();
  const contents = await blobReader(ctx, [...triples.values()]);
  for (const [path, [o, x, y]] of triples) {
    if (renameConflicts.has(path)) continue;
    const r = await mergeEntry(path, o, x, y, contents, writer, conflicts);
    if (r === 'conflict') continue;
    if (!same(r, A(path))) edits.set(path, r ?? null);
  }
  // Built even with conflicts (conflicting paths keep our side), so file/directory clashes
  // elsewhere are reported too; the writer is only flushed by a caller that got a tree.
  const edited = await editTree(ctx.objects, writer, ours, edits);
  conflicts.push(...edited.collisions.map((path) => ({ path, kind: 'file-directory' as const })));
  if (conflicts.length > 0) return { conflicts: dedupe(conflicts) };
  return { tree: edited.tree, conflicts: [] };
}

function dedupe(list: MergeConflict[]): MergeConflict[] {
  const seen = new Set<string>();
  const out = list.filter((c) => !seen.has(c.path) && seen.add(c.path));
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Reads the blobs a merge of these triples may need, in one batch. */
async function blobReader(ctx: RepoContext, triples: [Entry, Entry, Entry][]) {
  const need = new Set<Oid>();
  for (const [o, x, y] of triples) {
    if (x && y && !same(x, y) && !same(o, x) && !same(o, y) && isRegular(x.mode) && isRegular(y.mode) && x.oid !== y.oid) {
      for (const e of [o, x, y]) if (e && isRegular(e.mode)) need.add(e.oid);
    }
  }
  const oids = [...need];
  const raws = await ctx.objects.readMany(oids);
  const map = new Map<Oid, Uint8Array>();
  oids.forEach((o, i) => map.set(o, raws[i]?.body ?? new Uint8Array(0)));
  return map;
}

/** The merged entry of one path (undefined: absent), or 'conflict' (recorded in `conflicts`). */
async function mergeEntry(
  path: string,
  o: Entry,
  x: Entry,
  y: Entry,
  contents: Map<Oid, Uint8Array>,
  writer: ObjectWriter,
  conflicts: MergeConflict[],
): Promise<Entry | 'conflict'> {
  if (same(x, y)) return x;
  if (same(o, x)) return y;
  if (same(o, y)) return x;
  if (x === undefined || y === undefined) {
    conflicts.push({ path, kind: 'modify-delete' });
    return 'conflict';
  }
  const kind = o === undefined ? 'add-add' : 'content';
  if (!isRegular(x.mode) || !isRegular(y.mode)) {
    conflicts.push({ path, kind: x.mode !== y.mode ? 'mode' : kind });
    return 'conflict';
  }
  const baseMode = o !== undefined && isRegular(o.mode) ? o.mode : undefined;
  let mode = y.mode;
  if (!(x.mode === y.mode || x.mode === baseMode)) {
    mode = x.mode;
    if (y.mode !== baseMode) {
      conflicts.push({ path, kind: 'mode' });
      return 'conflict';
    }
  }
  const baseOid = o !== undefined && isRegular(o.mode) ? o.oid : undefined;
  let oid: Oid;
  if (x.oid === y.oid) oid = x.oid;
  else if (baseOid === x.oid) oid = y.oid;
  else if (baseOid === y.oid) oid = x.oid;
  else {
    const ob = baseOid === undefined ? new Uint8Array(0) : contents.get(baseOid)!;
    const xb = contents.get(x.oid)!;
    const yb = contents.get(y.oid)!;
    if (isBinary(ob) || isBinary(xb) || isBinary(yb)) {
      conflicts.push({ path, kind });
      return 'conflict';
    }
    const m = mergeLines(splitLines(ob), splitLines(xb), splitLines(yb));
    if (!m.clean) {
      conflicts.push({ path, kind });
      return 'conflict';
    }
    const text = m.lines.join('');
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    oid = writer.add('blob', bytes);
  }
  return { mode, oid };
}
