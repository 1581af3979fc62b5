/**
 * Finding keys left under repository ids that have no record (a push that landed after its
 * repository was deleted, a crash in the middle of a delete): seeks in each per-repository tag
 * range from the ids that may be dead only, jumping over the live ones.
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

/**
 * Clears every per-repository range of dead ids; returns how many ids had keys. The seeks start
 * only from ids that may be dead (below the limit, not live): from each id found the scan jumps
 * to the next such id, so runs of live ids cost nothing, and a database whose ids are all live
 * costs no seek at all (it was one per id and tag, two seconds at 5,000 repositories).
 */
export async function clearOrphanRanges(kv: Kv, scan: OrphanScan): Promise<number> {
  const dead = new Set<number>();
  const candidatesOf = (live: ReadonlySet<number>): number[] => {
    const out: number[] = [];
    for (let id = 0; id < scan.limit; id++) if (!live.has(id)) out.push(id);
    return out;
  };
  const repoCandidates = candidatesOf(scan.live);
  const poolCandidates = scan.livePools === undefined ? repoCandidates : candidatesOf(scan.livePools);
  for (const tag of REPO_TAGS) {
    const pool = POOL_TAGS.includes(tag);
    const live = pool ? (scan.livePools ?? scan.live) : scan.live;
    const candidates = pool ? poolCandidates : repoCandidates;
    let next = 0; // index of the next candidate to seek from
    while (next < candidates.length) {
      scan.check?.();
      const found = await firstIdFrom(kv, tag, candidates[next]!);
      if (found === undefined || found >= scan.limit) break;
      if (!live.has(found) && !scan.skip?.(found)) {
        await kv.clear(repoRange(tag, found));
        dead.add(found);
      }
      next = firstAbove(candidates, found, next);
    }
  }
  return dead.size;
}

/** The first repository id from `from` on with a key in the `tag` range (one seek), if any. */
export async function firstIdFrom(kv: Kv, tag: number, from: number): Promise<number | undefined> {
  for await (const k of kv.keys({ ...repoRange(tag, from), lt: new Uint8Array([tag + 1]), limit: 1 })) return decodeRepoId(k.subarray(1, 5));
  return undefined;
}

/** The index of the first of `sorted` (from `from` on) above `id`. */
function firstAbove(sorted: readonly number[], id: number, from: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
