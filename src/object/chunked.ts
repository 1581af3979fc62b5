/**
 * Big objects in chunks. An object whose pack entry (header + zlib stream) is big is stored as
 * consecutive chunks of that entry under `'B' id stream(8) seq(4)`, and its `O` value is a
 * 32-byte marker naming the stream, so no whole-object value is ever written or read:
 *   marker = 0x80 'B' type(1) 0x00 size(float64 BE) length(float64 BE) chunks(uint32 BE) stream(8)
 * The first byte has type bits 0, which no pack entry header has: older versions refuse the
 * value ("invalid pack entry type 0") instead of misreading it, and `isStoredDelta` (first byte
 * below 0x10) never takes it for a `D` value. Stream ids are random, not object ids, because a
 * push stores the chunks while they arrive, before the object's id is known; the marker is
 * written last (with the push's other objects), so a stream without a marker is garbage of a
 * failed or in-flight write (docs/storage.md).
 */
import { InvalidObjectError } from '../errors.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { chunkKey, chunkStreamPrefix, prefixRange } from '../storage/keys.js';
import { type ObjectType, type Oid, TYPE_NAMES, TYPE_NUMBERS, oidToBytes } from './oid.js';
import { CHUNK_BYTES } from './packed.js';
import { platform, youngGarbage } from '../platform/index.js';
import { toHex, utf8 } from '../platform/bytes.js';

export { CHUNK_BYTES } from './packed.js';
/** Length of a marker value. */
const MARKER_BYTES = 32;
/**
 * Seq of a stream's owner record: the id of the object whose marker should name the stream,
 * written with its chunks (`ChunkSink.own`), so the sweep tells garbage streams from live ones
 * by two reads (chunk-orphans.ts). Chunk reads go by seq up to the marker's count: never this one.
 */
export const OWNER_SEQ = 0xffffffff;
/** Chunks read per round trip when streaming one back. */
const READ_AHEAD = 4;

/** What a marker says. */
export interface ChunkedRef {
  type: ObjectType;
  /** The object's size (inflated). */
  size: number;
  /** Bytes of the stored pack entry (header + zlib stream), all chunks together. */
  length: number;
  chunks: number;
  stream: Uint8Array;
}

/** Whether a stored `O` value is a chunk marker. */
export function isChunked(value: Uint8Array): boolean {
  return value.length === MARKER_BYTES && value[0] === 0x80 && value[1] === 0x42;
}

/** The marker value of a chunked object. */
export function encodeChunked(ref: ChunkedRef): Uint8Array {
  const v = new Uint8Array(MARKER_BYTES);
  const dv = new DataView(v.buffer);
  v[0] = 0x80;
  v[1] = 0x42;
  v[2] = TYPE_NUMBERS[ref.type];
  dv.setFloat64(4, ref.size);
  dv.setFloat64(12, ref.length);
  dv.setUint32(20, ref.chunks);
  v.set(ref.stream, 24);
  return v;
}

/** Parses a marker (InvalidObjectError when it is not one). */
export function decodeChunked(value: Uint8Array): ChunkedRef {
  const type = TYPE_NAMES[value[2] ?? 0];
  if (!isChunked(value) || type === undefined) throw new InvalidObjectError('stored object has a bad chunk marker');
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return { type, size: dv.getFloat64(4), length: dv.getFloat64(12), chunks: dv.getUint32(20), stream: value.slice(24, 32) };
}

/** The chunks of a chunked object, in order, a few per round trip (the pack entry's bytes). */
export async function* readChunks(kv: Kv, repoId: number, ref: ChunkedRef): AsyncGenerator<Uint8Array> {
  const prefix = chunkStreamPrefix(repoId, ref.stream);
  let total = 0;
  for (let seq = 0; seq < ref.chunks; seq += READ_AHEAD) {
    const keys: Uint8Array[] = [];
    for (let i = seq; i < Math.min(ref.chunks, seq + READ_AHEAD); i++) keys.push(chunkKey(prefix, i));
    const values = await kv.getMany(keys);
    for (const v of values) {
      if (v === undefined) throw new InvalidObjectError('a chunk of a stored big object is missing');
      total += v.length;
      yield v;
    }
  }
  if (total !== ref.length) throw new InvalidObjectError(`a stored big object has ${total} bytes in its chunks, its marker says ${ref.length}`);
}

/** Chunk `i` of a chunked object (bytes of its pack entry): how a delta against it reads it back (pack/delta-stream.ts ChunkedBase). */
export async function readChunk(kv: Kv, repoId: number, ref: ChunkedRef, i: number): Promise<Uint8Array> {
  const v = i >= 0 && i < ref.chunks ? await kv.get(chunkKey(chunkStreamPrefix(repoId, ref.stream), i)) : undefined;
  if (v === undefined) throw new InvalidObjectError(`chunk ${i} of a stored big object is missing`);
  return v;
}

/** The whole pack entry of a chunked object in one buffer (for APIs that must return bytes). */
export async function assembleChunked(kv: Kv, repoId: number, ref: ChunkedRef): Promise<Uint8Array> {
  const out = new Uint8Array(ref.length);
  let at = 0;
  for await (const c of readChunks(kv, repoId, ref)) {
    if (at + c.length > out.length) throw new InvalidObjectError('a stored big object is longer than its marker says');
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Deletes the chunks of the given markers (the sweep and object deletes). */
export async function clearChunks(kv: Kv, repoId: number, refs: readonly ChunkedRef[]): Promise<void> {
  for (const r of refs) await kv.clear(prefixRange(chunkStreamPrefix(repoId, r.stream)));
}

/** A new random stream id: 4 bytes of seconds (an age for reclaiming garbage), 4 random. */
export function newStreamId(): Uint8Array {
  const s = new Uint8Array(8);
  new DataView(s.buffer).setUint32(0, Math.floor(Date.now() / 1000) >>> 0);
  globalThis.crypto.getRandomValues(s.subarray(4));
  return s;
}

/**
 * Writes one big object's pack entry as chunks while its bytes arrive: `add` copies them into
 * CHUNK_BYTES chunks, `takeOps` hands the finished chunks' writes to the caller (who writes them
 * before reading on: memory stays at about one chunk plus what the caller holds), `finish`
 * returns the marker, `discard` deletes whatever was written.
 */
export class ChunkSink {
  readonly stream = newStreamId();
  readonly #prefix: Uint8Array;
  #buf = new Uint8Array(CHUNK_BYTES);
  #used = 0;
  #seq = 0;
  #length = 0;
  #ops: KvOp[] = [];

  /** With `headerFirst`, chunk 0 is left for the entry header, given at `finish` (a size known only at the end). */
  constructor(repoId: number, options: { headerFirst?: boolean } = {}) {
    this.#prefix = chunkStreamPrefix(repoId, this.stream);
    if (options.headerFirst) this.#seq = 1;
  }

  /** Bytes added so far. */
  get length(): number {
    return this.#length;
  }

  /** Appends bytes of the entry. */
  add(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const k = Math.min(bytes.length - at, CHUNK_BYTES - this.#used);
      this.#buf.set(bytes.subarray(at, at + k), this.#used);
      this.#used += k;
      at += k;
      if (this.#used === CHUNK_BYTES) this.#cut();
    }
    this.#length += bytes.length;
  }

  /**
   * Appends bytes the caller gives up (never changed nor reused after): a whole chunk at a
   * chunk boundary is stored as it is, without a copy (a streamed delta result's pieces); other
   * bytes are copied as by `add`.
   */
  addOwned(bytes: Uint8Array): void {
    if (this.#used !== 0 || bytes.length !== CHUNK_BYTES) {
      this.add(bytes);
      return;
    }
    this.#ops.push({ type: 'put', key: chunkKey(this.#prefix, this.#seq++), value: bytes });
    this.#length += bytes.length;
  }

  #cut(): void {
    if (this.#used === 0) return;
    const value = this.#used === CHUNK_BYTES ? this.#buf : this.#buf.slice(0, this.#used);
    this.#ops.push({ type: 'put', key: chunkKey(this.#prefix, this.#seq++), value });
    this.#buf = new Uint8Array(CHUNK_BYTES);
    this.#used = 0;
  }

  /** The writes of the chunks completed since the last call. */
  takeOps(): KvOp[] {
    const ops = this.#ops;
    this.#ops = [];
    return ops;
  }

  /** Queues the owner record (OWNER_SEQ): the id of the object whose marker will name this stream. */
  own(oid: Oid): void {
    this.#ops.push({ type: 'put', key: chunkKey(this.#prefix, OWNER_SEQ), value: oidToBytes(oid) });
  }

  /** Ends the entry: the last chunk's write is queued (take it with `takeOps`); returns the marker. */
  finish(type: ObjectType, size: number, header?: Uint8Array): Uint8Array {
    this.#cut();
    if (header !== undefined) {
      this.#ops.push({ type: 'put', key: chunkKey(this.#prefix, 0), value: header });
      this.#length += header.length;
    }
    return encodeChunked({ type, size, length: this.#length, chunks: this.#seq, stream: this.stream });
  }

  /** Deletes every chunk written under this stream. */
  async discard(kv: Kv): Promise<void> {
    this.#ops = [];
    await kv.clear(prefixRange(this.#prefix));
  }
}

/**
 * The object id of a chunked object, read back chunk by chunk: its entry header skipped, the
 * zlib stream inflated into SHA-1 (for bodies written before their size was known, such as a
 * file streamed into an NDJSON commit). Needs a platform with `createInflater`.
 */
export async function hashChunked(kv: Kv, repoId: number, ref: ChunkedRef): Promise<Oid> {
  const inflater = platform().createInflater?.();
  if (inflater === undefined) throw new InvalidObjectError('this platform cannot inflate a stream');
  const hash = platform().createSha1();
  hash.update(utf8(`${ref.type} ${ref.size}\0`));
  let produced = 0;
  let inHeader = true;
  const consumed = youngGarbage();
  try {
    for await (const c of readChunks(kv, repoId, ref)) {
      let at = 0;
      // The entry header: bytes with the high bit set, then one without.
      while (inHeader && at < c.length) if (!(c[at++]! & 0x80)) inHeader = false;
      inflater.push(c.subarray(at), (piece) => {
        produced += piece.length;
        hash.update(piece);
      });
      consumed(c.length);
    }
  } finally {
    inflater.close();
  }
  if (produced !== ref.size) throw new InvalidObjectError(`a stored big object inflates to ${produced} bytes, its marker says ${ref.size}`);
  return toHex(hash.digest()) as Oid;
}

/**
 * The body of a chunked object, inflated piece by piece as its chunks are read (each piece a
 * fresh buffer of at most a few hundred KiB): how a big file is streamed to a client.
 */
export async function* inflateChunks(kv: Kv, repoId: number, ref: ChunkedRef): AsyncGenerator<Uint8Array> {
  const inflater = platform().createInflater?.();
  if (inflater === undefined) {
    const whole = await assembleChunked(kv, repoId, ref);
    let at = 0;
    while (whole[at]! & 0x80) at++;
    yield platform().inflate(whole.subarray(at + 1), ref.size);
    return;
  }
  let produced = 0;
  let inHeader = true;
  const consumed = youngGarbage();
  try {
    for await (const c of readChunks(kv, repoId, ref)) {
      let at = 0;
      while (inHeader && at < c.length) if (!(c[at++]! & 0x80)) inHeader = false;
      const out: Uint8Array[] = [];
      inflater.push(c.subarray(at), (piece) => out.push(piece.slice()));
      for (const piece of out) {
        produced += piece.length;
        yield piece;
      }
      consumed(c.length);
    }
  } finally {
    inflater.close();
  }
  if (produced !== ref.size) throw new InvalidObjectError(`a stored big object inflates to ${produced} bytes, its marker says ${ref.size}`);
}
