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
  for (;;) {
    const c = b[i++]!;
    if (c === 0x20) break;
    if (c < 0x30 || c > 0x37) return false;
  }
  if (b[i] === 0) return false; // empty name
  let n = i;
  while (b[n] !== 0) n++;
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

/** The mode of the entry at `at` (its name at `s`) as git's tree walker reads it: 16 bits of the octal digits before the space. */
function walkerMode(b: Uint8Array, at: number, s: number): number {
  let mode = 0;
  for (let k = at; k < s - 1; k++) mode = ((mode << 3) | (b[k]! - 0x30)) & 0xffff;
  return mode;
}

function collect(list: Oid[] | null, oid: Oid): Oid[] {
  if (list === null) return [oid];
  if (!list.includes(oid)) list.push(oid);
  return list;
}

/**
 * Git's tree checks one entry at a time, over entries the caller has read: `begin` a body,
 * `names` then `order` for each entry in turn (mode at b[at..s - 1), name b[s..e), id after it),
 * `end` to report. `checkTree` drives it with git's tree walker; ingest's single pass over a
 * pushed tree (object/fsck.ts `FsckSession.scanTree`) drives it from object/tree.ts `scanTree`,
 * whose parse accepts no body git's walker could not read. One instance is reused: nothing is
 * allocated per entry.
 */
export class TreeChecker {
  #b: Uint8Array = new Uint8Array(0);
  #r: Reporter | null = null;
  #strict = true;
  #flags = 0;
  /** The mode of the entry `names` read last. */
  #mode = 0;
  readonly #candidates: number[] = [];
  #pMode = 0;
  #pStart = -1;
  #pEnd = -1;
  /** Whether a file was ever remembered in `candidates` in this body. */
  #remembered = false;
  /** Entries `names` found naming a `.gitmodules` / `.gitattributes` blob, since the checker was made. */
  named = 0;

  /** Starts the checks of body `b`, findings to `r`. */
  begin(b: Uint8Array, r: Reporter, strict: boolean): void {
    this.#b = b;
    this.#r = r;
    this.#strict = strict;
    this.#flags = 0;
    this.#candidates.length = 0;
    this.#pStart = -1;
    this.#remembered = false;
  }

  /**
   * No file is remembered for a later tree of its name: the order checks of the entries to come
   * depend on the previous entry alone (a body's entries may then be passed over: `jump`).
   */
  get settled(): boolean {
    return this.#candidates.length === 0;
  }

  /** Whether the body had a file remembered for a later tree of its name at some point (its runs of entries did not depend on the previous entry alone). */
  get remembered(): boolean {
    return this.#remembered;
  }

  /**
   * Goes on after entry b[at..) (name b[s..e)) as though the entries since the last one checked
   * were checked and clean: the caller knows them to be (object/tree-skips.ts).
   */
  jump(at: number, s: number, e: number): void {
    this.#pMode = walkerMode(this.#b, at, s);
    this.#pStart = s;
    this.#pEnd = e;
  }

  /** The checks of one entry's name, id and mode spelling (entry at `at`, name b[s..e)). */
  names(at: number, s: number, e: number): void {
    const b = this.#b;
    const r = this.#r!;
    const oidAt = e + 1;
    const mode = walkerMode(b, at, s);
    const isLink = (mode & S_IFMT) === S_IFLNK;
    let f = this.#flags;
    let zero = true;
    for (let k = 0; k < 20; k++) {
      if (b[oidAt + k] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) f |= NULL_SHA1;
    if (e - s === 1 && b[s] === 0x2e) f |= DOT;
    else if (e - s === 2 && b[s] === 0x2e && b[s + 1] === 0x2e) f |= DOTDOT;
    if (b[at] === 0x30) f |= ZERO_PAD;
    if (isDotgit(b, s, e)) f |= DOTGIT;
    if (isDotgitmodules(b, s, e)) {
      if (isLink) r.report('gitmodulesSymlink', '.gitmodules is a symbolic link');
      else this.#namedBlob('gitmodules', oidAt);
    }
    if (isDotgitattributes(b, s, e)) {
      if (isLink) r.report('gitattributesSymlink', '.gitattributes is a symbolic link');
      else this.#namedBlob('gitattributes', oidAt);
    }
    if (isLink) {
      if (isDotgitignore(b, s, e)) r.report('gitignoreSymlink', '.gitignore is a symbolic link');
      if (isDotmailmap(b, s, e)) r.report('mailmapSymlink', '.mailmap is a symbolic link');
    }
    for (let k = s; k < e; k++) {
      const c = b[k]!;
      if (c === 0x2f) f |= FULL_PATH;
      else if (c === 0x5c) {
        // NTFS reads a backslash as a directory separator: each part after one is a name.
        if (isNtfsDotgit(b, k + 1, e)) f |= DOTGIT;
        if (isNtfsDotgitmodules(b, k + 1, e)) {
          if (isLink) r.report('gitmodulesSymlink', '.gitmodules is a symbolic link');
          else this.#namedBlob('gitmodules', oidAt);
        }
      }
    }
    this.#flags = f;
    this.#mode = mode;
  }

  /** The entry's id at `oidAt` names a `.gitmodules` / `.gitattributes` blob: the report lists it (once), and `named` counts the entry. */
  #namedBlob(kind: 'gitmodules' | 'gitattributes', oidAt: number): void {
    const r = this.#r!;
    r[kind] = collect(r[kind], toHex(this.#b, oidAt, oidAt + 20) as Oid);
    this.named++;
  }

  /** The checks of the mode `names` just read and of its entry's order after the previous one (git skips them for an entry followed by an unreadable one). */
  order(s: number, e: number): void {
    const mode = this.#mode;
    switch (mode) {
      case 0o100755:
      case 0o100644:
      case 0o120000:
      case 0o040000:
      case 0o160000:
        break;
      case 0o100664: // written by very early gits; tolerated unless strict
        if (this.#strict) this.#flags |= BAD_MODES;
        break;
      default:
        this.#flags |= BAD_MODES;
    }
    if (this.#pStart >= 0) {
      const order = verifyOrdered(this.#b, this.#pMode, this.#pStart, this.#pEnd, mode, s, e, this.#candidates);
      if (order === UNORDERED) this.#flags |= UNSORTED;
      else if (order === DUPLICATE) this.#flags |= DUPLICATES;
      if (this.#candidates.length > 0) this.#remembered = true;
    }
    this.#pMode = mode;
    this.#pStart = s;
    this.#pEnd = e;
  }

  /** Reports the findings gathered over the entries, once each, in git's order. */
  end(): void {
    const r = this.#r!;
    const f = this.#flags;
    if (f & NULL_SHA1) r.report('nullSha1', 'has an entry pointing to the null id');
    if (f & FULL_PATH) r.report('fullPathname', 'has an entry name with a "/"');
    if (f & DOT) r.report('hasDot', 'has an entry named "."');
    if (f & DOTDOT) r.report('hasDotdot', 'has an entry named ".."');
    if (f & DOTGIT) r.report('hasDotgit', 'has an entry a checkout would read as ".git"');
    if (f & ZERO_PAD) r.report('zeroPaddedFilemode', 'has a zero-padded file mode');
    if (f & BAD_MODES) r.report('badFilemode', 'has an entry with a bad file mode');
    if (f & DUPLICATES) r.report('duplicateEntries', 'has duplicate entries');
    if (f & UNSORTED) r.report('treeNotSorted', 'entries are not sorted');
    this.#r = null;
    this.#b = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);
const NULL_SHA1 = 1;
const FULL_PATH = 2;
const DOT = 4;
const DOTDOT = 8;
const DOTGIT = 16;
const ZERO_PAD = 32;
const BAD_MODES = 64;
const DUPLICATES = 128;
const UNSORTED = 256;

const checker = new TreeChecker();

/** Checks a tree body; findings go to `r`, named blobs to `r.gitmodules` / `r.gitattributes`. */
export function checkTree(b: Uint8Array, r: Reporter, strict: boolean): void {
  if (b.length === 0) return;
  if (!decodeEntry(b, 0)) {
    r.report('badTree', 'cannot be read as a tree');
    return;
  }
  checker.begin(b, r, strict);
  let at = 0;
  for (;;) {
    const s = nameStart;
    const e = nameEnd;
    checker.names(at, s, e);
    at = e + 21;
    if (at < b.length && !decodeEntry(b, at)) {
      r.report('badTree', 'cannot be read as a tree');
      break;
    }
    checker.order(s, e);
    if (at >= b.length) break;
  }
  checker.end();
}
