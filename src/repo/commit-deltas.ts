/**
 * Deltas for commits made through the API: a blob or tree that replaces the previous version
 * at its path is also kept as a ref-delta against that version (a `D` record, like the deltas
 * pushes arrive with) when the delta is under half the object and smaller than its compressed
 * whole. Full clones and fetches of a history built commit by commit then carry deltas, as
 * git's own packs do; depth-1 packs, which rarely hold the old version, are unaffected.
 */
import { createDelta } from '../pack/delta.js';
import { oidToBytes } from '../object/oid.js';
import { decodePacked, encodeRefDelta, packedInfo } from '../object/packed.js';
import type { ObjectStore, ObjectWriter } from '../object/object-store.js';
import type { Replaced } from './build-tree.js';

/** Bounds of the delta work one commit does. */
export interface CommitDeltaLimits {
  /** Objects (and bases) larger than this are kept whole only. Default 1 MiB. */
  maxObjectBytes: number;
  /** Bytes of bases and targets one commit may diff in all. Default 16 MiB. */
  maxTotalBytes: number;
}

export const DEFAULT_COMMIT_DELTA_LIMITS: CommitDeltaLimits = { maxObjectBytes: 1 << 20, maxTotalBytes: 16 << 20 };

/** Below this size a delta cannot pay for its 20-byte base id. */
const MIN_BYTES = 64;

/** Queues on `writer` a kept delta for each object in `replaced` worth one (see the module comment). */
export async function addCommitDeltas(
  store: ObjectStore,
  writer: ObjectWriter,
  replaced: readonly Replaced[],
  limits: CommitDeltaLimits = DEFAULT_COMMIT_DELTA_LIMITS,
): Promise<number> {
  const candidates = replaced.filter((r) => r.body.length >= MIN_BYTES && r.body.length <= limits.maxObjectBytes);
  if (candidates.length === 0) return 0;
  const [bases, present] = await Promise.all([store.getStored(candidates.map((c) => c.base)), store.has(candidates.map((c) => c.oid))]);
  let budget = limits.maxTotalBytes;
  let added = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const stored = bases[i];
    // Already stored (a revert to an older version): it keeps the representation it has.
    if (stored === undefined || present[i]) continue;
    const info = packedInfo(stored);
    if (info.size < MIN_BYTES || info.size > limits.maxObjectBytes) continue;
    budget -= info.size + c.body.length;
    if (budget < 0) break;
    const delta = createDelta(decodePacked(stored).body, c.body, Math.ceil(c.body.length / 2) - 1);
    if (delta === undefined) continue;
    const entry = encodeRefDelta(oidToBytes(c.base), delta);
    const whole = writer.queued(c.oid);
    if (whole !== undefined && entry.length >= whole.length) continue;
    writer.addDelta(c.oid, entry);
    added++;
  }
  return added;
}
