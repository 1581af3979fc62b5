/**
 * `export-subst`: every `$Format:…$` in a file is replaced by git's `--pretty=format:` output
 * of the archived commit (git's format_subst: from `$Format:` to the next `$`; no closing `$`
 * leaves the rest as it is). The placeholders that depend only on the commit are expanded as
 * git expands them with git archive's settings (default date format, abbreviated ids at least
 * 7 hex digits and unique); the ones git leaves alone (unknown letters, `%x` without two hex
 * digits) stay literally, as git leaves them; colors are empty (no terminal). Placeholders git
 * expands from state a server does not have or that changes with time (`.mailmap`: `%aN`…;
 * `%ar`/`%ah`; ref names `%d`/`%D`/`%S`; notes `%N`; signatures `%G…`; `%(describe)`,
 * `%(trailers)`, wrapping and padding `%w`/`%<`/`%>`) are refused: `unsupportedPlaceholder`
 * names the first, and the caller refuses the archive rather than writing bytes git would not.
 */
/** A person and a moment of a commit (object/commit.ts's `Identity`, by shape). */
interface Identity {
  name: string;
  email: string;
  timestamp: number;
  timezone: string;
}

/** What the placeholders read of a commit (object/commit.ts's `Commit`, by shape: this layer imports no other). */
export interface SubstCommit {
  tree: string;
  parents: readonly string[];
  author: Identity;
  committer: Identity;
  message: string;
  extraHeaders?: readonly (readonly [string, string])[];
}

/** What the placeholders read: the commit, its id, and the abbreviations of the ids it names. */
export interface SubstContext {
  oid: string;
  commit: SubstCommit;
  /** Abbreviated ids (commit, tree, parents) as git archive prints them. */
  abbrev: (oid: string) => string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** git's `%+05d` of a timezone such as `-0700`, and its offset in seconds. */
function zone(tz: string): { text: string; seconds: number } {
  const n = Number.parseInt(tz, 10) || 0;
  const a = Math.abs(n);
  return { text: `${n < 0 ? '-' : '+'}${String(a).padStart(4, '0')}`, seconds: (n < 0 ? -1 : 1) * (Math.floor(a / 100) * 3600 + (a % 100) * 60) };
}

/** A date in one of git's formats (`d` default, `D` RFC 2822, `i` ISO-like, `I` strict ISO, `s` short, `t` seconds). */
function date(who: Identity, kind: string): string {
  if (kind === 't') return String(who.timestamp);
  const z = zone(who.timezone);
  const d = new Date((who.timestamp + z.seconds) * 1000);
  const [Y, M, D, h, m, s, wd] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCDay()];
  const time = `${p2(h)}:${p2(m)}:${p2(s)}`;
  const ymd = `${String(Y).padStart(4, '0')}-${p2(M + 1)}-${p2(D)}`;
  switch (kind) {
    case 'd':
      return `${DAYS[wd]} ${MONTHS[M]} ${D} ${time} ${Y} ${z.text}`;
    case 'D':
      return `${DAYS[wd]}, ${D} ${MONTHS[M]} ${Y} ${time} ${z.text}`;
    case 'i':
      return `${ymd} ${time} ${z.text}`;
    case 'I':
      return `${ymd}T${time}${z.text.slice(0, 3)}:${z.text.slice(3)}`;
    default:
      return ymd;
  }
}

/** Subject (its lines, trailing blanks trimmed, joined by spaces) and body, as git's parse_commit_message splits them. */
function splitMessage(message: string): { subject: string[]; body: string } {
  const lines = message.split('\n');
  let i = 0;
  while (i < lines.length - 1 && lines[i]!.trim() === '') i++; // skip_blank_lines
  const subject: string[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i]!.replace(/\s+$/, '');
    if (line === '') break;
    subject.push(line);
  }
  while (i < lines.length && lines[i]!.trim() === '') i++;
  return { subject, body: lines.slice(i).join('\n') };
}

/** git's `%f`: title characters kept, runs of others one `-`, `..` one `.`, trailing `.`/`-` dropped. */
function sanitized(subject: string): string {
  let out = '';
  let space = 2;
  for (let i = 0; i < subject.length; i++) {
    const c = subject[i]!;
    if (/[A-Za-z0-9._]/.test(c)) {
      if (space === 1) out += '-';
      space = 0;
      out += c;
      if (c === '.') while (subject[i + 1] === '.') i++;
    } else space |= 1;
  }
  return out.replace(/[.-]+$/, '');
}

const REFUSED = /^(?:[ac][NEL]|[ac][rh]|[dDSN]|G.|w\(|<|>|\([^)]*\)?)/;

/** One placeholder at `f[i]` (just past `%`): [text, characters consumed], [undefined, 0] when git leaves it literal. */
function one(f: string, i: number, ctx: SubstContext): [string | undefined, number] {
  const c = f[i];
  const { commit } = ctx;
  switch (c) {
    case 'n':
      return ['\n', 1];
    case '%':
      return ['%', 1];
    case 'x': {
      const hex = f.slice(i + 1, i + 3);
      return /^[0-9a-fA-F]{2}$/.test(hex) ? [String.fromCharCode(Number.parseInt(hex, 16)), 3] : [undefined, 0];
    }
    case 'C': {
      if (f[i + 1] === '(') {
        const end = f.indexOf(')', i);
        return end < 0 ? [undefined, 0] : ['', end - i + 1];
      }
      for (const name of ['red', 'green', 'blue', 'reset']) if (f.startsWith(name, i + 1)) return ['', 1 + name.length];
      return [undefined, 0];
    }
    case 'H':
      return [ctx.oid, 1];
    case 'h':
      return [ctx.abbrev(ctx.oid), 1];
    case 'T':
      return [commit.tree, 1];
    case 't':
      return [ctx.abbrev(commit.tree), 1];
    case 'P':
      return [commit.parents.join(' '), 1];
    case 'p':
      return [commit.parents.map(ctx.abbrev).join(' '), 1];
    case 'a':
    case 'c': {
      const who = c === 'a' ? commit.author : commit.committer;
      const k = f[i + 1];
      if (k === 'n') return [who.name, 2];
      if (k === 'e') return [who.email, 2];
      if (k === 'l') return [who.email.split('@')[0]!, 2];
      if (k !== undefined && 'dDiIst'.includes(k)) return [date(who, k), 2];
      return [undefined, 0];
    }
    case 's':
      return [splitMessage(commit.message).subject.join(' '), 1];
    case 'f':
      return [sanitized(splitMessage(commit.message).subject.join(' ')), 1];
    case 'b':
      return [splitMessage(commit.message).body, 1];
    case 'B':
      return [commit.message, 1];
    case 'e':
      return [commit.extraHeaders?.find(([k]) => k === 'encoding')?.[1] ?? '', 1];
    case 'm': // the left/right mark of a commit outside a revision walk
      return ['>', 1];
    case 'g': // reflog placeholders: nothing outside a reflog walk
      return 'dDsnNeE'.includes(f[i + 1] ?? '') ? ['', 2] : [undefined, 0];
    default:
      return [undefined, 0];
  }
}

/** The first placeholder of `format` this module refuses to expand (see the module comment), or undefined. */
export function unsupportedPlaceholder(format: string): string | undefined {
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    if (format[i + 1] === '%') {
      i++;
      continue;
    }
    const m = REFUSED.exec(format.slice(i + 1, i + 12));
    if (m) return `%${m[0]}`;
  }
  return undefined;
}

/** UTF-8 bytes of `s` as a string of one character per byte. */
function asBytes(s: string): string {
  let out = '';
  for (const b of enc.encode(s)) out += String.fromCharCode(b);
  return out;
}

/**
 * `--pretty=format:` of the commit (the supported placeholders; see `unsupportedPlaceholder`).
 * `bytewise`: the format is one character per byte, and so is the answer (expansions in UTF-8).
 */
export function formatCommit(format: string, ctx: SubstContext, bytewise = false): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const [text, used] = one(format, i + 1, ctx);
    if (text === undefined) out += '%';
    else {
      out += bytewise && format[i + 1] !== 'x' ? asBytes(text) : text;
      i += used;
    }
  }
  return out;
}

const enc = new TextEncoder();

/** One character per byte (TextDecoder's 'latin1' is windows-1252, which remaps 0x80–0x9f). */
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** The `$Format:…$` strings of a file's bytes (to check them before streaming). */
export function formatStrings(content: Uint8Array): string[] {
  const text = latin1(content);
  const out: string[] = [];
  for (let at = text.indexOf('$Format:'); at >= 0; ) {
    const end = text.indexOf('$', at + 8);
    if (end < 0) break;
    out.push(text.slice(at + 8, end));
    at = text.indexOf('$Format:', end + 1);
  }
  return out;
}

/** A file's bytes with every `$Format:…$` expanded (git's format_subst). */
export function formatSubst(content: Uint8Array, ctx: SubstContext): Uint8Array {
  const text = latin1(content); // byte-preserving: placeholders are ASCII
  let out = '';
  let from = 0;
  for (let at = text.indexOf('$Format:'); at >= 0; ) {
    const end = text.indexOf('$', at + 8);
    if (end < 0) break;
    out += text.slice(from, at);
    out += formatCommit(text.slice(at + 8, end), ctx, true);
    from = end + 1;
    at = text.indexOf('$Format:', from);
  }
  out += text.slice(from);
  const bytes = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) bytes[i] = out.charCodeAt(i);
  return bytes;
}
