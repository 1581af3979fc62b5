/**
 * Line diff as git's xdiff computes it (xdiff/xdiffi.c, xprepare.c), so hunks land on the same
 * lines as `git diff`: records are lines with their newline; identical ends are trimmed; lines
 * with no match in the other file (and runs of lines matching too often) are set aside before
 * Myers' divide-and-conquer search with git's cost heuristics; then each change group is slid
 * as git slides it (merged with neighbours, aligned with the other side's groups, and placed by
 * the indent heuristic that `git diff` uses by default).
 */

/** Lines of a file as comparable records: each line with its `\n` (the last may lack one), as a byte string. */
export type Lines = readonly string[];

/** One change: `chg1` lines of the old file at `i1` replaced by `chg2` lines of the new file at `i2` (0-based). */
export interface Change {
  i1: number;
  chg1: number;
  i2: number;
  chg2: number;
}

import { histogramDiff } from './xhistogram.js';
import { compact } from './xcompact.js';

const latin1 = new TextDecoder('latin1');

/** Splits bytes into records (each line keeps its `\n`; bytes map one-to-one onto char codes). */
export function splitLines(bytes: Uint8Array): string[] {
  const text = latin1.decode(bytes);
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const MAX_EQLIMIT = 1024;
const SIMSCAN_WINDOW = 100;
const KPDIS_RUN = 4;
const MAX_COST_MIN = 256;
const SNAKE_CNT = 20;
const HEUR_MIN_COST = 256;
const K_HEUR = 4;
const LINE_MAX = Number.MAX_SAFE_INTEGER;

/** xdiff's integer square root approximation. */
function bogosqrt(n: number): number {
  let i = 1;
  for (; n > 0; n = Math.floor(n / 4)) i *= 2;
  return i;
}

/** One side of a diff: class ids per line and the change flags (index i at i + 1, sentinels at both ends). */
export interface Side {
  recs: Lines;
  ha: Int32Array;
  rchg: Uint8Array;
  n: number;
}

/** Options of the line diff. */
export interface DiffOptions {
  /** git's indent heuristic when sliding groups (on in `git diff`, off in merges). */
  indentHeuristic?: boolean;
  /** The histogram algorithm (git's merges use it) instead of Myers. */
  histogram?: boolean;
}

/** The changes between two line lists, as `git diff` finds them. */
export function diffLines(a: Lines, b: Lines, options: DiffOptions = {}): Change[] {
  const { x, y, count1, count2 } = prepare(a, b);
  if (options.histogram === true) {
    histogramDiff(x, y, (line1, count1, line2, count2) => {
      // xdl_fall_back_diff: Myers over the two ranges, its marks copied in.
      const sub = prepare(a.slice(line1 - 1, line1 - 1 + count1), b.slice(line2 - 1, line2 - 1 + count2));
      doDiff(sub.x, sub.y, sub.count1, sub.count2);
      x.rchg.set(sub.x.rchg.subarray(1, count1 + 1), line1);
      y.rchg.set(sub.y.rchg.subarray(1, count2 + 1), line2);
    });
  } else doDiff(x, y, count1, count2);
  compact(x, y, options.indentHeuristic === true);
  compact(y, x, options.indentHeuristic === true);
  return buildScript(x, y);
}

/** Both sides' records classified (equal lines share a class) with their counts. */
function prepare(a: Lines, b: Lines) {
  const classes = new Map<string, number>();
  const count1: number[] = [];
  const count2: number[] = [];
  const classify = (recs: Lines, counts: number[], other: number[]) => {
    const ha = new Int32Array(recs.length);
    recs.forEach((r, i) => {
      let c = classes.get(r);
      if (c === undefined) {
        c = classes.size;
        classes.set(r, c);
        counts.push(0);
        other.push(0);
      }
      counts[c]!++;
      ha[i] = c;
    });
    return ha;
  };
  const x: Side = { recs: a, ha: classify(a, count1, count2), rchg: new Uint8Array(a.length + 2), n: a.length };
  const y: Side = { recs: b, ha: classify(b, count2, count1), rchg: new Uint8Array(b.length + 2), n: b.length };
  return { x, y, count1, count2 };
}

/** xdl_prepare_env's trimming and discarding, then xdl_recs_cmp over what is left. */
function doDiff(x: Side, y: Side, count1: number[], count2: number[]): void {
  let start = 0;
  const lim = Math.min(x.n, y.n);
  while (start < lim && x.ha[start] === y.ha[start]) start++;
  let tail = 0;
  while (tail < lim - start && x.ha[x.n - 1 - tail] === y.ha[y.n - 1 - tail]) tail++;
  const dend1 = x.n - tail - 1;
  const dend2 = y.n - tail - 1;
  const dis1 = discards(x, start, dend1, count2);
  const dis2 = discards(y, start, dend2, count1);
  const keep = (s: Side, dis: Uint8Array, end: number) => {
    const ha: number[] = [];
    const rindex: number[] = [];
    for (let i = start; i <= end; i++) {
      if (dis[i] === 1 || (dis[i] === 2 && !cleanMatch(dis, i, start, end))) {
        rindex.push(i);
        ha.push(s.ha[i]!);
      } else s.rchg[i + 1] = 1;
    }
    return { ha: Int32Array.from(ha), rindex };
  };
  const k1 = keep(x, dis1, dend1);
  const k2 = keep(y, dis2, dend2);
  const n1 = k1.ha.length;
  const n2 = k2.ha.length;
  const ndiags = n1 + n2 + 3;
  const env = { mxcost: Math.max(bogosqrt(ndiags), MAX_COST_MIN) };
  const kvdf = new Float64Array(ndiags);
  const kvdb = new Float64Array(ndiags);
  const ctx: Ctx = { ha1: k1.ha, ha2: k2.ha, kvdf, kvdb, off: n2 + 1, mxcost: env.mxcost };
  recsCmp(ctx, x.rchg, k1.rindex, 0, n1, y.rchg, k2.rindex, 0, n2, false);
}

/** xdl_cleanup_records' first pass: 0 no match in the other file, 1 keep, 2 matches too often. */
function discards(s: Side, start: number, end: number, otherCounts: number[]): Uint8Array {
  const dis = new Uint8Array(s.n + 1);
  const mlim = Math.min(bogosqrt(s.n), MAX_EQLIMIT);
  for (let i = start; i <= end; i++) {
    const nm = otherCounts[s.ha[i]!] ?? 0;
    dis[i] = nm === 0 ? 0 : nm >= mlim ? 2 : 1;
  }
  return dis;
}

/** xdl_clean_mmatch: whether a too-frequent line sits in a run of unmatched ones (then it is discarded). */
function cleanMatch(dis: Uint8Array, i: number, s: number, e: number): boolean {
  if (i - s > SIMSCAN_WINDOW) s = i - SIMSCAN_WINDOW;
  if (e - i > SIMSCAN_WINDOW) e = i + SIMSCAN_WINDOW;
  let rdis0 = 0;
  let rpdis0 = 1;
  for (let r = 1; i - r >= s; r++) {
    const d = dis[i - r];
    if (d === 0) rdis0++;
    else if (d === 2) rpdis0++;
    else break;
  }
  if (rdis0 === 0) return false;
  let rdis1 = 0;
  let rpdis1 = 1;
  for (let r = 1; i + r <= e; r++) {
    const d = dis[i + r];
    if (d === 0) rdis1++;
    else if (d === 2) rpdis1++;
    else break;
  }
  if (rdis1 === 0) return false;
  rdis1 += rdis0;
  rpdis1 += rpdis0;
  return rpdis1 * KPDIS_RUN < rpdis1 + rdis1;
}

interface Ctx {
  ha1: Int32Array;
  ha2: Int32Array;
  kvdf: Float64Array;
  kvdb: Float64Array;
  /** Index of diagonal 0 in kvdf/kvdb. */
  off: number;
  mxcost: number;
}

/** xdl_recs_cmp: shrink the box by its common ends, then split it and recurse (divide and conquer). */
function recsCmp(
  c: Ctx,
  rchg1: Uint8Array,
  rindex1: number[],
  off1: number,
  lim1: number,
  rchg2: Uint8Array,
  rindex2: number[],
  off2: number,
  lim2: number,
  needMin: boolean,
): void {
  const { ha1, ha2 } = c;
  // An explicit stack instead of recursion: deep inputs would exhaust the call stack.
  const stack: [number, number, number, number, boolean][] = [[off1, lim1, off2, lim2, needMin]];
  while (stack.length > 0) {
    let [o1, l1, o2, l2, nm] = stack.pop()!;
    while (o1 < l1 && o2 < l2 && ha1[o1] === ha2[o2]) o1++, o2++;
    while (o1 < l1 && o2 < l2 && ha1[l1 - 1] === ha2[l2 - 1]) l1--, l2--;
    if (o1 === l1) {
      for (; o2 < l2; o2++) rchg2[rindex2[o2]! + 1] = 1;
    } else if (o2 === l2) {
      for (; o1 < l1; o1++) rchg1[rindex1[o1]! + 1] = 1;
    } else {
      const spl = split(c, o1, l1, o2, l2, nm);
      // The first half is processed first, as git's recursion does (the order does not change the result, only the stack).
      stack.push([spl.i1, l1, spl.i2, l2, spl.minHi]);
      stack.push([o1, spl.i1, o2, spl.i2, spl.minLo]);
    }
  }
}

/** xdl_split: the middle snake of the box, or a good-enough split point when the search gets expensive. */
function split(c: Ctx, off1: number, lim1: number, off2: number, lim2: number, needMin: boolean) {
  const { ha1, ha2, kvdf, kvdb, off } = c;
  const dmin = off1 - lim2;
  const dmax = lim1 - off2;
  const fmid = off1 - off2;
  const bmid = lim1 - lim2;
  const odd = ((fmid - bmid) & 1) !== 0;
  let fmin = fmid;
  let fmax = fmid;
  let bmin = bmid;
  let bmax = bmid;
  kvdf[off + fmid] = off1;
  kvdb[off + bmid] = lim1;
  for (let ec = 1; ; ec++) {
    let gotSnake = false;
    if (fmin > dmin) kvdf[off + --fmin - 1] = -1;
    else ++fmin;
    if (fmax < dmax) kvdf[off + ++fmax + 1] = -1;
    else --fmax;
    for (let d = fmax; d >= fmin; d -= 2) {
      let i1 = kvdf[off + d - 1]! >= kvdf[off + d + 1]! ? kvdf[off + d - 1]! + 1 : kvdf[off + d + 1]!;
      const prev1 = i1;
      let i2 = i1 - d;
      while (i1 < lim1 && i2 < lim2 && ha1[i1] === ha2[i2]) i1++, i2++;
      if (i1 - prev1 > SNAKE_CNT) gotSnake = true;
      kvdf[off + d] = i1;
      if (odd && bmin <= d && d <= bmax && kvdb[off + d]! <= i1) return { i1, i2, minLo: true, minHi: true };
    }
    if (bmin > dmin) kvdb[off + --bmin - 1] = LINE_MAX;
    else ++bmin;
    if (bmax < dmax) kvdb[off + ++bmax + 1] = LINE_MAX;
    else --bmax;
    for (let d = bmax; d >= bmin; d -= 2) {
      let i1 = kvdb[off + d - 1]! < kvdb[off + d + 1]! ? kvdb[off + d - 1]! : kvdb[off + d + 1]! - 1;
      const prev1 = i1;
      let i2 = i1 - d;
      while (i1 > off1 && i2 > off2 && ha1[i1 - 1] === ha2[i2 - 1]) i1--, i2--;
      if (prev1 - i1 > SNAKE_CNT) gotSnake = true;
      kvdb[off + d] = i1;
      if (!odd && fmin <= d && d <= fmax && i1 <= kvdf[off + d]!) return { i1, i2, minLo: true, minHi: true };
    }
    if (needMin) continue;
    if (gotSnake && ec > HEUR_MIN_COST) {
      let best = 0;
      let s1 = 0;
      let s2 = 0;
      for (let d = fmax; d >= fmin; d -= 2) {
        const dd = d > fmid ? d - fmid : fmid - d;
        const i1 = kvdf[off + d]!;
        const i2 = i1 - d;
        const v = i1 - off1 + (i2 - off2) - dd;
        if (v > K_HEUR * ec && v > best && off1 + SNAKE_CNT <= i1 && i1 < lim1 && off2 + SNAKE_CNT <= i2 && i2 < lim2) {
          for (let k = 1; ha1[i1 - k] === ha2[i2 - k]; k++) {
            if (k === SNAKE_CNT) {
              best = v;
              s1 = i1;
              s2 = i2;
              break;
            }
          }
        }
      }
      if (best > 0) return { i1: s1, i2: s2, minLo: true, minHi: false };
      for (let d = bmax; d >= bmin; d -= 2) {
        const dd = d > bmid ? d - bmid : bmid - d;
        const i1 = kvdb[off + d]!;
        const i2 = i1 - d;
        const v = lim1 - i1 + (lim2 - i2) - dd;
        if (v > K_HEUR * ec && v > best && off1 < i1 && i1 <= lim1 - SNAKE_CNT && off2 < i2 && i2 <= lim2 - SNAKE_CNT) {
          for (let k = 0; ha1[i1 + k] === ha2[i2 + k]; k++) {
            if (k === SNAKE_CNT - 1) {
              best = v;
              s1 = i1;
              s2 = i2;
              break;
            }
          }
        }
      }
      if (best > 0) return { i1: s1, i2: s2, minLo: false, minHi: true };
    }
    if (ec >= c.mxcost) {
      let fbest = -1;
      let fbest1 = -1;
      for (let d = fmax; d >= fmin; d -= 2) {
        let i1 = Math.min(kvdf[off + d]!, lim1);
        let i2 = i1 - d;
        if (lim2 < i2) (i1 = lim2 + d), (i2 = lim2);
        if (fbest < i1 + i2) (fbest = i1 + i2), (fbest1 = i1);
      }
      let bbest = LINE_MAX;
      let bbest1 = LINE_MAX;
      for (let d = bmax; d >= bmin; d -= 2) {
        let i1 = Math.max(off1, kvdb[off + d]!);
        let i2 = i1 - d;
        if (i2 < off2) (i1 = off2 + d), (i2 = off2);
        if (i1 + i2 < bbest) (bbest = i1 + i2), (bbest1 = i1);
      }
      if (lim1 + lim2 - bbest < fbest - (off1 + off2)) return { i1: fbest1, i2: fbest - fbest1, minLo: true, minHi: false };
      return { i1: bbest1, i2: bbest - bbest1, minLo: false, minHi: true };
    }
  }
}

/** xdl_build_script: change flags to a list of changes, in file order. */
function buildScript(x: Side, y: Side): Change[] {
  const out: Change[] = [];
  const r1 = x.rchg;
  const r2 = y.rchg;
  for (let i1 = x.n, i2 = y.n; i1 >= 0 || i2 >= 0; i1--, i2--) {
    if (r1[i1] || r2[i2]) {
      const l1 = i1;
      const l2 = i2;
      while (r1[i1]) i1--;
      while (r2[i2]) i2--;
      out.push({ i1, chg1: l1 - i1, i2, chg2: l2 - i2 });
    }
  }
  return out.reverse();
}
