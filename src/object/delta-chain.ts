/**
 * Resolving objects stored as deltas. An object is kept whole (a pack entry), as the ref-delta
 * it arrived as (object/packed.ts StoredDelta), or both; a delta's base may itself be stored as
 * a delta. `resolveMany` reads the forms of a batch of ids, then their bases level by level —
 * one batched lookup per chain level for the whole batch, never one await per object — and
 * applies the deltas from the base down. Resolved bodies go into a byte-bounded cache shared by
 * the engine, so walking a history resolves each link of a chain once.
 *
 * The cache is consulted for bases only, never for the ids asked for: whether an object exists
 * is always the store's answer (a body cached while a failed push was being checked must not
 * make its object appear), and a body is a function of its id, so a cached base is never wrong.
 */
import { LRUCache } from 'lru-cache';
import { InvalidObjectError } from '../errors.js';
import type { Oid, ObjectType } from './oid.js';
import { decodePacked, decodeStoredDelta, refDeltaData, type StoredDelta } from './packed.js';

/** A raw object: type and body. */
export interface RawObject {
  type: ObjectType;
  body: Uint8Array;
}

/** Applies delta data to a base body (pack/delta.ts `applyDelta`, injected: object/ sits below pack/). */
export type ApplyDelta = (base: Uint8Array, delta: Uint8Array) => Uint8Array;

/** How one object is stored: its whole pack entry and/or its `D` value (either may be absent). */
export interface StoredForms {
  whole?: Uint8Array;
  delta?: Uint8Array;
}

/** Batched lookup of the stored forms of ids (undefined where the object is not stored at all). */
export type FormsLookup = (oids: Oid[]) => Promise<(StoredForms | undefined)[]>;

/** The engine-wide cache of resolved bodies, keyed by `repoId:oid`. */
export type ResolvedCache = LRUCache<string, RawObject>;

/** Creates the cache of resolved bodies (0 bytes: none). */
export function createResolvedCache(maxBytes: number): ResolvedCache | undefined {
  if (!(maxBytes > 0)) return undefined;
  return new LRUCache<string, RawObject>({
    maxSize: maxBytes,
    // One body larger than an eighth of the cache would push out most of what it holds.
    maxEntrySize: Math.max(1, Math.floor(maxBytes / 8)),
    sizeCalculation: (v) => 64 + v.body.length,
  });
}

/** What resolving needs besides the lookup. */
export interface ResolveContext {
  applyDelta: ApplyDelta;
  cache?: ResolvedCache;
  /** Prefix of this repository's cache keys (`repoId:`). */
  prefix: string;
  /** Longest chain followed before the store is judged corrupt. */
  maxDepth?: number;
  /** When given, receives for every id asked for a lower bound of its chain length (0: stored whole). */
  depths?: Map<Oid, number>;
  /** With `depths`: receives for every id asked whose chain is longer than 0 where that chain was followed to (its root, as far as the walk went). */
  ends?: Map<Oid, Oid>;
  /** Bodies the caller holds (a walk's recent trees), consulted for bases before the cache and the store. */
  bases?: (oid: Oid) => RawObject | undefined;
}

/** Longest chain followed by default: git writes at most 50 (pack.depth); ingest stores at most 50 too. */
const DEFAULT_MAX_DEPTH = 10_000;

/** The error of a stored object that cannot be read (a broken delta chain, a wrong size). */
export function corrupt(oid: Oid, why: string): InvalidObjectError {
  return new InvalidObjectError(`stored object ${oid} cannot be read: ${why}`, { details: { oid } });
}

/** Type and body of each id, undefined where it is not stored; see the module comment. */
export async function resolveMany(oids: readonly Oid[], lookup: FormsLookup, ctx: ResolveContext): Promise<(RawObject | undefined)[]> {
  const known = new Map<Oid, RawObject>();
  const deltas = new Map<Oid, StoredDelta>();
  const asked = [...new Set(oids)];
  const seen = new Set<Oid>(asked);
  const maxDepth = ctx.maxDepth ?? DEFAULT_MAX_DEPTH;
  let frontier = asked;
  let top = true;
  for (let level = 0; frontier.length > 0; level++) {
    if (level > maxDepth) throw corrupt(frontier[0]!, `delta chain longer than ${maxDepth}`);
    const forms = await lookup(frontier);
    const next: Oid[] = [];
    for (let i = 0; i < frontier.length; i++) {
      const oid = frontier[i]!;
      const f = forms[i];
      if (f?.whole !== undefined) {
        const raw = decodePacked(f.whole);
        known.set(oid, raw);
        if (!top) ctx.cache?.set(ctx.prefix + oid, raw);
        continue;
      }
      if (f?.delta === undefined) {
        if (!top) throw corrupt(oid, 'a delta base is missing');
        continue;
      }
      // An object asked for whose body is cached needs no chain (it exists: it has a `D`).
      const hit = top ? ctx.cache?.get(ctx.prefix + oid) : undefined;
      if (hit !== undefined) {
        known.set(oid, hit);
        continue;
      }
      const d = decodeStoredDelta(f.delta);
      deltas.set(oid, d);
      const base = d.base as Oid;
      if (seen.has(base)) continue;
      seen.add(base);
      const cached = ctx.bases?.(base) ?? ctx.cache?.get(ctx.prefix + base);
      if (cached !== undefined) known.set(base, cached);
      else next.push(base);
    }
    frontier = next;
    top = false;
  }
  for (const oid of asked) if (deltas.has(oid) && !known.has(oid)) apply(oid, known, deltas, ctx);
  if (ctx.depths) {
    for (const oid of asked) {
      const [n, end] = chainEnd(oid, deltas);
      ctx.depths.set(oid, n);
      if (n > 0) ctx.ends?.set(oid, end);
    }
  }
  return oids.map((o) => known.get(o));
}

/** Resolves `oid` from the nearest known body up its chain, downwards (no recursion: chains may be long). */
function apply(oid: Oid, known: Map<Oid, RawObject>, deltas: Map<Oid, StoredDelta>, ctx: ResolveContext): void {
  const stack: Oid[] = [];
  let cur = oid;
  while (!known.has(cur)) {
    const d = deltas.get(cur);
    if (d === undefined) throw corrupt(cur, 'a delta base is missing');
    if (stack.length > deltas.size) throw corrupt(oid, 'its delta chain is a cycle');
    stack.push(cur);
    cur = d.base as Oid;
  }
  let base = known.get(cur)!;
  for (let i = stack.length - 1; i >= 0; i--) {
    const o = stack[i]!;
    const d = deltas.get(o)!;
    if (d.type !== undefined && d.type !== base.type) throw corrupt(o, `a ${d.type} stored as a delta of a ${base.type}`);
    const body = ctx.applyDelta(base.body, refDeltaData(d.entry));
    if (d.size !== undefined && d.size !== body.length) throw corrupt(o, 'its size does not match its delta');
    const raw: RawObject = { type: base.type, body };
    known.set(o, raw);
    ctx.cache?.set(ctx.prefix + o, raw);
    base = raw;
  }
}

/**
 * Links between `oid` and the first body read whole or found cached (0 when it is one), and that
 * body's id: a lower bound of the stored chain, which is what a cap on chain growth needs to
 * stay bounded, and the chain's root as far as it was followed.
 */
function chainEnd(oid: Oid, deltas: Map<Oid, StoredDelta>): [number, Oid] {
  let n = 0;
  let end = oid;
  for (let d = deltas.get(oid); d !== undefined && n <= deltas.size; d = deltas.get(end)) {
    end = d.base as Oid;
    n++;
  }
  return [n, end];
}
