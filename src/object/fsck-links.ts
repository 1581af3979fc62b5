/**
 * What an object references and the type each reference must have: git's connectivity check
 * refuses a commit whose tree is a blob, a tree entry `40000` pointing at a blob, a parent
 * that is a tree, a tag whose `type` line lies. Rules (git's fsck_walk, with the tree modes
 * read the way git's walker reads them):
 * - commit: `tree` → tree; each `parent` → commit;
 * - tree entry by mode: directory → tree; regular file or symlink → blob; anything else
 *   (160000 gitlinks, and unknown modes) → not followed (a gitlink names another repository);
 * - tag: `object` → the type on its `type` line.
 * Only well-formed header lines are read; a malformed object is the content checks' finding.
 */
import { toHex } from '../platform/bytes.js';
import type { ObjectType, Oid } from './oid.js';
import { nameFromBytes } from './tree.js';

/** Where in the referencing object a reference sits. */
export type ReferenceRole = 'tree' | 'parent' | 'entry' | 'tagged';

/** One reference and the type its target must have. */
export interface ObjectReference {
  oid: Oid;
  type: ObjectType;
  role: ReferenceRole;
}

/** A reference whose target is missing (`actual: null`) or has another type. */
export interface ReferenceProblem extends ObjectReference {
  actual: ObjectType | null;
  /** The entry name, for tree entries. */
  name?: string;
  message: string;
}

const LF = 0x0a;
const S_IFMT = 0o170000;

function hexAt(b: Uint8Array, i: number): Oid | null {
  if (i + 41 > b.length || b[i + 40] !== LF) return null;
  let s = '';
  for (let k = 0; k < 40; k++) {
    const c = b[i + k]!;
    if (c >= 0x30 && c <= 0x39) s += String.fromCharCode(c);
    else if (c >= 0x61 && c <= 0x66) s += String.fromCharCode(c);
    else if (c >= 0x41 && c <= 0x46) s += String.fromCharCode(c | 0x20);
    else return null;
  }
  return s as Oid;
}

function startsWith(b: Uint8Array, i: number, s: string): boolean {
  if (i + s.length > b.length) return false;
  for (let k = 0; k < s.length; k++) if (b[i + k] !== s.charCodeAt(k)) return false;
  return true;
}

const TYPES: readonly ObjectType[] = ['blob', 'tree', 'commit', 'tag'];

/**
 * Calls `visit` for every reference of an object, with the type its target must have. For
 * tree entries `nameStart`/`nameEnd` locate the entry name in `body` (decode it only when
 * needed). Nothing is allocated per entry but the hex id.
 */
export function forEachReference(
  type: ObjectType,
  body: Uint8Array,
  visit: (oid: Oid, expected: ObjectType, role: ReferenceRole, nameStart: number, nameEnd: number) => void,
): void {
  if (type === 'tree') {
    let i = 0;
    while (i < body.length) {
      let mode = 0;
      let j = i;
      for (; j < body.length && body[j] !== 0x20; j++) mode = ((mode << 3) | ((body[j]! - 0x30) & 7)) & 0xffff;
      const nul = body.indexOf(0, j + 1);
      if (j >= body.length || nul < 0 || nul + 21 > body.length) return;
      const kind = mode & S_IFMT;
      if (kind === 0o040000) visit(toHex(body, nul + 1, nul + 21) as Oid, 'tree', 'entry', j + 1, nul);
      else if (kind === 0o100000 || kind === 0o120000) visit(toHex(body, nul + 1, nul + 21) as Oid, 'blob', 'entry', j + 1, nul);
      i = nul + 21;
    }
    return;
  }
  if (type === 'commit') {
    if (!startsWith(body, 0, 'tree ')) return;
    const tree = hexAt(body, 5);
    if (tree === null) return;
    visit(tree, 'tree', 'tree', 0, 0);
    let i = 46;
    while (startsWith(body, i, 'parent ')) {
      const p = hexAt(body, i + 7);
      if (p === null) return;
      visit(p, 'commit', 'parent', 0, 0);
      i += 48;
    }
    return;
  }
  if (type === 'tag') {
    if (!startsWith(body, 0, 'object ')) return;
    const target = hexAt(body, 7);
    if (target === null || !startsWith(body, 48, 'type ')) return;
    const eol = body.indexOf(LF, 53);
    if (eol < 0) return;
    const t = TYPES.find((x) => x.length === eol - 53 && startsWith(body, 53, x));
    if (t !== undefined) visit(target, t, 'tagged', 0, 0);
  }
}

/** Every reference of an object with the type its target must have. */
export function listReferences(type: ObjectType, body: Uint8Array): ObjectReference[] {
  const out: ObjectReference[] = [];
  forEachReference(type, body, (oid, expected, role) => out.push({ oid, type: expected, role }));
  return out;
}

/**
 * Checks an object's references against the types of their targets. `lookup` answers the
 * type of an object, or undefined when it does not exist (gather the types first: this is
 * synchronous). Gitlinks are not checked.
 */
export function checkReferenceTypes(type: ObjectType, body: Uint8Array, lookup: (oid: Oid) => ObjectType | undefined): ReferenceProblem[] {
  let problems: ReferenceProblem[] | undefined;
  forEachReference(type, body, (oid, expected, role, nameStart, nameEnd) => {
    const actual = lookup(oid) ?? null;
    if (actual === expected) return;
    const p: ReferenceProblem = { oid, type: expected, role, actual, message: '' };
    let where: string = role === 'tagged' ? 'tagged object' : role;
    if (role === 'entry') {
      p.name = nameFromBytes(body.subarray(nameStart, nameEnd));
      where = `entry ${JSON.stringify(p.name)}`;
    }
    p.message = actual === null ? `${where} ${oid} is missing` : `${where} ${oid} is a ${actual}, not a ${expected}`;
    (problems ??= []).push(p);
  });
  return problems ?? [];
}
