/**
 * Multi-file commits: applies a list of file changes to a tree, rebuilding only the subtrees
 * on the changed paths (every other subtree keeps its id and is not read). Every tree built
 * is checked as `receive.fsckObjects` checks a pushed one (object/fsck.ts), and so are the
 * blobs this commit writes under a name git treats as `.gitmodules` or `.gitattributes`.
 */
import { InvalidArgumentError, InvalidPathError, NotFoundError } from '../errors.js';
import { utf8 } from '../platform/bytes.js';
import { Slicer } from '../platform/turns.js';
import { type Oid, isOid } from '../object/oid.js';
import { splitPath } from '../object/path.js';
import {
  EXECUTABLE_MODE,
  FILE_MODE,
  SYMLINK_MODE,
  TREE_MODE,
  encodeTree,
  isBlobMode,
  isTreeMode,
  normalizeMode,
  type FileMode,
  type TreeEntry,
} from '../object/tree.js';
import type { ObjectStore, ObjectWriter } from '../object/object-store.js';
import { checkNamedBlobs, checkObject, fsckConfig, type FsckConfig } from '../object/fsck.js';
import { refuseIfBad } from './checks.js';

/**
 * Tree building gives the event loop a turn every 20 ms: hashing and deflating thousands of
 * files in one go would freeze every other request of the process. One slicer for all builds,
 * so concurrent subtrees (and concurrent commits) share each turn's slice.
 */
const slices = new Slicer(20);

/** One change of a commit: write a file, or delete a path. */
export type FileChange = { path: string; content: string | Uint8Array; mode?: string; delete?: false } | { path: string; delete: true };

/** What a commit's tree is built from: file changes, and writes of blobs stored beforehand. */
export type TreeChange = FileChange | StoredBlobChange;

/**
 * A write of a blob whose bytes are already stored or about to be (a big file streamed into
 * chunks, object/chunked.ts, by the NDJSON commit route): `blob` is its id; `stored`, when
 * given, its `O` value (a chunk marker), written with the commit's other objects.
 */
export interface StoredBlobChange {
  path: string;
  blob: Oid;
  stored?: Uint8Array;
  mode?: string;
  delete?: false;
}

interface DirNode {
  files: Map<string, TreeChange>;
  dirs: Map<string, DirNode>;
}

function newNode(): DirNode {
  return { files: new Map(), dirs: new Map() };
}

/** Groups changes by directory; rejects bad paths and a path given twice or as file and dir. */
export function groupChanges(changes: readonly TreeChange[]): DirNode {
  if (!Array.isArray(changes)) throw new InvalidArgumentError('changes must be an array');
  const root = newNode();
  const seen = new Set<string>();
  changes.forEach((c, i) => {
    if (c === null || typeof c !== 'object') throw new InvalidArgumentError(`change ${i} must be an object`);
    const parts = splitPath(c.path);
    if (!c.delete) {
      if ('blob' in c) {
        if (!isOid(c.blob)) throw new InvalidArgumentError(`change ${i} (${c.path}): blob must be an object id`);
      } else if (typeof c.content !== 'string' && !(c.content instanceof Uint8Array)) {
        throw new InvalidArgumentError(`change ${i} (${c.path}): content must be a string or Uint8Array`);
      }
      if (c.mode !== undefined) {
        const m = normalizeMode(String(c.mode));
        if (m === null || !isBlobMode(m)) throw new InvalidArgumentError(`change ${i} (${c.path}): mode must be 100644, 100755 or 120000`);
      }
    }
    const key = parts.join('/');
    if (seen.has(key)) throw new InvalidArgumentError(`path "${key}" appears twice in one commit`);
    seen.add(key);
    // A file replaced by a directory, or a directory by a file, may be spelled out with deletes
    // (`a` deleted and `a/b` written; `d/x` deleted and `d` written): the write wins, as the
    // replacement alone would do. Writes on both sides of one path still conflict.
    let node = root;
    for (const p of parts.slice(0, -1)) {
      const file = node.files.get(p);
      if (file !== undefined) {
        if (c.delete) return; // deleting under a path this commit writes as a file: already gone
        if (!file.delete) throw new InvalidPathError(`path "${key}" goes through "${p}", which this commit writes as a file`);
        node.files.delete(p);
      }
      let next = node.dirs.get(p);
      if (next === undefined) node.dirs.set(p, (next = newNode()));
      node = next;
    }
    const name = parts[parts.length - 1]!;
    const dir = node.dirs.get(name);
    if (dir !== undefined) {
      if (c.delete) return; // the file this commit replaces by the directory it writes
      if (!onlyDeletes(dir)) throw new InvalidPathError(`path "${key}" is written as a file and used as a directory`);
      node.dirs.delete(name);
    }
    node.files.set(name, c);
  });
  return root;
}

/** True when a group holds deletes only (a directory a commit empties). */
function onlyDeletes(node: DirNode): boolean {
  for (const f of node.files.values()) if (!f.delete) return false;
  for (const d of node.dirs.values()) if (!onlyDeletes(d)) return false;
  return true;
}

/** A new object and the version it replaces at the same path: a candidate for a stored delta. */
export interface Replaced {
  oid: Oid;
  base: Oid;
  body: Uint8Array;
}

/**
 * Rebuilds `base` (a tree id, or undefined for an empty tree) with the changes in `node`,
 * queueing new blobs and trees on `writer`. Returns the new tree id, or undefined when the
 * tree ends up empty (git has no empty subtrees). Every blob or tree that replaces another
 * one at the same path is listed in `replaced` (see commit-deltas.ts), and every tree built in
 * `built` (with its body).
 */
export async function applyChanges(
  store: ObjectStore,
  writer: ObjectWriter,
  base: Oid | undefined,
  node: DirNode,
  replaced: Replaced[] = [],
  prefix = '',
  fsck: FsckConfig = fsckConfig(),
  built?: Map<Oid, Uint8Array>,
): Promise<Oid | undefined> {
  const entries = new Map<string, TreeEntry>();
  const written = new Map<Oid, Uint8Array | null>(); // blobs this commit writes in this directory (null: not held)
  if (base !== undefined) for (const e of await store.tree(base)) entries.set(e.name, e);
  for (const [name, change] of node.files) {
    if (slices.due()) await slices.pause();
    const path = prefix + name;
    const existing = entries.get(name);
    if (change.delete) {
      if (existing === undefined || isTreeMode(existing.mode)) {
        throw new NotFoundError('ERR_PATH_NOT_FOUND', `cannot delete "${path}": no such file`, { details: { path } });
      }
      entries.delete(name);
      continue;
    }
    const keep = existing !== undefined && isBlobMode(existing.mode) ? existing.mode : FILE_MODE;
    const mode = (change.mode === undefined ? keep : normalizeMode(String(change.mode))) as FileMode;
    if ('blob' in change) {
      // Stored elsewhere (never held here): a tree naming it .gitmodules refuses it as too large.
      if (change.stored !== undefined) writer.addStored(change.blob, change.stored);
      written.set(change.blob, null);
      entries.set(name, { name, mode, oid: change.blob });
      continue;
    }
    const content = typeof change.content === 'string' ? utf8(change.content) : change.content;
    const oid = writer.add('blob', content);
    written.set(oid, content);
    if (existing !== undefined && mode !== SYMLINK_MODE && (existing.mode === FILE_MODE || existing.mode === EXECUTABLE_MODE) && existing.oid !== oid) {
      replaced.push({ oid, base: existing.oid, body: content });
    }
    entries.set(name, { name, mode, oid });
  }
  // Subtrees: independent of each other, so rebuild them concurrently.
  const dirs = [...node.dirs];
  const rebuilt = await Promise.all(
    dirs.map(([name, child]) => {
      const existing = entries.get(name);
      const childBase = existing !== undefined && isTreeMode(existing.mode) ? existing.oid : undefined;
      return applyChanges(store, writer, childBase, child, replaced, `${prefix}${name}/`, fsck, built);
    }),
  );
  dirs.forEach(([name], i) => {
    const oid = rebuilt[i];
    if (oid === undefined) entries.delete(name);
    else entries.set(name, { name, mode: TREE_MODE, oid });
  });
  if (entries.size === 0) return undefined;
  const body = encodeTree([...entries.values()]);
  const oid = writer.add('tree', body);
  checkTree(oid, body, written, fsck);
  built?.set(oid, body);
  if (base !== undefined && base !== oid) replaced.push({ oid, base, body });
  return oid;
}

/**
 * Checks a tree this commit builds, and the blobs it writes that the tree names `.gitmodules`
 * or `.gitattributes` (blobs kept from the base were checked when they arrived).
 */
function checkTree(oid: Oid, body: Uint8Array, written: ReadonlyMap<Oid, Uint8Array | null>, fsck: FsckConfig): void {
  const report = checkObject('tree', body, fsck);
  refuseIfBad(oid, 'tree', report);
  if (report.gitmodules.length === 0 && report.gitattributes.length === 0) return;
  const mine = { ...report, gitmodules: report.gitmodules.filter((o) => written.has(o)), gitattributes: report.gitattributes.filter((o) => written.has(o)) };
  for (const [blob, r] of checkNamedBlobs(mine, (o) => ({ type: 'blob', body: written.get(o)! }), fsck)) refuseIfBad(blob, 'blob', r);
}

/** The id of the empty tree. */
export const EMPTY_TREE_BODY = new Uint8Array(0);
