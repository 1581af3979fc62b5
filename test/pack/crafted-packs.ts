/** Raw packs built byte by byte for the pack-reader limit tests and the attack corpus. */
import { deflateSync } from 'node:zlib';
import { encodeEntryHeader, encodeOfsOffset, encodePackEntry, OBJ_OFS_DELTA, OBJ_REF_DELTA } from '../../src/pack/entry.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { concat } from '../../src/platform/bytes.js';
import { createDelta } from '../../src/pack/delta.js';

export { writePackSync, encodePackEntry };

/** A delta header's size varint (little-endian groups of 7 bits). */
export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A delta copy op of `size` (1 to 16 MiB - 1) bytes at `off`. */
export function copyOp(off: number, size: number): number[] {
  let op = 0x80;
  const args: number[] = [];
  for (let k = 0; k < 4; k++) {
    const b = Math.floor(off / 2 ** (8 * k)) & 0xff;
    if (b !== 0) {
      op |= 1 << k;
      args.push(b);
    }
  }
  for (let k = 0; k < 3; k++) {
    const b = (size >> (8 * k)) & 0xff;
    if (b !== 0) {
      op |= 0x10 << k;
      args.push(b);
    }
  }
  return [op, ...args];
}

/** A delta rebuilding `resultSize` bytes from 64 KiB copies of the start of a base of `baseSize` (>= 64 KiB) bytes. */
export function amplifyingDelta(baseSize: number, resultSize: number): Uint8Array {
  const ops: number[] = [...varint(baseSize), ...varint(resultSize)];
  let left = resultSize;
  while (left >= 0x10000) {
    ops.push(0x80); // copy offset 0, size 0 = 0x10000
    left -= 0x10000;
  }
  if (left > 0) ops.push(0x90 | (left > 0xff ? 0x20 : 0), left & 0xff, ...(left > 0xff ? [left >> 8] : []));
  return Uint8Array.from(ops);
}

/** An OBJ_REF_DELTA entry on `base`. */
export function refDelta(base: Oid, delta: Uint8Array): Uint8Array {
  return concat([encodeEntryHeader(OBJ_REF_DELTA, delta.length), oidToBytes(base), new Uint8Array(deflateSync(delta, { level: 9 }))]);
}

/** An OBJ_OFS_DELTA entry whose base starts `distance` bytes before it. */
export function ofsDelta(distance: number, delta: Uint8Array): Uint8Array {
  return concat([encodeEntryHeader(OBJ_OFS_DELTA, delta.length), encodeOfsOffset(distance), new Uint8Array(deflateSync(delta, { level: 9 }))]);
}

/** A blob entry of `size` zero bytes, deflated as hard as zlib can (a zlib bomb). */
export function zeroBlobEntry(size: number): Uint8Array {
  return concat([encodeEntryHeader(3, size), new Uint8Array(deflateSync(new Uint8Array(size), { level: 9 }))]);
}

/** Deterministic pseudo-random bytes. */
export function noise(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** `count` ref-deltas each rebuilding `resultSize` bytes from a random 64 KiB base sent after them. */
export function deltasBeforeBase(count: number, resultSize: number, baseSize = 64 * 1024): Uint8Array {
  const base = noise(baseSize, 7);
  const oid = hashObject('blob', base);
  const entries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) entries.push(refDelta(oid, distinctDelta(baseSize, resultSize, i)));
  entries.push(encodePackEntry('blob', base));
  return writePackSync(entries);
}

/** The same deltas as `deltasBeforeBase`, sent after their base: each resolves as it arrives. */
export function deltasAfterBase(count: number, resultSize: number, baseSize = 64 * 1024): Uint8Array {
  const base = noise(baseSize, 7);
  const oid = hashObject('blob', base);
  const entries: Uint8Array[] = [encodePackEntry('blob', base)];
  for (let i = 0; i < count; i++) entries.push(refDelta(oid, distinctDelta(baseSize, resultSize, i)));
  return writePackSync(entries);
}

/** An amplifying delta whose last byte is the insert `i`, so results differ. */
export function distinctDelta(baseSize: number, resultSize: number, i: number): Uint8Array {
  const head = amplifyingDelta(baseSize, resultSize - 1);
  // Rewrite the declared result size: amplifyingDelta(base, size-1) declares size-1.
  const body = head.subarray(varint(baseSize).length + varint(resultSize - 1).length);
  return Uint8Array.from([...varint(baseSize), ...varint(resultSize), ...body, 1, i & 0xff]);
}

/**
 * A pack of `files` files with `versions` versions each, as ofs-delta chains: a file's first
 * version whole (random bytes of a size from `sizes`, in turn), each later one a copy of an
 * earlier version (the previous, or every fifth time the first, so bases leave a small cache
 * and come back) with a few bytes rewritten and some appended. Files are interleaved, version
 * by version, as a history's objects are. Returns the pack and every version's id and body, in
 * pack order: what a reader must give back.
 */
export function versionChains(files: number, versions: number, sizes: readonly number[]): { pack: Uint8Array; objects: { oid: Oid; body: Uint8Array }[] } {
  const entries: Uint8Array[] = [];
  const objects: { oid: Oid; body: Uint8Array }[] = [];
  const at: number[][] = Array.from({ length: files }, () => []);
  const bodies: Uint8Array[][] = Array.from({ length: files }, () => []);
  let offset = 12;
  for (let v = 0; v < versions; v++) {
    for (let f = 0; f < files; f++) {
      let body: Uint8Array;
      let entry: Uint8Array;
      if (v === 0) {
        body = noise(sizes[f % sizes.length]!, f + 1);
        entry = encodePackEntry('blob', body);
      } else {
        const from = v % 5 === 0 ? 0 : v - 1;
        const base = bodies[f]![from]!;
        body = new Uint8Array(base.length + 7);
        body.set(base);
        body.set(noise(7, f * 1000 + v), base.length);
        body[(v * 131) % base.length] = v & 0xff;
        entry = ofsDelta(offset - at[f]![from]!, createDelta(base, body));
      }
      at[f]!.push(offset);
      bodies[f]!.push(body);
      objects.push({ oid: hashObject('blob', body), body });
      entries.push(entry);
      offset += entry.length;
    }
  }
  return { pack: writePackSync(entries), objects };
}
