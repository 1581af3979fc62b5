/**
 * Rename pairing as git's diffcore-rename does it for `git diff` (no copies): deleted files are
 * sources, added files destinations, both in path order. First exact renames (the same blob;
 * for each destination the first unused source, one with the same basename preferred; symlinks
 * and gitlinks only to the same mode); then sources and destinations whose basename is unique on
 * both sides, paired at 75% similarity or more; then, for what is left, the best candidates of
 * each destination by similarity (ties to the same basename), taken best first at 50% or more.
 * Pure: the caller supplies the span hashes of the files that may need them.
 */
import { DEFAULT_MIN_SCORE, MAX_SCORE, similarity, type SpanHashes } from './similarity.js';

/** A deleted or added file as rename detection sees it. */
export interface RenameCandidate {
  path: string;
  mode: string;
  oid: string;
}

/** A pair found: indices into the sources and destinations, and the score (MAX_SCORE for exact). */
export interface RenamePair {
  src: number;
  dst: number;
  score: number;
}

const CANDIDATES_PER_DST = 4;

const isRegular = (mode: string) => mode === '100644' || mode === '100755';
const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Options of rename detection. */
export interface RenameOptions {
  /** Minimum score of an inexact rename (default 50%). */
  minScore?: number;
  /** Skip inexact detection when sources × destinations exceeds this (git's rename limit squared). */
  maxPairs?: number;
}

/**
 * Pairs sources with destinations. `hashes(side, index)` gives a regular file's span hashes
 * (called only for files left after the exact pass); leave it undefined for exact renames only.
 */
export async function findRenames(
  srcs: readonly RenameCandidate[],
  dsts: readonly RenameCandidate[],
  hashes?: (which: 'src' | 'dst', indices: number[]) => Promise<SpanHashes[]>,
  options: RenameOptions = {},
): Promise<RenamePair[]> {
  const pairs: RenamePair[] = [];
  const srcUsed = new Array<boolean>(srcs.length).fill(false);
  const dstDone = new Array<boolean>(dsts.length).fill(false);
  const byOid = new Map<string, number[]>();
  srcs.forEach((s, i) => {
    const list = byOid.get(s.oid);
    if (list) list.push(i);
    else byOid.set(s.oid, [i]);
  });
  dsts.forEach((d, j) => {
    let best = -1;
    let bestScore = -1;
    for (const i of byOid.get(d.oid) ?? []) {
      const s = srcs[i]!;
      if ((!isRegular(s.mode) || !isRegular(d.mode)) && s.mode !== d.mode) continue;
      if (srcUsed[i]) continue;
      const score = 1 + (basename(s.path) === basename(d.path) ? 1 : 0);
      if (score > bestScore) {
        best = i;
        bestScore = score;
        if (score === 2) break;
      }
    }
    if (best >= 0) {
      srcUsed[best] = true;
      dstDone[j] = true;
      pairs.push({ src: best, dst: j, score: MAX_SCORE });
    }
  });
  if (hashes === undefined) return pairs;
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const leftSrc = srcs.flatMap((s, i) => (!srcUsed[i] && isRegular(s.mode) ? [i] : []));
  const leftDst = dsts.flatMap((d, j) => (!dstDone[j] && isRegular(d.mode) ? [j] : []));
  if (leftSrc.length === 0 || leftDst.length === 0) return pairs;
  if (leftSrc.length * leftDst.length > (options.maxPairs ?? 1000 * 1000)) return pairs;
  const [sh, dh] = await Promise.all([hashes('src', leftSrc), hashes('dst', leftDst)]);
  const srcHash = new Map(leftSrc.map((i, k) => [i, sh[k]!]));
  const dstHash = new Map(leftDst.map((j, k) => [j, dh[k]!]));

  // Unique basenames on both sides (among what is left), at a higher bar.
  const basenameMin = minScore + Math.floor(0.5 * (MAX_SCORE - minScore));
  const uniq = (ids: number[], list: readonly RenameCandidate[]) => {
    const m = new Map<string, number>();
    for (const i of ids) {
      const b = basename(list[i]!.path);
      m.set(b, m.has(b) ? -1 : i);
    }
    return m;
  };
  const srcNames = uniq(leftSrc, srcs);
  const dstNames = uniq(
    dsts.flatMap((_, j) => (dstDone[j] ? [] : [j])),
    dsts,
  );
  for (const i of leftSrc) {
    const b = basename(srcs[i]!.path);
    const j = dstNames.get(b);
    if (j === undefined || j === -1 || srcNames.get(b) === -1 || dstDone[j] || !dstHash.has(j)) continue;
    const score = similarity(srcHash.get(i)!, dstHash.get(j)!, minScore);
    if (score < basenameMin) continue;
    srcUsed[i] = true;
    dstDone[j] = true;
    pairs.push({ src: i, dst: j, score });
  }

  // The matrix: the best few sources per destination, then best first overall.
  type Cand = { dst: number; src: number; score: number; name: number };
  const worse = (a: Cand | undefined, b: Cand | undefined): number => {
    // score_compare: > 0 when a sorts after b.
    if (a === undefined) return b === undefined ? 0 : 1;
    if (b === undefined) return -1;
    if (a.score === b.score) return b.name - a.name;
    return b.score - a.score;
  };
  const all: (Cand | undefined)[] = [];
  for (const j of leftDst) {
    if (dstDone[j]) continue;
    const m: (Cand | undefined)[] = new Array(CANDIDATES_PER_DST).fill(undefined);
    for (const i of leftSrc) {
      if (srcUsed[i]) continue;
      const c: Cand = {
        dst: j,
        src: i,
        score: similarity(srcHash.get(i)!, dstHash.get(j)!, minScore),
        name: basename(srcs[i]!.path) === basename(dsts[j]!.path) ? 1 : 0,
      };
      let w = 0;
      for (let k = 1; k < CANDIDATES_PER_DST; k++) if (worse(m[k], m[w]) > 0) w = k;
      if (worse(m[w], c) > 0) m[w] = c;
    }
    all.push(...m);
  }
  const order = all.map((c, k) => ({ c, k }));
  order.sort((x, y) => worse(x.c, y.c) || x.k - y.k);
  for (const { c } of order) {
    if (c === undefined || c.score < minScore) break;
    if (dstDone[c.dst] || srcUsed[c.src]) continue;
    srcUsed[c.src] = true;
    dstDone[c.dst] = true;
    pairs.push({ src: c.src, dst: c.dst, score: c.score });
  }
  return pairs;
}
