/**
 * Connectivity with types for one ingest: the type of every object of the pack, and the
 * references still waiting for their target (checked when it arrives, or against the store at
 * the end). Keyed by raw ids (OidMap): a long history's pack carries millions of tree entries,
 * and a hex string and a Map entry per entry made this bookkeeping a quarter of ingest's CPU.
 * Strings are made only for a reference's first wait on a target and for errors.
 */
import type { ObjectType, Oid } from '../object/oid.js';
import { oidFromBytes, oidToBytes } from '../object/oid.js';
import { nameFromBytes } from '../object/tree.js';
import type { ReferenceRole } from '../object/fsck.js';
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

/** The links of one pack's objects, checked as they arrive. */
export class PackLinks {
  readonly #types = new OidMap();
  /** Target id → index into #waiting (undefined once it arrived). */
  readonly #awaiting = new OidMap();
  readonly #waiting: ({ oid: Oid; first: Pending } | undefined)[] = [];

  /** Whether the object with these raw id bytes arrived already. */
  has(id: Uint8Array): boolean {
    return this.#types.get(id, 0) >= 0;
  }

  /** The type of the object with these raw id bytes when it arrived already. */
  typeOf(id: Uint8Array): ObjectType | undefined {
    return TYPES[this.#types.get(id, 0)];
  }

  /** Records an object of the pack; a waiting reference that needed another type throws. */
  arrived(id: Uint8Array, type: ObjectType): void {
    this.#types.set(id, 0, CODE[type]);
    const at = this.#awaiting.get(id, 0);
    if (at < 0) return;
    const w = this.#waiting[at];
    if (w === undefined) return;
    for (let p: Pending | undefined = w.first; p !== undefined; p = p.next) {
      if (p.expected !== type) throw referenceTypeError(p.from, p.fromType, { oid: w.oid, expected: p.expected, role: p.role, name: p.name }, type);
    }
    this.#waiting[at] = undefined;
  }

  /**
   * A reference from `from` to the id at `buf[off..off+20]` needing `expected`; for a tree entry
   * the entry's name is `buf[nameStart..nameEnd)`, decoded only if it must be kept or reported.
   */
  reference(from: Oid, fromType: ObjectType, buf: Uint8Array, off: number, expected: ObjectType, role: ReferenceRole, nameStart = -1, nameEnd = -1): void {
    const actual = this.#types.get(buf, off);
    if (actual >= 0) {
      if (TYPES[actual] !== expected) {
        throw referenceTypeError(from, fromType, { oid: oidFromBytes(buf, off), expected, role, name: nameAt(buf, nameStart, nameEnd) }, TYPES[actual]!);
      }
      return;
    }
    let at = this.#awaiting.get(buf, off);
    let w = at >= 0 ? this.#waiting[at] : undefined;
    for (let p = w?.first; p !== undefined; p = p.next) if (p.expected === expected) return;
    const p: Pending = { from, fromType, expected, role };
    const n = nameAt(buf, nameStart, nameEnd);
    if (n !== undefined) p.name = n;
    if (w === undefined) {
      at = this.#waiting.length;
      this.#waiting.push((w = { oid: oidFromBytes(buf, off), first: p }));
      this.#awaiting.set(buf, off, at);
    } else {
      p.next = w.first;
      w.first = p;
    }
  }

  /** `reference` for a target given as a hex id (a commit's tree and parents, a tag's object). */
  referenceOid(from: Oid, fromType: ObjectType, oid: Oid, expected: ObjectType, role: ReferenceRole): void {
    this.reference(from, fromType, oidToBytes(oid), 0, expected, role);
  }

  /** The targets still waiting: objects the pack references and does not carry. */
  outside(): Oid[] {
    const out: Oid[] = [];
    for (const w of this.#waiting) if (w !== undefined) out.push(w.oid);
    return out;
  }
}
