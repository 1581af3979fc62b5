/**
 * Branches, tags and promotion: each checks its arguments, reads what it needs, and moves refs
 * through the ref-update pipeline (ref-updates.ts) with source 'api' or 'promote'.
 */
import { NotFoundError, RefConflictError } from '../errors.js';
import { type Oid, ZERO_OID, parseOid } from '../object/oid.js';
import { encodeTag } from '../object/commit.js';
import { branchRef, tagRef } from '../refs/ref-name.js';
import type { Space } from '../refs/space.js';
import type { RepoCore } from './context.js';
import { toIdentity, type PersonInput } from './commit.js';
import { resolveCommit } from './read.js';
import { ephemeralExpiry, transact } from './ref-updates.js';
import { resolveRevision } from './revision.js';

/** Creates a branch in a space at a revision (read through that space's view; it must name a commit). */
export async function createBranch(
  core: RepoCore,
  name: string,
  from: string,
  options: { space?: Space; ttlSeconds?: number },
): Promise<{ name: string; sha: Oid }> {
  const ref = branchRef(name);
  const space: Space = options.space === 'ephemeral' ? 'ephemeral' : 'regular';
  const sha = await resolveCommit(core.ctx, from, space);
  const expiresAt = space === 'ephemeral' ? ephemeralExpiry(core.ctx, options.ttlSeconds) : undefined;
  await transact(core, [{ ref, oldOid: ZERO_OID, newOid: sha, space, expiresAt }], 'api');
  return { name: ref.slice('refs/heads/'.length), sha };
}

/** Deletes a branch of a space (only if at `expectedSha` when given). */
export async function deleteBranch(core: RepoCore, name: string, options: { space?: Space; expectedSha?: string }): Promise<void> {
  const ref = branchRef(name);
  const space: Space = options.space === 'ephemeral' ? 'ephemeral' : 'regular';
  const cur = await core.ctx.refs.get(ref, space);
  if (cur === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `branch "${name}" not found`, { details: { ref } });
  await transact(core, [{ ref, oldOid: options.expectedSha ?? cur.oid, newOid: ZERO_OID, space }], 'api');
}

/** Creates a lightweight tag, or an annotated one when `message` is given. */
export async function createTag(
  core: RepoCore,
  name: string,
  target: string,
  options: { message?: string; tagger?: PersonInput },
): Promise<{ name: string; sha: Oid }> {
  const { ctx } = core;
  const ref = tagRef(name);
  ctx.assertLive();
  let sha = await resolveRevision(ctx.objects, ctx.refs, target, 'regular');
  if (options.message !== undefined) {
    // Refuse a taken name before writing the tag object (the transaction still decides races).
    const taken = await ctx.refs.get(ref);
    if (taken !== undefined) throw new RefConflictError(`tag ${ref} already exists`, { details: { ref, expected: ZERO_OID, actual: taken.oid } });
    const [info] = await ctx.objects.info([sha]);
    const writer = ctx.objects.writer();
    const tagger = toIdentity(options.tagger ?? { name: 'level-git', email: 'level-git@localhost' }, 'tagger');
    const msg = options.message.endsWith('\n') ? options.message : options.message + '\n';
    sha = writer.add('tag', encodeTag({ object: sha, type: info!.type, tag: ref.slice('refs/tags/'.length), tagger, message: msg }));
    // Counted as a write from the object to the ref, so a sweep cannot collect the tag in between.
    const tagSha = sha;
    await ctx.guard.write(async () => {
      await writer.flush();
      await transact(core, [{ ref, oldOid: ZERO_OID, newOid: tagSha }], 'api');
    });
    return { name: ref.slice('refs/tags/'.length), sha };
  }
  await transact(core, [{ ref, oldOid: ZERO_OID, newOid: sha }], 'api');
  return { name: ref.slice('refs/tags/'.length), sha };
}

/** Deletes a tag. */
export async function deleteTag(core: RepoCore, name: string): Promise<void> {
  const ref = tagRef(name);
  const cur = await core.ctx.refs.get(ref);
  if (cur === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `tag "${name}" not found`, { details: { ref } });
  await transact(core, [{ ref, oldOid: cur.oid, newOid: ZERO_OID }], 'api');
}

/**
 * Moves an ephemeral branch into the regular space in one transaction (no objects copied):
 * the regular `targetBranch` (default: the same name) is set to the ephemeral tip, checked
 * against `expectedTargetSha` when given, and the ephemeral ref is removed.
 */
/** Options of `promote`. */
export interface PromoteOptions {
  /** The ephemeral branch to promote. */
  baseBranch: string;
  /** The regular branch it becomes (default: the same name). */
  targetBranch?: string;
  /** Compare-and-swap on the target (zero sha: must not exist). */
  expectedTargetSha?: string;
  /** Compare-and-swap on the source: promote only while the ephemeral branch is at this tip. */
  expectedSourceSha?: string;
}

export async function promote(core: RepoCore, options: PromoteOptions): Promise<{ targetBranch: string; sha: Oid }> {
  const from = branchRef(options.baseBranch);
  const target = branchRef(options.targetBranch ?? options.baseBranch);
  const eph = await core.ctx.refs.get(from, 'ephemeral');
  if (eph === undefined) throw new NotFoundError('ERR_REF_NOT_FOUND', `ephemeral branch "${options.baseBranch}" not found`, { details: { ref: from } });
  const expected = options.expectedTargetSha === undefined ? undefined : parseOid(options.expectedTargetSha, 'expectedTargetSha');
  // With expectedSourceSha the source must still be at that tip when the transaction commits
  // (its compare-and-swap), so what moves is exactly what the caller judged.
  const tip = options.expectedSourceSha === undefined ? eph.oid : parseOid(options.expectedSourceSha, 'expectedSourceSha');
  await transact(
    core,
    [
      { ref: target, oldOid: expected, newOid: tip, space: 'regular' },
      { ref: from, oldOid: tip, newOid: ZERO_OID, space: 'ephemeral' },
    ],
    'promote',
  );
  return { targetBranch: target.slice('refs/heads/'.length), sha: tip };
}
