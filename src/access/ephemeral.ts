/**
 * Namespace rules of the ephemeral ref space: a second set of refs of the same repository,
 * sharing its objects, for throw-away work (an agent's every step) that expires by itself.
 *
 * - A reader through the ephemeral remote sees ephemeral refs over regular ones of the same
 *   name; regular refs without an ephemeral twin show through unchanged.
 * - Writes through the ephemeral remote land only in the ephemeral space. Deleting there
 *   removes the ephemeral ref only; a regular ref of that name shows through again.
 * - An ephemeral ref lives `defaultTtlSeconds`, or what the pusher asked for with the push
 *   option `ttl=<seconds>`, never more than `maxTtlSeconds`.
 */
import { InvalidArgumentError } from '../errors.js';

/** The refs an ephemeral reader sees: `ephemeral` entries over `regular` ones, sorted by name. */
export function mergeEphemeralView<V>(regular: ReadonlyMap<string, V>, ephemeral: ReadonlyMap<string, V>): Map<string, V> {
  const names = new Set([...regular.keys(), ...ephemeral.keys()]);
  const out = new Map<string, V>();
  // Sorted by code unit, like git's ref advertisement.
  for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.set(name, ephemeral.has(name) ? ephemeral.get(name)! : regular.get(name)!);
  }
  return out;
}

/** Where a ref's value comes from in the ephemeral view: `ephemeral`, `regular`, or null when absent. */
export function ephemeralSource(name: string, regular: ReadonlyMap<string, unknown>, ephemeral: ReadonlyMap<string, unknown>): 'ephemeral' | 'regular' | null {
  if (ephemeral.has(name)) return 'ephemeral';
  return regular.has(name) ? 'regular' : null;
}

/** Lifetimes that decide when a pushed ephemeral ref expires. */
export interface EphemeralTtl {
  defaultTtlSeconds: number;
  /** What the pusher asked for; clamped to 1..maxTtlSeconds. */
  requestedTtlSeconds?: number;
  maxTtlSeconds: number;
}

function checkSeconds(value: number, name: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer`, { details: { [name]: value } });
  }
}

/**
 * When a pushed ephemeral ref expires: now + the requested lifetime (clamped to the maximum;
 * asking too much is not an error, the pusher gets the most allowed) or the default.
 */
export function expiresAt(now: number | Date, ttl: EphemeralTtl): Date {
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('now must be a valid time');
  checkSeconds(ttl.defaultTtlSeconds, 'defaultTtlSeconds');
  checkSeconds(ttl.maxTtlSeconds, 'maxTtlSeconds');
  if (ttl.requestedTtlSeconds !== undefined) checkSeconds(ttl.requestedTtlSeconds, 'requestedTtlSeconds');
  const seconds = Math.min(ttl.requestedTtlSeconds ?? ttl.defaultTtlSeconds, ttl.maxTtlSeconds);
  return new Date(ms + seconds * 1000);
}

/** True when a ref with expiry `expiry` is gone at time `now` (expiry is exclusive). */
export function isExpired(expiry: Date | number, now: number | Date): boolean {
  const e = typeof expiry === 'number' ? expiry : expiry.getTime();
  const n = typeof now === 'number' ? now : now.getTime();
  return n >= e;
}

// The `ttl=` push-option rule lives with the receive path that applies it; re-exported here.
export { ttlFromPushOptions } from '../repo/push-options.js';
