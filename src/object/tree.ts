/**
 * Tree objects. Grammar (git's tree.c / fsck.c):
 *   tree  = *entry
 *   entry = mode SP name NUL 20(raw-oid)
 * Modes: 100644 (file), 100755 (executable), 120000 (symlink), 40000 (tree; written without
 * the leading zero), 160000 (gitlink). Entries are sorted by name bytes, a tree's name
 * compared as if it ended with "/". Names obey object/path.ts.
 * Names are bytes in git, not always UTF-8 (old histories carry Latin-1 names). A name that is
 * not valid UTF-8 is read with each byte >= 0x80 as a lone surrogate U+DC80..U+DCFF and written
 * back as that byte, so such trees keep their exact bytes through a decode and an encode.
 */
import { InvalidObjectError } from '../errors.js';
import { fromUtf8, compare } from '../platform/bytes.js';
import { type Oid, oidFromBytes, writeOid } from './oid.js';
import { entryNameProblem, nameToBytes } from './path.js';
import { isDotgit } from './fsck-names.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A tree entry name from its bytes: UTF-8 when valid, else bytes >= 0x80 escaped as U+DC80..U+DCFF. */
export function nameFromBytes(b: Uint8Array): string {
  try {
    return strictUtf8.decode(b);
  } catch {
    let s = '';
    for (const x of b) s += String.fromCharCode(x < 0x80 ? x : 0xdc00 + x);
    return s;
  }
}

export { nameToBytes };

/** File modes as git writes them. */
export type FileMode = '100644' | '100755' | '120000' | '40000' | '160000';

/** A regular file. */
export const FILE_MODE = '100644' satisfies FileMode;
/** An executable file. */
export const EXECUTABLE_MODE = '100755' satisfies FileMode;
/** A symbolic link (the blob holds the target). */
export const SYMLINK_MODE = '120000' satisfies FileMode;
/** A subtree, as git writes it: without the leading zero (`040000` is read as this). */
export const TREE_MODE = '40000' satisfies FileMode;
/** A gitlink (submodule commit): the entry names an object of another repository. */
export const GITLINK_MODE = '160000' satisfies FileMode;

/** One tree entry. */
export interface TreeEntry {
  mode: FileMode;
  name: string;
  oid: Oid;
}

const MODES = new Set<string>([FILE_MODE, EXECUTABLE_MODE, SYMLINK_MODE, TREE_MODE, GITLINK_MODE]);
/** The tree mode as `ls-tree` and listings print it. */
const PADDED_TREE_MODE = '040000';
/** Old modes found in real histories, read as their modern equivalent. */
const LEGACY_MODES: Record<string, FileMode> = { [PADDED_TREE_MODE]: TREE_MODE, '100664': FILE_MODE, '100640': FILE_MODE, '100600': FILE_MODE };

/** Normalizes a mode given by a caller ('040000' and '40000' are the same); null if unknown. */
export function normalizeMode(mode: string): FileMode | null {
  if (MODES.has(mode)) return mode as FileMode;
  return mode === PADDED_TREE_MODE ? TREE_MODE : null;
}

/** True for the tree mode. */
export function isTreeMode(mode: string): boolean {
  return mode === TREE_MODE;
}

/** True for the gitlink mode (a submodule commit, not stored in this repository). */
export function isGitlinkMode(mode: string): boolean {
  return mode === GITLINK_MODE;
}

/** True for a blob mode: a file, an executable or a symlink. */
export function isBlobMode(mode: string): boolean {
  return mode === FILE_MODE || mode === EXECUTABLE_MODE || mode === SYMLINK_MODE;
}

/** Object type an entry of `mode` points at. */
export function entryType(mode: string): 'blob' | 'tree' | 'commit' {
  return isTreeMode(mode) ? 'tree' : isGitlinkMode(mode) ? 'commit' : 'blob';
}

/** A mode as listings print it: the tree mode zero-padded to six digits, like `git ls-tree`. */
export function displayMode(mode: string): string {
  return isTreeMode(mode) ? PADDED_TREE_MODE : mode;
}

/** Git's tree order: byte order of names, trees compared as "name/". */
export function compareEntries(a: { name: string; mode: string }, b: { name: string; mode: string }): number {
  const an = nameToBytes(isTreeMode(a.mode) ? a.name + '/' : a.name);
  const bn = nameToBytes(isTreeMode(b.mode) ? b.name + '/' : b.name);
  return compare(an, bn);
}

/**
 * Git's tree order on raw name bytes (a tree compared as if its name ended in "/"); 0 for the
 * same name whatever the kinds (a duplicate). Works on the tree body in place: no re-encoding.
 */
function compareRawNames(a: Uint8Array, aTree: boolean, b: Uint8Array, bTree: boolean): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  if (a.length === b.length) return 0;
  const ca = a.length > n ? a[n]! : aTree ? 0x2f : -1;
  const cb = b.length > n ? b[n]! : bTree ? 0x2f : -1;
  return ca - cb || a.length - b.length;
}

/** Decodes a tree body. `strict` checks names, modes and order as `git fsck` does. */
export function decodeTree(body: Uint8Array, strict = true): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  let prevName: Uint8Array | undefined;
  let prevTree = false;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0 || sp - i > 6) throw new InvalidObjectError('malformed tree entry mode');
    const rawMode = fromUtf8(body, i, sp);
    const nul = body.indexOf(0, sp + 1);
    if (nul < 0 || nul + 21 > body.length) throw new InvalidObjectError('truncated tree entry');
    const rawName = body.subarray(sp + 1, nul);
    const name = nameFromBytes(rawName);
    const mode = (MODES.has(rawMode) ? rawMode : LEGACY_MODES[rawMode]) as FileMode | undefined;
    if (mode === undefined) throw new InvalidObjectError(`tree entry "${name}" has invalid mode ${rawMode}`);
    const entry: TreeEntry = { mode, name, oid: oidFromBytes(body, nul + 1) };
    if (strict) {
      const problem = entryNameProblem(name);
      if (problem !== null) throw new InvalidObjectError(`tree entry: ${problem}`, { details: { name } });
      const isTree = isTreeMode(mode);
      if (prevName !== undefined && compareRawNames(prevName, prevTree, rawName, isTree) >= 0) {
        throw new InvalidObjectError(`tree entries not sorted or duplicated at "${name}"`);
      }
      prevName = rawName;
      prevTree = isTree;
    }
    entries.push(entry);
    i = nul + 21;
  }
  return entries;
}

/** What a scanned tree entry names: a blob (file or symlink, 0), a subtree (1), or a gitlink (another repository's commit, 2). */
export type EntryKind = 0 | 1 | 2;
/** A scanned entry naming a blob. */
export const ENTRY_BLOB = 0;
/** A scanned entry naming a subtree. */
export const ENTRY_TREE = 1;
/** A scanned entry naming a gitlink. */
export const ENTRY_GITLINK = 2;

/** The kind of an entry from its mode's bytes `body[from..to)`, or -1 for a mode decodeTree refuses. */
function kindOfModeBytes(body: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let k = from; k < to; k++) {
    const d = body[k]! - 0x30;
    if (d < 0 || d > 7) return -1;
    v = v * 8 + d;
  }
  const len = to - from;
  if (len === 6) {
    if (v === 0o100644 || v === 0o100755 || v === 0o120000 || v === 0o100664 || v === 0o100640 || v === 0o100600) return ENTRY_BLOB;
    if (v === 0o160000) return ENTRY_GITLINK;
    if (v === 0o40000) return ENTRY_TREE; // "040000", the padded spelling
    return -1;
  }
  return len === 5 && v === 0o40000 ? ENTRY_TREE : -1;
}

/**
 * Whether entryNameProblem may refuse the name b[from..to): empty, "." or "..", a "/", or
 * ".git" as some file system reads it (fsck-names.ts `isDotgit` on the bytes, the rule
 * entryNameProblem applies to the name encoded again). `isDotgit` is asked only of a start that
 * can read as ".git" (".g", "." then a non-ASCII character, "g"/"G" with "~" as the fourth
 * character, a non-ASCII first character), so a history's names starting with "g" (git's own:
 * `git-*.sh`, `grep.c`) cost a few byte compares. Only the names this lets through are decoded:
 * every tree of a history names `.gitignore` or `.gitattributes`, and decoding each to encode it
 * again was 0.3 s of git's own history's push.
 */
function nameMayBeRefused(body: Uint8Array, from: number, to: number): boolean {
  const len = to - from;
  if (len === 0) return true;
  const c = body[from]!;
  if (c === 0x2e && (len === 1 || (len === 2 && body[from + 1] === 0x2e))) return true;
  for (let k = from; k < to; k++) if (body[k] === 0x2f) return true;
  let dotgitStart = c >= 0x80;
  if (c === 0x2e) {
    const d = body[from + 1]!;
    dotgitStart = len > 1 && (d === 0x67 || d === 0x47 || d >= 0x80);
  } else if (c === 0x67 || c === 0x47) {
    // The fourth character is the fourth byte when the two before it are ASCII.
    dotgitStart = len > 3 && (body[from + 1]! >= 0x80 || body[from + 2]! >= 0x80 || body[from + 3] === 0x7e);
  }
  return dotgitStart && isDotgit(body, from, to);
}

/** compareRawNames over two names in the same body, without subarrays. */
function compareNamesAt(b: Uint8Array, a0: number, a1: number, aTree: boolean, c0: number, c1: number, cTree: boolean): number {
  const la = a1 - a0;
  const lc = c1 - c0;
  const n = Math.min(la, lc);
  for (let i = 0; i < n; i++) {
    const d = b[a0 + i]! - b[c0 + i]!;
    if (d !== 0) return d;
  }
  if (la === lc) return 0;
  const ca = la > n ? b[a0 + n]! : aTree ? 0x2f : -1;
  const cc = lc > n ? b[c0 + n]! : cTree ? 0x2f : -1;
  return ca - cc || la - lc;
}

/**
 * Entries a scan may pass over (object/tree-skips.ts): after each entry it visited (start, end),
 * `after` answers the start of a later entry such that every entry up to it and it are known
 * good, in order after the one visited (-1: none); the scan then reads only that entry's mode
 * and name, tells `jumped(start, nameStart, nameEnd)`, and goes on after it.
 */
export interface ScanSkips {
  after(start: number, end: number): number;
  jumped(start: number, nameStart: number, nameEnd: number): void;
}

/**
 * Visits the entries of a tree body without decoding names or ids: `visit(oidOffset, kind,
 * nameStart, nameEnd, start)` per entry (its mode at body[start..nameStart - 1)), in order. The
 * same checks as `decodeTree(body, true)` with the same errors (ingest calls it for every tree
 * of a pack: millions of entries in a long history), except over entries `skips` vouches for.
 */
export function scanTree(
  body: Uint8Array,
  visit: (oidAt: number, kind: EntryKind, nameStart: number, nameEnd: number, start: number) => void,
  skips?: ScanSkips,
): void {
  let i = 0;
  let prevStart = -1;
  let prevEnd = -1;
  let prevTree = false;
  const n = body.length;
  while (i < n) {
    // Byte loops rather than indexOf: modes and names are a few bytes, shorter than a call.
    let sp = i;
    while (sp < n && body[sp] !== 0x20) sp++;
    if (sp === n || sp - i > 6) throw new InvalidObjectError('malformed tree entry mode');
    let nul = sp + 1;
    while (nul < n && body[nul] !== 0) nul++;
    if (nul === n || nul + 21 > n) throw new InvalidObjectError('truncated tree entry');
    const kind = kindOfModeBytes(body, i, sp);
    if (kind < 0) throw new InvalidObjectError(`tree entry "${nameFromBytes(body.subarray(sp + 1, nul))}" has invalid mode ${fromUtf8(body, i, sp)}`);
    if (nameMayBeRefused(body, sp + 1, nul)) {
      const name = nameFromBytes(body.subarray(sp + 1, nul));
      const problem = entryNameProblem(name);
      if (problem !== null) throw new InvalidObjectError(`tree entry: ${problem}`, { details: { name } });
    }
    const isTree = kind === ENTRY_TREE;
    if (prevStart >= 0 && compareNamesAt(body, prevStart, prevEnd, prevTree, sp + 1, nul, isTree) >= 0) {
      throw new InvalidObjectError(`tree entries not sorted or duplicated at "${nameFromBytes(body.subarray(sp + 1, nul))}"`);
    }
    prevStart = sp + 1;
    prevEnd = nul;
    prevTree = isTree;
    visit(nul + 1, kind as EntryKind, sp + 1, nul, i);
    const start = i;
    i = nul + 21;
    const to = skips === undefined ? -1 : skips.after(start, i);
    if (to > start) {
      // A good entry (its base's): only where its name lies, for the order of the next.
      rawEntryAt(body, to);
      prevStart = rawSp + 1;
      prevEnd = rawNul;
      prevTree = rawEntryKind(body, to, rawSp) === ENTRY_TREE;
      skips!.jumped(to, rawSp + 1, rawNul);
      i = rawNul + 21;
    }
  }
}

/**
 * The kind of a stored entry from its mode's bytes body[start..sp) without checking them (the
 * tree was checked when stored): "40000"/"040000" a tree, "160000" a gitlink, else a blob.
 */
export function rawEntryKind(body: Uint8Array, start: number, sp: number): EntryKind {
  const len = sp - start;
  const c0 = body[start];
  if (len === 6 && c0 === 0x31 && body[start + 1] === 0x36) return ENTRY_GITLINK;
  return (len === 5 && c0 === 0x34) || (len === 6 && c0 === 0x30 && body[start + 1] === 0x34) ? ENTRY_TREE : ENTRY_BLOB;
}

/**
 * Calls `entry(start, sp, idAt)` for each entry of a stored tree body (mode at body[start..sp),
 * id at `idAt`), in order: the raw scan of long walks (repo/tree-shapes.ts). Throws on a
 * truncated body; modes and names are not checked (see scanTree).
 */
export function scanEntries(body: Uint8Array, entry: (start: number, sp: number, idAt: number) => void): void {
  const n = body.length;
  let i = 0;
  while (i < n) {
    const start = i;
    rawEntryAt(body, start);
    i = rawNul + 21;
    entry(start, rawSp, rawNul + 1);
  }
}

// Where rawEntryAt found the entry's space and NUL (module state: nothing allocated per entry).
let rawSp = 0;
let rawNul = 0;

/** Finds the space after the mode and the NUL after the name of the entry at `start`, unchecked; throws on a truncated body. */
function rawEntryAt(body: Uint8Array, start: number): void {
  const n = body.length;
  // Byte loops rather than indexOf: modes and names are a few bytes, shorter than a call.
  let sp = start;
  while (sp < n && body[sp] !== 0x20) sp++;
  let nul = sp + 1;
  while (nul < n && body[nul] !== 0) nul++;
  if (nul + 21 > n) throw new InvalidObjectError('truncated tree entry');
  rawSp = sp;
  rawNul = nul;
}

/** Encodes entries (sorting a copy into git's order); checks names and modes. */
export function encodeTree(entries: readonly TreeEntry[]): Uint8Array {
  const items = entries.map((e) => {
    const problem = entryNameProblem(e.name);
    if (problem !== null) throw new InvalidObjectError(`tree entry: ${problem}`, { details: { name: e.name } });
    if (!MODES.has(e.mode)) throw new InvalidObjectError(`tree entry "${e.name}" has invalid mode ${e.mode}`);
    return { e, name: nameToBytes(e.name), tree: isTreeMode(e.mode) };
  });
  items.sort((x, y) => compareRawNames(x.name, x.tree, y.name, y.tree));
  let total = 0;
  for (let k = 0; k < items.length; k++) {
    if (k > 0 && compareRawNames(items[k - 1]!.name, items[k - 1]!.tree, items[k]!.name, items[k]!.tree) === 0) {
      throw new InvalidObjectError(`duplicate tree entry "${items[k]!.e.name}"`);
    }
    total += items[k]!.e.mode.length + 1 + items[k]!.name.length + 21;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const { e, name } of items) {
    for (let c = 0; c < e.mode.length; c++) out[o++] = e.mode.charCodeAt(c);
    out[o++] = 0x20;
    out.set(name, o);
    o += name.length + 1; // NUL (already zero)
    writeOid(e.oid, out, o);
    o += 20;
  }
  return out;
}
