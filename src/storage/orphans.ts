/**
 * Finding keys left under repository ids that have no record (a push that landed after its
 * repository was deleted, a crash in the middle of a delete): one seek per id present in each
 * per-repository tag range, jumping from each id found to the next.
 */
import type { Kv } from './kv.js';
import { POOL_TAGS, REPO_TAGS, decodeRepoId, repoRange } from './keys.js';

/** Which ids count as dead: below `limit` (the next-id counter read before `live`), not `live`, not `skip`ped. */
export interface OrphanScan {
  limit: number;
  live: ReadonlySet<number>;
  /** Ids whose pool ranges (keys.ts POOL_TAGS) stay: live pools (default: `live`). */
  livePools?: ReadonlySet<number>;
  /** Ids to leave alone for now (a write of theirs may still be in flight). */
  skip?: (id: number) => boolean;
  /** Called between seeks; throws to stop (the engine closing). */
  check?: () => void;
}

/** Clears every per-repository range of dead ids; returns how many ids had keys. */
export async function clearOrphanRanges(kv: Kv, scan: OrphanScan): Promise<number> {
  const dead = new Set<number>();
  for (const tag of REPO_TAGS) {
    const live = POOL_TAGS.includes(tag) ? (scan.livePools ?? scan.live) : scan.live;
    let from = 0;
    while (from < scan.limit) {
      scan.check?.();
      let found: number | undefined;
      for await (const k of kv.keys({ ...repoRange(tag, from), lt: new Uint8Array([tag + 1]), limit: 1 })) found = decodeRepoId(k.subarray(1, 5));
      if (found === undefined || found >= scan.limit) break;
      if (!live.has(found) && !scan.skip?.(found)) {
        await kv.clear(repoRange(tag, found));
        dead.add(found);
      }
      from = found + 1;
    }
  }
  return dead.size;
}

/** Clears the ranges of `tags` (default: every per-repository range) under one id; true when any key was there. */
export async function clearRepoRanges(kv: Kv, id: number, tags: readonly number[] = REPO_TAGS): Promise<boolean> {
  let found = false;
  for (const tag of tags) {
    const range = repoRange(tag, id);
    if (await kv.anyKey(range)) found = true;
    await kv.clear(range);
  }
  return found;
}
