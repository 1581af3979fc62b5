/**
 * Glob matching as `.gitattributes` patterns use it (gitignore(5), "PATTERN FORMAT"): `?`, `*`,
 * bracket classes (`!` or `^` negates, ranges, `[:alpha:]`-style names, backslash escapes) and,
 * with `pathname`, `*`, `?` and classes never matching `/`, while `**` as a whole path
 * component (`**​/x`, `x/**`, `a/**​/b`) spans any number of directories. A pattern is compiled
 * once into a regular expression over the path's characters; a malformed pattern (an unclosed
 * class, an unknown class name, a trailing backslash) matches nothing, as git's matcher does.
 */

const CLASS_NAMES: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t-\\r',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

/** One character, escaped for use inside or outside a regular expression's class. */
function esc(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** The class starting just past `[` at `start`: [regex source, index past `]`], or undefined when malformed. */
function compileClass(p: string, start: number, pathname: boolean): [string, number] | undefined {
  let i = start;
  let negated = false;
  if (p[i] === '!' || p[i] === '^') {
    negated = true;
    i++;
  }
  const parts: string[] = [];
  let first = true;
  for (;;) {
    if (i >= p.length) return undefined;
    let ch = p[i]!;
    if (ch === ']' && !first) {
      i++;
      break;
    }
    first = false;
    if (ch === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      if (close !== -1 && !p.slice(i + 2, close).includes(']')) {
        const set = CLASS_NAMES[p.slice(i + 2, close)];
        if (set === undefined) return undefined;
        parts.push(set);
        i = close + 2;
        continue;
      }
    }
    if (ch === '\\') {
      if (++i >= p.length) return undefined;
      ch = p[i]!;
    }
    // A range "a-z" (a '-' first or last is itself).
    if (p[i + 1] === '-' && p[i + 2] !== undefined && p[i + 2] !== ']') {
      let hi = p[i + 2]!;
      let next = i + 3;
      if (hi === '\\') {
        if (next >= p.length) return undefined;
        hi = p[next]!;
        next++;
      }
      if (hi >= ch) parts.push(`${esc(ch)}-${esc(hi)}`);
      i = next;
      continue;
    }
    parts.push(esc(ch));
    i++;
  }
  const set = parts.join('');
  if (negated) return [`[^${set}${pathname ? '/' : ''}]`, i];
  if (set === '') return ['(?!)', i];
  return [pathname ? `(?!/)[${set}]` : `[${set}]`, i];
}

/** The regular expression of `pattern`, or undefined when it can match nothing. */
function compile(pattern: string, pathname: boolean): RegExp | undefined {
  const any = '[\\s\\S]';
  const one = pathname ? '[^/]' : any;
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      if (i + 1 >= pattern.length) return undefined;
      out += esc(pattern[i + 1]!);
      i += 2;
    } else if (ch === '?') {
      out += one;
      i++;
    } else if (ch === '[') {
      const c = compileClass(pattern, i + 1, pathname);
      if (c === undefined) return undefined;
      out += c[0];
      i = c[1];
    } else if (ch === '*') {
      let end = i;
      while (pattern[end] === '*') end++;
      const wholeComponent = end - i >= 2 && (i === 0 || pattern[i - 1] === '/') && (end === pattern.length || pattern[end] === '/');
      if (wholeComponent && end < pattern.length) {
        // "**/": zero or more directories.
        out += `(?:${any}*/)?`;
        i = end + 1;
      } else {
        out += wholeComponent ? `${any}*` : `${one}*`;
        i = end;
      }
    } else {
      out += esc(ch);
      i++;
    }
  }
  return new RegExp(`^${out}$`);
}

const cache = new Map<string, RegExp | null>();
const dec = new TextDecoder();

/** True when `text` matches `pattern` (UTF-8 bytes or strings); `pathname`: wildcards do not cross `/` (git's WM_PATHNAME). */
export function wildmatch(patternIn: Uint8Array | string, textIn: Uint8Array | string, pathname: boolean): boolean {
  const pattern = typeof patternIn === 'string' ? patternIn : dec.decode(patternIn);
  const text = typeof textIn === 'string' ? textIn : dec.decode(textIn);
  const key = `${pathname ? 1 : 0}${pattern}`;
  let re = cache.get(key);
  if (re === undefined) {
    re = compile(pattern, pathname) ?? null;
    if (cache.size > 4096) cache.clear();
    cache.set(key, re);
  }
  return re?.test(text) === true;
}
