/**
 * Pack entry headers (gitformat-pack, "Object entries"). Grammar:
 *   entry       = header [ofs-base / ref-base] zlib-stream
 *   header      = first-byte *size-byte
 *   first-byte  = MSB(1 bit: more follows) type(3 bits) size(low 4 bits)
 *   size-byte   = MSB(1 bit: more follows) size(next 7 bits, little-endian groups)
 *   ofs-base    = byte *byte   big-endian 7-bit groups, MSB = more follows, and every group
 *                              after the first adds 1 first (offset = ((offset + 1) << 7) | bits)
 *   ref-base    = 20(raw-oid)
 * Types: 1 commit, 2 tree, 3 blob, 4 tag, 6 OBJ_OFS_DELTA, 7 OBJ_REF_DELTA; 0 and 5 are invalid.
 * The size is the inflated size of the zlib stream (for deltas: of the delta data).
 *
 * `encodePackEntry` produces the exact bytes the store keeps per object, so a pack is written
 * by concatenating stored entries.
 */
import { CorruptPackError } from '../errors.js';
import type { ObjectType, Oid } from '../object/oid.js';
import { hexInto } from '../platform/bytes.js';
import { encodePacked, entryHeaderLength, storedDeltaHeadLength, writeEntryHeader, writeStoredDeltaHead } from '../object/packed.js';

/** Pack type number of OBJ_OFS_DELTA. */
export const OBJ_OFS_DELTA = 6;
/** Pack type number of OBJ_REF_DELTA. */
export const OBJ_REF_DELTA = 7;

/** Longest ofs-delta offset we accept (9 groups already exceed 2^53). */
const MAX_OFS_BYTES = 9;

export { encodeEntryHeader, decodeEntryHeader, refDeltaEntry, type EntryHeader } from '../object/packed.js';

/** Encodes the negative offset of an OBJ_OFS_DELTA base (distance back from the delta entry). */
export function encodeOfsOffset(distance: number): Uint8Array {
  const out = new Uint8Array(ofsOffsetLength(distance));
  writeOfsOffset(out, 0, distance);
  return out;
}

/** Bytes `encodeOfsOffset(distance)` takes. */
export function ofsOffsetLength(distance: number): number {
  if (!Number.isSafeInteger(distance) || distance <= 0) throw new RangeError(`invalid ofs-delta distance ${distance}`);
  let length = 1;
  for (let n = Math.floor(distance / 128); n > 0; n = Math.floor((n - 1) / 128)) length++;
  return length;
}

/** Writes `encodeOfsOffset(distance)` into `out` at `o` without allocating; returns the end. */
function writeOfsOffset(out: Uint8Array, o: number, distance: number): number {
  const end = o + ofsOffsetLength(distance);
  let i = end - 1;
  out[i] = distance % 128;
  for (let n = Math.floor(distance / 128); n > 0; n = Math.floor(n / 128)) {
    n -= 1;
    out[--i] = 0x80 | (n % 128);
  }
  return end;
}

/**
 * Decodes an OBJ_OFS_DELTA base distance at `offset`: `{distance, length}`, null when `buf`
 * ends first, CorruptPackError when it is overlong.
 */
export function decodeOfsOffset(buf: Uint8Array, offset = 0): { distance: number; length: number } | null {
  if (offset >= buf.length) return null;
  let b = buf[offset]!;
  let distance = b & 0x7f;
  let i = offset + 1;
  while (b & 0x80) {
    if (i - offset >= MAX_OFS_BYTES) throw new CorruptPackError('ofs-delta offset is too long');
    if (i >= buf.length) return null;
    b = buf[i++]!;
    distance = (distance + 1) * 128 + (b & 0x7f);
  }
  return { distance, length: i - offset };
}

/** The stored and packed form of an object: entry header + zlib(body). */
export function encodePackEntry(type: ObjectType, body: Uint8Array, level?: number): Uint8Array {
  return encodePacked(type, body, level);
}

/** Whether an encoded entry is an OBJ_REF_DELTA (its type bits, without decoding the size). */
export function isRefDeltaEntry(entry: Uint8Array): boolean {
  return entry.length > 0 && ((entry[0]! >> 4) & 7) === OBJ_REF_DELTA;
}

/**
 * Rewrites an encoded OBJ_REF_DELTA entry as an OBJ_OFS_DELTA whose base starts `distance`
 * bytes before this entry: the same size and zlib stream, the 20-byte base id replaced by the
 * offset. No inflate, no deflate.
 */
export function refDeltaAsOfsDelta(entry: Uint8Array, distance: number): Uint8Array {
  if (!isRefDeltaEntry(entry)) throw new RangeError('not a ref-delta entry');
  const out = new Uint8Array(entry.length - 20 + ofsOffsetLength(distance));
  writeAsOfsDelta(out, 0, entry, distance);
  return out;
}

/**
 * Writes the encoded OBJ_REF_DELTA `entry` into `out` at `o` as an OBJ_OFS_DELTA whose base
 * starts `distance` bytes before it: `entry.length - 20 + ofsOffsetLength(distance)` bytes,
 * nothing allocated but one view of the zlib stream (a full clone rewrites ~100,000 entries).
 * Returns the end.
 */
export function writeAsOfsDelta(out: Uint8Array, o: number, entry: Uint8Array, distance: number): number {
  let h = 0;
  do out[o + h] = entry[h]!;
  while (entry[h++]! & 0x80);
  out[o] = (entry[0]! & 0x8f) | (OBJ_OFS_DELTA << 4);
  const at = writeOfsOffset(out, o + h, distance);
  const z = entry.subarray(h + 20);
  out.set(z, at);
  return at + z.length;
}

/**
 * An object's `D` value (object/packed.ts encodeStoredDelta: type byte, size varint, then the
 * ref-delta entry of `refDeltaEntry`) built in one buffer, with a view of its ref-delta entry:
 * the resolver makes both at once, so ingest stores a delta without another copy. Written in
 * place (no header arrays); `baseOid` raw or hex; `alloc` gives the buffer (the resolver's
 * slabs.ts parts), a new one by default.
 */
export function storedDeltaEntry(
  type: number,
  size: number,
  deltaSize: number,
  baseOid: Uint8Array | Oid,
  zlib: Uint8Array,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): { stored: Uint8Array; entry: Uint8Array } {
  const at = storedDeltaHeadLength(size);
  const stored = alloc(at + entryHeaderLength(deltaSize) + 20 + zlib.length);
  const o = writeEntryHeader(stored, writeStoredDeltaHead(stored, 0, type, size), OBJ_REF_DELTA, deltaSize);
  if (typeof baseOid === 'string') hexInto(baseOid, stored, o);
  else stored.set(baseOid, o);
  stored.set(zlib, o + 20);
  return { stored, entry: new Uint8Array(stored.buffer, stored.byteOffset + at, stored.length - at) };
}
