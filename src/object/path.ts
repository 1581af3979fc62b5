/**
 * Names inside trees and paths given by callers. Git refuses (and so do we) entry names that
 * are empty, `.`, `..`, or that contain `/` or NUL, and every name a checkout would read as
 * `.git` on some file system: any case, HFS+'s ignorable code points (`.g\u200cit`,
 * `\u200c.git`, `.git\u200c`), NTFS's trailing dots and spaces, alternate streams and short
 * name (`.git.`, `.git::$INDEX_ALLOCATION`, `.git:$DATA`, `git~1`). Such names let a checkout
 * write outside the work tree or into `.git`. The `.git` rule is fsck-names.ts's `isDotgit`,
 * the one git's `hasDotgit` check uses (src/object/fsck-tree.ts): one rule for both.
 */
import { InvalidPathError } from '../errors.js';
import { utf8 } from '../platform/bytes.js';
import { isDotgit } from './fsck-names.js';

// A low surrogate in U+DC80..U+DCFF that is not the second half of a pair: a byte >= 0x80 of a
// name that is not UTF-8, escaped by tree.ts's nameFromBytes.
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;

/** The bytes of a tree entry name (inverse of tree.ts's nameFromBytes: escaped bytes back to bytes). */
export function nameToBytes(name: string): Uint8Array {
  if (!ESCAPED_BYTE.test(name)) return utf8(name);
  const out: number[] = [];
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xdc80 && c <= 0xdcff) out.push(c - 0xdc00);
    else out.push(...utf8(ch));
  }
  return Uint8Array.from(out);
}

/** Why `name` may not be a tree entry name, or null when it may (git's fsck ids in parentheses). */
export function entryNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `"${name}" is not allowed (${name === '.' ? 'hasDot' : 'hasDotdot'})`;
  if (name.includes('/')) return 'name contains "/"';
  if (name.includes('\0')) return 'name contains NUL';
  // Only names starting like ".g", "git~" or with a code point HFS+ ignores can match.
  const c = name.charCodeAt(0);
  const d = name.charCodeAt(1);
  if ((c === 0x2e && (d === 0x67 || d === 0x47 || d >= 0x200c)) || ((c === 0x67 || c === 0x47) && name.charCodeAt(3) === 0x7e) || c >= 0x200c) {
    const b = nameToBytes(name);
    if (isDotgit(b, 0, b.length)) return `"${name}" is reserved for git (hasDotgit)`;
  }
  return null;
}

/** Git's fsck message id in an entryNameProblem message, if any. */
function problemId(problem: string): string | undefined {
  return /\((has\w+)\)$/.exec(problem)?.[1];
}

/** Splits and checks a slash-separated path; throws InvalidPathError. */
export function splitPath(path: unknown): string[] {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidPathError('path must be a non-empty string', { details: { path } });
  if (path.startsWith('/')) throw new InvalidPathError(`path "${path}" is absolute`, { details: { path } });
  if (path.includes('\\')) throw new InvalidPathError(`path "${path}" contains a backslash`, { details: { path } });
  const parts = path.split('/');
  for (const p of parts) {
    const problem = entryNameProblem(p);
    if (problem !== null) {
      const id = problemId(problem);
      throw new InvalidPathError(`path "${path}": ${p === '' ? 'empty segment' : problem}`, { details: id === undefined ? { path } : { path, id } });
    }
  }
  return parts;
}

/** Splits an optional directory path ("" or undefined means the root). */
export function splitDirPath(path: string | undefined): string[] {
  if (path === undefined || path === '' || path === '/') return [];
  return splitPath(path.replace(/\/+$/, ''));
}
