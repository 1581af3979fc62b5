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
  /** Most `have` lines. */
  maxHaves: number;
  /** Most `shallow` lines. */
  maxShallows: number;
  /** Most `ref-prefix` / `deepen-not` arguments. */
  maxPrefixes: number;
  /** Largest `deepen` value accepted. */
  maxDepth: number;
}

/** Defaults: well above what git sends (it sends haves in rounds of at most a few hundred). */
export const DEFAULT_UPLOAD_PACK_LIMITS: UploadPackLimits = {
  maxPackets: 200_000,
  maxWants: 20_000,
  maxHaves: 100_000,
  maxShallows: 100_000,
  maxPrefixes: 1_000,
  maxDepth: 2_147_483_647,
};

/** The defaults with `l` applied over them. */
export function uploadPackLimits(l?: Partial<UploadPackLimits>): UploadPackLimits {
  return { ...DEFAULT_UPLOAD_PACK_LIMITS, ...l };
}
