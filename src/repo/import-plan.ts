/**
 * Import plans: the first full clone of a history pushed into an empty pool (an import, a
 * mirror's first push) without walking the history. The ingest of such a pack records, with
 * its last batch, what nothing else can tell cheaply later (full-pack-store.ts `ImportRecord`):
 * how many distinct objects it stored and its roots, the objects nothing of the pack references
 * (ingest-links.ts `roots`). Every object of the pack is reachable from its roots (the pool held
 * nothing else and every reference was found in the pack), so at that moment the pool is exactly
 * what the roots reach. No per-object bytes are stored for it, and nothing has to forget it.
 *
 * It answers a full clone of `wants` while the pool still holds exactly that many objects and
 * every root is wanted: the store is closed under reachability, so it holds all the wants reach,
 * which holds all the roots reach, which is as many objects as the pool holds: they are the
 * same set, and that set is the pool. Whatever changed the pool since (a push, a commit, an
 * ephemeral branch, a failed ingest's leftovers, a sweep) changes the count, and a root no
 * longer wanted (a deleted or moved ref) fails the second test; then the clone plans as before.
 * The ids are the pool's `O` and `D` keys, merged in key order (keys only, no value read).
 */
import { compareFrom } from '../platform/bytes.js';
import type { ObjectStore } from '../object/object-store.js';
import { type Oid, oidFromBytes } from '../object/oid.js';
import type { WalkBudget } from '../protocol/walk-budget.js';
import type { RepoContext } from './context.js';
import { type ImportRecord, readImportRecord } from './full-pack-store.js';

/** Roots an import record holds at most (an import has about one per ref; more: none is written). */
export const MAX_IMPORT_ROOTS = 4096;

/**
 * The ids of the full clone of `tips` (sorted, distinct) when the pool's import record answers
 * it (see the module comment), as one table of raw ids in key order; else undefined. `walk`:
 * the request's budget, charged the record's object count before the scan.
 */
export async function importPlanIds(ctx: RepoContext, tips: readonly Oid[], walk?: WalkBudget): Promise<Uint8Array | undefined> {
  const r = await importRecordFor(ctx, tips);
  if (r === undefined) return undefined;
  walk?.objects(r.objects);
  return poolIds(ctx.objects, r.objects);
}

/**
 * The pool's import record when every root of it is among `tips` (sorted, distinct); else
 * undefined. Its count still has to match the pool (`poolIds`) for it to answer a clone.
 */
export async function importRecordFor(ctx: RepoContext, tips: readonly Oid[]): Promise<ImportRecord | undefined> {
  const r = await readImportRecord(ctx.kv, ctx.poolId);
  if (r === undefined) return undefined;
  const wanted = new Set(tips);
  for (let at = 0; at < r.roots.length; at += 20) if (!wanted.has(oidFromBytes(r.roots, at))) return undefined;
  return r;
}

/**
 * Every distinct id `objects` holds, whole or as a delta (its `O` and `D` keys merged), in key
 * order, when there are exactly `count` of them; undefined otherwise (the read stops at the
 * first id past `count`).
 */
export async function poolIds(objects: ObjectStore, count: number): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(count * 20);
  let n = 0;
  const wholes = objects.wholeKeyBatches()[Symbol.asyncIterator]();
  const deltas = objects.deltaKeyBatches()[Symbol.asyncIterator]();
  let w: Uint8Array[] = [];
  let d: Uint8Array[] = [];
  let wi = 0;
  let di = 0;
  let wEnd = false;
  let dEnd = false;
  try {
    while (true) {
      if (wi === w.length && !wEnd) {
        const r = await wholes.next();
        if (r.done) wEnd = true;
        else [w, wi] = [r.value, 0];
        continue;
      }
      if (di === d.length && !dEnd) {
        const r = await deltas.next();
        if (r.done) dEnd = true;
        else [d, di] = [r.value, 0];
        continue;
      }
      const wk = wi < w.length ? w[wi] : undefined;
      const dk = di < d.length ? d[di] : undefined;
      if (wk === undefined && dk === undefined) break;
      // Keys: tag, 4-byte pool id, then the id; an object stored both ways meets itself (0).
      const c = wk === undefined ? 1 : dk === undefined ? -1 : compareFrom(wk, dk, 5);
      if (n === count) return undefined;
      out.set((c <= 0 ? wk! : dk!).subarray(5, 25), n * 20);
      n++;
      if (c <= 0) wi++;
      if (c >= 0) di++;
    }
  } finally {
    await Promise.all([wholes.return?.(undefined), deltas.return?.(undefined)]);
  }
  return n === count ? out : undefined;
}
