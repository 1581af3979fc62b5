/**
 * Three-way merge of lines as git's default merge does it (xdiff/xmerge.c at the level git's
 * merge machinery uses, "zealous"): diff base→ours and base→theirs (histogram, as merge-ort
 * always diffs; no indent heuristic), walk
 * both change lists; changes that overlap or touch (an edit ending where the other side's
 * begins) are one conflict unless both sides made the identical change; neighbouring regions are
 * coalesced as git coalesces them; a conflict whose two sides end up identical is resolved.
 * Everything else is taken from the side that changed it.
 */
import { diffLines, type Change, type Lines } from './xdiff.js';

/** merge-ort hard-codes the histogram diff for content merges. */
const HISTOGRAM = { histogram: true };

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

/** Conflict markers to write into the result (as git's internal merge of merge bases does). */
export interface ConflictMarkers {
  /** Length of each marker (git: 7, longer in nested merges). */
  size: number;
  /** Labels after `<<<<<<<` and `>>>>>>>`. */
  ours: string;
  theirs: string;
}

/** Merges `ours` and `theirs`, both derived from `base`; with `markers`, conflicts are written into `lines` as git writes them. */
export function mergeLines(base: Lines, ours: Lines, theirs: Lines, markers?: ConflictMarkers): LineMergeResult {
  const x1 = diffLines(base, ours, HISTOGRAM);
  const x2 = diffLines(base, theirs, HISTOGRAM);
  if (x1.length === 0) return { clean: true, conflicts: 0, lines: [...theirs] };
  if (x2.length === 0) return { clean: true, conflicts: 0, lines: [...ours] };
  let regions = walk(x1, x2, base.length, ours.length, theirs.length, ours, theirs);
  if (markers !== undefined) {
    regions = simplify(refine(regions, ours, theirs));
    const conflicts = regions.filter((m) => m.mode === 0).length;
    return { clean: conflicts === 0, conflicts, lines: fill(regions, base, ours, theirs, markers) };
  }
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

/** xdl_refine_conflicts: a conflict is narrowed to the lines where the two sides differ (a line diff of the two sides). */
function refine(regions: Region[], ours: Lines, theirs: Lines): Region[] {
  const out: Region[] = [];
  for (const m of regions) {
    if (m.mode !== 0 || m.chg1 === 0 || m.chg2 === 0) {
      out.push(m);
      continue;
    }
    const changes = diffLines(ours.slice(m.i1, m.i1 + m.chg1), theirs.slice(m.i2, m.i2 + m.chg2), HISTOGRAM);
    if (changes.length === 0) {
      out.push({ ...m, mode: 4 });
      continue;
    }
    for (const c of changes) out.push({ mode: 0, i0: m.i0, chg0: m.chg0, i1: m.i1 + c.i1, chg1: c.chg1, i2: m.i2 + c.i2, chg2: c.chg2 });
  }
  return out;
}

/** xdl_simplify_non_conflicts: conflicts at most 3 lines apart become one. */
function simplify(regions: Region[]): Region[] {
  const out: Region[] = [];
  for (const n of regions) {
    const m = out[out.length - 1];
    if (m && m.mode === 0 && n.mode === 0 && n.i1 - (m.i1 + m.chg1) <= 3) {
      m.chg1 = n.i1 + n.chg1 - m.i1;
      m.chg2 = n.i2 + n.chg2 - m.i2;
    } else out.push({ ...n });
  }
  return out;
}

/** xdiff's is_eol_crlf: whether line `i` ends in CRLF (-1: cannot tell). */
function eolCrlf(lines: Lines, i: number): number {
  const crlf = (l: string) => (l.length > 1 && l.endsWith('\r\n') ? 1 : 0);
  if (i < lines.length - 1) return crlf(lines[i]!);
  if (lines.length === 0) return -1;
  if (lines[i]!.endsWith('\n')) return crlf(lines[i]!);
  if (i === 0) return -1;
  return crlf(lines[i - 1]!);
}

/** xdl_fill_merge_buffer in the default ("merge") style. */
function fill(regions: Region[], base: Lines, ours: Lines, theirs: Lines, mk: ConflictMarkers): string[] {
  const out: string[] = [];
  const copy = (src: Lines, from: number, n: number, addNl: boolean, cr: boolean) => {
    for (let k = 0; k < n; k++) out.push(src[from + k]!);
    if (addNl && n > 0 && !src[from + n - 1]!.endsWith('\n')) out[out.length - 1] += cr ? '\r\n' : '\n';
  };
  let i = 0;
  for (const m of regions) {
    if (m.mode === 0) {
      let cr = eolCrlf(ours, m.i1 ? m.i1 - 1 : 0);
      if (cr) cr = eolCrlf(theirs, m.i2 ? m.i2 - 1 : 0);
      if (cr) cr = eolCrlf(base, 0);
      const nl = cr > 0 ? '\r\n' : '\n';
      copy(ours, i, m.i1 - i, false, false);
      out.push(`${'<'.repeat(mk.size)} ${mk.ours}${nl}`);
      copy(ours, m.i1, m.chg1, true, cr > 0);
      out.push(`${'='.repeat(mk.size)}${nl}`);
      copy(theirs, m.i2, m.chg2, true, cr > 0);
      out.push(`${'>'.repeat(mk.size)} ${mk.theirs}${nl}`);
    } else if (m.mode === 1 || m.mode === 2) {
      copy(ours, i, m.i1 - i, false, false);
      if (m.mode === 1) copy(ours, m.i1, m.chg1, false, false);
      else copy(theirs, m.i2, m.chg2, false, false);
    } else continue;
    i = m.i1 + m.chg1;
  }
  copy(ours, i, ours.length - i, false, false);
  return out;
}
