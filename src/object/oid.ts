/**
 * Object ids: SHA-1 as 40 lower-case hex characters (the form refs, the wire protocol and
 * the API use) and as 20 raw bytes (the form trees, ref-deltas and storage keys use).
 * `Oid` is a branded string that only the validators here create.
 */
import { InvalidArgumentError } from '../errors.js';
import { platform } from '../platform/index.js';
import { toHex, hexInto, utf8 } from '../platform/bytes.js';

/** A validated 40-character lower-case hex SHA-1. */
export type Oid = string & { readonly __brand: 'Oid' };

/** The all-zero id: "must not exist" as an old value, "delete" as a new one. */
export const ZERO_OID = '0'.repeat(40) as Oid;

/** Git object types. */
export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

/** Pack type numbers of the four object types. */
export const TYPE_NUMBERS: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
/** Object type of a pack type number (1–4). */
export const TYPE_NAMES: readonly (ObjectType | undefined)[] = [undefined, 'commit', 'tree', 'blob', 'tag'];

const OID_RE = /^[0-9a-f]{40}$/;

/** True when `s` is a 40-character lower-case hex id. */
export function isOid(s: unknown): s is Oid {
  return typeof s === 'string' && OID_RE.test(s);
}

/** Validates (and lower-cases) an id given by a caller; throws InvalidArgumentError otherwise. */
export function parseOid(s: unknown, what = 'oid'): Oid {
  if (typeof s === 'string') {
    const l = s.toLowerCase();
    if (OID_RE.test(l)) return l as Oid;
  }
  throw new InvalidArgumentError(`${what} must be a 40-character hex SHA-1`, { details: { value: s } });
}

/** Hex id of 20 raw bytes at `offset`. */
export function oidFromBytes(b: Uint8Array, offset = 0): Oid {
  return toHex(b, offset, offset + 20) as Oid;
}

/** 20 raw bytes of an id. */
export function oidToBytes(oid: Oid): Uint8Array {
  const out = new Uint8Array(20);
  hexInto(oid, out);
  return out;
}

/** Writes the 20 raw bytes of `oid` into `out` at `offset`. */
export function writeOid(oid: Oid, out: Uint8Array, offset: number): void {
  hexInto(oid, out, offset);
}

const owned = new Uint8Array(20);

/**
 * `oid` as a string of its own. An id parsed out of a larger text (a commit's `tree` line) is a
 * slice that keeps the whole text alive as long as the id is kept: what is kept for long (ingest's
 * commits until the end of a pack) is copied first.
 */
export function ownOid(oid: Oid): Oid {
  hexInto(oid, owned);
  return oidFromBytes(owned);
}

/** The loose-object header `"<type> <size>\0"`. */
export function objectHeader(type: ObjectType, size: number): Uint8Array {
  return utf8(`${type} ${size}\0`);
}

/** The id git gives an object of `type` with `body`. */
export function hashObject(type: ObjectType, body: Uint8Array): Oid {
  const p = platform();
  if (p.sha1Hex !== undefined) return p.sha1Hex(`${type} ${body.length}\0`, body) as Oid;
  const h = p.createSha1();
  h.update(objectHeader(type, body.length));
  h.update(body);
  return toHex(h.digest()) as Oid;
}
