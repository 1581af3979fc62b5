/**
 * Connectivity with types for one ingest: the type of every object of the pack, and the
 * references still waiting for their target (checked when it arrives, or against the store at
 * the end). Keyed by raw ids (OidMap): a long history's pack carries millions of tree entries,
 * and a hex string and a Map entry per entry made this bookkeeping a quarter of ingest's CPU.
 * The first reference to each target that has not arrived yet is kept in typed arrays (its raw
 * id, the name's bytes): strings are made only for errors and for the targets left outside.
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

const ROLES: readonly ReferenceRole[] = ['tree', 'parent', 'entry', 'tagged'];
const ROLE: Record<ReferenceRole, number> = { tree: 0, parent: 1, entry: 2, tagged: 3 };
/** `#meta` bits: the referencing object's type (0–1), the type needed (2–3), the role (4–5); the target arrived (7). */
const DONE = 0x80;

/** A further reference to a waiting target that needs another type (rare: kept as an object). */
interface Pending {
  from: Oid;
  fromType: ObjectType;
  expected: ObjectType;
  role: ReferenceRole;
  name?: string;
}

/** A typed array twice as long (at least `need`), the old content copied. */
function grown<T extends Uint8Array | Int32Array>(a: T, need: number): T {
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** The links of one pack's objects, checked as they arrive. */
export class PackLinks {
  readonly #types = new OidMap();
  /** Target id → its index in the tables below. */
  readonly #awaiting = new OidMap();
  // Per waiting target, the first reference to it: no string is made until an error or `outside`
  // needs one (a long history's pack has one such target for nearly every object).
  #count = 0;
  #ids = new Uint8Array(20 * 1024);
  readonly #from: Oid[] = [];
  #meta = new Uint8Array(1024);
  /** The entry name's bytes in #names: start and end, or -1 for a reference that is no entry. */
  #nameAt = new Int32Array(2 * 1024);
  #names = new Uint8Array(16 * 1024);
  #namesEnd = 0;
  readonly #more = new Map<number, Pending[]>();

  /**
   * Sizes the tables for a pack of `objects` objects (its header's count, bounded by the caller):
   * growing them one doubling at a time re-inserted every id about once more.
   */
  reserve(objects: number): void {
    this.#types.reserve(objects);
    this.#awaiting.reserve(objects);
  }

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
    if (at < 0 || this.#meta[at]! & DONE) return;
    const code = CODE[type];
    if (((this.#meta[at]! >> 2) & 3) !== code) throw this.#error(at, this.#first(at), type);
    for (const p of this.#more.get(at) ?? []) if (p.expected !== type) throw this.#error(at, p, type);
    this.#meta[at]! |= DONE;
  }

  /**
   * A reference from `from` to the id at `buf[off..off+20]` needing `expected`; for a tree entry
   * the entry's name is `buf[nameStart..nameEnd)`, decoded only if it must be reported.
   */
  reference(from: Oid, fromType: ObjectType, buf: Uint8Array, off: number, expected: ObjectType, role: ReferenceRole, nameStart = -1, nameEnd = -1): void {
    const actual = this.#types.get(buf, off);
    if (actual >= 0) {
      if (TYPES[actual] !== expected) {
        throw referenceTypeError(from, fromType, { oid: oidFromBytes(buf, off), expected, role, name: nameAt(buf, nameStart, nameEnd) }, TYPES[actual]!);
      }
      return;
    }
    const at = this.#awaiting.get(buf, off);
    if (at >= 0) {
      if (((this.#meta[at]! >> 2) & 3) === CODE[expected]) return;
      const more = this.#more.get(at) ?? [];
      if (more.some((p) => p.expected === expected)) return;
      const p: Pending = { from, fromType, expected, role };
      const n = nameAt(buf, nameStart, nameEnd);
      if (n !== undefined) p.name = n;
      more.push(p);
      this.#more.set(at, more);
      return;
    }
    const i = this.#count++;
    if (this.#meta.length <= i) {
      this.#meta = grown(this.#meta, i + 1);
      this.#ids = grown(this.#ids, 20 * (i + 1));
      this.#nameAt = grown(this.#nameAt, 2 * (i + 1));
    }
    const ids = this.#ids;
    for (let k = 0; k < 20; k++) ids[i * 20 + k] = buf[off + k]!;
    this.#from.push(from);
    this.#meta[i] = CODE[fromType] | (CODE[expected] << 2) | (ROLE[role] << 4);
    if (nameStart < 0) {
      this.#nameAt[2 * i] = -1;
    } else {
      const len = nameEnd - nameStart;
      if (this.#names.length < this.#namesEnd + len) this.#names = grown(this.#names, this.#namesEnd + len);
      this.#names.set(buf.subarray(nameStart, nameEnd), this.#namesEnd);
      this.#nameAt[2 * i] = this.#namesEnd;
      this.#nameAt[2 * i + 1] = this.#namesEnd += len;
    }
    this.#awaiting.set(buf, off, i);
  }

  /** `reference` for a target given as a hex id (a commit's tree and parents, a tag's object). */
  referenceOid(from: Oid, fromType: ObjectType, oid: Oid, expected: ObjectType, role: ReferenceRole): void {
    this.reference(from, fromType, oidToBytes(oid), 0, expected, role);
  }

  /** The targets still waiting: objects the pack references and does not carry. */
  outside(): Oid[] {
    const out: Oid[] = [];
    for (let i = 0; i < this.#count; i++) if (!(this.#meta[i]! & DONE)) out.push(oidFromBytes(this.#ids, i * 20));
    return out;
  }

  /** The first reference to waiting target `at`, as an object (for an error). */
  #first(at: number): Pending {
    const m = this.#meta[at]!;
    const p: Pending = { from: this.#from[at]!, fromType: TYPES[m & 3]!, expected: TYPES[(m >> 2) & 3]!, role: ROLES[(m >> 4) & 3]! };
    const start = this.#nameAt[2 * at]!;
    if (start >= 0) p.name = nameFromBytes(this.#names.subarray(start, this.#nameAt[2 * at + 1]!));
    return p;
  }

  #error(at: number, p: Pending, actual: ObjectType): Error {
    return referenceTypeError(
      p.from,
      p.fromType,
      { oid: oidFromBytes(this.#ids, at * 20), expected: p.expected, role: p.role, ...(p.name !== undefined ? { name: p.name } : {}) },
      actual,
    );
  }
}
