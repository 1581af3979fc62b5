/**
 * Ref policy patterns: validation of the `refs` claim and first-match lookup.
 *
 * Grammar (a JSON value inside a token):
 *   refs     = "[" [ policy *( "," policy ) ] "]"          ; at most MAX_REF_POLICIES
 *   policy   = "[" pattern "," "[" [ op *( "," op ) ] "]" "]"
 *   pattern  = refname / ( refdir "/*" )                    ; refname starts "refs/"
 *   refdir   = "refs" / refname
 *   op       = %s"no-push" / %s"no-force-push"              ; each at most once
 * A `refname` follows check-ref-format's rules, checked by `refFormatProblem` in
 * refs/ref-name.ts (the same rule ref names obey; `*` is allowed only as the glob suffix).
 */
import { refFormatProblem } from '../refs/ref-name.js';
import { REF_OPS, type RefOp, type RefPolicy } from './types.js';

/** Most policies one token may carry (tokens travel in a header; keep them small). */
export const MAX_REF_POLICIES = 64;
/** Longest pattern accepted. */
export const MAX_REF_PATTERN_LENGTH = 256;

/** Why `pattern` is not a valid policy pattern, or null when it is. */
export function refPatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return 'pattern must be a string';
  if (pattern.length === 0 || pattern.length > MAX_REF_PATTERN_LENGTH) {
    return `pattern must have 1..${MAX_REF_PATTERN_LENGTH} characters`;
  }
  const glob = pattern.endsWith('/*');
  const base = glob ? pattern.slice(0, -2) : pattern;
  if (!(base.startsWith('refs/') || (glob && base === 'refs'))) {
    return `pattern ${JSON.stringify(pattern)} must start with "refs/"`;
  }
  const problem = refFormatProblem(base);
  return problem === null ? null : `pattern ${JSON.stringify(pattern)} ${problem}`;
}

/**
 * Checks that `value` is a well-formed `RefPolicy[]`; returns the first problem found, or
 * null. Callers turn the problem into the error that fits (argument or credential).
 */
export function refPoliciesProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'refs must be an array of [pattern, ops] pairs';
  if (value.length > MAX_REF_POLICIES) return `refs may hold at most ${MAX_REF_POLICIES} policies`;
  for (let i = 0; i < value.length; i++) {
    const p: unknown = value[i];
    if (!Array.isArray(p) || p.length !== 2) return `refs[${i}] must be a [pattern, ops] pair`;
    const problem = refPatternProblem(p[0]);
    if (problem !== null) return `refs[${i}]: ${problem}`;
    const ops: unknown = p[1];
    if (!Array.isArray(ops)) return `refs[${i}]: ops must be an array`;
    const seen = new Set<string>();
    for (const op of ops) {
      if (typeof op !== 'string' || !(REF_OPS as readonly string[]).includes(op)) {
        return `refs[${i}]: unknown op ${JSON.stringify(op)} (known: ${REF_OPS.join(', ')})`;
      }
      if (seen.has(op)) return `refs[${i}]: op ${op} repeated`;
      seen.add(op);
    }
  }
  return null;
}

/** A validated copy of `value` (fresh arrays, so callers cannot mutate the token's view). */
export function copyRefPolicies(value: readonly RefPolicy[]): RefPolicy[] {
  return value.map(([pattern, ops]) => [pattern, [...ops]]);
}

/** True when `ref` (a full name) is matched by `pattern`. */
export function refPatternMatches(pattern: string, ref: string): boolean {
  // `refs/heads/x/*` matches every ref under `refs/heads/x/`, at any depth, not `refs/heads/x`.
  return pattern.endsWith('/*') ? ref.startsWith(pattern.slice(0, -1)) : ref === pattern;
}

/** The ops of the first policy matching `ref`, or null when none matches. */
export function matchRefPolicy(policies: readonly RefPolicy[], ref: string): RefOp[] | null {
  for (const [pattern, ops] of policies) if (refPatternMatches(pattern, ref)) return ops;
  return null;
}
