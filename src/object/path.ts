/**
 * Names inside trees and paths given by callers. Git refuses (and so do we) entry names that
 * are empty, `.`, `..`, `.git` in any case (and its NTFS spellings `.git.`, `.git `, `git~1`),
 * or that contain `/` or NUL: such names let a checkout write outside the work tree or into
 * `.git`.
 */
import { InvalidPathError } from '../errors.js';

/** Why `name` may not be a tree entry name, or null when it may. */
export function entryNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `"${name}" is not allowed`;
  if (name.includes('/')) return 'name contains "/"';
  if (name.includes('\0')) return 'name contains NUL';
  const folded = name.toLowerCase().replace(/[. ]+$/, '');
  if (folded === '.git' || folded === 'git~1') return `"${name}" is reserved for git`;
  return null;
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
      throw new InvalidPathError(`path "${path}": ${p === '' ? 'empty segment' : problem}`, { details: { path } });
    }
  }
  return parts;
}

/** Splits an optional directory path ("" or undefined means the root). */
export function splitDirPath(path: string | undefined): string[] {
  if (path === undefined || path === '' || path === '/') return [];
  return splitPath(path.replace(/\/+$/, ''));
}
