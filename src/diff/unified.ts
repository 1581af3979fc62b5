/**
 * Unified diff text as `git diff` prints it (diff.c, xdiff/xemit.c). Per file:
 *
 *   diff --git a/<old> b/<new>
 *   (new file mode M | deleted file mode M | old mode M / new mode M)
 *   (similarity index N% / rename from <old> / rename to <new>)
 *   index <abbrev>..<abbrev>[ M]            (when the blob ids differ; M when the mode is the same)
 *   --- a/<old> | /dev/null / +++ b/<new> | /dev/null, then hunks, or: Binary files … differ
 *
 * Hunks: changes closer than 2×context lines share a hunk; `@@ -s,n +s,n @@ <func>` with git's
 * count rules (`,1` omitted, start one less for an empty side) and the default funcname rule (the
 * nearest earlier line of the old file starting with a letter, `_` or `$`, cut at 80 bytes, kept
 * from the previous hunk when none is nearer); a line without newline is followed by
 * `\ No newline at end of file`. Text is a byte string: char codes 0..255 are the bytes.
 */
import type { Change, Lines } from './xdiff.js';

/** One hunk: its ranges (1-based starts as printed), funcname, and lines as byte strings prefixed ' ', '-', '+'. */
export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The funcname after the second `@@` (byte string, may be empty). */
  header: string;
  lines: string[];
}

/** The length git cuts a funcname to. */
const FUNCNAME_MAX = 80;

/** A funcname candidate by git's default rule, or undefined. */
function funcname(rec: string): string | undefined {
  const c = rec.charCodeAt(0);
  const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
  if (rec.length === 0 || !ok) return undefined;
  let len = Math.min(rec.length, FUNCNAME_MAX);
  while (len > 0 && isSpace(rec.charCodeAt(len - 1))) len--;
  return rec.slice(0, len);
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Groups changes into hunks with `context` lines around them, as xdl_get_hunk and xdl_emit_diff do. */
export function makeHunks(a: Lines, b: Lines, changes: readonly Change[], context = 3): Hunk[] {
  const hunks: Hunk[] = [];
  let func = '';
  let funcPrev = -1;
  for (let k = 0; k < changes.length; ) {
    let last = k;
    while (last + 1 < changes.length) {
      const prev = changes[last]!;
      const next = changes[last + 1]!;
      if (next.i1 - (prev.i1 + prev.chg1) > 2 * context) break;
      last++;
    }
    const first = changes[k]!;
    const end = changes[last]!;
    const s1 = Math.max(first.i1 - context, 0);
    const s2 = Math.max(first.i2 - context, 0);
    const e1 = Math.min(end.i1 + end.chg1 + context, a.length);
    const e2 = Math.min(end.i2 + end.chg2 + context, b.length);
    for (let l = s1 - 1; l > funcPrev && l >= 0; l--) {
      const f = funcname(a[l]!);
      if (f !== undefined) {
        func = f;
        break;
      }
    }
    funcPrev = s1 - 1;
    const lines: string[] = [];
    let p1 = s1;
    for (let c = k; c <= last; c++) {
      const ch = changes[c]!;
      for (; p1 < ch.i1; p1++) lines.push(' ' + a[p1]!);
      for (let i = 0; i < ch.chg1; i++) lines.push('-' + a[ch.i1 + i]!);
      for (let i = 0; i < ch.chg2; i++) lines.push('+' + b[ch.i2 + i]!);
      p1 = ch.i1 + ch.chg1;
    }
    for (; p1 < e1; p1++) lines.push(' ' + a[p1]!);
    const c1 = e1 - s1;
    const c2 = e2 - s2;
    hunks.push({ oldStart: c1 ? s1 + 1 : s1, oldLines: c1, newStart: c2 ? s2 + 1 : s2, newLines: c2, header: func, lines });
    k = last + 1;
  }
  return hunks;
}

/** The `@@ … @@` line of a hunk (with its newline). */
export function hunkHeader(h: Hunk): string {
  const range = (start: number, n: number) => (n === 1 ? `${start}` : `${start},${n}`);
  return `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@${h.header ? ' ' + h.header : ''}\n`;
}

/** Hunks as text: header, then each line (a line without newline gets git's marker). */
export function formatHunks(hunks: readonly Hunk[]): string {
  let out = '';
  for (const h of hunks) {
    out += hunkHeader(h);
    for (const l of h.lines) out += l.endsWith('\n') ? l : `${l}\n\\ No newline at end of file\n`;
  }
  return out;
}

/** What the unified text of one file pair needs. Paths and modes are as git prints them (`100644`). */
export interface PatchFile {
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'type-changed';
  path: string;
  oldPath?: string;
  oldMode?: string;
  newMode?: string;
  oldSha?: string;
  newSha?: string;
  binary: boolean;
  /** Percent shown as `similarity index` for renames. */
  similarity?: number;
  /** Hunks of the content (for a type change: none; `deletedHunks` / `addedHunks` are printed instead). */
  hunks: readonly Hunk[];
  /** A type change is printed as a deletion and a creation: their hunks. */
  typeChange?: { deleted: readonly Hunk[]; added: readonly Hunk[]; oldBinary: boolean; newBinary: boolean };
}

const ZERO = '0000000000000000000000000000000000000000';

/**
 * git's quote_c_style for a path (core.quotePath on): quoted when it holds a control character,
 * `"`, `\`, DEL or a byte of 0x80 or more; those are escaped (`\t`, `\"`, octal).
 */
export function quotePath(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
      needs = true;
      break;
    }
  }
  if (!needs) return s;
  const named: Record<number, string> = { 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 34: '"', 92: '\\' };
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const n = named[c];
    if (n !== undefined) out += '\\' + n;
    else if (c < 0x20 || c >= 0x7f) out += '\\' + c.toString(8).padStart(3, '0');
    else out += s[i];
  }
  return out + '"';
}

/** A prefixed name as diff.c's quote_two writes it (`a/x`, or `"a/x\ty"`). */
function prefixed(prefix: string, name: string): string {
  const q = quotePath(prefix + name);
  return q;
}

/**
 * git's default abbreviation length (`core.abbrev` unset) for a repository of about `count`
 * objects: half the bits of the count, in hex digits, rounded up, and at least 7.
 */
export function defaultAbbrevLength(count: number): number {
  const bits = count > 0 ? 32 - Math.clz32(Math.min(count, 0xffffffff)) : 0;
  return Math.max(7, Math.ceil(bits / 2));
}

/**
 * The abbreviation of `sha` git prints: at least `min` digits, lengthened until no other id of
 * `others` (ids that may share a prefix with it) starts with it.
 */
export function uniqueAbbrev(sha: string, min: number, others: Iterable<string>): string {
  let len = min;
  for (const o of others) {
    if (o === sha) continue;
    let c = 0;
    while (c < sha.length && o[c] === sha[c]) c++;
    if (c + 1 > len) len = c + 1;
  }
  return sha.slice(0, Math.min(len, sha.length));
}

/**
 * The unified text of one file pair (paths and contents are byte strings), as `git diff` prints it;
 * `abbrev` is a length, or the abbreviation of each id (see uniqueAbbrev).
 */
export function formatFile(f: PatchFile, abbrev: number | ((sha: string) => string) = 7): string {
  const ab = (sha: string | undefined) => (typeof abbrev === 'number' ? (sha ?? ZERO).slice(0, abbrev) : abbrev(sha ?? ZERO));
  if (f.status === 'type-changed' && f.typeChange) {
    const t = f.typeChange;
    const del: PatchFile = { status: 'deleted', path: f.path, oldMode: f.oldMode, oldSha: f.oldSha, binary: t.oldBinary, hunks: t.deleted };
    const add: PatchFile = { status: 'added', path: f.path, newMode: f.newMode, newSha: f.newSha, binary: t.newBinary, hunks: t.added };
    return formatFile(del, abbrev) + formatFile(add, abbrev);
  }
  const oldName = f.oldPath ?? f.path;
  const a = prefixed('a/', oldName);
  const b = prefixed('b/', f.path);
  let out = `diff --git ${a} ${b}\n`;
  const la = f.status === 'added' ? '/dev/null' : a;
  const lb = f.status === 'deleted' ? '/dev/null' : b;
  if (f.status === 'added') out += `new file mode ${f.newMode}\n`;
  else if (f.status === 'deleted') out += `deleted file mode ${f.oldMode}\n`;
  else if (f.oldMode !== f.newMode) out += `old mode ${f.oldMode}\nnew mode ${f.newMode}\n`;
  if (f.status === 'renamed') {
    out += `similarity index ${f.similarity ?? 100}%\nrename from ${quotePath(oldName)}\nrename to ${quotePath(f.path)}\n`;
  }
  const oldSha = f.status === 'added' ? ZERO : f.oldSha;
  const newSha = f.status === 'deleted' ? ZERO : f.newSha;
  if (oldSha !== newSha) {
    out += `index ${ab(oldSha)}..${ab(newSha)}${f.oldMode === f.newMode && f.status !== 'added' && f.status !== 'deleted' ? ' ' + f.oldMode : ''}\n`;
  }
  if (oldSha === newSha) return out;
  if (f.binary) return out + `Binary files ${la} and ${lb} differ\n`;
  if (f.hunks.length === 0) return out;
  return out + `--- ${la}\n+++ ${lb}\n` + formatHunks(f.hunks);
}
