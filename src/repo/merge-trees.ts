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
 *   or a rename onto a path the other side added: `rename` (two renames of one path: both new
 *   paths, and the old one unless the result has a directory there, as git lists them);
 * - directory renames (dir-renames.ts) move what the other side added into a renamed directory;
 * - a file where the result has a directory: `file-directory`.
 * With `depth` > 0 (the merge of merge bases into a virtual one, merge-recursive.ts) nothing
 * stays unresolved and a tree is always returned (merge-entry.ts says how each case resolves).
 * The result is written as the first side's tree with the merged paths replaced
 * (repo/tree-edit.ts), so only the subtrees on changed paths are rebuilt.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectWriter } from '../object/object-store.js';
import { findRenames } from '../diff/renames.js';
import { spanHashes } from '../diff/similarity.js';
import type { RepoContext } from './context.js';
import { changedEntries } from './diff.js';
import { applyDirRenames, lookup, type SideChanges } from './dir-renames.js';
import { EMPTY_BLOB, type Entry, type EntryMerger, kindOf, type MergeConflict, mergeEntry, type PathNames, readBlobs, same } from './merge-entry.js';
import { editTree, type EntryEdit } from './tree-edit.js';

export type { ConflictKind, MergeConflict } from './merge-entry.js';

/** A merged tree, or the conflicts that prevent it. */
export interface TreeMergeResult {
  tree?: Oid;
  conflicts: MergeConflict[];
}

/** How a tree merge runs. */
export interface TreeMergeOptions {
  /** 0 (default) for a real merge; n > 0 inside the n-th level of merging merge bases (always gives a tree). */
  depth?: number;
  /** The sides' names in conflict markers of a virtual merge. */
  labels?: readonly [string, string];
  /** git's merge.directoryRenames: 'conflict' (default: moved paths conflict), true (moved cleanly), false (off). */
  directoryRenames?: boolean | 'conflict';
}

const LABELS = ['ours', 'theirs'] as const;

/** What one side did to each changed path, with its renames. */
async function sideChanges(ctx: RepoContext, base: Oid, side: Oid): Promise<SideChanges> {
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
  return { tree: side, now, was, renames };
}

/** Merges `theirs` into `ours` with `base` as their common ancestor tree. Writes blobs and trees to `writer` (flushed by a caller that got a tree). */
export async function mergeTrees(
  ctx: RepoContext,
  writer: Pick<ObjectWriter, 'add'>,
  base: Oid,
  ours: Oid,
  theirs: Oid,
  options: TreeMergeOptions = {},
): Promise<TreeMergeResult> {
  if (ours === theirs || base === theirs) return { tree: ours, conflicts: [] };
  if (base === ours) return { tree: theirs, conflicts: [] };
  const depth = options.depth ?? 0;
  const [a, b] = await Promise.all([sideChanges(ctx, base, ours), sideChanges(ctx, base, theirs)]);
  const conflicts: MergeConflict[] = [];
  const dirMode = depth > 0 ? false : (options.directoryRenames ?? 'conflict');
  // What our tree has at a path, before directory renames move paths of either side.
  const oursNow = new Map(a.now);
  const baseNow = new Map<string, Entry>([...a.was, ...b.was]);
  const inOurs = (p: string) => (oursNow.has(p) ? oursNow.get(p) : baseNow.get(p));
  const moved = dirMode === false ? new Set<string>() : await applyDirRenames(ctx, base, [a, b], conflicts);
  const baseOf = new Map<string, Entry>([...a.was, ...b.was]);
  const O = (p: string) => baseOf.get(p);
  const A = (p: string) => (a.now.has(p) ? a.now.get(p) : O(p));
  const B = (p: string) => (b.now.has(p) ? b.now.get(p) : O(p));
  // Per path: [base, ours, theirs] after renames moved the other side's edits along.
  const triples = new Map<string, [Entry, Entry, Entry]>();
  const names = new Map<string, PathNames>();
  /** Results decided by a rename case of a virtual merge, not by merging the triple. */
  const fixed = new Map<string, Entry>();
  const oldPaths: string[] = [];
  for (const p of new Set([...a.now.keys(), ...b.now.keys()])) triples.set(p, [O(p), A(p), B(p)]);
  const carry = (x: SideChanges, y: SideChanges, xIsOurs: boolean) => {
    const X = xIsOurs ? A : B;
    const orient = <T>(mine: T, other: T): [T, T] => (xIsOurs ? [mine, other] : [other, mine]);
    for (const [from, to] of x.renames) {
      const yTo = y.renames.get(from);
      if (yTo !== undefined) {
        if (yTo === to) {
          if (xIsOurs) triples.set(to, [O(from), A(to), B(to)]);
        } else if (xIsOurs) {
          // rename/rename(1to2): both new paths get the merge of the two versions; the old one goes.
          if (depth > 0) {
            for (const p of [to, yTo]) {
              triples.set(p, [O(from), A(to), B(yTo)]);
              names.set(p, [from, to, yTo]);
            }
            triples.set(from, [O(from), undefined, undefined]);
          } else {
            conflicts.push({ path: to, kind: 'rename' }, { path: yTo, kind: 'rename' });
            oldPaths.push(from);
          }
        }
        continue;
      }
      if (!y.now.has(from)) continue; // the other side left the old path alone
      const yFrom = y.now.get(from);
      // Deleted on the other side, or turned into another kind of entry (git breaks such a pair
      // into a deletion and an addition): the rename meets a deletion.
      const o = O(from);
      if (depth > 0 && yFrom === undefined && y.now.get(to) !== undefined) {
        // rename/add/delete: what both sides have at the new path merges as an addition on both.
        triples.set(to, [undefined, A(to), B(to)]);
        continue;
      }
      if (yFrom === undefined || o === undefined || kindOf(yFrom.mode) !== kindOf(o.mode)) {
        if (depth > 0) fixed.set(to, o);
        else conflicts.push({ path: to, kind: 'modify-delete' });
        // What the other side put at the old path in place of the file stays, as an addition.
        if (yFrom !== undefined) triples.set(from, [undefined, ...orient<Entry>(undefined, yFrom)]);
        else if (depth > 0) triples.set(from, [o, undefined, undefined]);
        continue;
      }
      if (y.now.has(to) && y.now.get(to) !== undefined) {
        // The other side put something at the new path too (its own rename there, or an
        // addition): one conflict there; the old path's edits went into it.
        if (depth === 0) conflicts.push({ path: to, kind: 'rename' });
        triples.set(from, [O(from), undefined, undefined]);
        continue;
      }
      // The other side edited the old path: its edit lands on the new one.
      triples.set(to, [O(from), ...orient(X(to), yFrom)]);
      names.set(to, [from, ...orient(to, from)]);
      triples.set(from, [O(from), undefined, undefined]);
    }
  };
  carry(a, b, true);
  carry(b, a, false);
  const skip = new Set(conflicts.map((c) => c.path));
  if (dirMode === 'conflict') {
    for (const p of moved) conflicts.push({ path: p, kind: 'rename' });
    for (const p of moved) skip.add(p);
  }
  const edits = new Map<string, EntryEdit>();
  const m: EntryMerger = {
    contents: new Map(),
    add: (type, body) => writer.add(type, body),
    conflicts,
    depth,
    labels: options.labels ?? LABELS,
  };
  await readBlobs(ctx, triples.values(), m.contents);
  // A conflicting path keeps our version, or theirs where we have none (git leaves it in the
  // tree too), so that file/directory clashes with it are found.
  const keep = (path: string) => {
    if (inOurs(path) === undefined && B(path) !== undefined) edits.set(path, B(path)!);
  };
  for (const [path, [o, x, y]] of triples) {
    if (skip.has(path)) {
      keep(path);
      continue;
    }
    const r = fixed.has(path) ? fixed.get(path) : mergeEntry(m, path, o, x, y, names.get(path));
    if (r === 'conflict') {
      keep(path);
      continue;
    }
    if (!same(r, inOurs(path))) edits.set(path, r ?? null);
  }
  // Our paths moved away by their directory renames.
  for (const p of oursNow.keys()) if (!a.now.has(p) && !edits.has(p) && !skip.has(p)) edits.set(p, null);
  // git lists the old path of two renames too, unless the result has a directory there.
  for (const from of oldPaths) {
    const present = (p: string) => (skip.has(p) ? A(p) !== undefined || B(p) !== undefined : edits.has(p) ? edits.get(p) !== null : A(p) !== undefined);
    const dir = [...triples.keys(), ...skip].some((p) => p.startsWith(from + '/') && present(p));
    if (!dir) conflicts.push({ path: from, kind: 'rename' });
  }
  // Built even with conflicts (conflicting paths keep our side), so file/directory clashes
  // elsewhere are reported too; the writer is only flushed by a caller that got a tree.
  let edited = await editTree(ctx.objects, writer, ours, edits);
  if (depth > 0) {
    // A file where the other side has a directory moves aside to `<path>~<its side's name>`, as git does.
    if (edited.collisions.length > 0) {
      const at = lookup(ctx);
      for (const p of edited.collisions) {
        const file = edits.get(p) ?? inOurs(p);
        const theirsFile = (await at(ours, p)) === 'dir';
        edits.set(p, null);
        if (file) edits.set(`${p}~${(options.labels ?? LABELS)[theirsFile ? 1 : 0].replaceAll('/', '_')}`, file);
      }
      edited = await editTree(ctx.objects, writer, ours, edits);
    }
    return { tree: edited.tree, conflicts: dedupe(conflicts) };
  }
  conflicts.push(...edited.collisions.map((path) => ({ path, kind: 'file-directory' as const })));
  if (conflicts.length > 0) return { conflicts: dedupe(conflicts) };
  return { tree: edited.tree, conflicts: [] };
}

function dedupe(list: MergeConflict[]): MergeConflict[] {
  const seen = new Set<string>();
  const out = list.filter((c) => !seen.has(c.path) && seen.add(c.path));
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
