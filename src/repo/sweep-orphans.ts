/**
 * Live objects whose stored delta names a dead base (the sweep's "orphans", sweep.ts). A kept
 * delta ties its object to its base for as long as the object has no whole entry. When the
 * base died (a branch deleted, a force push, a version the tip reversal made a delta of a
 * deleted branch's), keeping the base alive kept what only old history needed, and what its own
 * chain needs, for good. So the sweep stores such an object whole while writes go on
 * (`storeWhole`: resolved through the chain that still exists, deflated at level 6 as
 * materialized entries are, written beside its delta; reads do not change), and under the
 * gate drops its delta (`dropDeltaOps`), after which its base is garbage like any other. Its
 * whole entry becomes the end of the chains that ran through it: its reach record is raised to
 * its old root's reach less its own depth (a bound, chain-reach.ts).
 */
import type { Oid } from '../object/oid.js';
import { oidFromBytes, oidToBytes } from '../object/oid.js';
import { encodePacked } from '../object/packed.js';
import type { KvOp } from '../storage/kv.js';
import { deltaKey, objectKey } from '../storage/keys.js';
import { raiseReachOps, readReach } from './chain-reach.js';
import type { RepoContext } from './context.js';
import type { OidList } from './oid-set.js';
import type { Pacer } from './sweep-mark.js';
import type { PinnedTest } from './sweep-leases.js';

/** Orphans looked up per database call. */
const BATCH = 256;
/**
 * Most bytes of bodies resolved and deflated between two turns of the event loop (deflating
 * runs on it: 512 KiB at level 6 is about 15 milliseconds here).
 */
const BATCH_BYTES = 512 * 1024;
/** Objects larger than this keep their delta and its base (one deflate of it would hold the event loop too long). */
const MAX_WHOLE = 16 * 1024 * 1024;
/** zlib level of the whole entries written (git's default, as materialize.ts). */
const LEVEL = 6;

/** What `storeWhole` did: orphans now stored whole too, and those it left as they were. */
export interface Orphans {
  whole: Oid[];
  stuck: Oid[];
}

/** Gives every orphan (raw ids) a whole entry where it has none; see the module comment. */
export async function storeWhole(ctx: RepoContext, orphans: OidList, pacer: Pacer): Promise<Orphans> {
  const out: Orphans = { whole: [], stuck: [] };
  const pool = ctx.objects.repoId;
  while (orphans.length > 0) {
    const ids = orphans.pop(BATCH).map((b) => oidFromBytes(b));
    const present = await ctx.kv.hasMany(ids.map((o) => objectKey(pool, oidToBytes(o))));
    const missing = ids.filter((_, i) => !present[i]);
    for (const [i, o] of ids.entries()) if (present[i]) out.whole.push(o);
    const sizes = await ctx.objects.info(missing);
    let group: Oid[] = [];
    let bytes = 0;
    for (const [i, oid] of missing.entries()) {
      const size = sizes[i]?.size;
      if (size === undefined || size > MAX_WHOLE) {
        out.stuck.push(oid);
        continue;
      }
      if (group.length > 0 && bytes + size > BATCH_BYTES) {
        await writeWhole(ctx, group, out);
        await pacer.tick();
        group = [];
        bytes = 0;
      }
      group.push(oid);
      bytes += size;
    }
    if (group.length > 0) await writeWhole(ctx, group, out);
    await pacer.tick();
  }
  return out;
}

/** Resolves `oids`, writes their whole entries and raised reach records in one batch. */
async function writeWhole(ctx: RepoContext, oids: Oid[], out: Orphans): Promise<void> {
  const pool = ctx.objects.repoId;
  const depths = new Map<Oid, number>();
  const ends = new Map<Oid, Oid>();
  // From the store, not the cache: a cached body would cut its chain's depth short.
  const raws = await ctx.objects.readMany(oids, { depths, ends, uncached: true });
  const ops: KvOp[] = [];
  const done: Oid[] = [];
  raws.forEach((raw, i) => {
    const oid = oids[i]!;
    if (raw === undefined) return void out.stuck.push(oid);
    ops.push({ type: 'put', key: objectKey(pool, oidToBytes(oid)), value: encodePacked(raw.type, raw.body, LEVEL) });
    done.push(oid);
  });
  const roots = done.map((o) => ends.get(o) ?? o);
  const reach = await readReach(ctx.kv, pool, roots);
  for (const op of await raiseReachOps(
    ctx.kv,
    pool,
    done.map((o, i): [Oid, number] => [o, reach[i]! - (depths.get(o) ?? 0)]),
  ))
    ops.push(op);
  if (ops.length > 0) await ctx.kv.batch(ops);
  for (const o of done) out.whole.push(o);
}

/**
 * Under the gate: which orphans lose their delta (`loose`: stored whole, not pinned) and which
 * keep it and so their base (`bound`: pinned by a pack being sent, which may send the delta;
 * not stored whole by `storeWhole`; or whose whole entry went meanwhile, replaced-whole.ts
 * dropping it as a replaced version's). `again`: some may be let go by the next sweep.
 */
export async function settleOrphans(ctx: RepoContext, orphans: Orphans, pinned: PinnedTest): Promise<{ loose: Oid[]; bound: Oid[]; again: boolean }> {
  const pool = ctx.objects.repoId;
  const free = orphans.whole.filter((o) => !pinned.has(o));
  const whole = await ctx.kv.hasMany(free.map((o) => objectKey(pool, oidToBytes(o))));
  const loose = free.filter((_, i) => whole[i]);
  const bound = [...orphans.stuck, ...orphans.whole.filter((o) => pinned.has(o)), ...free.filter((_, i) => !whole[i])];
  return { loose, bound, again: bound.length > orphans.stuck.length };
}

/** The deletes of the `D` entries of `oids` (each stored whole too). */
export function dropDeltaOps(ctx: RepoContext, oids: readonly Oid[]): KvOp[] {
  return oids.map((o) => ({ type: 'del', key: deltaKey(ctx.objects.repoId, oidToBytes(o)) }));
}
