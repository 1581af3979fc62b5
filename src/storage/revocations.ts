/**
 * Revoked tokens, kept in the database so every process over it refuses them: one key per
 * revoked token id, `'T' jti -> exp` (decimal seconds). Reads go to the database each time (no
 * per-process cache, so a revocation is seen by the next request everywhere). An entry is
 * useless once its token expired: `purge` drops entries an hour past their `exp` (longer than
 * any clock tolerance a verifier allows), and `revoke` purges as it writes.
 */
import { fromUtf8, utf8 } from '../platform/bytes.js';
import { TAG, prefixRange } from './keys.js';
import type { Kv, KvOp } from './kv.js';

/** How long past its `exp` a revocation is kept, in seconds: beyond any verifier's clock tolerance. */
export const REVOCATION_GRACE_SECONDS = 3600;

/** Key of a revoked token id: `'T' jti`. */
export function revokedKey(jti: string): Uint8Array {
  const s = utf8(jti);
  const k = new Uint8Array(1 + s.length);
  k[0] = TAG.revoked;
  k.set(s, 1);
  return k;
}

/** The revoked tokens of one database. */
export class RevocationStore {
  readonly #kv: Kv;
  readonly #now: () => number;

  constructor(kv: Kv, now: () => number = Date.now) {
    this.#kv = kv;
    this.#now = now;
  }

  /** Records `jti` (a token expiring at `exp`, seconds) as revoked, dropping stale entries. */
  async revoke(jti: string, exp: number): Promise<void> {
    await this.purge();
    if ((exp + REVOCATION_GRACE_SECONDS) * 1000 <= this.#now()) return; // refused as expired anyway
    await this.#kv.batch([{ type: 'put', key: revokedKey(jti), value: utf8(String(exp)) }]);
  }

  /** Whether `jti` was revoked (read from the database every time). */
  async isRevoked(jti: string): Promise<boolean> {
    return (await this.#kv.get(revokedKey(jti))) !== undefined;
  }

  /** Deletes entries whose token expired more than `REVOCATION_GRACE_SECONDS` ago; returns how many. */
  async purge(): Promise<number> {
    const limit = this.#now() / 1000 - REVOCATION_GRACE_SECONDS;
    const ops: KvOp[] = [];
    for await (const [key, value] of this.#kv.entries(prefixRange(new Uint8Array([TAG.revoked])))) {
      const exp = Number(fromUtf8(value));
      if (!(exp > limit)) ops.push({ type: 'del', key });
    }
    await this.#kv.batch(ops);
    return ops.length;
  }
}
