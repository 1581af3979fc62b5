/**
 * Ref policies on JSON API writes: which full ref a request moves, and whether the caller's
 * token lets it move that ref that way.
 *
 * Names. Every writing route turns the name it was given into the full ref the operation will
 * move, with the same rule the repository applies, so what is judged is exactly what moves:
 * - a branch (`branch`, `name`, `/branches/<branch>`, `baseBranch`, `targetBranch`) goes through
 *   `branchRef`: `main` is `refs/heads/main`; a name that already starts with `refs/heads/` is
 *   taken as full, so `refs/heads/main` is main too, and `refs/heads/refs/heads/x` is the branch
 *   whose short name is `refs/heads/x` (the ref `refs/heads/refs/heads/x`, never `refs/heads/x`);
 *   any other prefix is part of a short name (`heads/x` is `refs/heads/heads/x`);
 * - a `refs` update names a full ref (`parseRefName`): short names, `HEAD` and anything outside
 *   `refs/` are refused, no guessing.
 * Invalid names are a 400 ERR_INVALID_REF_NAME before anything is judged.
 *
 * Judgement. Each move is described by `describeRefUpdate`, the rule receive-pack uses for a
 * push (create, delete, fast-forward or forced), and handed to the token's policy; a refusal is
 * 403 ERR_REF_REJECTED and nothing moves. The old values judged are returned so the caller pins
 * them as compare-and-swap expectations: the judgement cannot go stale before the ref moves.
 */
import { spaceOf } from '../../refs/space.js';
import { RefRejectedError } from '../../errors.js';
import type { RefUpdatePolicy } from '../../access/types.js';
import { ZERO_OID, type Oid } from '../../object/oid.js';
import type { RefName } from '../../refs/ref-name.js';
import type { Repository } from '../../repo/repository.js';
import { describeRefUpdate } from '../../repo/ref-update-kind.js';
import { internalsOf } from '../../repo/internals.js';

/** One ref a request will move. */
export interface RefMove {
  /** The full name that moves (from `branchRef` / `parseRefName`, see above). */
  ref: RefName;
  /** Read the current value through the ephemeral view (ephemeral over regular) instead of the regular refs. */
  ephemeral: boolean;
  /** The old value the request states (zero: must not exist); default: the current value. */
  oldOid?: Oid;
  /**
   * The new value (zero: delete), or `'descendant'`: a value built on the current one (a new
   * commit on the tip, or any start for a ref that does not exist yet), so a create or a fast-forward.
   */
  newOid: Oid | 'descendant';
}

/**
 * Judges `moves` by the token's policy (no policy: nothing to judge, returns undefined);
 * throws RefRejectedError (403) at the first refusal. Returns the old value judged per move.
 */
export async function checkRefPolicy(policy: RefUpdatePolicy | undefined, repo: Repository, moves: readonly RefMove[]): Promise<Oid[] | undefined> {
  if (policy === undefined) return undefined;
  const olds: Oid[] = [];
  for (const m of moves) {
    const old = m.oldOid ?? (await repo.getRef(m.ref, { view: spaceOf(m.ephemeral) }))?.oid ?? ZERO_OID;
    const info =
      m.newOid === 'descendant'
        ? { ref: m.ref, oldOid: old, newOid: old, force: false, delete: false, create: old === ZERO_OID }
        : await describeRefUpdate(internalsOf(repo).objects, m.ref, old, m.newOid);
    const refusal = policy(info);
    if (refusal) throw new RefRejectedError(refusal, { details: { ref: m.ref } });
    olds.push(old);
  }
  return olds;
}
