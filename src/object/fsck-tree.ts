/**
 * The tree check of git's fsck (fsck.c, fsck_tree), on the raw body:
 *   tree  = *entry
 *   entry = mode SP name NUL 20(raw-oid)      mode: octal digits, stored in 16 bits
 * A body git's tree walker cannot read is `badTree`; otherwise the per-entry findings are
 * gathered and reported once each, in git's order: nullSha1, fullPathname, emptyName,
 * hasDot, hasDotdot, hasDotgit, zeroPaddedFilemode, badFilemode, duplicateEntries,
 * treeNotSorted. Symlinks named .gitmodules/.gitattributes/.gitignore/.mailmap are reported
 * per entry; blobs named .gitmodules or .gitattributes are collected for the blob checks.
 * Works in place: no entry objects, no name strings; hex ids only for those collected blobs.
 */
import { toHex } from '../platform/bytes.js';
import type { Oid } from './oid.js';
import type { Reporter } from './fsck-ids.js';
import { isDotgit, isDotgitattributes, isDotgitignore, isDotgitmodules, isDotmailmap, isNtfsDotgit, isNtfsDotgitmodules } from './fsck-names.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

// Entry decoded by decodeEntry (module state: nothing allocated per entry).
let entryMode = 0;
let nameStart = 0;
let nameEnd = 0;

/** Decodes the entry at `at` as git's tree walker does; false when git cannot read it. */
function decodeEntry(b: Uint8Array, at: number): boolean {
  const size = b.length - at;
  // git checks that the 21st byte from the end of the whole buffer is a NUL: then every
  // name scan below stops inside the buffer with 20 bytes after it.
  if (size < 23 || b[b.length - 21] !== 0) return false;
  let i = at;
  if (b[i] === 0x20) return false;
  let mode = 0;
  for (;;) {
    const c = b[i++]!;
    if (c === 0x20) break;
    if (c < 0x30 || c > 0x37) return false;
    mode = ((mode << 3) | (c - 0x30)) & 0xffff;
  }
  if (b[i] === 0) return false; // empty name
  let n = i;
  while (b[n] !== 0) n++;
  entryMode = mode;
  nameStart = i;
  nameEnd = n;
  return true;
}

function isLessThanSlash(c: number): boolean {
  return c > 0 && c < 0x2f;
}

const ORDERED = 0;
const UNORDERED = 1;
const DUPLICATE = 2;

/**
 * Git's order of two neighbouring entries (a tree sorts as if its name ended in "/"). A file
 * that is a prefix of later names is remembered in `candidates` (start, end pairs) so that a
 * tree of the same name further down is still seen as a duplicate ("a", "a.b", "a/").
 */
function verifyOrdered(b: Uint8Array, m1: number, s1: number, e1: number, m2: number, s2: number, e2: number, candidates: number[]): number {
  const l1 = e1 - s1;
  const l2 = e2 - s2;
  const len = Math.min(l1, l2);
  for (let k = 0; k < len; k++) {
    const d = b[s1 + k]! - b[s2 + k]!;
    if (d < 0) return ORDERED;
    if (d > 0) return UNORDERED;
  }
  let c1 = len < l1 ? b[s1 + len]! : 0;
  let c2 = len < l2 ? b[s2 + len]! : 0;
  if (c1 === 0 && c2 === 0) return DUPLICATE;
  if (c1 === 0 && (m1 & S_IFMT) === S_IFDIR) c1 = 0x2f;
  if (c2 === 0 && (m2 & S_IFMT) === S_IFDIR) c2 = 0x2f;
  if (c1 === 0 && isLessThanSlash(c2)) {
    candidates.push(s1, e1);
  } else if (c2 === 0x2f && isLessThanSlash(c1)) {
    while (candidates.length > 0) {
      const fe = candidates.pop()!;
      const fs = candidates.pop()!;
      const fl = fe - fs;
      if (fl > l2) continue;
      let k = 0;
      while (k < fl && b[fs + k] === b[s2 + k]) k++;
      if (k < fl) continue;
      if (fl === l2) return DUPLICATE;
      if (isLessThanSlash(b[s2 + fl]!)) {
        candidates.push(fs, fe);
        break;
      }
    }
  }
  return c1 < c2 ? ORDERED : UNORDERED;
}

function collect(list: Oid[] | null, oid: Oid): Oid[] {
  if (list === null) return [oid];
  if (!list.includes(oid)) list.push(oid);
  return list;
}

/** Checks a tree body; findings go to `r`, named blobs to `r.gitmodules` / `r.gitattributes`. */
export function checkTree(b: Uint8Array, r: Reporter, strict: boolean): void {
  if (b.length === 0) return;
  if (!decodeEntry(b, 0)) {
    r.report('badTree', 'cannot be read as a tree');
    return;
  }
  let nullSha1 = false;
  let fullPath = false;
  let dot = false;
  let dotdot = false;
  let dotgit = false;
  let zeroPad = false;
  let badModes = false;
  let duplicates = false;
  let unsorted = false;
  const candidates: number[] = [];
  let pMode = 0;
  let pStart = -1;
  let pEnd = -1;
  let at = 0;
  for (;;) {
    const mode = entryMode;
    const s = nameStart;
    const e = nameEnd;
    const oidAt = e + 1;
    const isLink = (mode & S_IFMT) === S_IFLNK;
    let zero = true;
    for (let k = 0; k < 20; k++) {
      if (b[oidAt + k] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) nullSha1 = true;
    if (e - s === 1 && b[s] === 0x2e) dot = true;
    else if (e - s === 2 && b[s] === 0x2e && b[s + 1] === 0x2e) dotdot = true;
    if (b[at] === 0x30) zeroPad = true;
    if (isDotgit(b, s, e)) dotgit = true;
    if (isDotgitmodules(b, s, e)) {
      if (isLink) r.report('gitmodulesSymlink', '.gitmodules is a symbolic link');
      else r.gitmodules = collect(r.gitmodules, toHex(b, oidAt, oidAt + 20) as Oid);
    }
    if (isDotgitattributes(b, s, e)) {
      if (isLink) r.report('gitattributesSymlink', '.gitattributes is a symbolic link');
      else r.gitattributes = collect(r.gitattributes, toHex(b, oidAt, oidAt + 20) as Oid);
    }
    if (isLink) {
      if (isDotgitignore(b, s, e)) r.report('gitignoreSymlink', '.gitignore is a symbolic link');
      if (isDotmailmap(b, s, e)) r.report('mailmapSymlink', '.mailmap is a symbolic link');
    }
    for (let k = s; k < e; k++) {
      const c = b[k]!;
      if (c === 0x2f) fullPath = true;
      else if (c === 0x5c) {
        // NTFS reads a backslash as a directory separator: each part after one is a name.
        if (isNtfsDotgit(b, k + 1, e)) dotgit = true;
        if (isNtfsDotgitmodules(b, k + 1, e)) {
          if (isLink) r.report('gitmodulesSymlink', '.gitmodules is a symbolic link');
          else r.gitmodules = collect(r.gitmodules, toHex(b, oidAt, oidAt + 20) as Oid);
        }
      }
    }
    at = oidAt + 20;
    if (at < b.length && !decodeEntry(b, at)) {
      r.report('badTree', 'cannot be read as a tree');
      break;
    }
    switch (mode) {
      case 0o100755:
      case 0o100644:
      case 0o120000:
      case 0o040000:
      case 0o160000:
        break;
      case 0o100664: // written by very early gits; tolerated unless strict
        if (strict) badModes = true;
        break;
      default:
        badModes = true;
    }
    if (pStart >= 0) {
      const order = verifyOrdered(b, pMode, pStart, pEnd, mode, s, e, candidates);
      if (order === UNORDERED) unsorted = true;
      else if (order === DUPLICATE) duplicates = true;
    }
    pMode = mode;
    pStart = s;
    pEnd = e;
    if (at >= b.length) break;
  }
  if (nullSha1) r.report('nullSha1', 'has an entry pointing to the null id');
  if (fullPath) r.report('fullPathname', 'has an entry name with a "/"');
  if (dot) r.report('hasDot', 'has an entry named "."');
  if (dotdot) r.report('hasDotdot', 'has an entry named ".."');
  if (dotgit) r.report('hasDotgit', 'has an entry a checkout would read as ".git"');
  if (zeroPad) r.report('zeroPaddedFilemode', 'has a zero-padded file mode');
  if (badModes) r.report('badFilemode', 'has an entry with a bad file mode');
  if (duplicates) r.report('duplicateEntries', 'has duplicate entries');
  if (unsorted) r.report('treeNotSorted', 'entries are not sorted');
}
