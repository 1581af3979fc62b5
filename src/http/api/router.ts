/**
 * Routes as data: a table of `{ method, path, access, handle }` rows, matched against the path
 * segments after the API prefix.
 *
 * Path patterns (segments separated by `/`):
 *   literal     matches itself exactly (not percent-decoded)
 *   :repo       the repository name: `name`, `owner/name` or `owner%2Fname` (see splitRepoPath)
 *   :param      one percent-decoded segment
 *   *param      one or more segments, each percent-decoded, joined with `/`
 *   *param?     the same, zero or more (absent: the param is the empty string)
 * `HEAD` is served by every `GET` row. A path some row matches, asked with a method no row of
 * that path serves, is a 405 whose `Allow` lists the methods of those rows in table order.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { Access, Grant, Principal } from './auth.js';
import type { ApiOptions } from './options.js';
import type { ApiResponse } from './responses.js';
import type { CoreRequest } from '../exchange.js';

/** What a route's handler gets: the request, its parsed URL and params, and what the caller may do. */
export interface RouteContext extends Grant {
  req: CoreRequest;
  url: URL;
  options: ApiOptions;
  principal: Principal;
  /** Decoded path params by name; `repo` is the repository name on repository routes. */
  params: Readonly<Record<string, string>>;
}

/** One row of the route table. */
export interface ApiRoute {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** A path pattern under the API prefix, e.g. `/repos/:repo/branches/*branch`. */
  path: string;
  /** Who may call it; checked before `handle` runs. */
  access: Access;
  handle: (ctx: RouteContext) => Promise<ApiResponse>;
}

/** The outcome of matching a request against the table. */
export type RouteMatch = { route: ApiRoute; params: Record<string, string> } | { allow: string } | null;

type Part = { lit: string } | { repo: true } | { one: string } | { rest: string; optional: boolean };

function compile(path: string): Part[] {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s): Part => {
      if (s === ':repo') return { repo: true };
      if (s.startsWith(':')) return { one: s.slice(1) };
      if (s.startsWith('*')) return s.endsWith('?') ? { rest: s.slice(1, -1), optional: true } : { rest: s.slice(1), optional: false };
      return { lit: s };
    });
}

/** Percent-decodes one path segment; 400 for malformed encoding. */
export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidArgumentError('malformed percent-encoding in the URL');
  }
}

/**
 * Splits the segments after `/repos/` into the repository name and the rest. A first segment
 * holding `%2F` is the whole name; otherwise a second segment that is not one of `keywords`
 * (the literals that follow `:repo` in the table) is the project part of `owner/project`.
 */
export function splitRepoSegments(segments: readonly string[], keywords: ReadonlySet<string>): { name: string; rest: string[] } {
  const first = decodeSegment(segments[0]!);
  if (first.includes('/')) return { name: first, rest: segments.slice(1) };
  if (segments.length === 1 || keywords.has(segments[1]!)) return { name: first, rest: segments.slice(1) };
  return { name: `${first}/${decodeSegment(segments[1]!)}`, rest: segments.slice(2) };
}

function matchParts(parts: readonly Part[], segments: readonly string[], keywords: ReadonlySet<string>): Record<string, string> | null {
  const params: Record<string, string> = {};
  let i = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if ('lit' in part) {
      if (segments[i] !== part.lit) return null;
      i++;
    } else if ('repo' in part) {
      if (i >= segments.length) return null;
      const { name, rest } = splitRepoSegments(segments.slice(i), keywords);
      params.repo = name;
      i = segments.length - rest.length;
    } else if ('one' in part) {
      if (i >= segments.length) return null;
      params[part.one] = decodeSegment(segments[i]!);
      i++;
    } else {
      if (i >= segments.length && !part.optional) return null;
      params[part.rest] = segments.slice(i).map(decodeSegment).join('/');
      i = segments.length;
    }
  }
  return i === segments.length ? params : null;
}

/** A compiled route table. */
export interface Router {
  /** The row serving `method` on `segments`, a 405's `Allow` list, or null (404). */
  match(method: string, segments: readonly string[]): RouteMatch;
  /** `splitRepoSegments` with this table's keywords. */
  splitRepoPath(segments: readonly string[]): { name: string; rest: string[] };
}

/** Compiles a route table. */
export function createRouter(routes: readonly ApiRoute[]): Router {
  const compiled = routes.map((route) => ({ route, parts: compile(route.path) }));
  const keywords = new Set<string>();
  for (const { parts } of compiled) {
    const at = parts.findIndex((p) => 'repo' in p);
    const next = at >= 0 ? parts[at + 1] : undefined;
    if (next !== undefined && 'lit' in next) keywords.add(next.lit);
  }
  return {
    match(method, segments) {
      const allowed: string[] = [];
      for (const { route, parts } of compiled) {
        const params = matchParts(parts, segments, keywords);
        if (params === null) continue;
        if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
        if (!allowed.includes(route.method)) allowed.push(route.method);
      }
      return allowed.length > 0 ? { allow: allowed.join(', ') } : null;
    },
    splitRepoPath: (segments) => splitRepoSegments(segments, keywords),
  };
}
