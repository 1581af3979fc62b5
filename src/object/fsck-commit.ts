/**
 * The commit and tag checks of git's fsck (fsck.c: verify_headers, fsck_ident, fsck_commit,
 * fsck_tag_standalone), on the raw body:
 *   commit = "tree" SP hex LF *("parent" SP hex LF) 1*("author" SP ident LF)
 *            "committer" SP ident LF *(header LF) [LF message]
 *   tag    = "object" SP hex LF "type" SP type LF "tag" SP name LF
 *            ["tagger" SP ident LF] [LF message]
 *   ident  = name SP "<" email ">" SP seconds SP ("+"|"-") 4DIGIT
 * The header (up to the first empty line) may hold no NUL, and must end with LF. Like git,
 * a check stops at the first finding whose level is error, and reads bytes past the end of
 * the body as NUL (git's buffers are NUL-terminated).
 * Before any fsck level applies, git's object parser (commit.c parse_commit_buffer, tag.c
 * parse_tag_buffer) refuses commits and tags whose leading lines it cannot read; such an
 * object is refused here too even when the matching id was downgraded (`refuse`).
 */
import type { FsckId, Reporter } from './fsck-ids.js';
import { utf8 } from '../platform/bytes.js';

const LF = 0x0a;
const SP = 0x20;

function at(b: Uint8Array, i: number): number {
  return i < b.length ? b[i]! : 0;
}

const TREE = utf8('tree ');
const PARENT = utf8('parent ');
const AUTHOR = utf8('author ');
const COMMITTER = utf8('committer ');
const OBJECT = utf8('object ');
const TYPE = utf8('type ');
const TAG = utf8('tag ');
const TAGGER = utf8('tagger ');
const TYPE_NAMES = [utf8('blob'), utf8('tree'), utf8('commit'), utf8('tag')];

function startsWith(b: Uint8Array, i: number, prefix: Uint8Array): boolean {
  if (i + prefix.length > b.length) return false;
  for (let k = 0; k < prefix.length; k++) if (b[i + k] !== prefix[k]) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// 1 for the bytes of hex digits, either case (git's parser takes both).
const HEX = new Uint8Array(256);
for (const ch of '0123456789abcdefABCDEF') HEX[ch.charCodeAt(0)] = 1;

/** End of 40 hex digits at `i`, or -1. */
function hexEnd(b: Uint8Array, i: number): number {
  if (i + 40 > b.length) return -1;
  for (let k = i; k < i + 40; k++) if (HEX[b[k]!] === 0) return -1;
  return i + 40;
}

/** Start of the line after the one containing `i` (or the end of the body). */
function nextLine(b: Uint8Array, i: number): number {
  const nl = b.indexOf(LF, i);
  return nl < 0 ? b.length : nl + 1;
}

/** NUL in the header, or a header that does not end with LF: fatal. True when found. */
function verifyHeaders(b: Uint8Array, r: Reporter): boolean {
  // The header ends at the first empty line (native searches: this runs on every commit).
  let end = -1;
  for (let nl = b.indexOf(LF); nl >= 0 && nl + 1 < b.length; nl = b.indexOf(LF, nl + 1)) {
    if (b[nl + 1] === LF) {
      end = nl;
      break;
    }
  }
  const nul = b.indexOf(0);
  if (nul >= 0 && (end < 0 || nul < end)) return r.report('nulInHeader', `NUL in the header at offset ${nul}`);
  if (end >= 0 || (b.length > 0 && b[b.length - 1] === LF)) return false;
  return r.report('unterminatedHeader', 'the header does not end with a line feed');
}

// strtoumax-like "a space or a control character C's isspace() skips".
function isCSpace(c: number): boolean {
  return c === SP || (c >= 0x09 && c <= 0x0d);
}

const TWO_63 = 2n ** 63n;
const TWO_64 = 2n ** 64n;

// Set by parseSeconds: where the number ended (the start when there was none).
let secondsEnd = 0;

/**
 * Reads seconds as git does (strtoumax: blanks, a sign, digits; negative values wrap, too
 * large ones saturate) and answers whether the result overflows a signed 64-bit time.
 */
function parseSecondsOverflows(b: Uint8Array, p: number): boolean {
  let q = p;
  while (isCSpace(at(b, q))) q++;
  let negative = false;
  const sign = at(b, q);
  if (sign === 0x2b || sign === 0x2d) {
    negative = sign === 0x2d;
    q++;
  }
  if (!isDigit(at(b, q))) {
    secondsEnd = p;
    return false;
  }
  const first = q;
  while (isDigit(at(b, q))) q++;
  secondsEnd = q;
  if (q - first <= 15 && !negative) return false; // below 2^53, far below 2^63
  let v = 0n;
  for (let k = first; k < q; k++) v = v * 10n + BigInt(b[k]! - 0x30);
  if (v >= TWO_64) return true; // saturates to the largest value
  if (negative && v !== 0n) v = TWO_64 - v;
  return v >= TWO_63;
}

/** Checks one identity starting at `p` (after "author " etc.); true when git stops there. */
function checkIdent(b: Uint8Array, p: number, r: Reporter): boolean {
  if (at(b, p) === 0x3c) return r.report('missingNameBeforeEmail', 'identity has no name before the email');
  let c: number;
  while ((c = at(b, p)) !== 0x3c && c !== 0x3e && c !== LF && c !== 0) p++;
  if (c === 0x3e) return r.report('badName', 'identity name contains ">"');
  if (c !== 0x3c) return r.report('missingEmail', 'identity has no email');
  if (at(b, p - 1) !== SP) return r.report('missingSpaceBeforeEmail', 'identity has no space before the email');
  p++;
  while ((c = at(b, p)) !== 0x3c && c !== 0x3e && c !== LF && c !== 0) p++;
  if (c !== 0x3e) return r.report('badEmail', 'identity email is not closed by ">"');
  p++;
  if (at(b, p) !== SP) return r.report('missingSpaceBeforeDate', 'identity has no space before the date');
  p++;
  if (at(b, p) === 0x30 && at(b, p + 1) !== SP) return r.report('zeroPaddedDate', 'identity date is zero-padded');
  if (parseSecondsOverflows(b, p)) return r.report('badDateOverflow', 'identity date overflows');
  const end = secondsEnd;
  if (end === p || at(b, end) !== SP) return r.report('badDate', 'identity date is malformed');
  p = end + 1;
  const s = at(b, p);
  if (
    (s !== 0x2b && s !== 0x2d) ||
    !isDigit(at(b, p + 1)) ||
    !isDigit(at(b, p + 2)) ||
    !isDigit(at(b, p + 3)) ||
    !isDigit(at(b, p + 4)) ||
    at(b, p + 5) !== LF
  ) {
    return r.report('badTimezone', 'identity time zone is not +HHMM or -HHMM');
  }
  return false;
}

/** Checks a commit body. */
export function checkCommit(b: Uint8Array, r: Reporter): void {
  if (verifyHeaders(b, r)) return;
  if (!startsWith(b, 0, TREE)) {
    r.report('missingTree', 'no "tree" line first');
    return;
  }
  let pos = TREE.length;
  let end = hexEnd(b, pos);
  if (end < 0 || at(b, end) !== LF) {
    if (r.report('badTreeSha1', '"tree" line holds no valid id')) return;
    // Downgraded: go on from the next line (git's own position there is undefined).
    pos = end < 0 ? nextLine(b, pos) : end + 1;
  } else {
    pos = end + 1;
  }
  while (startsWith(b, pos, PARENT)) {
    pos += PARENT.length;
    end = hexEnd(b, pos);
    if (end < 0 || at(b, end) !== LF) {
      if (r.report('badParentSha1', '"parent" line holds no valid id')) return;
      pos = end < 0 ? nextLine(b, pos) : end + 1;
    } else {
      pos = end + 1;
    }
  }
  let authors = 0;
  while (startsWith(b, pos, AUTHOR)) {
    authors++;
    const next = nextLine(b, pos);
    if (checkIdent(b, pos + AUTHOR.length, r)) return;
    pos = next;
  }
  if (authors === 0) {
    if (r.report('missingAuthor', 'no "author" line')) return;
  } else if (authors > 1) {
    if (r.report('multipleAuthors', 'more than one "author" line')) return;
  }
  if (!startsWith(b, pos, COMMITTER)) {
    r.report('missingCommitter', 'no "committer" line after the author');
    return;
  }
  if (checkIdent(b, pos + COMMITTER.length, r)) return;
  if (b.indexOf(0) >= 0) r.report('nulInCommit', 'NUL in the commit message');
}

/** Why git's commit parser cannot read `b` (the id closest to it), or null. */
export function commitParserRefusal(b: Uint8Array): FsckId | null {
  if (!startsWith(b, 0, TREE)) return 'missingTree';
  if (hexEnd(b, 5) < 0 || at(b, 45) !== LF) return 'badTreeSha1';
  if (b.length <= 46) return 'missingAuthor';
  let pos = 46;
  while (pos + 47 < b.length && startsWith(b, pos, PARENT)) {
    if (b.length <= pos + 48 || hexEnd(b, pos + 7) < 0 || b[pos + 47] !== LF) return 'badParentSha1';
    pos += 48;
  }
  return null;
}

// Bytes a ref name component may not hold (git's refname_disposition, flags 0).
const REFNAME_BAD = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) REFNAME_BAD[c] = 1;
for (const ch of ' :?[\\^~*\x7f') REFNAME_BAD[ch.charCodeAt(0)] = 1;

/** True when "refs/tags/" + b[s, e) fails git's check-ref-format (one-level names not allowed). */
function badTagName(b: Uint8Array, s: number, e: number): boolean {
  let compStart = s;
  let last = 0;
  for (let i = s; i <= e; i++) {
    const c = i < e ? b[i]! : 0x2f;
    if (c === 0x2f) {
      const len = i - compStart;
      if (len === 0) return true; // empty component (also an empty name)
      if (b[compStart] === 0x2e) return true; // starts with "."
      if (len >= 5 && b[i - 5] === 0x2e && b[i - 4] === 0x6c && b[i - 3] === 0x6f && b[i - 2] === 0x63 && b[i - 1] === 0x6b) return true; // ".lock"
      compStart = i + 1;
      last = 0;
      continue;
    }
    if (c < 128 && REFNAME_BAD[c] === 1) return true;
    if (c === 0x2e && last === 0x2e) return true; // ".."
    if (c === 0x7b && last === 0x40) return true; // "@{"
    last = c;
  }
  return b[e - 1] === 0x2e; // ends with "."
}

/** Checks an annotated tag body. */
export function checkTag(b: Uint8Array, r: Reporter): void {
  if (verifyHeaders(b, r)) return;
  if (!startsWith(b, 0, OBJECT)) {
    r.report('missingObject', 'no "object" line first');
    return;
  }
  let pos = OBJECT.length;
  const end = hexEnd(b, pos);
  if (end < 0 || at(b, end) !== LF) {
    if (r.report('badObjectSha1', '"object" line holds no valid id')) return;
    pos = end < 0 ? nextLine(b, pos) : end + 1;
  } else {
    pos = end + 1;
  }
  if (!startsWith(b, pos, TYPE)) {
    r.report('missingTypeEntry', 'no "type" line after the object');
    return;
  }
  pos += TYPE.length;
  let eol = b.indexOf(LF, pos);
  if (eol < 0) {
    r.report('missingType', 'the "type" line does not end');
    return;
  }
  if (!TYPE_NAMES.some((t) => t.length === eol - pos && startsWith(b, pos, t))) {
    if (r.report('badType', '"type" line names no object type')) return;
  }
  pos = eol + 1;
  if (!startsWith(b, pos, TAG)) {
    r.report('missingTagEntry', 'no "tag" line after the type');
    return;
  }
  pos += TAG.length;
  eol = b.indexOf(LF, pos);
  if (eol < 0) {
    r.report('missingTag', 'the "tag" line does not end');
    return;
  }
  if (badTagName(b, pos, eol)) {
    if (r.report('badTagName', 'tag name is not a valid ref name')) return;
  }
  pos = eol + 1;
  if (!startsWith(b, pos, TAGGER)) {
    if (r.report('missingTaggerEntry', 'no "tagger" line')) return;
  } else {
    const next = nextLine(b, pos);
    checkIdent(b, pos + TAGGER.length, r);
    pos = next;
  }
  if (pos >= b.length) return;
  if (b[pos] !== LF) r.report('extraHeaderEntry', 'headers after the tagger');
}

/** Why git's tag parser cannot read `b` (the id closest to it), or null. */
export function tagParserRefusal(b: Uint8Array): FsckId | null {
  if (b.length < 64) return 'missingTag';
  if (!startsWith(b, 0, OBJECT)) return 'missingObject';
  if (hexEnd(b, 7) < 0 || b[47] !== LF) return 'badObjectSha1';
  if (!startsWith(b, 48, TYPE)) return 'missingTypeEntry';
  const eol = b.indexOf(LF, 53);
  if (eol < 0) return 'missingType';
  if (!TYPE_NAMES.some((t) => t.length === eol - 53 && startsWith(b, 53, t))) return 'badType';
  if (!(eol + 5 < b.length && startsWith(b, eol + 1, TAG))) return 'missingTagEntry';
  if (b.indexOf(LF, eol + 5) < 0) return 'missingTag';
  return null;
}
