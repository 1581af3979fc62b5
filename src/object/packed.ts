/**
 * The stored form of an object: exactly a pack entry of a non-delta object, so writing a pack
 * is concatenation. Grammar (gitformat-pack, "Object entries"):
 *   entry  = header zlib(body)
 *   header = 1*(MSB-continued byte): first byte 1 ttt ssss (type 3 bits, size low 4 bits),
 *            then 7 bits of size per byte, least significant first
 */
import { CorruptPackError, InvalidObjectError } from '../errors.js';
import { platform } from '../platform/index.js';
import { toHex } from '../platform/bytes.js';
import { type ObjectType, TYPE_NUMBERS, TYPE_NAMES } from './oid.js';
import { decodeChunked, isChunked } from './chunked.js';

/** More than this many size bytes is not a header any git writes (4 + 9 * 7 = 67 bits). */
const MAX_HEADER_BYTES = 10;

/** A decoded entry header. */
export interface EntryHeader {
  /** Pack type number (1–4, 6, 7). */
  type: number;
  /** Declared inflated size. May exceed 2^53 only approximately: callers compare it to a limit. */
  size: number;
  /** Bytes the header occupied. */
  length: number;
}

/** Encodes the type+size header of a pack entry. */
export function encodeEntryHeader(type: number, size: number): Uint8Array {
  const out = new Uint8Array(entryHeaderLength(size));
  writeEntryHeader(out, 0, type, size);
  return out;
}

/** Bytes of `encodeEntryHeader(type, size)`. */
export function entryHeaderLength(size: number): number {
  let n = 1;
  for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 128)) n++;
  return n;
}

/** Writes `encodeEntryHeader(type, size)` into `out` at `o` (nothing allocated); returns the end. */
export function writeEntryHeader(out: Uint8Array, o: number, type: number, size: number): number {
  if (!Number.isInteger(type) || type < 1 || type > 7 || type === 5) throw new RangeError(`invalid pack entry type ${type}`);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid pack entry size ${size}`);
  let rest = Math.floor(size / 16);
  let b = (type << 4) | (size % 16);
  while (rest > 0) {
    out[o++] = b | 0x80;
    b = rest % 128;
    rest = Math.floor(rest / 128);
  }
  out[o++] = b;
  return o;
}

/**
 * Decodes the entry header at `offset`: null when `buf` ends before the header does;
 * CorruptPackError on an invalid type or an overlong size.
 */
export function decodeEntryHeader(buf: Uint8Array, offset = 0): EntryHeader | null {
  if (offset >= buf.length) return null;
  let b = buf[offset]!;
  const type = (b >> 4) & 7;
  if (type === 0 || type === 5) throw new CorruptPackError(`invalid pack entry type ${type}`, { details: { type } });
  let size = b & 0x0f;
  let scale = 16;
  let i = offset + 1;
  while (b & 0x80) {
    if (i - offset >= MAX_HEADER_BYTES) throw new CorruptPackError('pack entry size is longer than 10 bytes');
    if (i >= buf.length) return null;
    b = buf[i++]!;
    size += (b & 0x7f) * scale;
    scale *= 128;
  }
  return { type, size, length: i - offset };
}

/** The stored (pack-entry) form of an object. */
export function encodePacked(type: ObjectType, body: Uint8Array, level = 1): Uint8Array {
  const head = encodeEntryHeader(TYPE_NUMBERS[type], body.length);
  const z = platform().deflate(body, level);
  const out = new Uint8Array(head.length + z.length);
  out.set(head);
  out.set(z, head.length);
  return out;
}

/**
 * `encodePacked` of many objects, deflated as one batch where the platform offers
 * `deflateMany` (browsers: the runtime's own zlib), else one by one.
 */
export async function encodePackedMany(objects: readonly { type: ObjectType; body: Uint8Array }[]): Promise<Uint8Array[]> {
  const many = platform().deflateMany;
  if (many === undefined) return objects.map((o) => encodePacked(o.type, o.body));
  const zs = await many(objects.map((o) => o.body));
  return objects.map((o, i) => {
    const head = encodeEntryHeader(TYPE_NUMBERS[o.type], o.body.length);
    const z = zs[i]!;
    const out = new Uint8Array(head.length + z.length);
    out.set(head);
    out.set(z, head.length);
    return out;
  });
}

/** Whether `encodePackedMany` deflates in a batch here (then writers defer their deflates to it). */
export function deflatesInBatches(): boolean {
  return platform().deflateMany !== undefined;
}

/** Type and size of a stored object, read from its header (or chunk marker, chunked.ts) without inflating. */
export function packedInfo(stored: Uint8Array): { type: ObjectType; size: number; headerLength: number } {
  if (isChunked(stored)) {
    const ref = decodeChunked(stored);
    return { type: ref.type, size: ref.size, headerLength: 0 };
  }
  const h = decodeEntryHeader(stored);
  const type = h === null ? undefined : TYPE_NAMES[h.type];
  if (h === null || type === undefined) throw new InvalidObjectError('stored object has a bad header');
  return { type, size: h.size, headerLength: h.length };
}

/** Type and body of a stored object. */
export function decodePacked(stored: Uint8Array): { type: ObjectType; body: Uint8Array } {
  if (isChunked(stored)) throw new InvalidObjectError('a chunked object must be assembled before it is decoded');
  const { type, size, headerLength } = packedInfo(stored);
  const body = platform().inflate(stored.subarray(headerLength), size);
  if (body.length !== size) throw new InvalidObjectError('stored object size mismatch');
  return { type, body };
}

/** Pack type number of OBJ_REF_DELTA. */
const REF_DELTA = 7;

/** A ref-delta pack entry: header (type 7, delta size), the base's raw id, zlib(delta). */
export function encodeRefDelta(baseOidBytes: Uint8Array, delta: Uint8Array, level = 1): Uint8Array {
  return refDeltaEntry(delta.length, baseOidBytes, platform().deflate(delta, level));
}

/**
 * A ref-delta pack entry from its parts: header (type 7, the delta's inflated size), the base's
 * raw id and the delta's zlib stream as it is (no inflate, no deflate: how ingest keeps a delta
 * exactly as it arrived).
 */
export function refDeltaEntry(deltaSize: number, baseOidBytes: Uint8Array, zlib: Uint8Array): Uint8Array {
  const head = encodeEntryHeader(REF_DELTA, deltaSize);
  const out = new Uint8Array(head.length + 20 + zlib.length);
  out.set(head);
  out.set(baseOidBytes, head.length);
  out.set(zlib, head.length + 20);
  return out;
}

/** The base id of a stored ref-delta entry. */
export function refDeltaBase(entry: Uint8Array): string {
  const at = refDeltaBaseAt(entry);
  return toHex(entry, at, at + 20);
}

/** Where the 20 raw bytes of a stored ref-delta entry's base id start (after its header). */
export function refDeltaBaseAt(entry: Uint8Array): number {
  let i = 0;
  while (entry[i]! & 0x80) i++;
  return i + 1;
}

/**
 * A `D` value. Two layouts share the key (docs/storage.md):
 *   old: the ref-delta entry alone (first byte 0x70–0x7f or 0xf0–0xff); an `O` entry is always beside it
 *   new: type(1 byte, 1–4) size(varint, 7 bits per byte, least significant first) ref-delta entry
 * The new layout's prefix makes `info` cheap for an object stored only as a delta.
 */
export interface StoredDelta {
  /** The ref-delta pack entry: header (type 7, delta size), base id, zlib(delta). */
  entry: Uint8Array;
  /** The delta base's id. */
  base: string;
  /** The object's type and size (new layout only). */
  type?: ObjectType;
  size?: number;
}

/**
 * Size of a stored chunk of a big object's pack entry (object/chunked.ts; the last one of a
 * stream is shorter). A streamed delta result leaves the pack reader in pieces of this size
 * (pack/delta-stream.ts), so each is stored as a chunk as it is.
 */
export const CHUNK_BYTES = 1024 * 1024;

/** The `D` value of an object stored as a delta (new layout, see StoredDelta). */
export function encodeStoredDelta(type: ObjectType, size: number, entry: Uint8Array): Uint8Array {
  const head = storedDeltaHead(TYPE_NUMBERS[type], size);
  const out = new Uint8Array(head.length + entry.length);
  out.set(head);
  out.set(entry, head.length);
  return out;
}

/** The prefix of a `D` value before its ref-delta entry: the type number, then the size as a varint (see StoredDelta). */
export function storedDeltaHead(typeNumber: number, size: number): Uint8Array {
  const out = new Uint8Array(storedDeltaHeadLength(size));
  writeStoredDeltaHead(out, 0, typeNumber, size);
  return out;
}

/**
 * Whether an object's whole entry may be smaller than its stored delta (`deltaLength`: the
 * bytes of its `D` value), so that choosing between them needs a deflate: not when the delta
 * is under a quarter of the body, or, for a tree, under half of it (a tree's 20-byte ids do
 * not deflate: on git's own history no tree delta of a quarter to 0.7 of its tree was ever
 * larger than the tree deflated, over 10,237 of them, whose deflates took 1.5 s of a push).
 */
export function wholeMayBeSmaller(type: ObjectType, size: number, deltaLength: number): boolean {
  return deltaLength * (type === 'tree' ? 2 : 4) >= size;
}

/** Bytes of `storedDeltaHead(typeNumber, size)`. */
export function storedDeltaHeadLength(size: number): number {
  let n = 2;
  for (let rest = size; rest >= 128; rest = Math.floor(rest / 128)) n++;
  return n;
}

/** Writes `storedDeltaHead(typeNumber, size)` into `out` at `o` (nothing allocated); returns the end. */
export function writeStoredDeltaHead(out: Uint8Array, o: number, typeNumber: number, size: number): number {
  out[o++] = typeNumber;
  let rest = size;
  while (rest >= 128) {
    out[o++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[o++] = rest;
  return o;
}

/** Parses a `D` value of either layout (see StoredDelta). */
export function decodeStoredDelta(value: Uint8Array): StoredDelta {
  const first = value[0];
  if (first === undefined) throw new InvalidObjectError('stored delta is empty');
  if (first >= 0x10) return { entry: value, base: refDeltaBase(value) };
  const type = TYPE_NAMES[first];
  if (type === undefined) throw new InvalidObjectError('stored delta has a bad type byte');
  const { size, at } = storedDeltaSize(value);
  const entry = value.subarray(at);
  return { entry, base: refDeltaBase(entry), type, size };
}

/** The ref-delta entry of a `D` value of either layout (see StoredDelta), without parsing it further. */
export function deltaEntryOf(value: Uint8Array): Uint8Array {
  const first = value[0];
  if (first === undefined) throw new InvalidObjectError('stored delta is empty');
  return first >= 0x10 ? value : storedDeltaRefEntry(value);
}

/** The ref-delta entry of a new-layout `D` value (see StoredDelta), without parsing it further. */
export function storedDeltaRefEntry(value: Uint8Array): Uint8Array {
  return value.subarray(storedDeltaSize(value).at);
}

/** The object size of a new-layout `D` value and where its ref-delta entry starts. */
function storedDeltaSize(value: Uint8Array): { size: number; at: number } {
  let size = 0;
  let scale = 1;
  let i = 1;
  for (;;) {
    if (i > MAX_HEADER_BYTES || i >= value.length) throw new InvalidObjectError('stored delta has a bad size');
    const b = value[i++]!;
    size += (b & 0x7f) * scale;
    scale *= 128;
    if (!(b & 0x80)) break;
  }
  return { size, at: i };
}

/** The delta data of a stored ref-delta entry (inflated). */
export function refDeltaData(entry: Uint8Array): Uint8Array {
  const h = decodeEntryHeader(entry);
  if (h === null || h.type !== REF_DELTA || entry.length < h.length + 20) throw new InvalidObjectError('stored delta has a bad header');
  const data = platform().inflate(entry.subarray(h.length + 20), h.size);
  if (data.length !== h.size) throw new InvalidObjectError('stored delta size mismatch');
  return data;
}

/**
 * Whether a stored value is a new-layout `D` value (its first byte is a type number, 1–4)
 * rather than a whole entry (whose first byte carries the type in bits 4–6, so is at least
 * 0x10): the quarantine keeps both forms in one key range and tells them apart by this.
 */
export function isStoredDelta(value: Uint8Array): boolean {
  return value.length > 0 && value[0]! < 0x10;
}
