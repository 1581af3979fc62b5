/**
 * Object garbage collection: marks everything reachable from the given tips (commits, tags,
 * trees, blobs) and deletes every other object of the repository. The caller holds the ref
 * lock and ensures no write is in flight (Repository.sweep), so nothing can start pointing at
 * an object between the mark and the delete.
 */
import type { Oid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import { treeClosure } from './walk.js';

/** Deletes objects not reachable from `tips`; returns how many. */
export async function sweepObjects(objects: ObjectStore, tips: readonly Oid[]): Promise<number> {
  const reachable = new Set<Oid>();
  const roots: Oid[] = [];
  let frontier: Oid[] = [...new Set(tips)];
  while (frontier.length > 0) {
    frontier = frontier.filter((o) => !reachable.has(o));
    frontier.forEach((o) => reachable.add(o));
    const infos = await objects.info(frontier);
    const walkable = frontier.filter((_, i) => infos[i]?.type === 'commit' || infos[i]?.type === 'tag');
    frontier.forEach((o, i) => infos[i]?.type === 'tree' && roots.push(o));
    const decoded = await objects.decodeMany(walkable);
    const next: Oid[] = [];
    for (const d of decoded) {
      if (d.type === 'commit') {
        roots.push(d.commit.tree);
        next.push(...d.commit.parents);
      } else if (d.type === 'tag') next.push(d.tag.object);
    }
    frontier = next;
  }
  roots.forEach((r) => reachable.add(r));
  for (const o of await treeClosure(objects, roots)) reachable.add(o);
  const dead: Oid[] = [];
  for await (const oid of objects.allOids()) if (!reachable.has(oid)) dead.push(oid);
  for (let i = 0; i < dead.length; i += 1000) await objects.delete(dead.slice(i, i + 1000));
  return dead.length;
}
