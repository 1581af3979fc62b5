/**
 * Sliding groups of changed lines after the line diff (git's xdl_change_compact): each group of
 * changes is slid up and down as far as equal lines allow, aligned with the other side's groups,
 * and, with the indent heuristic (`git diff`'s default), placed where the indentation says a
 * block of code begins and ends. Works on xdiff.ts's `Side` records in place.
 */
import type { Side } from './xdiff.js';

interface Group {
  start: number;
  end: number;
}

const chg = (s: Side, i: number) => s.rchg[i + 1]!;

function groupInit(s: Side): Group {
  const g = { start: 0, end: 0 };
  while (chg(s, g.end)) g.end++;
  return g;
}

function groupNext(s: Side, g: Group): boolean {
  if (g.end === s.n) return false;
  g.start = g.end + 1;
  for (g.end = g.start; chg(s, g.end); g.end++);
  return true;
}

function groupPrevious(s: Side, g: Group): boolean {
  if (g.start === 0) return false;
  g.end = g.start - 1;
  for (g.start = g.end; chg(s, g.start - 1); g.start--);
  return true;
}

function slideDown(s: Side, g: Group): boolean {
  if (g.end < s.n && s.ha[g.start] === s.ha[g.end]) {
    s.rchg[g.start++ + 1] = 0;
    s.rchg[g.end++ + 1] = 1;
    while (chg(s, g.end)) g.end++;
    return true;
  }
  return false;
}

function slideUp(s: Side, g: Group): boolean {
  if (g.start > 0 && s.ha[g.start - 1] === s.ha[g.end - 1]) {
    s.rchg[--g.start + 1] = 1;
    s.rchg[--g.end + 1] = 0;
    while (chg(s, g.start - 1)) g.start--;
    return true;
  }
  return false;
}

const INDENT_MAX_SLIDING = 100;

/** Slides each change group of `s` as git does, keeping `o`'s groups in step. */
/** Slides the change groups of `s` (aligned with `o`'s), as git's xdl_change_compact does. */
export function compact(s: Side, o: Side, indentHeuristic: boolean): void {
  const g = groupInit(s);
  const go = groupInit(o);
  for (;;) {
    if (g.end !== g.start) {
      let groupsize: number;
      let earliestEnd: number;
      let endMatchingOther: number;
      do {
        groupsize = g.end - g.start;
        endMatchingOther = -1;
        while (slideUp(s, g)) groupPrevious(o, go);
        earliestEnd = g.end;
        if (go.end > go.start) endMatchingOther = g.end;
        while (slideDown(s, g)) {
          groupNext(o, go);
          if (go.end > go.start) endMatchingOther = g.end;
        }
      } while (groupsize !== g.end - g.start);
      if (g.end === earliestEnd) {
        // no shifting was possible
      } else if (endMatchingOther !== -1) {
        while (go.end === go.start) {
          slideUp(s, g);
          groupPrevious(o, go);
        }
      } else if (indentHeuristic) {
        let shift = earliestEnd;
        if (g.end - groupsize - 1 > shift) shift = g.end - groupsize - 1;
        if (g.end - INDENT_MAX_SLIDING > shift) shift = g.end - INDENT_MAX_SLIDING;
        let bestShift = -1;
        let best = { indent: 0, penalty: 0 };
        for (; shift <= g.end; shift++) {
          const score = { indent: 0, penalty: 0 };
          scoreSplit(measureSplit(s, shift), score);
          scoreSplit(measureSplit(s, shift - groupsize), score);
          if (bestShift === -1 || scoreCmp(score, best) <= 0) {
            best = score;
            bestShift = shift;
          }
        }
        while (g.end > bestShift) {
          slideUp(s, g);
          groupPrevious(o, go);
        }
      }
    }
    if (!groupNext(s, g)) break;
    groupNext(o, go);
  }
}

const MAX_INDENT = 200;
const MAX_BLANKS = 20;

/** Indentation width of a line (tabs to multiples of 8), or -1 for a blank line. */
function getIndent(rec: string): number {
  let ret = 0;
  for (let i = 0; i < rec.length; i++) {
    const c = rec.charCodeAt(i);
    if (!(c === 32 || (c >= 9 && c <= 13))) return ret;
    if (c === 32) ret += 1;
    else if (c === 9) ret += 8 - (ret % 8);
    if (ret >= MAX_INDENT) return MAX_INDENT;
  }
  return -1;
}

interface Measure {
  eof: boolean;
  indent: number;
  preBlank: number;
  preIndent: number;
  postBlank: number;
  postIndent: number;
}

function measureSplit(s: Side, split: number): Measure {
  const m: Measure = { eof: false, indent: -1, preBlank: 0, preIndent: -1, postBlank: 0, postIndent: -1 };
  if (split >= s.n) m.eof = true;
  else m.indent = getIndent(s.recs[split]!);
  for (let i = split - 1; i >= 0; i--) {
    m.preIndent = getIndent(s.recs[i]!);
    if (m.preIndent !== -1) break;
    m.preBlank += 1;
    if (m.preBlank === MAX_BLANKS) {
      m.preIndent = 0;
      break;
    }
  }
  for (let i = split + 1; i < s.n; i++) {
    m.postIndent = getIndent(s.recs[i]!);
    if (m.postIndent !== -1) break;
    m.postBlank += 1;
    if (m.postBlank === MAX_BLANKS) {
      m.postIndent = 0;
      break;
    }
  }
  return m;
}

function scoreSplit(m: Measure, s: { indent: number; penalty: number }): void {
  if (m.preIndent === -1 && m.preBlank === 0) s.penalty += 1;
  if (m.eof) s.penalty += 21;
  const postBlank = m.indent === -1 ? 1 + m.postBlank : 0;
  const totalBlank = m.preBlank + postBlank;
  s.penalty += -30 * totalBlank;
  s.penalty += 6 * postBlank;
  const indent = m.indent !== -1 ? m.indent : m.postIndent;
  const anyBlanks = totalBlank !== 0;
  s.indent += indent;
  if (indent === -1 || m.preIndent === -1) return;
  if (indent > m.preIndent) s.penalty += anyBlanks ? 10 : -4;
  else if (indent === m.preIndent) return;
  else if (m.postIndent !== -1 && m.postIndent > indent) s.penalty += anyBlanks ? 17 : 24;
  else s.penalty += anyBlanks ? 17 : 23;
}

function scoreCmp(a: { indent: number; penalty: number }, b: { indent: number; penalty: number }): number {
  const cmp = (a.indent > b.indent ? 1 : 0) - (a.indent < b.indent ? 1 : 0);
  return 60 * cmp + (a.penalty - b.penalty);
}
