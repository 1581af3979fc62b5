/**
 * Replaces entries of a tree by path (files, symlinks, submodules; `null` removes), rebuilding
 * only the subtrees on edited paths; a directory left empty disappears, as git never stores one.
 * Where an edit puts a file at a path the result still has a directory at (or a path through a
 * file the result keeps), the path is reported as a collision and nothing is written for it.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore, ObjectWriter } from '../object/object-store.js';
import { compareEntries, encodeTree, isTreeMode, TREE_MODE, type FileMode, type TreeEntry } from '../object/tree.js';

/** The new entry of a path, or null to remove it. */
export type EntryEdit = { mode: string; oid: Oid } | null;

/** Applies `edits` (full path → entry) to `root`; returns the new root and the colliding paths. */
export async function editTree(
  store: ObjectStore,
  writer: Pick<ObjectWriter, 'add'>,
  root: Oid,
  edits: ReadonlyMap<string, EntryEdit>,
): Promise<{ tree: Oid; collisions: string[] }> {
  const collisions: string[] = [];
  const tree = await build(store, writer, root, '', edits, collisions);
  return { tree: tree ?? writer.add('tree', new Uint8Array(0)), collisions };
}

async function build(
  store: ObjectStore,
  writer: Pick<ObjectWriter, 'add'>,
  oid: Oid | undefined,
  prefix: string,
  edits: ReadonlyMap<string, EntryEdit>,
  collisions: string[],
): Promise<Oid | undefined> {
  const entries = new Map<string, TreeEntry>((oid === undefined ? [] : await store.tree(oid)).map((e) => [e.name, e]));
  const direct = new Map<string, EntryEdit>();
  const nested = new Map<string, Map<string, EntryEdit>>();
  for (const [path, e] of edits) {
    const slash = path.indexOf('/');
    if (slash < 0) direct.set(path, e);
    else {
      const head = path.slice(0, slash);
      let m = nested.get(head);
      if (m === undefined) nested.set(head, (m = new Map()));
      m.set(path.slice(slash + 1), e);
    }
  }
  for (const [name, sub] of nested) {
    const cur = entries.get(name);
    let base: Oid | undefined;
    if (cur !== undefined && isTreeMode(cur.mode)) base = cur.oid;
    else if (cur !== undefined && !(direct.has(name) && direct.get(name) === null)) {
      collisions.push(prefix + name);
      continue;
    }
    const t = await build(store, writer, base, `${prefix}${name}/`, sub, collisions);
    if (t === undefined) entries.delete(name);
    else entries.set(name, { mode: TREE_MODE, name, oid: t });
  }
  for (const [name, e] of direct) {
    const cur = entries.get(name);
    if (cur !== undefined && isTreeMode(cur.mode)) {
      if (e !== null) collisions.push(prefix + name);
      continue;
    }
    if (e === null) entries.delete(name);
    else entries.set(name, { mode: e.mode as FileMode, name, oid: e.oid });
  }
  if (entries.size === 0) return undefined;
  const list = [...entries.values()].sort(compareEntries);
  return writer.add('tree', encodeTree(list));
}
