/**
 * Revision resolution and tag peeling, once for the whole repository layer:
 *
 * - `peel` follows tag chains (a tag of a tag of ...) in batches, one read per level, and stops
 *   after `MAX_TAG_CHAIN` levels. Ref updates (peeled values), `resolveCommit`, deepen-not,
 *   the fetch planner's wants and include-tag all peel through it.
 * - `refCandidates` is the short-name rule: the full names a name may stand for, in git's
 *   rev-parse order (exact, `refs/<name>`, `refs/tags/<name>`, `refs/heads/<name>`).
 * - `readRef` / `listView` read refs through a view (refs/space.ts).
 */
import { InvalidArgumentError, InvalidObjectError, NotFoundError } from '../errors.js';
import { type ObjectType, type Oid, isOid } from '../object/oid.js';
import type { ObjectStore } from '../object/object-store.js';
import type { RefName } from '../refs/ref-name.js';
import type { RefStore, RefValue } from '../refs/ref-store.js';
import { mergeEphemeralView, spacesOf, type View } from '../refs/space.js';

/** Longest tag chain followed; a longer chain ends at the last tag read (it names no commit). */
export const MAX_TAG_CHAIN = 32;

/** Where a tag chain ends: the object reached, its type (undefined: missing), and the tags passed. */
export interface Peeled {
  oid: Oid;
  type: ObjectType | undefined;
  /** The tag objects followed, in order (the start first when it is a tag). */
  tags: Oid[];
}

/**
 * Peels each id through its tag chain: one batched type read and one batched decode of the tags
 * per level. `firstTypes` gives the types of `oids` when the caller already read them.
 */
export async function peel(objects: ObjectStore, oids: readonly Oid[], firstTypes?: readonly (ObjectType | undefined)[]): Promise<Peeled[]> {
  const out: Peeled[] = oids.map((oid) => ({ oid, type: undefined, tags: [] }));
  let pending = oids.map((_, i) => i);
  for (let level = 0; pending.length > 0; level++) {
    const types = level === 0 && firstTypes ? pending.map((i) => firstTypes[i]) : (await objects.info(pending.map((i) => out[i]!.oid))).map((x) => x?.type);
    pending.forEach((i, k) => (out[i]!.type = types[k]));
    // The last level's tags are not followed: the chain ends there.
    const tags = level + 1 < MAX_TAG_CHAIN ? pending.filter((_, k) => types[k] === 'tag') : [];
    const decoded = await objects.decodeMany(tags.map((i) => out[i]!.oid));
    pending = [];
    tags.forEach((i, k) => {
      const d = decoded[k]!;
      if (d.type !== 'tag') return;
      const p = out[i]!;
      p.tags.push(p.oid);
      p.oid = d.tag.object;
      p.type = undefined;
      pending.push(i);
    });
  }
  return out;
}

/** The commit a tag chain ends at; InvalidObjectError when it ends elsewhere, NotFoundError when missing. */
export async function peelToCommit(objects: ObjectStore, oid: Oid): Promise<Oid> {
  const [p] = await peel(objects, [oid]);
  if (p!.type === 'commit') return p!.oid;
  if (p!.type === undefined) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${p!.oid} not found`, { details: { oid: p!.oid } });
  if (p!.type === 'blob') throw new InvalidObjectError(`object ${p!.oid} is a blob, not a tree, commit or tag`, { details: { oid: p!.oid } });
  throw new InvalidObjectError(`${p!.oid} does not name a commit`);
}

/**
 * The full ref names `name` may stand for, in git's rev-parse order (refs.c's
 * ref_rev_parse_rules): `HEAD` and full names as given; otherwise `refs/<name>` (when the caller
 * accepts it), then `refs/tags/<name>`, then `refs/heads/<name>`.
 */
export function refCandidates(name: string, options: { refsPrefix?: boolean } = {}): string[] {
  if (name === 'HEAD' || name.startsWith('refs/')) return [name];
  return [...(options.refsPrefix ? [`refs/${name}`] : []), `refs/tags/${name}`, `refs/heads/${name}`];
}

/** A ref's value through a view: the ephemeral view sees ephemeral refs over regular ones. */
export async function readRef(refs: RefStore, ref: string, view: View): Promise<RefValue | undefined> {
  for (const space of spacesOf(view)) {
    const v = await refs.get(ref, space);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The first of `refCandidates(name)` that exists in the view, with its full name. */
export async function findRef(
  refs: RefStore,
  name: string,
  view: View,
  options: { refsPrefix?: boolean } = {},
): Promise<{ ref: string; value: RefValue } | undefined> {
  for (const ref of refCandidates(name, options)) {
    const value = await readRef(refs, ref, view);
    if (value !== undefined) return { ref, value };
  }
  return undefined;
}

/** Every ref visible in a view under `prefix`, sorted by name. */
export async function listView(refs: RefStore, view: View, prefix: string): Promise<[RefName, RefValue][]> {
  const regular = await refs.list('regular', prefix);
  if (view === 'regular') return regular;
  return [...mergeEphemeralView(new Map(regular), new Map(await refs.list('ephemeral', prefix)))] as [RefName, RefValue][];
}

/**
 * Resolves a full ref name, `HEAD`, a tag or branch short name, or a 40-hex sha (which must
 * exist) to an object id, through a view.
 */
export async function resolveRevision(objects: ObjectStore, refs: RefStore, refOrSha: string, view: View): Promise<Oid> {
  if (typeof refOrSha !== 'string' || refOrSha.length === 0) throw new InvalidArgumentError('ref must be a non-empty string');
  if (isOid(refOrSha.toLowerCase()) && !refOrSha.startsWith('refs/')) {
    const oid = refOrSha.toLowerCase() as Oid;
    const [has] = await objects.has([oid]);
    if (!has) throw new NotFoundError('ERR_OBJECT_NOT_FOUND', `object ${oid} not found`, { details: { oid } });
    return oid;
  }
  const found = await findRef(refs, refOrSha, view);
  if (found === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `ref "${refOrSha}" not found`, { details: { ref: refOrSha } });
  return found.value.oid;
}
