/**
 * Push options the repository understands. `ttl=<seconds>` sets the lifetime of ephemeral refs
 * a push creates or moves (`git push -o ttl=3600`).
 */
import { InvalidArgumentError } from '../errors.js';

/** Longest `ttl=` push-option value read (digits). */
const MAX_TTL_DIGITS = 10;

/**
 * The lifetime asked for with `git push -o ttl=<seconds>`, or undefined when not asked.
 * The last `ttl=` option wins (git keeps their order). Throws InvalidArgumentError for a
 * value that is not a positive decimal integer.
 */
export function ttlFromPushOptions(pushOptions: readonly string[]): number | undefined {
  let found: number | undefined;
  for (const opt of pushOptions) {
    if (!opt.startsWith('ttl=')) continue;
    const v = opt.slice(4);
    if (!/^[0-9]+$/.test(v) || v.length > MAX_TTL_DIGITS || Number(v) === 0) {
      throw new InvalidArgumentError(`push option ttl must be a positive number of seconds, got ${JSON.stringify(v.slice(0, 32))}`);
    }
    found = Number(v);
  }
  return found;
}
