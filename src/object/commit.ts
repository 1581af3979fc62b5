/**
 * Commit and tag objects. Grammar (git's commit.c, tag.c):
 *   commit = "tree" SP oid LF *("parent" SP oid LF) "author" SP ident LF "committer" SP ident LF
 *            *(header LF) LF message
 *   tag    = "object" SP oid LF "type" SP type LF "tag" SP name LF ["tagger" SP ident LF]
 *            *(header LF) LF message
 *   ident  = name SP "<" email ">" SP seconds SP ("+"|"-") HHMM
 * Continuation lines of a header (gpgsig, mergetag) start with a space.
 */
import { InvalidArgumentError, InvalidObjectError } from '../errors.js';
import { fromUtf8, utf8 } from '../platform/bytes.js';
import { type Oid, type ObjectType, isOid } from './oid.js';

/** A person and a moment, as git records them. */
export interface Identity {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Offset from UTC as git writes it, e.g. "+0100". */
  timezone: string;
}

/** A decoded commit. `extraHeaders` keeps headers we do not interpret (gpgsig, encoding...). */
export interface Commit {
  tree: Oid;
  parents: Oid[];
  author: Identity;
  committer: Identity;
  message: string;
  extraHeaders?: [string, string][];
}

/** A decoded annotated tag. */
export interface Tag {
  object: Oid;
  type: ObjectType;
  tag: string;
  tagger?: Identity;
  message: string;
}

const IDENT_RE = /^(.*?) ?<([^<>]*)> (\d+) ([+-]\d{4})$/;
const TZ_RE = /^[+-]\d{4}$/;

const LOOSE_IDENT_RE = /^(.*?)\s*<([^>]*)>?\s*(\d*)\s*(\S*)\s*$/;

/**
 * Parses `Name <email> 1700000000 +0000`. Real histories hold identities git's own fsck
 * complains about (no space before `<`, missing date, odd zones) that C git still accepts on
 * push and shows; they are read as well as they can be rather than rejected, and only text
 * without any `<email>` part fails.
 */
export function parseIdentity(s: string): Identity {
  const m = IDENT_RE.exec(s);
  if (m !== null) return { name: m[1]!, email: m[2]!, timestamp: Number(m[3]), timezone: m[4]! };
  const l = LOOSE_IDENT_RE.exec(s);
  if (l === null || !s.includes('<')) throw new InvalidObjectError(`malformed identity "${s.slice(0, 200)}"`);
  const zone = /^[+-]\d{4}$/.test(l[4]!) ? l[4]! : '+0000';
  return { name: l[1]!, email: l[2]!, timestamp: l[3] ? Number(l[3]) : 0, timezone: zone };
}

/** Formats an identity; refuses names and emails that would break the format. */
export function formatIdentity(id: Identity): string {
  if (/[<>\n\0]/.test(id.name) || /[<>\n\0]/.test(id.email)) {
    throw new InvalidArgumentError('identity name and email may not contain "<", ">", newline or NUL');
  }
  if (!Number.isSafeInteger(id.timestamp) || id.timestamp < 0) throw new InvalidArgumentError('identity timestamp must be a non-negative integer');
  if (!TZ_RE.test(id.timezone)) throw new InvalidArgumentError('identity timezone must look like +0000');
  return `${id.name} <${id.email}> ${id.timestamp} ${id.timezone}`;
}

/** Splits an object body into header pairs and the message. */
function splitHeaders(body: Uint8Array): { headers: [string, string][]; message: string } {
  const text = fromUtf8(body);
  const blank = text.indexOf('\n\n');
  const head = blank < 0 ? text.replace(/\n$/, '') : text.slice(0, blank);
  const message = blank < 0 ? '' : text.slice(blank + 2);
  const headers: [string, string][] = [];
  for (const line of head.split('\n')) {
    if (line.startsWith(' ') && headers.length > 0) {
      headers[headers.length - 1]![1] += '\n' + line.slice(1);
      continue;
    }
    const sp = line.indexOf(' ');
    if (sp <= 0) throw new InvalidObjectError(`malformed header line "${line.slice(0, 80)}"`);
    headers.push([line.slice(0, sp), line.slice(sp + 1)]);
  }
  return { headers, message };
}

function oidHeader(value: string | undefined, what: string): Oid {
  if (!isOid(value)) throw new InvalidObjectError(`${what} is not a valid object id`);
  return value;
}

/** Decodes a commit body. */
export function decodeCommit(body: Uint8Array): Commit {
  const { headers, message } = splitHeaders(body);
  let i = 0;
  if (headers[i]?.[0] !== 'tree') throw new InvalidObjectError('commit does not start with a tree');
  const tree = oidHeader(headers[i++]![1], 'commit tree');
  const parents: Oid[] = [];
  while (headers[i]?.[0] === 'parent') parents.push(oidHeader(headers[i++]![1], 'commit parent'));
  if (headers[i]?.[0] !== 'author') throw new InvalidObjectError('commit has no author');
  const author = parseIdentity(headers[i++]![1]);
  if (headers[i]?.[0] !== 'committer') throw new InvalidObjectError('commit has no committer');
  const committer = parseIdentity(headers[i++]![1]);
  const extra = headers.slice(i);
  const commit: Commit = { tree, parents, author, committer, message };
  if (extra.length > 0) commit.extraHeaders = extra;
  return commit;
}

function formatHeaders(headers: [string, string][]): string {
  return headers.map(([k, v]) => `${k} ${v.replace(/\n/g, '\n ')}\n`).join('');
}

/** Encodes a commit. */
export function encodeCommit(c: Commit): Uint8Array {
  let s = `tree ${c.tree}\n`;
  for (const p of c.parents) s += `parent ${p}\n`;
  s += `author ${formatIdentity(c.author)}\ncommitter ${formatIdentity(c.committer)}\n`;
  if (c.extraHeaders) s += formatHeaders(c.extraHeaders);
  return utf8(`${s}\n${c.message}`);
}

const TYPES = new Set(['blob', 'tree', 'commit', 'tag']);

/** Decodes an annotated tag body. */
export function decodeTag(body: Uint8Array): Tag {
  const { headers, message } = splitHeaders(body);
  const get = (k: string) => headers.find(([h]) => h === k)?.[1];
  const object = oidHeader(get('object'), 'tag object');
  const type = get('type');
  if (type === undefined || !TYPES.has(type)) throw new InvalidObjectError('tag has an invalid type');
  const name = get('tag');
  if (name === undefined || name.length === 0) throw new InvalidObjectError('tag has no name');
  const tagger = get('tagger');
  const tag: Tag = { object, type: type as ObjectType, tag: name, message };
  if (tagger !== undefined) tag.tagger = parseIdentity(tagger);
  return tag;
}

/** Encodes an annotated tag. */
export function encodeTag(t: Tag): Uint8Array {
  let s = `object ${t.object}\ntype ${t.type}\ntag ${t.tag}\n`;
  if (t.tagger) s += `tagger ${formatIdentity(t.tagger)}\n`;
  return utf8(`${s}\n${t.message}`);
}
