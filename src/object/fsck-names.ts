/**
 * The names a checkout treats as `.git`, `.gitmodules`, `.gitattributes`, `.gitignore` or
 * `.mailmap` on some file system (git's utf8.c and path.c rules, CVE-2014-9390 and its
 * successors), over the raw bytes of a tree entry name `b[start, end)`:
 * - HFS+ ignores some Unicode code points entirely (zero-width joiners, direction marks,
 *   U+FEFF) and folds case: `.g\u200cit`, `\u200c.GIT` name `.git` there. A name is matched
 *   up to its end or a `/`; a malformed UTF-8 sequence after the needle counts as the end,
 *   as in git.
 * - NTFS folds case, strips trailing spaces and periods, opens alternate data streams after
 *   a `:` (`.git::$INDEX_ALLOCATION`), and gives 8.3 short names (`git~1`, `gitmod~1`, or the
 *   hashed fallbacks such as `gi7eba~1`). Backslashes are directory separators there.
 * Each predicate first looks at the name's first byte, so ordinary names cost one compare.
 */
import { utf8 } from '../platform/bytes.js';

const DOT = 0x2e;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

const NEEDLE_GIT = utf8('git');
const NEEDLE_GITMODULES = utf8('gitmodules');
const NEEDLE_GITATTRIBUTES = utf8('gitattributes');
const NEEDLE_GITIGNORE = utf8('gitignore');
const NEEDLE_MAILMAP = utf8('mailmap');
// NTFS fall-back short-name prefixes git derives from each name's hash.
const SHORT_GITMODULES = utf8('gi7eba');
const SHORT_GITATTRIBUTES = utf8('gi7d29');
const SHORT_GITIGNORE = utf8('gi250a');
const SHORT_MAILMAP = utf8('maba30');

// Cursor of nextHfsChar (module state: no closure or object per call).
let cursor = 0;

/**
 * The next code point at `cursor` that HFS+ does not ignore; 0 at the end and for malformed
 * UTF-8 (then the cursor moves to the end).
 */
function nextHfsChar(b: Uint8Array, end: number): number {
  for (;;) {
    const i = cursor;
    if (i >= end) return 0;
    const c0 = b[i]!;
    let cp: number;
    if (c0 < 0x80) {
      cursor = i + 1;
      return c0;
    }
    const c1 = i + 1 < end ? b[i + 1]! : 0;
    const c2 = i + 2 < end ? b[i + 2]! : 0;
    if ((c0 & 0xe0) === 0xc0) {
      if ((c1 & 0xc0) !== 0x80 || (c0 & 0xfe) === 0xc0) break;
      cp = ((c0 & 0x1f) << 6) | (c1 & 0x3f);
      cursor = i + 2;
    } else if ((c0 & 0xf0) === 0xe0) {
      if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80) break;
      if (c0 === 0xe0 && (c1 & 0xe0) === 0x80) break; // overlong
      if (c0 === 0xed && (c1 & 0xe0) === 0xa0) break; // surrogate
      if (c0 === 0xef && c1 === 0xbf && (c2 & 0xfe) === 0xbe) break; // U+FFFE, U+FFFF
      cp = ((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
      cursor = i + 3;
    } else if ((c0 & 0xf8) === 0xf0) {
      const c3 = i + 3 < end ? b[i + 3]! : 0;
      if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) break;
      if ((c0 === 0xf0 && (c1 & 0xf0) === 0x80) || (c0 === 0xf4 && c1 > 0x8f) || c0 > 0xf4) break;
      cp = ((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f);
      cursor = i + 4;
    } else {
      break;
    }
    const ignorable = (cp >= 0x200c && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x206a && cp <= 0x206f) || cp === 0xfeff;
    if (!ignorable) return cp;
  }
  cursor = end;
  return 0;
}

/** True when HFS+ reads `b[start, end)` as "." + needle (then end or "/"). */
function isHfsDot(b: Uint8Array, start: number, end: number, needle: Uint8Array): boolean {
  if (start >= end) return false;
  const first = b[start]!;
  // Only "." or the lead byte of an ignorable code point (U+200C..U+206F: E2; U+FEFF: EF).
  if (first !== DOT && first !== 0xe2 && first !== 0xef) return false;
  cursor = start;
  if (nextHfsChar(b, end) !== DOT) return false;
  for (let k = 0; k < needle.length; k++) {
    const c = nextHfsChar(b, end);
    if (c > 127 || lower(c) !== needle[k]) return false;
  }
  const c = nextHfsChar(b, end);
  return c === 0 || c === SLASH;
}

function byteAt(b: Uint8Array, i: number, end: number): number {
  return i < end ? b[i]! : 0;
}

/** True when NTFS reads `b[start, end)` as `.git` (a `\` or `/` also ends the name). */
export function isNtfsDotgit(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  const c = byteAt(b, i++, end);
  if (c === DOT) {
    if (lower(byteAt(b, i++, end)) !== 0x67 || lower(byteAt(b, i++, end)) !== 0x69 || lower(byteAt(b, i++, end)) !== 0x74) return false;
  } else if (c === 0x67 || c === 0x47) {
    if (lower(byteAt(b, i++, end)) !== 0x69 || lower(byteAt(b, i++, end)) !== 0x74) return false;
    if (byteAt(b, i++, end) !== 0x7e || byteAt(b, i++, end) !== 0x31) return false;
  } else {
    return false;
  }
  for (;;) {
    const d = byteAt(b, i++, end);
    if (d === 0 || d === SLASH || d === BACKSLASH || d === 0x3a) return true;
    if (d !== DOT && d !== 0x20) return false;
  }
}

function onlySpacesAndPeriods(b: Uint8Array, i: number, end: number): boolean {
  for (;;) {
    const c = byteAt(b, i++, end);
    if (c === 0 || c === 0x3a) return true;
    if (c !== 0x20 && c !== DOT) return false;
  }
}

/** True when NTFS reads `b[start, end)` as "." + needle (case, trailing dots/spaces, streams, short names). */
function isNtfsDot(b: Uint8Array, start: number, end: number, needle: Uint8Array, short: Uint8Array): boolean {
  if (start >= end) return false;
  const first = b[start]!;
  if (first !== DOT && first !== 0x7e && lower(first) !== short[0]) return false;
  if (first === DOT) {
    let k = 0;
    while (k < needle.length && lower(byteAt(b, start + 1 + k, end)) === needle[k]) k++;
    if (k === needle.length) return onlySpacesAndPeriods(b, start + 1 + needle.length, end);
  }
  // The regular short name: the first six characters, then ~1 to ~4.
  let k = 0;
  while (k < 6 && lower(byteAt(b, start + k, end)) === needle[k]) k++;
  if (k === 6 && byteAt(b, start + 6, end) === 0x7e) {
    const d = byteAt(b, start + 7, end);
    if (d >= 0x31 && d <= 0x34) return onlySpacesAndPeriods(b, start + 8, end);
  }
  // The fall-back short name: up to six characters of the hashed prefix, "~", a digit 1-9,
  // then digits, eight characters in all.
  let sawTilde = false;
  for (let i = 0; i < 8; i++) {
    const c = byteAt(b, start + i, end);
    if (c === 0) return false;
    if (sawTilde) {
      if (c < 0x30 || c > 0x39) return false;
    } else if (c === 0x7e) {
      const d = byteAt(b, start + ++i, end);
      if (d < 0x31 || d > 0x39) return false;
      sawTilde = true;
    } else if (i >= 6 || c & 0x80 || lower(c) !== short[i]) {
      return false;
    }
  }
  return onlySpacesAndPeriods(b, start + 8, end);
}

/** `.git` for HFS+ or NTFS. */
export function isDotgit(b: Uint8Array, start: number, end: number): boolean {
  return isHfsDot(b, start, end, NEEDLE_GIT) || isNtfsDotgit(b, start, end);
}

/** `.gitmodules` for HFS+ or NTFS. */
export function isDotgitmodules(b: Uint8Array, start: number, end: number): boolean {
  return isHfsDot(b, start, end, NEEDLE_GITMODULES) || isNtfsDot(b, start, end, NEEDLE_GITMODULES, SHORT_GITMODULES);
}

/** `.gitmodules` for NTFS only (the part of a name after a backslash). */
export function isNtfsDotgitmodules(b: Uint8Array, start: number, end: number): boolean {
  return isNtfsDot(b, start, end, NEEDLE_GITMODULES, SHORT_GITMODULES);
}

/** `.gitattributes` for HFS+ or NTFS. */
export function isDotgitattributes(b: Uint8Array, start: number, end: number): boolean {
  return isHfsDot(b, start, end, NEEDLE_GITATTRIBUTES) || isNtfsDot(b, start, end, NEEDLE_GITATTRIBUTES, SHORT_GITATTRIBUTES);
}

/** `.gitignore` for HFS+ or NTFS. */
export function isDotgitignore(b: Uint8Array, start: number, end: number): boolean {
  return isHfsDot(b, start, end, NEEDLE_GITIGNORE) || isNtfsDot(b, start, end, NEEDLE_GITIGNORE, SHORT_GITIGNORE);
}

/** `.mailmap` for HFS+ or NTFS. */
export function isDotmailmap(b: Uint8Array, start: number, end: number): boolean {
  return isHfsDot(b, start, end, NEEDLE_MAILMAP) || isNtfsDot(b, start, end, NEEDLE_MAILMAP, SHORT_MAILMAP);
}
