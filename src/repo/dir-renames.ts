/**
 * Directory rename detection as merge-ort does it (merge.directoryRenames, default "conflict"):
 * - a directory of the base that one side removed entirely (no directory left at that path on
 *   that side), where the other side added files (see `relevance`), is renamed to where the
 *   majority of its files' renames went; each rename counts
 *   for its parent directory and, while the trailing directory names agree, for the ancestors
 *   (`a/b/c/f → x/y/c/f` counts `a/b/c → x/y/c` and `a/b → x/y`); a tie is a "directory rename
 *   split" conflict, and a directory renamed on both sides is not renamed by either;
 * - a path the other side added (or renamed) into such a directory (the nearest renamed ancestor)
 *   moves along to the new directory, unless the new directory was itself renamed away on the
 *   side that added it, or the path is where the other side's own files would be moved;
 * - the move is refused with a conflict when something is already at the new path on the
 *   adding side, or when several paths would land on one;
 * - in "conflict" mode (git's default) a moved path is a conflict at its new location
 *   ("file location"); with `true` it merges cleanly there.
 * Not done in the merge of merge bases (as in git).
 */
import type { Oid } from '../object/oid.js';
import { isTreeMode } from '../object/tree.js';
import type { RepoContext } from './context.js';
import type { Entry, MergeConflict } from './merge-entry.js';

/** One side's changes against the base: new entries of changed paths, their base entries, renames (old → new). */
export interface SideChanges {
  tree: Oid;
  now: Map<string, Entry>;
  was: Map<string, Entry>;
  renames: Map<string, string>;
}

const dirname = (p: string) => {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
};

/** Looks up what a tree has at a path ('dir', 'file' or undefined), caching tree reads. */
export function lookup(ctx: RepoContext): (root: Oid, path: string) => Promise<'dir' | 'file' | undefined> {
  const cache = new Map<string, Promise<'dir' | 'file' | undefined>>();
  const at = (root: Oid, path: string): Promise<'dir' | 'file' | undefined> => {
    const key = `${root}:${path}`;
    let p = cache.get(key);
    if (p === undefined) {
      p = (async () => {
        if (path === '') return 'dir';
        const parent = await at(root, dirname(path));
        if (parent !== 'dir') return undefined;
        const dir = dirname(path);
        const tree = dir === '' ? root : await treeAt(root, dir);
        if (tree === undefined) return undefined;
        const name = path.slice(dir === '' ? 0 : dir.length + 1);
        const e = (await ctx.objects.tree(tree)).find((t) => t.name === name);
        return e === undefined ? undefined : isTreeMode(e.mode) ? 'dir' : 'file';
      })();
      cache.set(key, p);
    }
    return p;
  };
  const treeAt = async (root: Oid, dir: string): Promise<Oid | undefined> => {
    let oid = root;
    for (const name of dir.split('/')) {
      const e = (await ctx.objects.tree(oid)).find((t) => t.name === name && isTreeMode(t.mode));
      if (e === undefined) return undefined;
      oid = e.oid;
    }
    return oid;
  };
  return at;
}

/** How much a removed directory matters (merge-ort's dirs_removed values). */
type Relevance = 0 | 1 | 2;
const NOT_RELEVANT = 0;
const FOR_SELF = 2;

/**
 * merge-ort only looks for a directory's rename where the other side (`t`) may have put something in
 * it: a removed directory is relevant for itself when the other side added a file directly in
 * it and the traversal "needs" directory renames there (the directory, or an ancestor already
 * needing them, is in the base and removed on this side), for its ancestors when an ancestor
 * already needs them; everything else is not (its counts are dropped: no rename, no split).
 */
function relevance(t: SideChanges, inBase: (dir: string) => Promise<boolean>, removed: (dir: string) => Promise<boolean>) {
  const addedIn = new Set<string>();
  for (const [p, e] of t.now) if (e !== undefined && t.was.get(p) === undefined) addedIn.add(dirname(p));
  const hot = new Map<string, Promise<boolean>>();
  const isHot = (d: string): Promise<boolean> => {
    let h = hot.get(d);
    if (h === undefined) {
      h = (async () => {
        if (d === '') return false;
        if (await isHot(dirname(d))) return true;
        if (!addedIn.has(d) || !(await inBase(d))) return false;
        for (let e = d; e !== ''; e = dirname(e)) if (await removed(e)) return true;
        return false;
      })();
      hot.set(d, h);
    }
    return h;
  };
  return async (d: string): Promise<Relevance> => {
    if (d === '' || !(await removed(d))) return NOT_RELEVANT;
    if ((await isHot(d)) && addedIn.has(d)) return FOR_SELF;
    return (await isHot(dirname(d))) ? 1 : NOT_RELEVANT;
  };
}

/** Where each relevant directory a side removed went: old directory → new directory. */
async function dirRenamesOf(side: SideChanges, rel: (dir: string) => Promise<Relevance>, conflicts: MergeConflict[]): Promise<Map<string, string>> {
  const counts = new Map<string, Map<string, number>>();
  for (const [from, to] of side.renames) {
    const o = from.split('/');
    const n = to.split('/');
    for (let k = 1; k < o.length && k <= n.length; k++) {
      if (k > 1 && o[o.length - k] !== n[n.length - k]) break;
      const od = o.slice(0, o.length - k).join('/');
      const nd = n.slice(0, n.length - k).join('/');
      const r = await rel(od);
      if (r === NOT_RELEVANT) break;
      if (k > 1 && r !== FOR_SELF) continue;
      let c = counts.get(od);
      if (c === undefined) counts.set(od, (c = new Map()));
      c.set(nd, (c.get(nd) ?? 0) + 1);
      if (nd === '') break;
    }
  }
  const out = new Map<string, string>();
  for (const [dir, c] of counts) {
    let best: string | undefined;
    let max = 0;
    let tie = false;
    for (const [to, count] of c) {
      if (count === max) tie = true;
      else if (count > max) {
        max = count;
        best = to;
        tie = false;
      }
    }
    if (tie) conflicts.push({ path: dir, kind: 'rename' });
    else if (best !== undefined) out.set(dir, best);
  }
  return out;
}

/** The nearest renamed ancestor directory of `path` and its new path. */
function renamedPath(path: string, renames: Map<string, string>): string | undefined {
  for (let d = dirname(path); d !== ''; d = dirname(d)) {
    const to = renames.get(d);
    if (to !== undefined) return to === '' ? path.slice(d.length + 1) : to + path.slice(d.length);
  }
  return undefined;
}

/** Paths a side added or renamed to (git's 'A' and 'R' pairs), in path order. */
const newPaths = (s: SideChanges) => [...s.now].filter(([p, e]) => e !== undefined && s.was.get(p) === undefined).map(([p]) => p);

/**
 * Applies the directory renames of each side to the other side's new paths, in place (the moved
 * paths' entries, base entries and renames follow them). Returns the moved paths' new locations
 * (conflicts in "conflict" mode) and records the conflicts of refused moves.
 */
export async function applyDirRenames(ctx: RepoContext, base: Oid, sides: [SideChanges, SideChanges], conflicts: MergeConflict[]): Promise<Set<string>> {
  const moved = new Set<string>();
  if (sides[0].renames.size === 0 && sides[1].renames.size === 0) return moved;
  const at = lookup(ctx);
  const inBase = async (dir: string) => (await at(base, dir)) === 'dir';
  const removedOn = (s: SideChanges) => async (dir: string) => dir !== '' && (await inBase(dir)) && (await at(s.tree, dir)) !== 'dir';
  const [s0, s1] = sides;
  const renames = [
    await dirRenamesOf(s0, relevance(s1, inBase, removedOn(s0)), conflicts),
    await dirRenamesOf(s1, relevance(s0, inBase, removedOn(s1)), conflicts),
  ];
  for (const d of [...renames[0].keys()]) {
    if (renames[1].delete(d)) renames[0].delete(d);
  }
  if (renames[0].size === 0 && renames[1].size === 0) return moved;
  // Where each side's new paths would go under the other side's directory renames.
  const collisions = sides.map((s, i) => {
    const m = new Map<string, { sources: string[]; reported: boolean }>();
    for (const p of newPaths(s)) {
      const to = renamedPath(p, renames[1 - i]!);
      if (to === undefined) continue;
      const c = m.get(to) ?? { sources: [], reported: false };
      c.sources.push(p);
      m.set(to, c);
    }
    return m;
  });
  for (let i = 0; i < 2; i++) {
    const s = sides[i]!;
    const other = renames[1 - i]!;
    for (const p of newPaths(s)) {
      if (collisions[1 - i]!.has(p)) continue;
      const to = renamedPath(p, other);
      if (to === undefined) continue;
      // Into a directory this side renamed away itself: left where it is.
      if (renames[i]!.has(nearestTarget(p, other)!)) continue;
      const c = collisions[i]!.get(to)!;
      if (c.reported) continue;
      if ((await at(s.tree, to)) !== undefined || c.sources.length > 1) {
        c.reported = true;
        conflicts.push({ path: to, kind: 'rename' });
        continue;
      }
      move(s, p, to);
      moved.add(to);
    }
  }
  return moved;
}

/** The new directory the nearest renamed ancestor of `path` went to. */
function nearestTarget(path: string, renames: Map<string, string>): string | undefined {
  for (let d = dirname(path); d !== ''; d = dirname(d)) {
    const to = renames.get(d);
    if (to !== undefined) return to;
  }
  return undefined;
}

/** Moves a side's new path `p` to `to`: its entry, and the rename that produced it. */
function move(s: SideChanges, p: string, to: string): void {
  s.now.set(to, s.now.get(p));
  if (!s.was.has(to)) s.was.set(to, undefined);
  s.now.delete(p);
  s.was.delete(p);
  for (const [from, dst] of s.renames) if (dst === p) s.renames.set(from, to);
}
