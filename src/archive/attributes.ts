/**
 * `.gitattributes` as `git archive` reads them from the archived tree: one file per directory,
 * lines of `pattern attr -attr !attr attr=value` (blank lines and `#` comments skipped, a
 * C-quoted pattern allowed, negative patterns and lines of 2,048 bytes or more ignored, a line
 * with an invalid attribute name dropped whole), `[attr]name …` macros in the top-level file
 * only (and git's built-in `binary`). A path's value of an attribute comes from the deepest
 * file first and, within a file, from the last matching line (git's attribute stack); a set
 * macro sets its attributes where nothing closer did. Patterns match as git's do: without a
 * `/` against the base name, else against the path relative to the file's directory
 * (wildmatch.ts, `*` not crossing `/`); a trailing `/` matches directories only; a directory
 * pattern does not reach the files inside it (git archive then skips the directory whole).
 */
import { wildmatch } from './wildmatch.js';

/** An attribute's state on a path: set, unset (`-attr`), a value, or unspecified. */
export type AttrValue = true | false | string | undefined;

interface Rule {
  /** The pattern after git's parsing (no `!`, no trailing `/`, no leading `/` for path patterns). */
  pattern: Uint8Array;
  mustBeDir: boolean;
  /** No `/` in the pattern: matched against the base name. */
  basename: boolean;
  /** In the order written; a later state wins. `null`: `!attr` (back to unspecified). */
  states: [string, true | false | string | null][];
}

/** One `.gitattributes` file: its directory (`''` at the top, else `a/b`) and rules. */
export interface AttrFile {
  dir: string;
  rules: Rule[];
  macros: Map<string, Rule['states']>;
}

const enc = new TextEncoder();
const MAX_LINE = 2048;
const NAME = /^[a-zA-Z0-9_.][-a-zA-Z0-9_.]*$/;
const BLANK = /[ \t\r\n]/;

/** Unquotes a C-style quoted pattern (`"a\tb"`), returning it and the rest of the line, or undefined. */
function unquote(line: string): [string, string] | undefined {
  let out = '';
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += new TextDecoder().decode(new Uint8Array(bytes.splice(0)));
  };
  for (let i = 1; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      flush();
      return [out, line.slice(i + 1)];
    }
    if (c !== '\\') {
      flush();
      out += c;
      continue;
    }
    const n = line[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (n !== undefined && simple[n] !== undefined) {
      flush();
      out += simple[n];
    } else if (n !== undefined && /[0-3]/.test(n) && /^[0-7]{2}$/.test(line.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(line.slice(i, i + 3), 8));
      i += 2;
    } else return undefined;
  }
  return undefined;
}

/** The states of `rest` (space-separated), or undefined when one is invalid (the line is dropped). */
function parseStates(rest: string): Rule['states'] | undefined {
  const states: Rule['states'] = [];
  for (const token of rest.split(/[ \t\r\n]+/)) {
    if (token === '') continue;
    let name = token;
    let value: true | false | string | null = true;
    if (token.startsWith('-') || token.startsWith('!')) {
      name = token.slice(1);
      value = token[0] === '-' ? false : null;
    } else {
      const eq = token.indexOf('=');
      if (eq >= 0) {
        name = token.slice(0, eq);
        value = token.slice(eq + 1);
      }
    }
    if (!NAME.test(name) || name.startsWith('builtin_')) return undefined;
    states.push([name, value]);
  }
  return states;
}

/** Parses one `.gitattributes` file of directory `dir` (macros only where `top`). */
export function parseAttributes(text: string, dir: string, top: boolean): AttrFile {
  const file: AttrFile = { dir, rules: [], macros: new Map() };
  for (const raw of text.split('\n')) {
    if (enc.encode(raw).length + 1 >= MAX_LINE) continue;
    const line = raw.replace(/^[ \t\r\n]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    let pattern: string;
    let rest: string;
    const quoted = line.startsWith('"') ? unquote(line) : undefined;
    if (quoted) [pattern, rest] = quoted;
    else {
      const end = line.search(BLANK);
      pattern = end < 0 ? line : line.slice(0, end);
      rest = end < 0 ? '' : line.slice(end);
    }
    if (pattern.startsWith('[attr]') && pattern.length > 6) {
      if (!top) continue; // git: "[attr]… not allowed" outside the top-level file
      const name = pattern.slice(6);
      const states = parseStates(rest);
      if (!NAME.test(name) || states === undefined) continue;
      file.macros.set(name, states);
      continue;
    }
    const states = parseStates(rest);
    if (states === undefined || pattern.startsWith('!')) continue; // negative patterns are ignored
    let p = pattern;
    const mustBeDir = p.endsWith('/');
    if (mustBeDir) p = p.slice(0, -1);
    const basename = !p.includes('/');
    if (!basename && p.startsWith('/')) p = p.slice(1);
    file.rules.push({ pattern: enc.encode(p), mustBeDir, basename, states });
  }
  return file;
}

const BUILTIN_MACROS = new Map<string, Rule['states']>([
  [
    'binary',
    [
      ['diff', false],
      ['merge', false],
      ['text', false],
    ],
  ],
]);

function matches(rule: Rule, path: string, isDir: boolean, dir: string): boolean {
  if (rule.mustBeDir && !isDir) return false;
  if (rule.basename) return wildmatch(rule.pattern, path.slice(path.lastIndexOf('/') + 1), false);
  if (dir !== '') {
    if (!path.startsWith(`${dir}/`)) return false;
    return wildmatch(rule.pattern, path.slice(dir.length + 1), true);
  }
  return wildmatch(rule.pattern, path, true);
}

/**
 * The values of `wanted` attributes of `path` (no trailing `/`; `isDir` for a directory) given
 * the attribute files from the top-level one down to the path's own directory.
 */
export function attributesOf(stack: readonly AttrFile[], path: string, isDir: boolean, wanted: readonly string[]): Map<string, AttrValue> {
  const macros = new Map(BUILTIN_MACROS);
  for (const f of stack) for (const [k, v] of f.macros) macros.set(k, v);
  const found = new Map<string, true | false | string | null>();
  const fill = (states: Rule['states'], depth: number) => {
    for (let i = states.length - 1; i >= 0; i--) {
      const [name, value] = states[i]!;
      if (found.has(name)) continue;
      found.set(name, value);
      const macro = macros.get(name);
      if (macro !== undefined && value === true && depth < 8) fill(macro, depth + 1);
    }
  };
  for (let s = stack.length - 1; s >= 0; s--) {
    const f = stack[s]!;
    for (let r = f.rules.length - 1; r >= 0; r--) {
      const rule = f.rules[r]!;
      if (matches(rule, path, isDir, f.dir)) fill(rule.states, 0);
    }
  }
  const out = new Map<string, AttrValue>();
  for (const w of wanted) {
    const v = found.get(w);
    out.set(w, v === null ? undefined : v);
  }
  return out;
}
