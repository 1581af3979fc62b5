/**
 * Object pools: repositories that read and write one set of objects (a fork and its source,
 * GitHub's "network"). A pool is named by an id (the first member's repository id) and lists its
 * members under `'P' pool member`; the object ranges live under the pool's id (keys.ts
 * POOL_TAGS). A repository with no `'P'` key is its own pool, so databases written before pools
 * existed read as they are.
 */
import type { Kv, KvOp } from './kv.js';
import { TAG, decodeRepoId, poolMemberKey, prefixRange, repoPrefix } from './keys.js';

/** Member ids of a pool, in id order; a pool with no membership keys is the repository of that id alone. */
export async function poolMembers(kv: Kv, poolId: number): Promise<number[]> {
  const out: number[] = [];
  for await (const k of kv.keys(prefixRange(repoPrefix(TAG.pool, poolId)))) out.push(decodeRepoId(k.subarray(5, 9)));
  return out.length > 0 ? out : [poolId];
}

/** The writes that make `memberId` a member of `poolId` (and the pool's first member one too, when it had no keys yet). */
export async function joinPoolOps(kv: Kv, poolId: number, memberId: number): Promise<KvOp[]> {
  const listed = await kv.anyKey(prefixRange(repoPrefix(TAG.pool, poolId)));
  const members = listed ? [memberId] : [poolId, memberId];
  return members.map((m) => ({ type: 'put' as const, key: poolMemberKey(poolId, m), value: new Uint8Array(0) }));
}

/** Ids of every pool with membership keys (the orphan scan keeps their object ranges). */
export async function listedPools(kv: Kv): Promise<Set<number>> {
  const pools = new Set<number>();
  for await (const k of kv.keys(prefixRange(new Uint8Array([TAG.pool])))) if (k.length === 9) pools.add(decodeRepoId(k.subarray(1, 5)));
  return pools;
}
