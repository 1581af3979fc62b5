/**
 * Rename similarity as git's diffcore estimates it (diffcore-delta.c, diffcore-rename.c): a file
 * is cut into spans (a line, or 64 bytes), each span hashed; the score is how many bytes of
 * spans the source shares with the destination over the larger size, on a scale of 60,000.
 * Text files ignore the CR of a CRLF; a final line without newline is not counted (as in git).
 * Pure functions over bytes.
 */
import { isBinary } from './binary.js';

/** git's full score (100%). */
export const MAX_SCORE = 60000;
/** git's default rename threshold (50%). */
export const DEFAULT_MIN_SCORE = 30000;

const HASHBASE = 107927;

/** A file's span hashes: hash value → bytes in spans of that hash; with the file's size. */
export interface SpanHashes {
  size: number;
  counts: Map<number, number>;
}

/** The span hashes of a file (diffcore-delta.c `hash_chars`). */
export function spanHashes(bytes: Uint8Array): SpanHashes {
  const counts = new Map<number, number>();
  const text = !isBinary(bytes);
  let accum1 = 0;
  let accum2 = 0;
  let n = 0;
  const add = () => {
    const h = ((accum1 + Math.imul(accum2, 0x61)) >>> 0) % HASHBASE;
    counts.set(h, (counts.get(h) ?? 0) + n);
  };
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (text && c === 13 && i + 1 < bytes.length && bytes[i + 1] === 10) continue;
    const old1 = accum1;
    accum1 = ((accum1 << 7) ^ (accum2 >>> 25)) >>> 0;
    accum2 = ((accum2 << 7) ^ (old1 >>> 25)) >>> 0;
    accum1 = (accum1 + c) >>> 0;
    if (++n < 64 && c !== 10) continue;
    add();
    n = 0;
    accum1 = accum2 = 0;
  }
  // git counts no partial span at the end (a last line without newline adds nothing).
  return { size: bytes.length, counts };
}

/** git's estimate_similarity for two regular files: 0..MAX_SCORE, 0 when the sizes differ too much for `minScore`. */
export function similarity(src: SpanHashes, dst: SpanHashes, minScore = DEFAULT_MIN_SCORE): number {
  const max = Math.max(src.size, dst.size);
  const base = Math.min(src.size, dst.size);
  if (max * (MAX_SCORE - minScore) < (max - base) * MAX_SCORE) return 0;
  if (dst.size === 0) return 0;
  let copied = 0;
  for (const [h, c] of src.counts) copied += Math.min(c, dst.counts.get(h) ?? 0);
  return Math.floor((copied * MAX_SCORE) / max);
}

/** A score as the percent `similarity index` prints. */
export function scorePercent(score: number): number {
  return Math.floor((score * 100) / MAX_SCORE);
}
