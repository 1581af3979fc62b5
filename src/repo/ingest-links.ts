/**
 * Connectivity with types for one ingest: the type of every object of the pack, and the
 * references still waiting for their target (checked when it arrives, or against the store at
 * the end). Keyed by raw ids (OidMap): a long history's pack carries millions of tree entries,
 * and a hex string and a Map entry per entry made this bookkeeping a quarter of ingest's CPU.
 * Strings are made only for a reference's first wait on a target and for errors. Types and
 * waits share one map, made as large as the pack header announces (up to a bound) before the
 * first object arrives. Each arrived object also carries whether anything of the pack references
 * it: those nothing references are the pack's roots (`roots`, import-plan.ts). `parseArrived`
 * is where an arrived object's references come from: our parse of its body.
 */
import { InvalidObjectError } from '../errors.js';
import type { ObjectType, Oid } from '../object/oid.js';
import { oidFromBytes, oidToBytes, ownOid } from '../object/oid.js';
import { grown } from '../platform/bytes.js';
import { ENTRY_GITLINK, ENTRY_TREE, nameFromBytes } from '../object/tree.js';
import { decodeCommit, decodeTag } from '../object/commit.js';
import type { FsckReport, FsckSession, ReferenceRole } from '../object/fsck.js';
import type { ReadObject } from '../pack/worker-protocol.js';
import type { CommitFacts } from './commit-graph.js';
import { referenceTypeError } from './checks.js';
import { OidMap } from './oid-set.js';

const TYPES: readonly ObjectType[] = ['commit', 'tree', 'blob', 'tag'];
const CODE: Record<ObjectType, number> = { commit: 0, tree: 1, blob: 2, tag: 3 };

/** A tree entry's name, when the reference is one (`start` ≥ 0). */
function nameAt(buf: Uint8Array, start: number, end: number): string | undefined {
  return start < 0 ? undefined : nameFromBytes(buf.subarray(start, end));
}

/** A reference waiting for its target: the referencing object, where, and the type needed. */
interface Pending {
  from: Oid;
  fromType: ObjectType;
  expected: ObjectType;
  role: ReferenceRole;
  name?: string;
  /** Another reference to the same target that needs another type. */
  next?: Pending;
}

/** Added to an arrived object's type code once something of the pack references it. */
const REFERENCED = 4;
/** A value of PackLinks' map from this on: references wait for the id (value - WAITING indexes them). */
const WAITING = 8;
/**
 * The most ids a pack's header may make PackLinks hold room for before they arrive: its map
 * then starts at 2^19 slots of 24 bytes (12 MiB), whatever a hostile header claims.
 */
const PRESIZE_MAX = 1 << 18;

/** The links of one pack's objects, checked as they arrive. */
export class PackLinks {
  /**
   * Per id: the type code (0–3) of an object that arrived (+ REFERENCED once referenced), or
   * WAITING + the index in #waiting of the references waiting for it. One map, so an arrival
   * or a first wait is one lookup.
   */
  #ids = new OidMap();
  readonly #waiting: ({ oid: Oid; first: Pending } | undefined)[] = [];

  /**
   * Makes room for the `count` objects the pack's header announces (at most PRESIZE_MAX), so
   * the map does not grow (rehashing every id) while they arrive. Only before the first id.
   */
  expect(count: number): void {
    if (this.#ids.size === 0 && count > 1024) this.#ids = new OidMap(Math.min(count, PRESIZE_MAX));
  }

  /** Whether the object with these raw id bytes arrived already. */
  has(id: Uint8Array): boolean {
    const v = this.#ids.get(id, 0);
    return v >= 0 && v < WAITING;
  }

  /** The type of the object with these raw id bytes when it arrived already. */
  typeOf(id: Uint8Array): ObjectType | undefined {
    const v = this.#ids.get(id, 0);
    return v >= 0 && v < WAITING ? TYPES[v & 3] : undefined;
  }

  /** Records an object of the pack; a waiting reference that needed another type throws. */
  arrived(id: Uint8Array, type: ObjectType): void {
    const before = this.#ids.swap(id, 0, CODE[type]);
    if (before < WAITING) return;
    this.#ids.set(id, 0, CODE[type] + REFERENCED);
    const w = this.#waiting[before - WAITING]!;
    for (let p: Pending | undefined = w.first; p !== undefined; p = p.next) {
      if (p.expected !== type) throw referenceTypeError(p.from, p.fromType, { oid: w.oid, expected: p.expected, role: p.role, name: p.name }, type);
    }
    this.#waiting[before - WAITING] = undefined;
  }

  /**
   * A reference from `from` to the id at `buf[off..off+20]` needing `expected`; for a tree entry
   * the entry's name is `buf[nameStart..nameEnd)`, decoded only if it must be kept or reported.
   */
  reference(from: Oid, fromType: ObjectType, buf: Uint8Array, off: number, expected: ObjectType, role: ReferenceRole, nameStart = -1, nameEnd = -1): void {
    const v = this.#ids.get(buf, off);
    if (v >= 0 && v < WAITING) {
      if (TYPES[v & 3] !== expected) {
        throw referenceTypeError(from, fromType, { oid: oidFromBytes(buf, off), expected, role, name: nameAt(buf, nameStart, nameEnd) }, TYPES[v & 3]!);
      }
      if (v < REFERENCED) this.#ids.set(buf, off, v + REFERENCED);
      return;
    }
    const w = v >= WAITING ? this.#waiting[v - WAITING] : undefined;
    for (let p = w?.first; p !== undefined; p = p.next) if (p.expected === expected) return;
    const p: Pending = { from, fromType, expected, role };
    const n = nameAt(buf, nameStart, nameEnd);
    if (n !== undefined) p.name = n;
    if (w === undefined) {
      this.#ids.set(buf, off, WAITING + this.#waiting.length);
      this.#waiting.push({ oid: oidFromBytes(buf, off), first: p });
    } else {
      p.next = w.first;
      w.first = p;
    }
  }

  /** `reference` for a target given as a hex id (a commit's tree and parents, a tag's object). */
  referenceOid(from: Oid, fromType: ObjectType, oid: Oid, expected: ObjectType, role: ReferenceRole): void {
    this.reference(from, fromType, oidToBytes(oid), 0, expected, role);
  }

  /**
   * The objects of the pack nothing of it references, as one table of raw ids (20 bytes each),
   * with how many objects arrived; undefined when there are more than `max` of them. Meaningful
   * once `outside()` is empty: every object is then reachable from these.
   */
  roots(max: number): { roots: Uint8Array; objects: number } | undefined {
    let ids = new Uint8Array(20 * 16);
    let roots = 0;
    let objects = 0;
    this.#ids.forEach((id, v) => {
      if (v >= WAITING) return;
      objects++;
      if (v >= REFERENCED || ++roots > max) return;
      if (roots * 20 > ids.length) ids = grown(ids);
      ids.set(id, (roots - 1) * 20);
    });
    return roots > max ? undefined : { roots: ids.slice(0, roots * 20), objects };
  }

  /** The targets still waiting: objects the pack references and does not carry. */
  outside(): Oid[] {
    const out: Oid[] = [];
    for (const w of this.#waiting) if (w !== undefined) out.push(w.oid);
    return out;
  }
}

/**
 * Our own parse of an object that arrived (what the engine must read later; `.git` names, bad
 * modes, order: InvalidObjectError, with git's id when it has one), recording in `links` the
 * references it makes with the types they need, and in `commits` a commit's facts for its
 * commit-graph record. A tree's scan also makes git's checks (FsckError with git's message id):
 * their report, which the caller refuses only after this parse; undefined for other types.
 */
export function parseArrived(
  o: ReadObject,
  links: PackLinks,
  session: FsckSession,
  commits: Map<Oid, CommitFacts>,
  shallow: ReadonlySet<string> | undefined,
): FsckReport | undefined {
  try {
    if (o.type === 'tree') {
      // Our parse, git's checks and the references in one pass (object/fsck.ts
      // `FsckSession.scanTree`). A tree delta's entries that are those of its base,
      // scanned clean earlier in this pack, are passed over (object/tree-skips.ts): their
      // references were recorded with the base.
      const body = o.body;
      return session.scanTree(
        body,
        (at, kind, nameStart, nameEnd) => {
          if (kind !== ENTRY_GITLINK) links.reference(o.oid, 'tree', body, at, kind === ENTRY_TREE ? 'tree' : 'blob', 'entry', nameStart, nameEnd);
        },
        o.seq === undefined ? undefined : { key: o.seq, base: o.delta?.baseSeq, copies: o.delta?.copies },
      );
    } else if (o.type === 'commit') {
      const c = decodeCommit(o.body);
      links.referenceOid(o.oid, 'commit', c.tree, 'tree', 'tree');
      if (!shallow?.has(o.oid)) for (const p of c.parents) links.referenceOid(o.oid, 'commit', p, 'commit', 'parent');
      // Kept to the end of the pack: ids of their own, not slices holding the commit's text.
      commits.set(o.oid, { tree: ownOid(c.tree), parents: c.parents.map(ownOid), time: c.committer.timestamp });
    } else if (o.type === 'tag') {
      const t = decodeTag(o.body);
      links.referenceOid(o.oid, 'tag', t.object, t.type, 'tagged');
    }
  } catch (err) {
    if (err instanceof InvalidObjectError && err.details.reference === undefined) {
      const id = /\((has\w+)\)$/.exec(err.message)?.[1];
      throw new InvalidObjectError(`object ${o.oid} (${o.type}): ${err.message}`, {
        cause: err,
        details: { oid: o.oid, ...err.details, ...(id ? { id } : {}) },
      });
    }
    throw err;
  }
  return undefined;
}
