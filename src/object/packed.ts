/**
 * The stored form of an object: exactly a pack entry of a non-delta object, so writing a pack
 * is concatenation. Grammar (gitformat-pack, "Object entries"):
 *   entry  = header zlib(body)
 *   header = 1*(MSB-continued byte): first byte 1 ttt ssss (type 3 bits, size low 4 bits),
 *            then 7 bits of size per byte, least significant first
 */
import { InvalidObjectError } from '../errors.js';
import { platform } from '../platform/index.js';
import { type ObjectType, TYPE_NUMBERS, TYPE_NAMES } from './oid.js';

/** Encodes the varint type+size header of a pack entry. */
export function encodeEntryHeader(type: number, size: number): Uint8Array {
  const bytes: number[] = [];
  let c = (type << 4) | (size & 0x0f);
  let s = Math.floor(size / 16);
  while (s > 0) {
    bytes.push(c | 0x80);
    c = s & 0x7f;
    s = Math.floor(s / 128);
  }
  bytes.push(c);
  return Uint8Array.from(bytes);
}

/** Decodes a pack-entry header at `offset`: type number, size, header length; null if incomplete. */
export function decodeEntryHeader(buf: Uint8Array, offset = 0): { type: number; size: number; length: number } | null {
  if (offset >= buf.length) return null;
  let c = buf[offset]!;
  const type = (c >> 4) & 7;
  let size = c & 0x0f;
  let shift = 4;
  let i = offset + 1;
  while (c & 0x80) {
    if (i >= buf.length) return null;
    if (shift > 53) throw new InvalidObjectError('pack entry size does not fit');
    c = buf[i++]!;
    size += (c & 0x7f) * 2 ** shift;
    shift += 7;
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

/** Type and size of a stored object, read from its header without inflating. */
export function packedInfo(stored: Uint8Array): { type: ObjectType; size: number; headerLength: number } {
  const h = decodeEntryHeader(stored);
  const type = h === null ? undefined : TYPE_NAMES[h.type];
  if (h === null || type === undefined) throw new InvalidObjectError('stored object has a bad header');
  return { type, size: h.size, headerLength: h.length };
}

/** Type and body of a stored object. */
export function decodePacked(stored: Uint8Array): { type: ObjectType; body: Uint8Array } {
  const { type, size, headerLength } = packedInfo(stored);
  const body = platform().inflate(stored.subarray(headerLength), size);
  if (body.length !== size) throw new InvalidObjectError('stored object size mismatch');
  return { type, body };
}
