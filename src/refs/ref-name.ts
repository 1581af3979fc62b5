/**
 * Ref names, checked by git's check-ref-format rules (Documentation/git-check-ref-format):
 * slash-separated components, none starting with "." or ending with ".lock"; no "..", no
 * "@{", not "@" alone; no control characters, space, ~ ^ : ? * [ \; no leading, trailing or
 * double slash; no trailing ".". level-git also requires full names under `refs/` (or `HEAD`),
 * well-formed Unicode (names are stored as UTF-8) and bounds the length.
 */
import { InvalidRefNameError } from '../errors.js';

/** A validated full ref name. */
export type RefName = string & { readonly __brand: 'RefName' };

/** Longest ref name accepted. */
export const MAX_REF_NAME_LENGTH = 1024;

// eslint-disable-next-line no-control-regex
// biome-ignore lint/suspicious/noControlCharactersInRegex: check-ref-format refuses control characters; this is that rule.
const BAD_CHARS = /[\x00-\x20\x7f~^:?*[\\]/;
// Names are stored as UTF-8: a lone surrogate would be written as U+FFFD, so two names would share a key.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `name` breaks check-ref-format's rules, as a phrase without a subject (`contains ".."`),
 * or null. The one copy of the rule: ref names here and ref-policy patterns (access/) use it.
 * It checks neither the length nor the `refs/` prefix.
 */
export function refFormatProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (BAD_CHARS.test(name)) return 'contains a forbidden character';
  if (LONE_SURROGATE.test(name)) return 'is not well-formed Unicode (a lone surrogate)';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name === '@') return 'is "@"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty component';
  if (name.endsWith('.')) return 'ends with "."';
  for (const c of name.split('/')) {
    if (c.startsWith('.')) return 'has a component starting with "."';
    if (c.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  return null;
}

/** Why `name` is not a valid ref name (check-ref-format rules, bounded length), or null. */
export function refNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty ref name';
  if (name.length > MAX_REF_NAME_LENGTH) return `ref name longer than ${MAX_REF_NAME_LENGTH} characters`;
  const problem = refFormatProblem(name);
  return problem === null ? null : `ref name ${problem}`;
}

/** True for a valid full ref name under refs/ (at least `refs/x/y`). */
export function isRefName(name: unknown): name is RefName {
  return typeof name === 'string' && name.startsWith('refs/') && name.split('/').length >= 3 && refNameProblem(name) === null;
}

/** Validates a full ref name (`refs/heads/main`); throws InvalidRefNameError. */
export function parseRefName(name: unknown): RefName {
  if (typeof name !== 'string') throw new InvalidRefNameError('ref name must be a string');
  const problem = refNameProblem(name);
  if (problem !== null) throw new InvalidRefNameError(`invalid ref name "${name.slice(0, 200)}": ${problem}`, { details: { ref: name } });
  if (!name.startsWith('refs/') || name.split('/').length < 3) {
    throw new InvalidRefNameError(`invalid ref name "${name.slice(0, 200)}": must be a full name under refs/ like refs/heads/main`, { details: { ref: name } });
  }
  return name as RefName;
}

/** Validates a short branch name and returns `refs/heads/<name>`. */
export function branchRef(name: unknown): RefName {
  if (typeof name !== 'string') throw new InvalidRefNameError('branch name must be a string');
  return parseRefName(name.startsWith('refs/heads/') ? name : `refs/heads/${name}`);
}

/** Validates a short tag name and returns `refs/tags/<name>`. */
export function tagRef(name: unknown): RefName {
  if (typeof name !== 'string') throw new InvalidRefNameError('tag name must be a string');
  return parseRefName(name.startsWith('refs/tags/') ? name : `refs/tags/${name}`);
}
