/**
 * Reachability is a boundary of the JSON API, as it is of upload-pack: a read that names an
 * object by its sha answers only when the object is reachable from a ref the caller sees
 * (its view), else 404 exactly as for a missing object, so a deleted branch's commits stop
 * being readable at once and not only after the next sweep. The admin key may read anything.
 *
 * The check is cheap: a sha that is a ref's value (or its peeled commit) passes at once;
 * otherwise it must be a commit and an ancestor of one of the visible tips, asked of
 * `isAncestor` (repo/walk.ts, cut by generation numbers) for at most `MAX_TIPS_WALKED` tips,
 * highest generation first, and only tips whose generation is above its own (a descendant's
 * always is; committer dates are not trusted, clocks skew).
 */
import { NotFoundError } from '../../errors.js';
import { isOid, type Oid } from '../../object/oid.js';
import type { View } from '../../refs/space.js';
import { internalsOf } from '../../repo/internals.js';
import type { Repository } from '../../repo/repository.js';
import { commitGraph } from '../../repo/commit-graph.js';
import { isAncestor } from '../../repo/walk.js';
import type { Principal } from './auth.js';

/** Most visible tips walked back from to find a sha; a sha reachable only from older tips is a 404. */
export const MAX_TIPS_WALKED = 256;

function notFound(oid: Oid): NotFoundError {
  return new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
}

/**
 * Throws 404 (ERR_OBJECT_NOT_FOUND) when `ref` is a 40-hex sha that no ref visible in `view`
 * reaches, unless the caller is the admin. Names (branches, tags, full refs) pass: they are
 * resolved through the view anyway. Every API read that takes a revision calls this first.
 */
export async function assertReachable(principal: Principal, repo: Repository, ref: string, view: View): Promise<void> {
  if (principal.admin || !isOid(ref.toLowerCase()) || ref.startsWith('refs/')) return;
  const oid = ref.toLowerCase() as Oid;
  const tips = new Set<Oid>();
  const visible = new Set<Oid>();
  for (const [, v] of await repo.listRefs({ view })) {
    visible.add(v.oid);
    if (v.peeled) visible.add(v.peeled);
    tips.add(v.peeled ?? v.oid);
  }
  if (visible.has(oid)) return;
  const objects = internalsOf(repo).objects;
  const [info] = await objects.info([oid]);
  if (info?.type !== 'commit') throw notFound(oid); // trees, blobs and tags are readable by sha only as ref values
  const graph = commitGraph(objects);
  const [own] = await graph.records([oid]);
  const types = await objects.info([...tips]);
  const commits = [...tips].filter((_, i) => types[i]?.type === 'commit');
  const records = await graph.records(commits, { skipMissing: true });
  const candidates = commits
    .flatMap((tip, i) => {
      const r = records[i];
      return r !== undefined && own !== undefined && r.generation > own.generation ? [{ tip, generation: r.generation }] : [];
    })
    .sort((a, b) => b.generation - a.generation)
    .slice(0, MAX_TIPS_WALKED);
  for (const { tip } of candidates) if (await isAncestor(objects, oid, tip)) return;
  throw notFound(oid);
}
