/**
 * The ref-update pipeline: the one path every ref move takes — commits, branches, tags,
 * promotion, `refs.transaction`, pushes and expiry. In order: branches must point at commits,
 * annotated tags get their peeled value, the ref store checks compare-and-swap expectations and
 * that objects exist under the lock, `beforeRefUpdate` may refuse, the batch is written, then
 * the pack cache warms itself and `afterRefUpdate` runs (its errors are ignored).
 */
import { InvalidArgumentError, RefRejectedError } from '../errors.js';
import type { KvOp } from '../storage/kv.js';
import { type ObjectType, type Oid, ZERO_OID, isOid } from '../object/oid.js';
import type { AppliedUpdate, RefUpdate } from '../refs/ref-store.js';
import { expiresAt } from '../refs/space.js';
import type { RefUpdateSource, RepoContext, RepoCore } from './context.js';
import { peel } from './revision.js';
import { describeRefUpdate } from './ref-update-kind.js';
import { sweepMarkOp } from './sweep-state.js';

/** What a caller adds to a transaction: a check under the lock, and writes in the same batch. */
export interface TransactExtra {
  /** Runs under the lock before the hooks; throwing aborts the transaction. */
  before?: () => Promise<void>;
  /** More writes for the refs' batch (an idempotency record). */
  extraOps?: KvOp[];
}

/** Applies ref updates through the pipeline described above; returns what changed. */
export async function transact(core: RepoCore, updates: RefUpdate[], source: RefUpdateSource, extra?: TransactExtra): Promise<AppliedUpdate[]> {
  const { ctx } = core;
  ctx.assertLive();
  // One typed read of every new value: branches point at commits (git's ref store refuses
  // anything else, and every read of the branch would fail), and tags are peeled from there.
  // Missing objects are the transaction's own check, under the lock.
  const targets = updates.map((u) =>
    typeof u.newOid === 'string' && isOid(u.newOid.toLowerCase()) && u.newOid !== ZERO_OID ? (u.newOid.toLowerCase() as Oid) : undefined,
  );
  const wanted = [...new Set(targets.filter((t) => t !== undefined))];
  const typeOf = new Map(wanted.map((o, i) => [o, i]));
  const infos = await ctx.objects.info(wanted);
  updates.forEach((u, i) => {
    const t = targets[i];
    const info = t === undefined ? undefined : infos[typeOf.get(t)!];
    if (info !== undefined && info.type !== 'commit' && typeof u.ref === 'string' && u.ref.startsWith('refs/heads/')) {
      throw new InvalidArgumentError(`${u.ref} must point at a commit, not a ${info.type}`, { details: { ref: u.ref, newOid: u.newOid, type: info.type } });
    }
  });
  const withPeeled = await peeledUpdates(ctx, updates, (oid) => infos[typeOf.get(oid) ?? -1]?.type);
  // The ref store reads `extraOps` after `prepare`: a sweep marker decided there joins the batch.
  const extraOps: KvOp[] = [...(extra?.extraOps ?? [])];
  const applied = await ctx.refs.transaction(withPeeled, {
    missingObjects: async (oids) => {
      const has = await ctx.objects.has(oids);
      return oids.filter((_, i) => !has[i]);
    },
    prepare: async (list) => {
      await extra?.before?.();
      if (ctx.beforeRefUpdate) {
        const verdict = await ctx.beforeRefUpdate({ repo: ctx.info.name, source, updates: list });
        if (typeof verdict === 'string') throw new RefRejectedError(verdict, { details: { refs: list.map((u) => u.ref) } });
      }
      if (await mayLeaveGarbage(ctx, list)) extraOps.push(sweepMarkOp(ctx.poolId));
      // Webhook events land in the same batch as the refs: a crash cannot lose one (src/webhooks/).
      if (ctx.eventOps) for (const op of await ctx.eventOps(source, list)) extraOps.push(op);
    },
    extraOps,
  });
  ctx.onRefsChanged?.(core.repo, applied);
  ctx.onEventsWritten?.();
  if (ctx.afterRefUpdate) {
    Promise.resolve()
      .then(() => ctx.afterRefUpdate!({ repo: ctx.info.name, source, updates: applied }))
      .catch(() => undefined);
  }
  return applied;
}

/**
 * True when an update lets go of a value no other update of the batch takes over: a delete, or
 * a move that is not a fast-forward (ref-update-kind.ts; a new commit whose parent is the old
 * value is one without a walk). Creates and fast-forwards only add reachable objects, so they
 * never make the sweep walk. Runs under the ref lock, on the values the transaction replaces.
 */
async function mayLeaveGarbage(ctx: RepoContext, list: readonly AppliedUpdate[]): Promise<boolean> {
  const taken = new Set(list.map((u) => u.newOid));
  for (const u of list) {
    if (u.oldOid === ZERO_OID || u.oldOid === u.newOid || taken.has(u.oldOid)) continue;
    if (u.newOid === ZERO_OID) return true;
    const [next] = await ctx.objects.decodeMany([u.newOid]).catch(() => [undefined]);
    if (next?.type === 'commit' && next.commit.parents.includes(u.oldOid)) continue;
    // Whatever cannot be shown to be a fast-forward counts as letting go (a sweep too many is harmless).
    const kind = await describeRefUpdate(ctx.objects, u.ref, u.oldOid, u.newOid).catch(() => ({ force: true }));
    if (kind.force) return true;
  }
  return false;
}

/**
 * Removes expired ephemeral refs and tells the pack cache and `afterRefUpdate` (source
 * 'expire', awaited, errors ignored). Expiry needs no checks: it only deletes.
 */
export async function expireRefs(core: RepoCore): Promise<AppliedUpdate[]> {
  const { ctx } = core;
  const eventOps = ctx.eventOps;
  const expired = await ctx.refs.sweepExpired(eventOps && ((u) => eventOps('expire', u)));
  if (expired.length > 0) {
    ctx.onRefsChanged?.(core.repo, expired);
    ctx.onEventsWritten?.();
    if (ctx.afterRefUpdate) {
      await Promise.resolve(ctx.afterRefUpdate({ repo: ctx.info.name, source: 'expire', updates: expired })).catch(() => undefined);
    }
  }
  return expired;
}

/** Expiry time (ms since the epoch) of an ephemeral ref written now with this lifetime (default: the engine's). */
export function ephemeralExpiry(ctx: RepoContext, ttlSeconds?: number): number {
  return expiresAt(Date.now(), {
    requestedTtlSeconds: ttlSeconds,
    defaultTtlSeconds: ctx.ephemeralTtlSeconds,
    maxTtlSeconds: ctx.maxEphemeralTtlSeconds,
  }).getTime();
}

/** Each update with the value its tag peels to; the first level's types come from the caller. */
async function peeledUpdates(ctx: RepoContext, updates: RefUpdate[], firstType: (oid: Oid) => ObjectType | undefined): Promise<RefUpdate[]> {
  const out = [...updates];
  const indices = updates.flatMap((u, i) => (u.peeled !== undefined || !isOid(u.newOid) || u.newOid === ZERO_OID ? [] : [i]));
  const starts = indices.map((i) => updates[i]!.newOid as Oid);
  const peeled = await peel(ctx.objects, starts, starts.map(firstType));
  indices.forEach((i, k) => {
    const p = peeled[k]!;
    if (p.type !== 'tag' && p.oid !== starts[k]) out[i] = { ...updates[i]!, peeled: p.oid };
  });
  return out;
}
