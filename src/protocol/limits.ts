/**
 * Limits of one upload-pack request, shared by every message parser of the fetch path
 * (v2 command framing, ls-refs, fetch arguments in both protocol versions).
 */

/** Limits of one upload-pack request. */
export interface UploadPackLimits {
  /** Most pkt-lines in one request. */
  maxPackets: number;
  /** Most `want` lines. */
  maxWants: number;
  /**
   * Most wants that are not the value of an advertised ref (a tip or its peeled tag target).
   * Each such want costs a reachability walk (upload-pack answers "not our ref" otherwise), so
   * a request of thousands of old commits is refused before any walk. Partial clones fetching
   * many missing blobs at once send such wants: raise it for blobless clones of huge trees.
   */
  maxNonTipWants: number;
  /** Most `have` lines. */
  maxHaves: number;
  /** Most `shallow` lines. */
  maxShallows: number;
  /** Most `ref-prefix` / `deepen-not` arguments. */
  maxPrefixes: number;
  /** Largest `deepen` value accepted. */
  maxDepth: number;
  /**
   * Most commits the planning walks of one request visit together (walk-budget.ts): the want
   * check, every "ready" test and the fetch's plan. A full clone walks each commit about once.
   */
  maxWalkCommits: number;
  /** Most milliseconds the planning walks of one request may take (walk-budget.ts). */
  maxWalkMs: number;
  /**
   * Most objects one request's pack plan may hold (commits, tags, trees, blobs), charged as the
   * plan grows (walk-budget.ts): a plan keeps every id until its pack is sent, so this bounds a
   * full clone's memory. Measured at ~220 bytes of live heap per planned object (plan and
   * pack phase), the default is ~210 MiB for one request at most: a tenth of the 2 GiB heap
   * Node gives a process on an 8 GiB host, and enough for git.git's 849,000 objects
   * (docs/benchmarks.md, "Full-clone memory"). Past it: a shallow or a partial clone.
   */
  maxPackObjects: number;
}

/** Defaults: well above what git sends (it sends haves in rounds of at most a few hundred). */
export const DEFAULT_UPLOAD_PACK_LIMITS: UploadPackLimits = {
  maxPackets: 200_000,
  maxWants: 20_000,
  maxNonTipWants: 2_048,
  maxHaves: 100_000,
  maxShallows: 100_000,
  maxPrefixes: 1_000,
  maxDepth: 2_147_483_647,
  maxWalkCommits: 4_000_000,
  maxWalkMs: 300_000,
  maxPackObjects: 1_000_000,
};

/** The defaults with `l` applied over them. */
export function uploadPackLimits(l?: Partial<UploadPackLimits>): UploadPackLimits {
  return { ...DEFAULT_UPLOAD_PACK_LIMITS, ...l };
}
