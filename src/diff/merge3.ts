/**
 * Three-way merge of lines as git's default merge does it (xdiff/xmerge.c at the level git's
 * merge machinery uses, "zealous"): diff base→ours and base→theirs (no indent heuristic), walk
 * both change lists; changes that overlap or touch (an edit ending where the other side's
 * begins) are one conflict unless both sides made the identical change; neighbouring regions are
 * coalesced as git coalesces them; a conflict whose two sides end up identical is resolved.
 * Everything else is taken from the side that changed it.
 */
import { diffLines, type Change, type Lines } from './xdiff.js';

/** Outcome of a three-way line merge. */
export interface LineMergeResult {
  /** True when no conflict remained. */
  clean: boolean;
  /** Number of conflicting regions. */
  conflicts: number;
  /** The merged lines (when clean; with conflicts, ours in their place). */
  lines: string[];
}

/** mode 0 conflict, 1 ours, 2 theirs, 4 identical after refinement. */
interface Region {
  mode: number;
  i0: number;
  chg0: number;
  i1: number;
  chg1: number;
  i2: number;
  chg2: number;
}

function append(list: Region[], mode: number, i0: number, chg0: number, i1: number, chg1: number, i2: number, chg2: number): void {
  const m = list[list.length - 1];
  if (m && (i1 <= m.i1 + m.chg1 || i2 <= m.i2 + m.chg2)) {
    if (mode !== m.mode) m.mode = 0;
    m.chg0 = i0 + chg0 - m.i0;
    m.chg1 = i1 + chg1 - m.i1;
    m.chg2 = i2 + chg2 - m.i2;
  } else list.push({ mode, i0, chg0, i1, chg1, i2, chg2 });
}

function sameLines(a: Lines, ai: number, b: Lines, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}

/** Merges `ours` and `theirs`, both derived from `base`. */
export function mergeLines(base: Lines, ours: Lines, theirs: Lines): LineMergeResult {
  const x1 = diffLines(base, ours);
  const x2 = diffLines(base, theirs);
  if (x1.length === 0) return { clean: true, conflicts: 0, lines: [...theirs] };
  if (x2.length === 0) return { clean: true, conflicts: 0, lines: [...ours] };
  const regions = walk(x1, x2, base.length, ours.length, theirs.length, ours, theirs);
  let conflicts = 0;
  for (const m of regions) {
    if (m.mode !== 0) continue;
    if (m.chg1 !== 0 && m.chg2 !== 0 && m.chg1 === m.chg2 && sameLines(ours, m.i1, theirs, m.i2, m.chg1)) m.mode = 4;
    else conflicts++;
  }
  const lines: string[] = [];
  let i = 0;
  for (const m of regions) {
    for (; i < m.i1; i++) lines.push(ours[i]!);
    if (m.mode === 2) for (let k = 0; k < m.chg2; k++) lines.push(theirs[m.i2 + k]!);
    else for (let k = 0; k < m.chg1; k++) lines.push(ours[m.i1 + k]!);
    i = m.i1 + m.chg1;
  }
  for (; i < ours.length; i++) lines.push(ours[i]!);
  return { clean: conflicts === 0, conflicts, lines };
}

/** xdl_do_merge's walk over both change lists. */
function walk(x1: Change[], x2: Change[], nBase: number, nOurs: number, nTheirs: number, ours: Lines, theirs: Lines): Region[] {
  const list: Region[] = [];
  let a = 0;
  let b = 0;
  while (a < x1.length && b < x2.length) {
    const s1 = x1[a]!;
    const s2 = x2[b]!;
    if (s1.i1 + s1.chg1 < s2.i1) {
      append(list, 1, s1.i1, s1.chg1, s1.i2, s1.chg2, s2.i2 - s2.i1 + s1.i1, s1.chg1);
      a++;
      continue;
    }
    if (s2.i1 + s2.chg1 < s1.i1) {
      append(list, 2, s2.i1, s2.chg1, s1.i2 - s1.i1 + s2.i1, s2.chg1, s2.i2, s2.chg2);
      b++;
      continue;
    }
    if (s1.i1 !== s2.i1 || s1.chg1 !== s2.chg1 || s1.chg2 !== s2.chg2 || !sameLines(ours, s1.i2, theirs, s2.i2, s1.chg2)) {
      const off = s1.i1 - s2.i1;
      const ffo = off + s1.chg1 - s2.chg1;
      let i0 = s1.i1;
      let i1 = s1.i2;
      let i2 = s2.i2;
      if (off > 0) {
        i0 -= off;
        i1 -= off;
      } else i2 += off;
      let chg0 = s1.i1 + s1.chg1 - i0;
      let chg1 = s1.i2 + s1.chg2 - i1;
      let chg2 = s2.i2 + s2.chg2 - i2;
      if (ffo < 0) {
        chg0 -= ffo;
        chg1 -= ffo;
      } else chg2 += ffo;
      append(list, 0, i0, chg0, i1, chg1, i2, chg2);
    }
    const e1 = s1.i1 + s1.chg1;
    const e2 = s2.i1 + s2.chg1;
    if (e1 >= e2) b++;
    if (e2 >= e1) a++;
  }
  for (; a < x1.length; a++) {
    const s1 = x1[a]!;
    append(list, 1, s1.i1, s1.chg1, s1.i2, s1.chg2, s1.i1 + nTheirs - nBase, s1.chg1);
  }
  for (; b < x2.length; b++) {
    const s2 = x2[b]!;
    append(list, 2, s2.i1, s2.chg1, s2.i1 + nOurs - nBase, s2.chg1, s2.i2, s2.chg2);
  }
  return list;
}
