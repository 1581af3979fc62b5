/**
 * Pack writer (gitformat-pack). Grammar:
 *   pack    = "PACK" version(4, big-endian = 2) count(4, big-endian) *entry trailer
 *   trailer = 20(SHA-1 of every byte before it)
 * Entries arrive already encoded (entry.ts `encodePackEntry`, or verbatim from the store), so
 * writing is concatenation: no inflate, no deflate, no delta search. This is the only pack
 * framing of the project: `writePack` (entry by entry, re-chunked) for tests and tools,
 * `writePackBatches` (one chunk per batch of stored entries) for the packs clones receive.
 */
import { InvalidArgumentError } from '../errors.js';
import { platform } from '../platform/index.js';
import type { Sha1Hasher } from '../platform/index.js';
import { concat } from '../platform/bytes.js';
import type { Oid } from '../object/oid.js';
import { refDeltaBase } from '../object/packed.js';
import { isRefDeltaEntry, ofsOffsetLength, refDeltaAsOfsDelta, writeAsOfsDelta } from './entry.js';

/** Default size of the chunks `writePack` yields. */
export const DEFAULT_PACK_CHUNK_SIZE = 64 * 1024;

/** One encoded entry, whole or in parts (e.g. header and zlib stream kept apart). */
export type PackEntryBytes = Uint8Array | Uint8Array[];

/** Options of `writePack`. */
export interface WritePackOptions {
  /** Target size of yielded chunks (default 64 KiB); larger entries are sliced to it. */
  chunkSize?: number;
}

/** The 12-byte pack header for `count` objects. */
export function encodePackHeader(count: number): Uint8Array {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
    throw new InvalidArgumentError(`pack object count must be an integer in 0..2^32-1, got ${count}`);
  }
  const h = new Uint8Array(12);
  h.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2]);
  new DataView(h.buffer).setUint32(8, count);
  return h;
}

/** Header, entry count, running SHA-1 and trailer of one pack being written. */
class PackFrame {
  readonly #count: number;
  readonly #hash: Sha1Hasher = platform().createSha1();
  #seen = 0;
  /** Bytes passed so far: the offset of the next entry. */
  offset = 0;

  constructor(count: number) {
    this.#count = count;
  }

  /** The header, hashed. */
  header(): Uint8Array {
    return this.bytes(encodePackHeader(this.#count));
  }

  /** Counts `n` more entries; throws past the declared count. */
  entries(n: number): void {
    this.#seen += n;
    if (this.#seen > this.#count) throw countError(this.#count, this.#seen);
  }

  /** Hashes bytes on their way out and returns them. */
  bytes(b: Uint8Array): Uint8Array {
    this.#hash.update(b);
    this.offset += b.length;
    return b;
  }

  /** The SHA-1 trailer; throws when fewer entries than declared were given. */
  trailer(): Uint8Array {
    if (this.#seen !== this.#count) throw countError(this.#count, this.#seen);
    return this.#hash.digest();
  }
}

/** Coalesces small parts into fresh chunks, passes big ones through as views; every byte goes through the frame. */
class Chunker {
  readonly #size: number;
  readonly #frame: PackFrame;
  #buf: Uint8Array;
  #used = 0;
  readonly ready: Uint8Array[] = [];

  constructor(size: number, frame: PackFrame) {
    this.#size = size;
    this.#frame = frame;
    this.#buf = new Uint8Array(size);
  }

  push(part: Uint8Array): void {
    if (part.length === 0) return;
    if (this.#used + part.length <= this.#size) {
      this.#buf.set(part, this.#used);
      this.#used += part.length;
      if (this.#used === this.#size) this.#flush();
      return;
    }
    // Fill the current chunk, then pass whole chunk-sized slices through without copying.
    let at = this.#size - this.#used;
    this.#buf.set(part.subarray(0, at), this.#used);
    this.#used = this.#size;
    this.#flush();
    while (part.length - at >= this.#size) {
      this.ready.push(this.#frame.bytes(part.subarray(at, at + this.#size)));
      at += this.#size;
    }
    this.#buf.set(part.subarray(at), 0);
    this.#used = part.length - at;
  }

  #flush(): void {
    if (this.#used === 0) return;
    const chunk = this.#used === this.#buf.length ? this.#buf : this.#buf.subarray(0, this.#used);
    this.ready.push(this.#frame.bytes(chunk));
    // A yielded chunk belongs to the consumer: never write into it again.
    this.#buf = new Uint8Array(this.#size);
    this.#used = 0;
  }

  /** Appends the SHA-1 trailer to the last chunk and makes everything ready. */
  finish(): void {
    const rest = this.#frame.bytes(this.#buf.subarray(0, this.#used));
    const trailer = this.#frame.trailer();
    if (this.#used + 20 <= this.#buf.length) {
      this.#buf.set(trailer, this.#used);
      this.ready.push(this.#buf.subarray(0, this.#used + 20));
    } else {
      if (rest.length > 0) this.ready.push(rest);
      this.ready.push(trailer);
    }
    this.#used = 0;
  }
}

function pushEntry(c: Chunker, e: PackEntryBytes): void {
  if (e instanceof Uint8Array) c.push(e);
  else for (const p of e) c.push(p);
}

function countError(count: number, seen: number): InvalidArgumentError {
  return new InvalidArgumentError(`pack declared ${count} objects but ${seen > count ? 'more' : `only ${seen}`} were given`, {
    details: { count, seen },
  });
}

/**
 * Streams a pack of `count` already-encoded entries: header, entries coalesced into chunks
 * of about `chunkSize`, SHA-1 trailer. Throws InvalidArgumentError when the number of entries
 * differs from `count` (after whatever was already yielded: the consumer must abort).
 * A synchronous iterable is consumed without any await per entry.
 */
export async function* writePack(
  count: number,
  entries: AsyncIterable<PackEntryBytes> | Iterable<PackEntryBytes>,
  options: WritePackOptions = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? DEFAULT_PACK_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new InvalidArgumentError('chunkSize must be a positive integer');
  const frame = new PackFrame(count);
  const c = new Chunker(chunkSize, frame);
  c.push(encodePackHeader(count));
  if (Symbol.iterator in entries) {
    for (const e of entries as Iterable<PackEntryBytes>) {
      frame.entries(1);
      pushEntry(c, e);
      if (c.ready.length > 0) yield* drain(c);
    }
  } else {
    for await (const e of entries as AsyncIterable<PackEntryBytes>) {
      frame.entries(1);
      pushEntry(c, e);
      if (c.ready.length > 0) yield* drain(c);
    }
  }
  c.finish();
  yield* drain(c);
}

/** A run of encoded entries written as one chunk. */
export interface PackBatch {
  /** Encoded entries in pack order (stored whole objects, ref-deltas). */
  entries: readonly Uint8Array[];
  /** Their ids, same order: needed when `WritePackBatchesOptions.ofsBases` is given. */
  oids?: readonly Oid[];
  /** Their positions in the plan, same order: needed when `WritePackBatchesOptions.ofsPlan` is given. */
  positions?: ArrayLike<number>;
  /**
   * Instead of `entries` (then empty): ONE entry whose bytes arrive in pieces (a big object
   * stored in chunks), written piece by piece, never whole; `oids` names it.
   */
  stream?: AsyncIterable<Uint8Array>;
}

/** Options of `writePackBatches`. */
export interface WritePackBatchesOptions {
  /**
   * Write ref-deltas as OBJ_OFS_DELTA when their base is an earlier entry of this pack (the
   * `ofs-delta` capability). Names the ids that are bases, whose offsets are remembered;
   * ref-deltas against anything else (a thin pack's bases) stay ref-deltas.
   */
  ofsBases?: ReadonlySet<Oid>;
  /**
   * The same by plan position, without ids: entry `p` (`PackBatch.positions`) is a delta of
   * entry `ofsPlan[p]` when that is 0 or more. Offsets are kept per position in one typed
   * array, so a pack of any size costs 8 bytes an entry here, no id strings and no map.
   */
  ofsPlan?: Int32Array;
}

/**
 * Streams a pack of `count` entries that arrive in batches (e.g. one batched read of the
 * store each): the header, each batch concatenated into one chunk, the SHA-1 trailer. The
 * hot path of clones: one copy per batch and the running hash, nothing per entry unless
 * `ofsBases` asks for offset deltas.
 * Throws InvalidArgumentError, like `writePack`, when the number of entries differs from `count`.
 */
export async function* writePackBatches(
  count: number,
  batches: AsyncIterable<PackBatch> | Iterable<PackBatch>,
  options: WritePackBatchesOptions = {},
): AsyncGenerator<Uint8Array> {
  const frame = new PackFrame(count);
  const bases = options.ofsBases;
  const offsets = new Map<Oid, number>();
  const plan = options.ofsPlan;
  const at = plan === undefined ? undefined : new Float64Array(plan.length).fill(-1);
  yield frame.header();
  for await (const batch of batches) {
    if (batch.stream !== undefined) {
      frame.entries(1);
      const oid = batch.oids?.[0];
      if (oid !== undefined && bases?.has(oid)) offsets.set(oid, frame.offset);
      if (at !== undefined && batch.positions !== undefined) at[batch.positions[0]!] = frame.offset;
      for await (const piece of batch.stream) yield frame.bytes(piece);
      continue;
    }
    frame.entries(batch.entries.length);
    if (batch.entries.length === 0) continue;
    if (at !== undefined) {
      yield frame.bytes(planChunk(batch, frame.offset, plan!, at));
      continue;
    }
    yield frame.bytes(concat(bases === undefined || bases.size === 0 ? batch.entries : withOffsets(batch, frame.offset, bases, offsets)));
  }
  yield frame.trailer();
}

/** The entries of a batch starting at `at`, ref-deltas against earlier entries turned into ofs-deltas. */
function withOffsets(batch: PackBatch, at: number, bases: ReadonlySet<Oid>, offsets: Map<Oid, number>): Uint8Array[] {
  const { entries, oids } = batch;
  if (oids === undefined || oids.length !== entries.length) throw new InvalidArgumentError('ofs-deltas need the id of every entry');
  const out: Uint8Array[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    let e = entries[i]!;
    if (isRefDeltaEntry(e)) {
      const baseAt = offsets.get(refDeltaBase(e) as Oid);
      if (baseAt !== undefined) e = refDeltaAsOfsDelta(e, at - baseAt);
    }
    if (bases.has(oids[i]!)) offsets.set(oids[i]!, at);
    out[i] = e;
    at += e.length;
  }
  return out;
}

/**
 * The chunk of a batch by plan position (`WritePackBatchesOptions.ofsPlan`), written straight
 * into one buffer: `offsets[p]` is where entry `p` was written, -1 before. A delta whose base
 * was written goes out as OBJ_OFS_DELTA (entry.ts `writeAsOfsDelta`; one pass for the sizes,
 * one copy).
 */
function planChunk(batch: PackBatch, at: number, base: Int32Array, offsets: Float64Array): Uint8Array {
  const { entries, positions } = batch;
  if (positions === undefined || positions.length !== entries.length) throw new InvalidArgumentError('ofs-deltas need the position of every entry');
  const n = entries.length;
  // Per entry: the distance back to its ofs-delta base, or 0 when it goes as stored.
  const distance = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = positions[i]!;
    const e = entries[i]!;
    const b = base[p]!;
    offsets[p] = at + total;
    if (b >= 0 && offsets[b]! >= 0 && isRefDeltaEntry(e)) {
      const d = at + total - offsets[b]!;
      distance[i] = d;
      total += e.length - 20 + ofsOffsetLength(d);
    } else total += e.length;
  }
  if (n === 1 && distance[0] === 0) return entries[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    if (distance[i]! > 0) o = writeAsOfsDelta(out, o, e, distance[i]!);
    else {
      out.set(e, o);
      o += e.length;
    }
  }
  return out;
}

function* drain(c: Chunker): Generator<Uint8Array> {
  const ready = c.ready.splice(0, c.ready.length);
  for (const chunk of ready) yield chunk;
}

/** Builds a whole pack in memory from encoded entries (tests and small packs). */
export function writePackSync(entries: readonly PackEntryBytes[]): Uint8Array {
  const frame = new PackFrame(entries.length);
  const parts: Uint8Array[] = [frame.header()];
  frame.entries(entries.length);
  for (const e of entries) {
    if (e instanceof Uint8Array) parts.push(e);
    else parts.push(...e);
  }
  let total = 20;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  // One hash update over the entries: cheaper than one per small entry.
  frame.bytes(out.subarray(12, o));
  out.set(frame.trailer(), o);
  return out;
}
