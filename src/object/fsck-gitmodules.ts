/**
 * Checks of the blobs a tree names `.gitmodules` or `.gitattributes` (git's fsck.c fsck_blob,
 * CVE-2018-11235, CVE-2018-17456, CVE-2020-11008 and their kin).
 *
 * `.gitmodules` is read with git's config syntax (config.c: sections `[name]`,
 * `[name "sub"]` or the old `[name.sub]`, `key = value` with quotes, `\` escapes and line
 * continuations, `#`/`;` comments, CRLF). For every
 * `submodule.<name>.<key>`: a name with a `..` component is `gitmodulesName`; a `url` that
 * is an option (`-...`), that decodes to a line feed, that climbs above its base with `../`
 * into a `:` or `/`, or an http(s)/ftp(s) URL without a host, is `gitmodulesUrl`; a `path`
 * that is an option is `gitmodulesPath`; an `update` command (`!...`) is `gitmodulesUpdate`.
 * A syntax error is `gitmodulesParse` (the keys before it are still checked).
 * `.gitattributes`: over 100 MiB is `gitattributesLarge`, a line of 2048 bytes or more is
 * `gitattributesLineLength`.
 * Text is handled as bytes (one char per byte), the way git's C strings are.
 */
import type { Reporter } from './fsck-ids.js';

/** Largest .gitattributes git reads. */
export const ATTR_MAX_FILE_SIZE = 100 * 1024 * 1024;
/** Lines of .gitattributes this long or longer are ignored by git. */
export const ATTR_MAX_LINE_LENGTH = 2048;

const LF = 0x0a;
const EOF = -1;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === LF || c === 0x0d;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isKeyChar(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
}
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** A C string: the text up to its first NUL. */
function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/** git's config reader over a byte buffer; calls `onEntry` per key, false on a syntax error. */
class ConfigReader {
  private pos = 0;
  private eof = false;

  constructor(private readonly b: Uint8Array) {}

  // git reads the blob as signed chars: a 0xff byte is its EOF value, and ends the text
  // there (the bytes after it are still read, with the end flag set).
  private raw(): number {
    if (this.pos >= this.b.length) return EOF;
    const c = this.b[this.pos++]!;
    return c === 0xff ? EOF : c;
  }

  /** Next character: CRLF as LF, the end as LF (and `eof` set). */
  private next(): number {
    let c = this.raw();
    if (c === 0x0d) {
      c = this.raw();
      if (c !== LF) {
        if (c !== EOF) this.pos--;
        c = 0x0d;
      }
    }
    if (c === EOF) {
      this.eof = true;
      c = LF;
    }
    return c;
  }

  private value(): string | null {
    let quote = false;
    let comment = false;
    let spaces = 0;
    let v = '';
    for (;;) {
      let c = this.next();
      if (c === LF) return quote ? null : v;
      if (comment) continue;
      if (isSpace(c) && !quote) {
        if (v.length > 0) spaces++;
        continue;
      }
      if (!quote && (c === 0x3b || c === 0x23)) {
        comment = true;
        continue;
      }
      for (; spaces > 0; spaces--) v += ' ';
      if (c === 0x5c) {
        c = this.next();
        if (c === LF) continue;
        if (c === 0x74) c = 0x09;
        else if (c === 0x62) c = 0x08;
        else if (c === 0x6e) c = LF;
        else if (c !== 0x5c && c !== 0x22) return null;
        v += String.fromCharCode(c);
        continue;
      }
      if (c === 0x22) {
        quote = !quote;
        continue;
      }
      v += String.fromCharCode(c);
    }
  }

  /** Section header after "[": the lower-cased name, "." and the raw subsection if any. */
  private section(): string | null {
    let name = '';
    for (;;) {
      let c = this.next();
      if (this.eof) return null;
      if (c === 0x5d) return name;
      if (isSpace(c)) {
        // [name "subsection"]
        do {
          if (c === LF) return null;
          c = this.next();
        } while (isSpace(c));
        if (c !== 0x22) return null;
        name += '.';
        for (;;) {
          c = this.next();
          if (c === LF) return null;
          if (c === 0x22) break;
          if (c === 0x5c) {
            c = this.next();
            if (c === LF) return null;
          }
          name += String.fromCharCode(c);
        }
        return this.next() === 0x5d ? name : null;
      }
      if (!isKeyChar(c) && c !== 0x2e) return null;
      name += String.fromCharCode(lower(c));
    }
  }

  /** Reads the whole buffer; false at a syntax error. */
  read(onEntry: (name: string, value: string | null) => void): boolean {
    let comment = false;
    let base = '';
    // No UTF-8 BOM handling: git compares it with signed chars from a blob, so it never
    // matches and a BOM is a syntax error there.
    for (;;) {
      let c = this.next();
      if (c === LF) {
        if (this.eof) return true;
        comment = false;
        continue;
      }
      if (comment || isSpace(c)) continue;
      if (c === 0x23 || c === 0x3b) {
        comment = true;
        continue;
      }
      if (c === 0x5b) {
        const s = this.section();
        if (s === null || s.length === 0) return false;
        base = s + '.';
        continue;
      }
      if (!isAlpha(c)) return false;
      let name = base + String.fromCharCode(lower(c));
      for (;;) {
        c = this.next();
        if (this.eof || !isKeyChar(c)) break;
        name += String.fromCharCode(lower(c));
      }
      while (c === 0x20 || c === 0x09) c = this.next();
      let value: string | null = null;
      if (c !== LF) {
        if (c !== 0x3d) return false;
        value = this.value();
        if (value === null) return false;
      }
      onEntry(name, value);
    }
  }
}

/** A submodule name git refuses: empty, or with a ".." component (either slash). */
export function badSubmoduleName(name: string): boolean {
  if (name.length === 0) return true;
  let start = 0;
  for (let k = 0; k <= name.length; k++) {
    const c = k < name.length ? name.charCodeAt(k) : 0x2f;
    if (c === 0x2f || c === 0x5c) {
      if (k - start === 2 && name.charCodeAt(start) === 0x2e && name.charCodeAt(start + 1) === 0x2e) return true;
      start = k + 1;
    }
  }
  return false;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** git's URL decoding: %XX (not %00) decoded; a scheme before the first ":" kept as is. */
function urlDecode(s: string): string {
  const colon = s.indexOf(':');
  let out = colon > 0 ? s.slice(0, colon) : '';
  for (let i = Math.max(colon, 0); i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexVal(s.charCodeAt(i + 1));
      const lo = hexVal(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0 && (hi | lo) !== 0) {
        out += String.fromCharCode((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

function startsWithDotSlash(s: string, i: number): boolean {
  return s[i] === '.' && (s[i + 1] === '/' || s[i + 1] === '\\');
}
function startsWithDotDotSlash(s: string, i: number): boolean {
  return s[i] === '.' && s[i + 1] === '.' && (s[i + 2] === '/' || s[i + 2] === '\\');
}

/**
 * True when git's credential code refuses `url` as `proto://[user[:pass]@]host[/path]`: no
 * scheme, a line feed in any decoded part, or an empty host.
 */
function badCredentialUrl(url: string): boolean {
  const protoEnd = url.indexOf('://');
  if (protoEnd <= 0) return true;
  const cp = protoEnd + 3;
  const atSign = url.indexOf('@', cp);
  const colon = url.indexOf(':', cp);
  let slash = cp;
  while (slash < url.length && url[slash] !== '/' && url[slash] !== '?' && url[slash] !== '#') slash++;
  const parts = [url.slice(0, protoEnd)];
  let host = cp;
  if (atSign >= 0 && slash > atSign) {
    if (colon < 0 || atSign <= colon) parts.push(urlDecode(url.slice(cp, atSign)));
    else parts.push(urlDecode(url.slice(cp, colon)), urlDecode(url.slice(colon + 1, atSign)));
    host = atSign + 1;
  }
  const hostName = urlDecode(url.slice(host, slash));
  parts.push(hostName);
  while (url[slash] === '/') slash++;
  if (slash < url.length) parts.push(urlDecode(url.slice(slash)));
  return parts.some((p) => cString(p).includes('\n')) || cString(hostName).length === 0;
}

const CURL_PREFIXES = ['http::', 'https::', 'ftp::', 'ftps::'];
const CURL_SCHEMES = ['http://', 'https://', 'ftp://', 'ftps://'];

/** A submodule URL git refuses (see the module comment). */
export function badSubmoduleUrl(url: string): boolean {
  if (url.startsWith('-')) return true;
  if (startsWithDotSlash(url, 0) || startsWithDotDotSlash(url, 0) || url.startsWith('git://')) {
    // Could be appended to an http URL and decoded there.
    if (cString(urlDecode(url)).includes('\n')) return true;
    // "../" climbing above the base into "host:" or "/" rewrites the host (CVE-2020-11008).
    let i = 0;
    let dotdots = 0;
    for (;;) {
      if (startsWithDotDotSlash(url, i)) {
        dotdots++;
        i += 3;
      } else if (startsWithDotSlash(url, i)) {
        i += 2;
      } else break;
    }
    return dotdots > 0 && (url[i] === ':' || url[i] === '/');
  }
  // URLs handed to the curl helper must have a host and no line feed (CVE-2020-5260).
  const prefix = CURL_PREFIXES.find((p) => url.startsWith(p));
  if (prefix !== undefined) return badCredentialUrl(url.slice(prefix.length));
  if (CURL_SCHEMES.some((p) => url.startsWith(p))) return badCredentialUrl(url);
  return false;
}

/** Checks a `.gitmodules` blob (null: too large to read). */
export function checkGitmodules(b: Uint8Array | null, r: Reporter): void {
  if (b === null) {
    r.report('gitmodulesLarge', '.gitmodules is too large to read');
    return;
  }
  const ok = new ConfigReader(b).read((fullName, rawValue) => {
    const name = cString(fullName);
    if (!name.startsWith('submodule.')) return;
    const dot = name.lastIndexOf('.');
    if (dot === 9) return; // no subsection
    const sub = name.slice(10, dot);
    const key = name.slice(dot + 1);
    const value = rawValue === null ? null : cString(rawValue);
    if (badSubmoduleName(cString(sub))) r.report('gitmodulesName', `submodule name ${show(sub)} is not allowed`);
    if (value === null) return;
    if (key === 'url' && badSubmoduleUrl(value)) r.report('gitmodulesUrl', `submodule url ${show(value)} is not allowed`);
    if (key === 'path' && value.startsWith('-')) r.report('gitmodulesPath', `submodule path ${show(value)} is not allowed`);
    if (key === 'update' && value.startsWith('!')) r.report('gitmodulesUpdate', `submodule update command ${show(value)} is not allowed`);
  });
  if (!ok) r.report('gitmodulesParse', '.gitmodules cannot be parsed');
}

/** A byte string quoted for a message, bounded. */
function show(s: string): string {
  return JSON.stringify(s.length > 200 ? s.slice(0, 200) + '…' : s);
}

/** Checks a `.gitattributes` blob (null: too large to read). */
export function checkGitattributes(b: Uint8Array | null, r: Reporter): void {
  if (b === null || b.length > ATTR_MAX_FILE_SIZE) {
    r.report('gitattributesLarge', '.gitattributes is too large to read');
    return;
  }
  let start = 0;
  for (let i = 0; ; i++) {
    const c = i < b.length ? b[i]! : 0;
    if (c === LF || c === 0) {
      if (i - start >= ATTR_MAX_LINE_LENGTH) {
        r.report('gitattributesLineLength', `.gitattributes has a line of ${i - start} bytes or more`);
        return;
      }
      if (c === 0) return;
      start = i + 1;
    }
  }
}
