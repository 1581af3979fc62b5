/**
 * Picks the platform implementation once: Node's native crypto and zlib when running on Node,
 * the portable one (fflate, @noble/hashes) elsewhere. `setPlatform` lets tests and unusual
 * runtimes choose explicitly.
 */
import type { Platform } from './types.js';

export type { Platform, Sha1Hasher, InflatePrefixResult } from './types.js';
export { OutputLimitError } from './errors.js';

const onNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

let current: Platform = onNode
  ? (await import('./node.js')).nodePlatform
  : (await import('./portable.js')).portablePlatform;

/** The platform in use. */
export function platform(): Platform {
  return current;
}

/** Replaces the platform in use (for tests and runtimes the detection gets wrong). */
export function setPlatform(p: Platform): void {
  current = p;
}
