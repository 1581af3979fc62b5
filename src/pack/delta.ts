/**
 * Git delta data (gitformat-pack, "Deltified representation"). Grammar:
 *   delta       = base-size result-size *op
 *   base-size   = varint, result-size = varint   (little-endian 7-bit groups, MSB = more)
 *   op          = copy / insert
 *   copy        = 1xxxxxxx [off1][off2][off3][off4] [size1][size2][size3]
 *                 bits 0–3 say which offset bytes follow, bits 4–6 which size bytes;
 *                 a size of 0 means 0x10000
 *   insert      = 0nnnnnnn n(bytes)   with n in 1..127; the op byte 0 is reserved
 */
import { CorruptPackError, LimitExceededError } from '../errors.js';

/** Sizes declared at the start of a delta, and where its ops begin. */
export interface DeltaSizes {
  baseSize: number;
  resultSize: number;
  /** Offset of the first op. */
  offset: number;
}

/** Default limit of `applyDelta` results: 512 MiB, as the pack reader's default object size. */
export const DEFAULT_MAX_DELTA_RESULT = 512 * 1024 * 1024;

/** Longest size varint accepted (10 groups cover 64 bits). */
const MAX_VARINT_BYTES = 10;

/** Where the varint `readVarint` read last ends (module state: no array allocated per call). */
let varintEnd = 0;

/** Reads the size varint at `at`; its end is left in `varintEnd`. */
function readVarint(delta: Uint8Array, at: number): number {
  let value = 0;
  let scale = 1;
  let i = at;
  for (;;) {
    if (i >= delta.length) throw new CorruptPackError('delta ends inside its header');
    if (i - at >= MAX_VARINT_BYTES) throw new CorruptPackError('delta size is too long');
    const b = delta[i++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (!(b & 0x80)) {
      varintEnd = i;
      return value;
    }
  }
}

/** Reads the base and result sizes a delta declares. */
export function readDeltaSizes(delta: Uint8Array): DeltaSizes {
  const baseSize = readVarint(delta, 0);
  const resultSize = readVarint(delta, varintEnd);
  return { baseSize, resultSize, offset: varintEnd };
}

/**
 * Copies and inserts up to this many bytes go byte by byte: cheaper than a subarray view and a
 * `set` call for the short runs tree and text deltas are made of (most ops of a long history's
 * pack), with the same result.
 */
const SHORT_COPY = 64;

/**
 * Applies `delta` to `base`. Checks every op against the base and the declared sizes
 * (CorruptPackError) and refuses a result larger than `maxResultSize` before allocating it
 * (LimitExceededError). `alloc` gives the zero-filled result buffer (the pack reader's slabs).
 */
export function applyDelta(
  base: Uint8Array,
  delta: Uint8Array,
  maxResultSize = DEFAULT_MAX_DELTA_RESULT,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  const baseSize = readVarint(delta, 0);
  const resultSize = readVarint(delta, varintEnd);
  if (baseSize !== base.length) {
    throw new CorruptPackError(`delta base size ${baseSize} does not match the base (${base.length} bytes)`);
  }
  if (resultSize > maxResultSize) {
    throw new LimitExceededError(`delta result of ${resultSize} bytes exceeds the limit of ${maxResultSize}`, {
      details: { limit: 'maxObjectSize', size: resultSize, max: maxResultSize },
    });
  }
  const ops = varintEnd;
  const out = alloc(resultSize);
  let o = 0;
  let i = ops;
  const n = delta.length;
  while (i < n) {
    const op = delta[i++]!;
    if (op & 0x80) {
      i = readCopyOp(delta, i, op);
      const off = copyOp.offset;
      const size = copyOp.size;
      if (off + size > base.length) {
        throw new CorruptPackError(`delta copies bytes ${off}..${off + size} outside the base (${base.length} bytes)`);
      }
      if (o + size > resultSize) throw new CorruptPackError('delta writes past its declared result size');
      if (size <= SHORT_COPY) for (let k = 0; k < size; k++) out[o + k] = base[off + k]!;
      else out.set(base.subarray(off, off + size), o);
      o += size;
    } else if (op !== 0) {
      if (i + op > n) throw new CorruptPackError('delta ends inside an insert op');
      if (o + op > resultSize) throw new CorruptPackError('delta writes past its declared result size');
      if (op <= SHORT_COPY) for (let k = 0; k < op; k++) out[o + k] = delta[i + k]!;
      else out.set(delta.subarray(i, i + op), o);
      o += op;
      i += op;
    } else {
      throw new CorruptPackError('delta contains the reserved op 0');
    }
  }
  if (o !== resultSize) throw new CorruptPackError(`delta produced ${o} bytes but declared ${resultSize}`);
  return out;
}

/** The operands of the copy op `readCopyOp` read last (one object, reused: nothing allocated per op). */
export const copyOp = { offset: 0, size: 0 };

/**
 * Reads the operands of copy op `op` (bit 7 set) from `delta` at `i` into `copyOp` (a size of 0
 * stands for 0x10000) and returns where the next op starts. Every optional byte the op announces
 * must be present: CorruptPackError otherwise.
 */
export function readCopyOp(delta: Uint8Array, i: number, op: number): number {
  if (i + OPERAND_BYTES[op & 0x7f]! > delta.length) throw new CorruptPackError('delta ends inside a copy op');
  let off = 0;
  let size = 0;
  if (op & 0x01) off = delta[i++]!;
  if (op & 0x02) off += delta[i++]! * 0x100;
  if (op & 0x04) off += delta[i++]! * 0x10000;
  if (op & 0x08) off += delta[i++]! * 0x1000000;
  if (op & 0x10) size = delta[i++]!;
  if (op & 0x20) size += delta[i++]! * 0x100;
  if (op & 0x40) size += delta[i++]! * 0x10000;
  copyOp.offset = off;
  copyOp.size = size === 0 ? 0x10000 : size;
  return i;
}

/** Operand bytes a copy op announces, by its low seven bits (their count of set bits). */
const OPERAND_BYTES = Uint8Array.from({ length: 128 }, (_, op) => {
  let need = 0;
  for (let bit = 1; bit < 0x80; bit <<= 1) if (op & bit) need++;
  return need;
});

/** Copied runs shorter than this are left out of `deltaCopies` (no whole entry of two would fit). */
const MIN_RUN = 64;
/** At most this many runs per delta (a longer list is cut: fewer bytes known, never wrong ones). */
const MAX_RUNS = 64;

/**
 * The runs of a delta's result that are copies of its base, as (start, end, shift) triples in
 * order: the result's bytes [start, end) are the base's [start + shift, end + shift), byte for
 * byte, once `applyDelta` accepted the delta. Copy ops that continue one another at the same
 * shift make one run; runs under MIN_RUN bytes are left out, at most MAX_RUNS; undefined when
 * none is left. Ingest skips the checks of a tree's entries that are its base's entries
 * (object/tree-skips.ts): most of a tree delta's result is a few such runs.
 */
export function deltaCopies(delta: Uint8Array): Int32Array | undefined {
  let i = readDeltaSizes(delta).offset;
  let t = 0;
  const out = RUNS;
  let o = 0;
  let start = -1;
  let end = -1;
  let shift = 0;
  const flush = () => {
    if (start >= 0 && end - start >= MIN_RUN && o < out.length) {
      out[o++] = start;
      out[o++] = end;
      out[o++] = shift;
    }
  };
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      i = readCopyOp(delta, i, op);
      const s = copyOp.offset - t;
      if (start >= 0 && end === t && s === shift) end = t + copyOp.size;
      else {
        flush();
        start = t;
        end = t + copyOp.size;
        shift = s;
      }
      t += copyOp.size;
    } else {
      flush();
      start = -1;
      i += op;
      t += op;
    }
  }
  flush();
  return o === 0 ? undefined : out.slice(0, o);
}

/** deltaCopies' scratch (one per thread). */
const RUNS = new Int32Array(MAX_RUNS * 3);

function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** Window of the block index: bytes hashed per indexed base position. */
const BLOCK = 16;
/** Largest copy emitted per op (git's own encoder stays at 64 KiB for old readers). */
const MAX_COPY = 0x10000;
const HASH_MUL = 0x01000193;

function blockHash(b: Uint8Array, at: number): number {
  let h = 0;
  for (let k = 0; k < BLOCK; k++) h = (Math.imul(h, HASH_MUL) + b[at + k]!) | 0;
  return h;
}

/**
 * The first position of each hash of the base's aligned blocks: open addressing over two typed
 * arrays (a hash and its position + 1; 0 marks an empty slot), at most half full. A `Map` of
 * numbers cost most of `createDelta`'s time in its lookups, one per target byte not copied.
 */
class BlockIndex {
  readonly #hashes: Int32Array;
  readonly #at: Int32Array;
  readonly #mask: number;

  constructor(base: Uint8Array) {
    let cap = 16;
    while (cap < (base.length / BLOCK) * 2) cap *= 2;
    this.#hashes = new Int32Array(cap);
    this.#at = new Int32Array(cap);
    this.#mask = cap - 1;
    for (let p = 0; p + BLOCK <= base.length; p += BLOCK) {
      const h = blockHash(base, p);
      const i = this.#slot(h);
      if (this.#at[i] === 0) {
        this.#hashes[i] = h;
        this.#at[i] = p + 1;
      }
    }
  }

  /** The slot of hash `h`: where it is, or the empty slot where it would go. */
  #slot(h: number): number {
    // The hash's high bits are its best mixed (a multiplicative hash); fold them down.
    let i = (h ^ (h >>> 15)) & this.#mask;
    while (this.#at[i] !== 0 && this.#hashes[i] !== h) i = (i + 1) & this.#mask;
    return i;
  }

  /** The first base position whose block hashes to `h`, or -1. */
  get(h: number): number {
    return this.#at[this.#slot(h)]! - 1;
  }
}

/**
 * Encodes `target` as a delta against `base`: a hash index of the base's aligned 16-byte
 * blocks, a rolling hash over the target, matches extended both ways into copy ops,
 * everything else as inserts. Simple rather than optimal; always correct. With `maxSize`, gives
 * up and returns undefined as soon as the delta grows past it (a caller that keeps only small
 * deltas need not pay for encoding unrelated content to the end).
 */
export function createDelta(base: Uint8Array, target: Uint8Array): Uint8Array;
export function createDelta(base: Uint8Array, target: Uint8Array, maxSize: number): Uint8Array | undefined;
export function createDelta(base: Uint8Array, target: Uint8Array, maxSize = Infinity): Uint8Array | undefined {
  const out: number[] = [];
  pushVarint(out, base.length);
  pushVarint(out, target.length);

  const index = new BlockIndex(base);

  let pending = 0; // start of bytes not yet emitted
  const flushInsert = (end: number) => {
    while (pending < end) {
      const n = Math.min(127, end - pending);
      out.push(n);
      for (let k = 0; k < n; k++) out.push(target[pending + k]!);
      pending += n;
    }
  };
  const emitCopy = (off: number, size: number) => {
    while (size > 0) {
      const n = Math.min(MAX_COPY, size);
      let op = 0x80;
      const bytes: number[] = [];
      for (let k = 0; k < 4; k++) {
        const v = Math.floor(off / 2 ** (8 * k)) & 0xff;
        if (v !== 0) {
          op |= 1 << k;
          bytes.push(v);
        }
      }
      const s = n === 0x10000 ? 0 : n;
      for (let k = 0; k < 3; k++) {
        const v = (s >> (8 * k)) & 0xff;
        if (v !== 0) {
          op |= 0x10 << k;
          bytes.push(v);
        }
      }
      out.push(op, ...bytes);
      off += n;
      size -= n;
    }
  };

  // Multiplier raised to BLOCK - 1, to roll the first byte out of the hash.
  let top = 1;
  for (let k = 0; k < BLOCK - 1; k++) top = Math.imul(top, HASH_MUL);

  let i = 0;
  let h = target.length >= BLOCK ? blockHash(target, 0) : 0;
  while (i + BLOCK <= target.length) {
    // Bytes waiting more than two blocks back will go out as inserts (a longer match would
    // have contained an aligned base block and been found already): past the limit, stop.
    if (out.length + (i - pending) - 2 * BLOCK > maxSize) return undefined;
    const cand = index.get(h);
    let matched = false;
    if (cand >= 0) {
      let len = 0;
      while (cand + len < base.length && i + len < target.length && base[cand + len] === target[i + len]) len++;
      if (len >= BLOCK) {
        // Extend backwards over bytes still waiting to be inserted.
        let back = 0;
        while (back < i - pending && back < cand && base[cand - back - 1] === target[i - back - 1]) back++;
        flushInsert(i - back);
        emitCopy(cand - back, len + back);
        i += len;
        pending = i;
        matched = true;
        if (i + BLOCK <= target.length) h = blockHash(target, i);
      }
    }
    if (!matched) {
      if (i + BLOCK < target.length) {
        h = (Math.imul(h - Math.imul(target[i]!, top), HASH_MUL) + target[i + BLOCK]!) | 0;
      }
      i++;
    }
  }
  flushInsert(target.length);
  if (out.length > maxSize) return undefined;
  return Uint8Array.from(out);
}
