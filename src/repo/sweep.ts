/**
 * Object garbage collection: marks everything reachable from the given tips (commits, tags,
 * trees, blobs) and deletes every other object of the repository. The caller holds the ref
 * lock and ensures no write is in flight (Repository.sweep), so nothing can start pointing at
 * an object between the mark and the delete.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { reachableObjects } from './walk.js';

/** Deletes objects not reachable from `tips`; returns how many. */
export async function sweepObjects(objects: ObjectStore, tips: readonly Oid[]): Promise<number> {
  const { reached } = await reachableObjects(objects, tips);
  const dead: Oid[] = [];
  for await (const oid of objects.allOids()) if (!reached.has(oid)) dead.push(oid);
  for (let i = 0; i < dead.length; i += 1000) await objects.delete(dead.slice(i, i + 1000));
  return dead.length;
}
