/**
 * The two ref spaces of a repository and the two ways of reading them. A repository keeps its
 * regular refs and an ephemeral space beside them (agent scratch branches that expire); both
 * share the repository's objects.
 *
 * - A `Space` names one space exactly: listings, ref reads and writes touch that space only.
 * - A `View` is what a read resolves names through: `'regular'` sees the regular refs, and
 *   `'ephemeral'` sees the ephemeral refs over the regular ones (the merged view an ephemeral
 *   remote serves).
 *
 * The ephemeral namespace's rules live here, once: the merged view, when a ref expires.
 */
import { InvalidArgumentError } from '../errors.js';

/** One ref space, exactly: listings and writes touch only it. */
export type Space = 'regular' | 'ephemeral';

/** How reads resolve ref names: regular refs only, or ephemeral refs over regular ones. */
export type View = 'regular' | 'ephemeral';

/** The space (or view) a boolean `ephemeral` flag of the HTTP layer names. */
export function spaceOf(ephemeral: boolean): Space {
  return ephemeral ? 'ephemeral' : 'regular';
}

/** The ref spaces a view reads, in lookup order. */
export function spacesOf(view: View): readonly Space[] {
  return view === 'ephemeral' ? EPHEMERAL_VIEW : REGULAR_VIEW;
}

const EPHEMERAL_VIEW: readonly Space[] = ['ephemeral', 'regular'];
const REGULAR_VIEW: readonly Space[] = ['regular'];

/**
 * The refs an ephemeral reader sees: `ephemeral` entries over `regular` ones of the same name,
 * sorted by name (code units, like git's ref advertisement).
 */
export function mergeEphemeralView<V>(regular: ReadonlyMap<string, V>, ephemeral: ReadonlyMap<string, V>): Map<string, V> {
  const names = new Set([...regular.keys(), ...ephemeral.keys()]);
  const out = new Map<string, V>();
  for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.set(name, ephemeral.has(name) ? ephemeral.get(name)! : regular.get(name)!);
  }
  return out;
}

/** Where a ref's value comes from in the ephemeral view: `ephemeral`, `regular`, or null when absent. */
export function ephemeralSource(name: string, regular: ReadonlyMap<string, unknown>, ephemeral: ReadonlyMap<string, unknown>): Space | null {
  if (ephemeral.has(name)) return 'ephemeral';
  return regular.has(name) ? 'regular' : null;
}

/** Lifetimes that decide when an ephemeral ref expires (seconds). */
export interface EphemeralTtl {
  defaultTtlSeconds: number;
  /** What the writer asked for (push option `ttl=`, API `ttl`, `ttlSeconds`); clamped to the maximum. */
  requestedTtlSeconds?: number;
  maxTtlSeconds: number;
}

/**
 * When an ephemeral ref written at `now` expires: now + the requested lifetime or the default,
 * clamped to the maximum (asking too much is not an error, the writer gets the most allowed).
 * Lifetimes are positive numbers of seconds, fractions included (a test's 1.5 s ref).
 */
export function expiresAt(now: number | Date, ttl: EphemeralTtl): Date {
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('now must be a valid time');
  const seconds = ttl.requestedTtlSeconds ?? ttl.defaultTtlSeconds;
  if (typeof seconds !== 'number' || !(seconds > 0)) throw new InvalidArgumentError('ttl must be a positive number of seconds', { details: { ttl: seconds } });
  return new Date(ms + Math.min(seconds, ttl.maxTtlSeconds) * 1000);
}

/** True when a ref with expiry `expiry` is gone at time `now` (the expiry instant itself is gone). */
export function isExpired(expiry: Date | number, now: number | Date): boolean {
  const e = typeof expiry === 'number' ? expiry : expiry.getTime();
  const n = typeof now === 'number' ? now : now.getTime();
  return n >= e;
}
