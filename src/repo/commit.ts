/**
 * The commit pipeline: `Repository.commit` checks its options once into a `CommitPlan`, then
 * builds the commit on the branch's current tip (only the trees on changed paths are rebuilt,
 * replaced blobs and trees kept as deltas) and moves the branch through the ref-update
 * pipeline. Without an expectation, a concurrent move of the branch makes it rebuild on the
 * new tip; commits of this process to one branch are queued. An idempotency key stores the
 * result in the same batch as the ref move, and a retry returns it.
 */
import { InvalidArgumentError, NotFoundError, RefConflictError } from '../errors.js';
import { type Oid, ZERO_OID, parseOid } from '../object/oid.js';
import { encodeCommit, formatIdentity, type Identity } from '../object/commit.js';
import { checkObject, describeFsckFailure, fsckConfig } from '../object/fsck.js';
import { utf8 } from '../platform/bytes.js';
import { branchRef, type RefName } from '../refs/ref-name.js';
import type { Space } from '../refs/space.js';
import type { InProcessLock } from '../refs/lock.js';
import { applyChanges, groupChanges, type TreeChange, type Replaced } from './build-tree.js';
import { addCommitDeltas } from './commit-deltas.js';
import { checkIdempotencyKey, fingerprint, idempotencyMismatch, idempotencyRecordOp, readIdempotencyRecord } from './idempotency.js';
import type { RepoCore } from './context.js';
import { ephemeralExpiry, transact } from './ref-updates.js';
import { markSweepNeeded } from './sweep-state.js';
import { refuseIfBad } from './checks.js';
import { peelToCommit, readRef } from './revision.js';
import { commitGraph } from './commit-graph.js';
import { noteWholeCommit } from './materialize.js';
import { noteReplaced } from './replaced-whole.js';

/** Who and when, as callers give it (timestamp and timezone default to now and +0000). */
export interface PersonInput {
  name: string;
  email: string;
  /** Seconds since the epoch, or a Date. */
  timestamp?: number | Date;
  /** "+0100" style, or minutes east of UTC. */
  timezone?: string | number;
}

/** Options of `Repository.commit`. */
export interface CommitOptions {
  branch: string;
  message: string;
  author: PersonInput;
  committer?: PersonInput;
  changes: TreeChange[];
  /** Compare-and-swap: the branch must be at this sha (zero sha: must not exist). */
  expectedHeadSha?: string;
  /** Start a missing branch from this branch's tip. */
  baseBranch?: string;
  /** The space the branch moves in (default 'regular'); an ephemeral commit reads its base through the ephemeral view. */
  space?: Space;
  /** Ephemeral only: lifetime in seconds (default: the engine's). */
  ttlSeconds?: number;
  /**
   * Makes the commit idempotent: a retry with the same key and the same request returns the
   * first result (with `replayed: true`) instead of committing again; the same key with a
   * different request is an InvalidArgumentError. Kept 24 hours, stored atomically with the ref move.
   */
  idempotencyKey?: string;
}

/** Result of a commit (`ephemeral`: whether it landed in the ephemeral space, as the JSON API shows it). */
export interface CommitResult {
  sha: Oid;
  branch: string;
  ref: RefName;
  tree: Oid;
  parents: Oid[];
  ephemeral: boolean;
  /** Present (true) when an idempotency key returned an earlier commit's result. */
  replayed?: true;
}

/** A commit request, checked: everything the build-and-move loop needs. */
interface CommitPlan {
  branch: string;
  ref: RefName;
  space: Space;
  author: Identity;
  committer: Identity;
  message: string;
  changes: ReturnType<typeof groupChanges>;
  /** Compare-and-swap expectation (zero: must not exist), or undefined to build on whatever is there. */
  expected: Oid | undefined;
  baseBranch: string | undefined;
  ttlSeconds: number | undefined;
  idempotency: { key: string; fingerprint: string } | undefined;
  /** Whether the commit writes every new object of its tree (no change names a blob stored beforehand). */
  wholeObjects: boolean;
}

/** Thrown inside a commit's transaction when a concurrent call with the same idempotency key landed first. */
class IdempotentReplay extends Error {
  constructor(
    readonly result: unknown,
    readonly fingerprint: string,
  ) {
    super('replayed');
  }
}

/** An identity from a caller's `{ name, email, timestamp?, timezone? }`. */
export function toIdentity(p: PersonInput, what: string): Identity {
  if (p === null || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.email !== 'string' || p.name.length === 0) {
    throw new InvalidArgumentError(`${what} must be { name, email }`);
  }
  const ts = p.timestamp instanceof Date ? Math.floor(p.timestamp.getTime() / 1000) : (p.timestamp ?? Math.floor(Date.now() / 1000));
  let tz = p.timezone ?? '+0000';
  if (typeof tz === 'number') {
    const sign = tz < 0 ? '-' : '+';
    const a = Math.abs(tz);
    tz = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
  }
  const id: Identity = { name: p.name, email: p.email, timestamp: ts, timezone: tz };
  try {
    formatIdentity(id);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    // Name the check git would fail on the same line (badTimezone, badDateOverflow, nulInHeader...).
    const line = `${p.name} <${p.email}> ${String(ts)} ${String(tz)}`;
    const failure = describeFsckFailure(ZERO_OID, 'commit', checkObject('commit', utf8(`tree ${ZERO_OID}\nauthor ${line}\ncommitter ${line}\n\n`)));
    if (failure === null) throw new InvalidArgumentError(`${what}: ${err.message}`, { cause: err });
    const { id: fsckId } = failure.details as { id: string };
    throw new InvalidArgumentError(`${what}: ${err.message} (${fsckId})`, { cause: err, details: { [what]: line, id: fsckId } });
  }
  return id;
}

/** Builds a commit from file changes and moves the branch (see CommitOptions). */
export async function commit(core: RepoCore, queue: InProcessLock, options: CommitOptions): Promise<CommitResult> {
  const { ctx } = core;
  ctx.assertLive();
  const plan = planCommit(core, options);
  if (plan.idempotency !== undefined) {
    const found = await readIdempotencyRecord<CommitResult>(ctx.kv, ctx.repoId, plan.idempotency.key);
    if (found) {
      if (found.fingerprint !== plan.idempotency.fingerprint) throw idempotencyMismatch();
      return { ...found.result, replayed: true };
    }
  }
  await ctx.guard.beginWrite();
  try {
    const run = () => buildAndMove(core, plan);
    // Without an expectation, racing commits of this process would only conflict and retry
    // (and give up after a few rounds): run them one after the other instead.
    return await (plan.expected === undefined ? queue.run(`${core.ctx.repoId}:${plan.space}:${plan.ref}`, run) : run());
  } catch (err) {
    const idem = plan.idempotency;
    if (err instanceof IdempotentReplay) {
      if (err.fingerprint !== idem?.fingerprint) throw idempotencyMismatch();
      return { ...(err.result as CommitResult), replayed: true };
    }
    // A concurrent retry of the same request that landed first moved the branch, so this one
    // fails its expectation: it is a replay, not a conflict.
    if (err instanceof RefConflictError && idem !== undefined) {
      const found = await readIdempotencyRecord<CommitResult>(ctx.kv, ctx.repoId, idem.key);
      if (found) {
        if (found.fingerprint !== idem.fingerprint) throw idempotencyMismatch();
        return { ...found.result, replayed: true };
      }
    }
    throw err;
  } finally {
    ctx.guard.endWrite();
  }
}

/** Checks the options (before any object is written) into a plan. */
function planCommit(core: RepoCore, options: CommitOptions): CommitPlan {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('commit options must be an object');
  const ref = branchRef(options.branch);
  if (typeof options.message !== 'string') throw new InvalidArgumentError('message must be a string');
  const author = toIdentity(options.author, 'author');
  const committer = options.committer ? toIdentity(options.committer, 'committer') : author;
  const changes = groupChanges(options.changes);
  const expected = options.expectedHeadSha === undefined ? undefined : parseOid(options.expectedHeadSha, 'expectedHeadSha');
  const space: Space = options.space === 'ephemeral' ? 'ephemeral' : 'regular';
  if (space === 'ephemeral') ephemeralExpiry(core.ctx, options.ttlSeconds); // a bad lifetime fails here, before any object is written
  const message = options.message.endsWith('\n') || options.message === '' ? options.message : options.message + '\n';
  let idempotency: CommitPlan['idempotency'];
  if (options.idempotencyKey !== undefined) {
    const key = checkIdempotencyKey(options.idempotencyKey);
    const { idempotencyKey: _k, author: a, committer: c, ...rest } = options;
    void _k;
    idempotency = {
      key,
      fingerprint: fingerprint({ ...rest, author: { name: a.name, email: a.email }, committer: c ? { name: c.name, email: c.email } : undefined }),
    };
  }
  return {
    branch: options.branch,
    ref,
    space,
    author,
    committer,
    message,
    changes,
    expected,
    baseBranch: options.baseBranch,
    ttlSeconds: options.ttlSeconds,
    idempotency,
    wholeObjects: options.changes.every((c) => c.delete || !('blob' in c) || c.stored !== undefined),
  };
}

/** Writes the commit's objects on the current tip and moves the branch; rebuilds when it moved meanwhile. */
async function buildAndMove(core: RepoCore, plan: CommitPlan): Promise<CommitResult> {
  const { ctx } = core;
  const { ref, space, expected, idempotency: idem } = plan;
  for (let attempt = 0; ; attempt++) {
    // The branch in its own space, read with the view: the compare-and-swap below is against
    // this value (re-reading it after the objects are written would let a commit that landed
    // meanwhile be overwritten).
    const own = await ctx.refs.get(ref, space);
    const current = own ?? (space === 'ephemeral' ? await ctx.refs.get(ref, 'regular') : undefined);
    let parent: Oid | undefined = current?.oid;
    if (expected !== undefined && (parent ?? ZERO_OID) !== expected) {
      throw new RefConflictError(`branch ${plan.branch} is at ${parent ?? 'nothing'}, not ${expected}`, {
        details: { ref, expected, actual: parent ?? ZERO_OID },
      });
    }
    if (parent === undefined && plan.baseBranch !== undefined) {
      const base = await readRef(ctx.refs, branchRef(plan.baseBranch), space);
      if (base === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `base branch "${plan.baseBranch}" not found`, { details: { ref: plan.baseBranch } });
      parent = await peelToCommit(ctx.objects, base.oid);
    }
    const baseTree = parent === undefined ? undefined : (await ctx.objects.commit(parent)).tree;
    const writer = ctx.objects.writer();
    const replaced: Replaced[] = [];
    const fsck = fsckConfig(ctx.ingest.fsck);
    const built = new Map<Oid, Uint8Array>();
    const newTree = (await applyChanges(ctx.objects, writer, baseTree, plan.changes, replaced, '', fsck, built)) ?? writer.add('tree', new Uint8Array(0));
    if (ctx.commitDeltas !== false) await addCommitDeltas(ctx.objects, writer, replaced, ctx.commitDeltas);
    const parents = parent === undefined ? [] : [parent];
    const commitBody = encodeCommit({ tree: newTree, parents, author: plan.author, committer: plan.committer, message: plan.message });
    const sha = writer.add('commit', commitBody);
    refuseIfBad(sha, 'commit', checkObject('commit', commitBody, fsck));
    // Its commit-graph record, in the objects' batch (one computed on first need when missing).
    const records = await commitGraph(ctx.objects).recordsFor(new Map([[sha, { tree: newTree, parents, time: plan.committer.timestamp }]]));
    await writer.flush(records.map((r) => r.op));
    // Every object not in the parent's tree was just written whole, unless it names a blob stored beforehand.
    if (plan.wholeObjects) noteWholeCommit(ctx, sha, parent);
    // Its trees and the commit are decoded from what was just written, not read back by the next walk.
    for (const [oid, body] of built) ctx.objects.remember(oid, { type: 'tree', body });
    ctx.objects.remember(sha, { type: 'commit', body: commitBody });
    const result: CommitResult = { sha, branch: plan.branch, ref, tree: newTree, parents, ephemeral: space === 'ephemeral' };
    try {
      // The old value checked is what the branch was in its own space (absent = must not exist).
      const expiresAt = space === 'ephemeral' ? ephemeralExpiry(ctx, plan.ttlSeconds) : undefined;
      await transact(
        core,
        [{ ref, oldOid: own?.oid ?? ZERO_OID, newOid: sha, space, expiresAt }],
        'commit',
        idem && {
          // Under the lock: a concurrent retry that landed first wins; ours is not applied.
          before: async () => {
            const found = await readIdempotencyRecord<CommitResult>(ctx.kv, ctx.repoId, idem.key);
            if (found) throw new IdempotentReplay(found.result, found.fingerprint);
          },
          extraOps: [idempotencyRecordOp(ctx.repoId, idem.key, { fingerprint: idem.fingerprint, result, createdAt: Date.now() })],
        },
      );
    } catch (err) {
      // The objects just stored may be referenced by nothing now: the next sweep looks.
      await markSweepNeeded(ctx.kv, ctx.poolId).catch(() => undefined);
      // Another process (a second tab, a second server) moved the branch meanwhile: build on its
      // tip again after a random pause that grows with the attempts, so racing writers spread out.
      if (err instanceof RefConflictError && expected === undefined && attempt < 16) {
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
        continue;
      }
      throw err;
    }
    // The versions it replaced on a branch that existed let their whole entries go after the
    // branch's warm-up (replaced-whole.ts); a new branch's are still its source's tip.
    if (space === 'regular' && own !== undefined)
      noteReplaced(
        ctx,
        replaced.map((r) => r.base),
      );
    return result;
  }
}
