/**
 * git's wildmatch over UTF-8 bytes, as `.gitattributes` patterns use it: `?`, `*`, `[...]`
 * classes (`!` or `^` negates, ranges, `[:alpha:]`-style names, backslash escapes) and, with
 * `pathname`, `*` and `?` stopping at `/` while `**` between slashes (or at either end) spans
 * directories. Written from git's documented semantics, returning what its matcher returns, so
 * that a pattern that aborts (an unclosed class) matches nothing.
 */

const MATCH = 0;
const NOMATCH = 1;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;
const SLASH = 0x2f;
const STAR = 0x2a;
const BACKSLASH = 0x5c;
const enc = new TextEncoder();

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isAlpha = (c: number) => isUpper(c) || isLower(c);
const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => isAlpha(c) || isDigit(c),
  alpha: isAlpha,
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigit,
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: isLower,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: isUpper,
  xdigit: (c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

/** A `[...]` class at `p[pi]` (just past `[`) against `tc`: [result, index of the closing `]`] or ABORT_ALL. */
function matchClass(p: Uint8Array, start: number, tc: number): [boolean, number] | number {
  let pi = start;
  let pc = p[pi];
  if (pc === 0x5e) pc = 0x21; // '^' negates as '!' does
  const negated = pc === 0x21;
  if (negated) pc = p[++pi];
  let prev = 0;
  let matched = false;
  do {
    if (pc === undefined) return ABORT_ALL;
    if (pc === BACKSLASH) {
      pc = p[++pi];
      if (pc === undefined) return ABORT_ALL;
      if (tc === pc) matched = true;
    } else if (pc === 0x2d && prev !== 0 && p[pi + 1] !== undefined && p[pi + 1] !== 0x5d) {
      pc = p[++pi]!;
      if (pc === BACKSLASH) {
        pc = p[++pi];
        if (pc === undefined) return ABORT_ALL;
      }
      if (tc <= pc && tc >= prev) matched = true;
      pc = 0;
    } else if (pc === 0x5b && p[pi + 1] === 0x3a) {
      const s = pi + 2;
      pi = s;
      while (p[pi] !== undefined && p[pi] !== 0x5d) pi++;
      if (p[pi] === undefined) return ABORT_ALL;
      const len = pi - s - 1;
      if (len < 0 || p[pi - 1] !== 0x3a) {
        // No ":]": a plain '[' in the set.
        pi = s - 2;
        pc = 0x5b;
        if (tc === pc) matched = true;
      } else {
        const test = CLASSES[new TextDecoder().decode(p.subarray(s, s + len))];
        if (test === undefined) return ABORT_ALL;
        if (test(tc)) matched = true;
        pc = 0;
      }
    } else if (tc === pc) matched = true;
    prev = pc;
    pc = p[++pi];
  } while (pc !== 0x5d);
  return [matched !== negated, pi];
}

function dowild(p: Uint8Array, pStart: number, t: Uint8Array, tStart: number, pathname: boolean): number {
  let pi = pStart;
  let ti = tStart;
  for (; pi < p.length; pi++, ti++) {
    let pc = p[pi]!;
    const tc = t[ti];
    if (tc === undefined && pc !== STAR) return ABORT_ALL;
    switch (pc) {
      case BACKSLASH:
        pc = p[++pi]!; // the next byte, literally
        if (tc !== pc) return NOMATCH;
        continue;
      case 0x3f: // '?'
        if (pathname && tc === SLASH) return NOMATCH;
        continue;
      case STAR: {
        let matchSlash: boolean;
        if (p[pi + 1] === STAR) {
          const prev = pi - 1;
          pi++;
          while (p[pi + 1] === STAR) pi++;
          pi++; // first byte after the stars
          const after = p[pi];
          if ((prev < pStart || p[prev] === SLASH) && (after === undefined || after === SLASH || (after === BACKSLASH && p[pi + 1] === SLASH))) {
            if (after === SLASH && dowild(p, pi + 1, t, ti, pathname) === MATCH) return MATCH;
            matchSlash = true;
          } else matchSlash = !pathname;
        } else {
          pi++;
          matchSlash = !pathname;
        }
        if (pi >= p.length) {
          // Trailing "**" matches everything, a trailing "*" only without another slash.
          if (!matchSlash && t.indexOf(SLASH, ti) !== -1) return ABORT_TO_STARSTAR;
          return MATCH;
        }
        if (!matchSlash && p[pi] === SLASH) {
          const slash = t.indexOf(SLASH, ti);
          if (slash === -1) return ABORT_ALL;
          ti = slash; // the loop's step consumes both slashes
          continue;
        }
        for (; ti < t.length; ti++) {
          const m = dowild(p, pi, t, ti, pathname);
          if (m !== NOMATCH) {
            if (!matchSlash || m !== ABORT_TO_STARSTAR) return m;
          } else if (!matchSlash && t[ti] === SLASH) return ABORT_TO_STARSTAR;
        }
        return ABORT_ALL;
      }
      case 0x5b: {
        const r = matchClass(p, pi + 1, tc!);
        if (typeof r === 'number') return r;
        if (!r[0] || (pathname && tc === SLASH)) return NOMATCH;
        pi = r[1];
        continue;
      }
      default:
        if (tc !== pc) return NOMATCH;
    }
  }
  return ti >= t.length ? MATCH : NOMATCH;
}

/** True when `text` matches `pattern` (bytes or strings); `pathname`: git's WM_PATHNAME. */
export function wildmatch(pattern: Uint8Array | string, text: Uint8Array | string, pathname: boolean): boolean {
  const p = typeof pattern === 'string' ? enc.encode(pattern) : pattern;
  const t = typeof text === 'string' ? enc.encode(text) : text;
  return dowild(p, 0, t, 0, pathname) === MATCH;
}
