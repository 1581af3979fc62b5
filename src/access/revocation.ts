/**
 * An in-memory deny-list of token ids for `createTokenService({ isRevoked })`. An entry is
 * kept only until its token would be refused anyway (exp + clock tolerance), so the list stays
 * as small as the set of revoked-but-unexpired tokens. Share it between processes yourself
 * (e.g. broadcast `revoke` calls); verification never waits on I/O.
 */
import { InvalidArgumentError } from '../errors.js';

/** A deny-list of token ids. */
export interface DenyList {
  /** Refuses token `jti` from now until `exp` (its exp, seconds since the epoch) has passed. */
  revoke(jti: string, exp: number): void;
  /** True when `jti` was revoked and its token could still be valid. */
  isRevoked(jti: string): boolean;
  /** Number of entries held (after dropping stale ones). */
  size(): number;
}

/** Creates an empty deny-list. `clockToleranceSeconds` should match the token service's. */
export function createDenyList(options: { now?: () => number; clockToleranceSeconds?: number } = {}): DenyList {
  const now = options.now ?? Date.now;
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (!Number.isSafeInteger(tolerance) || tolerance < 0) throw new InvalidArgumentError('clockToleranceSeconds must be a non-negative integer');
  const until = new Map<string, number>(); // jti → ms after which the entry is useless
  let nextSweep = 0;

  const sweep = (t: number): void => {
    if (t < nextSweep) return;
    let earliest = Infinity;
    for (const [jti, end] of until) {
      if (end <= t) until.delete(jti);
      else earliest = Math.min(earliest, end);
    }
    nextSweep = earliest;
  };

  return {
    revoke(jti, exp) {
      if (typeof jti !== 'string' || jti.length === 0) throw new InvalidArgumentError('jti must be a non-empty string');
      if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidArgumentError('exp must be a number of seconds');
      const t = now();
      sweep(t);
      const end = (exp + tolerance) * 1000;
      if (end <= t) return; // already refused as expired
      until.set(jti, Math.max(end, until.get(jti) ?? 0));
      nextSweep = Math.min(nextSweep, end);
    },
    isRevoked(jti) {
      const end = until.get(jti);
      return end !== undefined && now() < end;
    },
    size() {
      sweep(now());
      return until.size;
    },
  };
}
