/**
 * The merge of one path's three versions (base, ours, theirs), as merge-ort's process_entry and
 * handle_content_merge decide it: one side changed → that side; both → a mode merge and, for
 * regular files, git's three-way line merge (src/diff/merge3.ts; binary files conflict);
 * symlinks, submodules and different kinds of entry conflict; deleted against changed is
 * `modify-delete`.
 *
 * Inside the merge of several merge bases into a virtual one (`depth` > 0, merge-recursive.ts)
 * nothing stays unresolved, as in git: a conflicting text is written with conflict markers
 * (7 + 2·depth long, labelled with the temporary branch names), a binary file, symlink or
 * kind clash takes the base's version, a modify/delete keeps the base's version.
 */
import type { Oid } from '../object/oid.js';
import { isBinary } from '../diff/binary.js';
import { mergeLines } from '../diff/merge3.js';
import { splitLines } from '../diff/xdiff.js';
import type { RepoContext } from './context.js';

/** Why a path did not merge. */
export type ConflictKind = 'content' | 'add-add' | 'modify-delete' | 'rename' | 'mode' | 'file-directory';

/** One conflicting path. */
export interface MergeConflict {
  path: string;
  kind: ConflictKind;
}

/** A tree entry of a path on one side (undefined: absent). */
export type Entry = { mode: string; oid: Oid } | undefined;

/** Where the three versions of a path came from (they differ after renames): labels of conflict markers. */
export type PathNames = readonly [string, string, string];

/** What a merge of entries needs: blob contents, the writer of new blobs, and the virtual-merge settings. */
export interface EntryMerger {
  contents: Map<Oid, Uint8Array>;
  add: (type: 'blob', body: Uint8Array) => Oid;
  conflicts: MergeConflict[];
  /** 0 for the real merge; n inside the n-th level of merging merge bases. */
  depth: number;
  /** The two sides' names in conflict markers. */
  labels: readonly [string, string];
}

/** Two entries are the same version. */
export const same = (x: Entry, y: Entry) => (x === undefined ? y === undefined : y !== undefined && x.mode === y.mode && x.oid === y.oid);
/** A regular file's mode. */
export const isRegular = (m: string) => m === '100644' || m === '100755';
/** Regular files (either mode) are one kind; symlinks and submodules are their own. */
export const kindOf = (m: string) => (isRegular(m) ? 'file' : m);
/** git's empty blob. */
export const EMPTY_BLOB = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391' as Oid;

/** Reads, in one batch, the blobs that merges of these triples may need into `contents`. */
export async function readBlobs(ctx: RepoContext, triples: Iterable<[Entry, Entry, Entry]>, contents: Map<Oid, Uint8Array>): Promise<void> {
  const need = new Set<Oid>();
  for (const [o, x, y] of triples) {
    if (x && y && !same(x, y) && !same(o, x) && !same(o, y) && isRegular(x.mode) && isRegular(y.mode) && x.oid !== y.oid) {
      for (const e of [o, x, y]) if (e && isRegular(e.mode) && !contents.has(e.oid)) need.add(e.oid);
    }
  }
  const oids = [...need];
  const raws = await ctx.objects.readMany(oids);
  oids.forEach((o, i) => contents.set(o, raws[i]?.body ?? new Uint8Array(0)));
}

/** The merged entry of one path (undefined: absent), or 'conflict' (recorded in `m.conflicts`). */
export function mergeEntry(m: EntryMerger, path: string, o: Entry, x: Entry, y: Entry, names?: PathNames): Entry | 'conflict' {
  if (same(x, y)) return x;
  if (same(o, x)) return y;
  if (same(o, y)) return x;
  const conflict = (kind: ConflictKind): Entry | 'conflict' => {
    // In a virtual merge base the base's version stands in for what cannot merge.
    if (m.depth > 0) return o;
    m.conflicts.push({ path, kind });
    return 'conflict';
  };
  if (x === undefined || y === undefined) return conflict('modify-delete');
  const kind = o === undefined ? 'add-add' : 'content';
  if (!isRegular(x.mode) || !isRegular(y.mode)) return conflict(x.mode !== y.mode ? 'mode' : kind);
  const baseMode = o !== undefined && isRegular(o.mode) ? o.mode : undefined;
  let mode = y.mode;
  if (!(x.mode === y.mode || x.mode === baseMode)) {
    mode = x.mode;
    // git keeps ours' mode in a virtual merge and goes on with the contents.
    if (y.mode !== baseMode && m.depth === 0) return conflict('mode');
  }
  const baseOid = o !== undefined && isRegular(o.mode) ? o.oid : undefined;
  if (x.oid === y.oid || baseOid === x.oid) return { mode, oid: y.oid };
  if (baseOid === y.oid) return { mode, oid: x.oid };
  const merged = mergeBlobs(m, baseOid, x.oid, y.oid, names, 0);
  if (merged === undefined) return conflict(kind);
  return { mode, oid: merged };
}

/**
 * Three-way merge of blob contents (base may be absent: a two-way merge over nothing); the new
 * blob's id, or undefined on a conflict in the real merge. `extra` lengthens the markers (git
 * adds 1 for the inner merge of a rename collision).
 */
export function mergeBlobs(m: EntryMerger, base: Oid | undefined, x: Oid, y: Oid, names: PathNames | undefined, extra: number): Oid | undefined {
  const ob = base === undefined ? new Uint8Array(0) : m.contents.get(base)!;
  const xb = m.contents.get(x)!;
  const yb = m.contents.get(y)!;
  if (isBinary(ob) || isBinary(xb) || isBinary(yb)) return m.depth > 0 ? (base ?? m.add('blob', new Uint8Array(0))) : undefined;
  const markers =
    m.depth > 0
      ? {
          size: 7 + extra + 2 * m.depth,
          ours: names && (names[0] !== names[1] || names[1] !== names[2]) ? `${m.labels[0]}:${names[1]}` : m.labels[0],
          theirs: names && (names[0] !== names[1] || names[1] !== names[2]) ? `${m.labels[1]}:${names[2]}` : m.labels[1],
        }
      : undefined;
  const r = mergeLines(splitLines(ob), splitLines(xb), splitLines(yb), markers);
  if (!r.clean && m.depth === 0) return undefined;
  const text = r.lines.join('');
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const oid = m.add('blob', bytes);
  m.contents.set(oid, bytes);
  return oid;
}
