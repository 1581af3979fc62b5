/**
 * What a shallow fetch leaves behind: its boundary commits are stored without their parents
 * (ingest's `shallow`), and those absent parents are recorded (`'A' pool oid`, under the object
 * pool's id like the objects, written in the batch of the fetch's refs), so the sweep takes them as tips that may be missing instead
 * of refusing to mark a repository whose history has a hole on purpose.
 */
import { type Oid, oidFromBytes, oidToBytes } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { shallowParentKey, shallowParentsRange } from '../storage/keys.js';
import type { Kv, KvOp } from '../storage/kv.js';

/** Writes recording the parents of `boundary` commits that are not in the store. */
export async function shallowParentOps(objects: ObjectStore, boundary: readonly Oid[]): Promise<KvOp[]> {
  if (boundary.length === 0) return [];
  const commits = await objects.decodeMany(boundary);
  const parents = [...new Set(commits.flatMap((c) => (c?.type === 'commit' ? c.commit.parents : [])))];
  const present = await objects.has(parents);
  return parents
    .filter((_, i) => !present[i])
    .map((p) => ({ type: 'put' as const, key: shallowParentKey(objects.repoId, oidToBytes(p)), value: new Uint8Array(0) }));
}

/** The recorded absent parents of an object pool (a repository and its forks). */
export async function shallowParents(kv: Kv, poolId: number): Promise<Oid[]> {
  const out: Oid[] = [];
  for await (const k of kv.keys(shallowParentsRange(poolId))) out.push(oidFromBytes(k.subarray(5)));
  return out;
}
