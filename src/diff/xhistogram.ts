/**
 * git's histogram diff (xdiff/xhistogram.c), the line diff of git's merges (merge-ort always
 * uses it): in a region, the common run of lines that occur least often in the old side anchors
 * the diff, and the regions before and after it are diffed the same way; a region whose common
 * lines all occur more than 64 times falls back to the Myers diff. Marks changed lines in the
 * sides' `rchg` (1-based line l at index l, as xdiff.ts keeps them); no trimming or discarding
 * beforehand, as in git.
 */
import type { Side } from './xdiff.js';

const MAX_CHAIN_LENGTH = 64;

/** The Myers diff of a sub-range (1-based first lines and counts), marking the same `rchg`s. */
export type FallBack = (line1: number, count1: number, line2: number, count2: number) => void;

/** Marks the changed lines of `x` against `y`. */
export function histogramDiff(x: Side, y: Side, fallBack: FallBack): void {
  region(x, y, 1, x.n, 1, y.n, fallBack);
}

function region(x: Side, y: Side, line1: number, count1: number, line2: number, count2: number, fallBack: FallBack): void {
  for (;;) {
    if (count1 <= 0 && count2 <= 0) return;
    if (count1 <= 0) {
      for (let k = 0; k < count2; k++) y.rchg[line2 + k] = 1;
      return;
    }
    if (count2 <= 0) {
      for (let k = 0; k < count1; k++) x.rchg[line1 + k] = 1;
      return;
    }
    const lcs = findLcs(x, y, line1, count1, line2, count2);
    if (lcs === 'fall-back') {
      fallBack(line1, count1, line2, count2);
      return;
    }
    if (lcs.begin1 === 0 && lcs.begin2 === 0) {
      for (let k = 0; k < count1; k++) x.rchg[line1 + k] = 1;
      for (let k = 0; k < count2; k++) y.rchg[line2 + k] = 1;
      return;
    }
    region(x, y, line1, lcs.begin1 - line1, line2, lcs.begin2 - line2, fallBack);
    const end1 = line1 + count1 - 1;
    const end2 = line2 + count2 - 1;
    count1 = end1 - lcs.end1;
    line1 = lcs.end1 + 1;
    count2 = end2 - lcs.end2;
    line2 = lcs.end2 + 1;
  }
}

interface Lcs {
  begin1: number;
  end1: number;
  begin2: number;
  end2: number;
}

/** find_lcs: scanA's occurrence chains, then try_lcs from every line of `y`'s range. */
function findLcs(x: Side, y: Side, line1: number, count1: number, line2: number, count2: number): Lcs | 'fall-back' {
  const end1 = line1 + count1 - 1;
  const end2 = line2 + count2 - 1;
  // Per distinct line: its first occurrence and count; per line: the next occurrence (0: none).
  const records = new Map<number, { ptr: number; cnt: number }>();
  const next = new Int32Array(count1);
  const lineRec: { ptr: number; cnt: number }[] = new Array(count1);
  for (let ptr = end1; ptr >= line1; ptr--) {
    const h = x.ha[ptr - 1]!;
    let rec = records.get(h);
    if (rec !== undefined) {
      next[ptr - line1] = rec.ptr;
      rec.ptr = ptr;
      rec.cnt++;
    } else records.set(h, (rec = { ptr, cnt: 1 }));
    lineRec[ptr - line1] = rec;
  }
  const cnt = (ptr: number) => lineRec[ptr - line1]!.cnt;
  const eq = (a: number, b: number) => x.ha[a - 1] === y.ha[b - 1];
  const lcs: Lcs = { begin1: 0, end1: 0, begin2: 0, end2: 0 };
  let best = MAX_CHAIN_LENGTH + 1;
  let hasCommon = false;
  for (let bPtr = line2; bPtr <= end2; ) {
    let bNext = bPtr + 1;
    const rec = records.get(y.ha[bPtr - 1]!);
    if (rec !== undefined) {
      hasCommon = true;
      if (rec.cnt <= best) {
        let as = rec.ptr;
        for (;;) {
          let np = next[as - line1]!;
          let bs = bPtr;
          let ae = as;
          let be = bs;
          let rc = rec.cnt;
          while (line1 < as && line2 < bs && eq(as - 1, bs - 1)) {
            as--;
            bs--;
            if (1 < rc) rc = Math.min(rc, cnt(as));
          }
          while (ae < end1 && be < end2 && eq(ae + 1, be + 1)) {
            ae++;
            be++;
            if (1 < rc) rc = Math.min(rc, cnt(ae));
          }
          if (bNext <= be) bNext = be + 1;
          if (lcs.end1 - lcs.begin1 < ae - as || rc < best) {
            lcs.begin1 = as;
            lcs.begin2 = bs;
            lcs.end1 = ae;
            lcs.end2 = be;
            best = rc;
          }
          if (np === 0) break;
          while (np !== 0 && np <= ae) np = next[np - line1]!;
          if (np === 0) break;
          as = np;
        }
      }
    }
    bPtr = bNext;
  }
  return hasCommon && MAX_CHAIN_LENGTH < best ? 'fall-back' : lcs;
}
