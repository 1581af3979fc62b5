/**
 * The base of a merge with several merge bases (criss-cross histories), as merge-ort builds it:
 * the bases, oldest first, are merged pairwise into a virtual commit (the first with the
 * second, that result with the third, ...), each pairwise merge against its own merge bases
 * (recursively, one level deeper) and with nothing left unresolved — conflicting text gets
 * conflict markers labelled "Temporary merge branch 1/2" (merge-entry.ts). The virtual trees
 * and blobs are kept in memory, never stored: the returned context reads them through an
 * overlay of the object store. A virtual commit's own merge bases (with a third base) are
 * taken from the real base merged into it last — git paints from both of its parents.
 */
import type { ObjectStore } from '../object/object-store.js';
import { hashObject, type ObjectType, type Oid } from '../object/oid.js';
import { decodeCommit } from '../object/commit.js';
import { decodeTree } from '../object/tree.js';
import type { RepoContext } from './context.js';
import { EMPTY_TREE } from './diff.js';
import { paint } from './merge-base.js';
import { mergeTrees } from './merge-trees.js';

const LABELS = ['Temporary merge branch 1', 'Temporary merge branch 2'] as const;

/** Objects made in memory for virtual merge bases. */
type Pending = Map<Oid, { type: ObjectType; body: Uint8Array }>;

/** An object store that also reads the pending objects. */
function overlay(store: ObjectStore, pending: Pending): ObjectStore {
  const readMany: ObjectStore['readMany'] = async (oids, options) => {
    const out = oids.map((o) => pending.get(o));
    const missing = oids.filter((o) => !pending.has(o));
    const read = missing.length > 0 ? await store.readMany(missing, options) : [];
    let k = 0;
    return out.map((p) => p ?? read[k++]);
  };
  const decodeMany: ObjectStore['decodeMany'] = async (oids) => {
    if (!oids.some((o) => pending.has(o))) return store.decodeMany(oids);
    const rest = await store.decodeMany(oids.filter((o) => !pending.has(o)));
    let k = 0;
    return oids.map((o) => {
      const p = pending.get(o);
      if (p === undefined) return rest[k++]!;
      return p.type === 'tree' ? { type: 'tree' as const, entries: decodeTree(p.body, false) } : { type: 'commit' as const, commit: decodeCommit(p.body) };
    });
  };
  const tree: ObjectStore['tree'] = async (oid) => {
    const p = pending.get(oid);
    return p?.type === 'tree' ? decodeTree(p.body, false) : store.tree(oid);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'readMany') return readMany;
      if (prop === 'decodeMany') return decodeMany;
      if (prop === 'tree') return tree;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Merge bases in the order git merges them: git lists them newest first (ties in the order found) and merges from the end of that list. */
async function oldestFirst(ctx: RepoContext, bases: readonly Oid[]): Promise<Oid[]> {
  const commits = await Promise.all(bases.map((b) => ctx.objects.commit(b)));
  const order = bases.map((b, i) => ({ b, t: commits[i]!.committer.timestamp, i }));
  order.sort((p, q) => q.t - p.t || p.i - q.i);
  return order.map((o) => o.b).reverse();
}

/**
 * The tree to merge `ours` and `theirs` against: their merge base's, the empty tree without one,
 * or the virtual merge of several; with a context whose object store reads the virtual objects.
 */
export async function mergeBaseTree(ctx: RepoContext, bases: readonly Oid[]): Promise<{ ctx: RepoContext; tree: Oid }> {
  if (bases.length === 0) return { ctx, tree: EMPTY_TREE };
  if (bases.length === 1) return { ctx, tree: (await ctx.objects.commit(bases[0]!)).tree };
  const pending: Pending = new Map();
  const vctx: RepoContext = { ...ctx, objects: overlay(ctx.objects, pending) };
  const writer = {
    add(type: ObjectType, body: Uint8Array): Oid {
      const oid = hashObject(type, body);
      pending.set(oid, { type, body });
      return oid;
    },
  };
  writer.add('tree', new Uint8Array(0)); // the base of histories with no common commit
  const tree = await virtual(ctx, vctx, writer, await oldestFirst(ctx, bases), 1);
  return { ctx: vctx, tree };
}

/** Merges `bases` (in order) into one virtual tree at `depth`. */
async function virtual(
  ctx: RepoContext,
  vctx: RepoContext,
  writer: { add(type: ObjectType, body: Uint8Array): Oid },
  bases: Oid[],
  depth: number,
): Promise<Oid> {
  let tree = (await ctx.objects.commit(bases[0]!)).tree;
  let last = bases[0]!;
  for (const next of bases.slice(1)) {
    const inner = await oldestFirst(ctx, (await paint(ctx.objects, last, next)).bases);
    const baseTree =
      inner.length === 0 ? EMPTY_TREE : inner.length === 1 ? (await ctx.objects.commit(inner[0]!)).tree : await virtual(ctx, vctx, writer, inner, depth + 1);
    const theirs = (await ctx.objects.commit(next)).tree;
    const r = await mergeTrees(vctx, writer, baseTree, tree, theirs, { depth, labels: LABELS });
    tree = r.tree!;
    last = next;
  }
  return tree;
}
