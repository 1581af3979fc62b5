/**
 * Messages between `readPackAuto` (main thread, read-pack-auto.ts) and `serveJob` (a worker
 * thread, pack-worker.ts) for one pack read, and the helpers both sides share.
 *   main -> worker: start, data (input bytes, transferred), end, pull (the consumer wants the
 *                   next batch), base (answer to getBase), abort
 *   worker -> main: ack (input consumed), getBase, batch (a WireBatch), done, error
 */
import { CorruptPackError, LevelGitError, LimitExceededError } from '../errors.js';
import { type ObjectType, type Oid, TYPE_NAMES, TYPE_NUMBERS, oidFromBytes, writeOid } from '../object/oid.js';
import { storedDeltaRefEntry } from '../object/packed.js';
import type { PackObject } from './delta-resolver.js';
import type { ReadPackOptions } from './pack-reader.js';

/** An object as readPackAuto yields it: with `whole` when `wholeBesideDeltas` asked for it. */
export interface ReadObject extends PackObject {
  /** For a delta whose stored form is not surely smaller than the whole entry: the whole entry, deflated by the reader. */
  whole?: Uint8Array;
  /** Set when the reader's worker left the body out (`dropBlobBodies`; `body` is then empty): its size. */
  dropped?: number;
}

/** Options a worker can be sent (no function). */
export type WorkerReadOptions = Omit<ReadPackOptions, 'getBase' | 'worker' | 'inlineMaxBytes' | 'inlineMaxInflatedBytes'> & {
  wholeBesideDeltas?: boolean;
  dropDeltaData?: boolean;
  recycleBodies?: boolean;
  dropBlobBodies?: number;
};

/** Main thread to worker. */
export type ToWorker =
  | { t: 'start'; options: WorkerReadOptions; hasGetBase: boolean; skip: number }
  | { t: 'data'; chunk: Uint8Array }
  | { t: 'end' }
  | { t: 'pull'; spare?: ArrayBuffer }
  | { t: 'base'; id: number; found: { type: ObjectType; body: Uint8Array; size?: number } | undefined }
  | { t: 'abort' };

/** An error as it crosses threads. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** Worker to main thread. */
export type FromWorker =
  | { t: 'ack'; bytes: number }
  | { t: 'getBase'; id: number; oid: Oid; chunk?: number }
  | { t: 'batch'; batch: WireBatch }
  | { t: 'done' }
  | { t: 'error'; error: WireError };

/** An error made clonable. */
export function toWire(err: unknown): WireError {
  const e = err as Error & { code?: string; details?: Record<string, unknown> };
  const w: WireError = { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
  if (err instanceof LevelGitError) {
    w.code = err.code;
    w.details = { ...(err.details as Record<string, unknown>) };
  }
  return w;
}

/** The pack reader's typed errors back from the wire; anything else as a plain Error. */
export function fromWire(w: WireError): Error {
  if (w.code === 'ERR_LIMIT_EXCEEDED') return new LimitExceededError(w.message, { details: w.details ?? {} });
  if (w.code === 'ERR_CORRUPT_PACK') return new CorruptPackError(w.message, { details: w.details ?? {} });
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

/** Smallest buffer worth transferring rather than copying (a Node pool slab is 8 KiB). */
const TRANSFER_MIN = 64 * 1024;

/**
 * Prepares `u` to be posted: a buffer it (nearly) fills is added to `transfer` unless `keep`;
 * a small view of a much larger buffer is sliced (a clone copies the whole buffer it views).
 */
export function forPosting(u: Uint8Array, transfer: Set<ArrayBuffer>, keep = false): Uint8Array {
  const buf = u.buffer;
  if (!(buf instanceof ArrayBuffer)) return u.slice();
  if (!keep && u.byteLength >= TRANSFER_MIN && u.byteLength * 2 >= buf.byteLength) {
    transfer.add(buf);
    return u;
  }
  return buf.byteLength > 2 * u.byteLength + 4096 ? u.slice() : u;
}

/**
 * A batch of objects as it crosses threads: every small buffer (bodies, entries, delta data,
 * pieces) copied into one of two transferred buffers, the ids as raw bytes, and a table of
 * where each part lies. Cloning a batch of thousands of objects as objects cost a
 * buffer allocation per part on both threads (messaging was a fifth of the worker's time on a
 * long history's pack); this costs one copy. What a consumer may keep as it is (whole entries,
 * `whole`) and transient bytes (bodies, delta data, delta entries: ingest re-frames those) go to
 * separate buffers, so a kept entry does not hold the bodies alive. Parts of TRANSFER_MIN and
 * more travel alone, as before. The ids cross as bytes and are made hex strings of their own
 * on arrival: split from one joined string, each id was a slice that kept its whole batch's
 * string alive, and ingest keeps some ids to the end of the pack (commits, waiting references,
 * delta chains): on git's history that held ~87 MB of batch strings for a few megabytes of ids.
 */
export interface WireBatch {
  /** Per object, FIELDS numbers: type and flags, then a (ref, length) pair per part, then `streamed`, then where its `delta.copies` start in `copies` and how many numbers (-1: none), then a dropped body's size, then `seq` and the delta's `baseSeq` (-1: none). */
  table: Int32Array;
  /** The objects' raw ids, 20 bytes each (zeros for pieces, which have none: NO_ID). */
  ids: Uint8Array;
  /** The delta bases' raw ids, 20 bytes each, in order of the objects that have one. */
  bases: Uint8Array;
  /** Whole entries, `whole` and `stored` (a delta entry crosses as the tail of its `stored`). */
  kept: Uint8Array;
  /** Bodies, delta data, delta entries and pieces. */
  loose: Uint8Array;
  /** Parts of TRANSFER_MIN bytes or more. */
  big: Uint8Array[];
  /** The tree deltas' `delta.copies`, one after another. */
  copies: Int32Array;
}

const FIELDS = 21;
/** Table columns after the part slots: a streamed object's size, a tree delta's copies (where in `copies`, how many numbers), a dropped body's size (-1: none). */
const STREAMED_AT = 15;
const COPIES_AT = 16;
const COPIES_N = 17;
const DROPPED_AT = 18;
/** The object's `seq`, and its delta's `baseSeq` (-1: none). */
const SEQ_AT = 19;
const BASE_SEQ_AT = 20;
/** Part slots in a table row: (ref, length) at 1 + 2 * slot. */
const BODY = 0;
const ENTRY = 1;
const DATA = 2;
const DELTA_ENTRY = 3;
const PIECE = 4;
const WHOLE = 5;
const STORED = 6;
/** Flag bits above the type number. */
const HAS_DELTA = 8;
const IS_STREAMED = 16;
/** A piece: its `oid` is ''. */
const NO_ID = 32;

/**
 * Encodes `objects` as a WireBatch; buffers to transfer are added to `transfer`. `keeps(o)`: the
 * reader still reads `o.body`. `dropDeltaData`: `delta.data` crosses empty (a consumer that
 * keeps `stored` does not read it). `spare(n)`: a `loose` buffer the consumer gave back of at
 * least n bytes, if one is left, used again (fresh memory costs far more than a copy: see
 * recycleBodies).
 */
export function toWireBatch(
  objects: readonly ReadObject[],
  transfer: Set<ArrayBuffer>,
  keeps: (o: PackObject) => boolean,
  dropDeltaData = false,
  spare?: (bytes: number) => ArrayBuffer | undefined,
  drops: (o: ReadObject) => boolean = () => false,
): WireBatch {
  let keptBytes = 0;
  let looseBytes = 0;
  let deltas = 0;
  let copiesLength = 0;
  const small = (u: Uint8Array | undefined) => u !== undefined && u.byteLength < TRANSFER_MIN;
  for (const o of objects) {
    if (o.delta !== undefined) {
      deltas++;
      copiesLength += o.delta.copies?.length ?? 0;
    }
    if (small(o.body) && !drops(o)) looseBytes += o.body.byteLength;
    if (!dropDeltaData && small(o.delta?.data)) looseBytes += o.delta!.data.byteLength;
    if (small(o.piece)) looseBytes += o.piece!.byteLength;
    if (small(o.entry)) keptBytes += o.entry!.byteLength;
    if (small(o.stored)) keptBytes += o.stored!.byteLength;
    else if (o.stored === undefined && small(o.deltaEntry)) looseBytes += o.deltaEntry!.byteLength;
    if (small(o.whole)) keptBytes += o.whole!.byteLength;
  }
  const kept = new Uint8Array(keptBytes);
  // A new buffer has room to spare (pages never written cost nothing), so the next batch fits.
  const reused = spare?.(looseBytes);
  const loose = new Uint8Array(reused ?? new ArrayBuffer(roomFor(looseBytes)), 0, looseBytes);
  const big: Uint8Array[] = [];
  const table = new Int32Array(objects.length * FIELDS);
  let k = 0;
  let l = 0;
  const ids = new Uint8Array(objects.length * 20);
  const bases = new Uint8Array(deltas * 20);
  let d = 0;
  const copies = new Int32Array(copiesLength);
  let c = 0;
  const put = (row: number, slot: number, u: Uint8Array | undefined, inKept: boolean, keep = false) => {
    const at = row + 1 + 2 * slot;
    if (u === undefined) {
      table[at + 1] = -1;
      return;
    }
    table[at + 1] = u.byteLength;
    if (u.byteLength >= TRANSFER_MIN) {
      big.push(forPosting(u, transfer, keep));
      table[at] = -big.length;
    } else if (inKept) {
      kept.set(u, k);
      table[at] = k;
      k += u.byteLength;
    } else {
      loose.set(u, l);
      table[at] = l;
      l += u.byteLength;
    }
  };
  objects.forEach((o, i) => {
    const row = i * FIELDS;
    if (o.oid !== '') writeOid(o.oid, ids, i * 20);
    table[row] = TYPE_NUMBERS[o.type] | (o.delta === undefined ? 0 : HAS_DELTA) | (o.streamed === undefined ? 0 : IS_STREAMED) | (o.oid === '' ? NO_ID : 0);
    const drop = drops(o);
    put(row, BODY, drop ? EMPTY : o.body, false, !drop && o.body.byteLength >= TRANSFER_MIN && keeps(o));
    table[row + DROPPED_AT] = drop ? o.body.byteLength : -1;
    put(row, ENTRY, o.entry, true);
    put(row, DATA, dropDeltaData && o.delta !== undefined ? EMPTY : o.delta?.data, false);
    put(row, DELTA_ENTRY, o.stored === undefined ? o.deltaEntry : undefined, false);
    put(row, STORED, o.stored, true);
    put(row, PIECE, o.piece, false);
    put(row, WHOLE, o.whole, true);
    table[row + STREAMED_AT] = o.streamed ?? 0;
    table[row + SEQ_AT] = o.seq ?? -1;
    table[row + BASE_SEQ_AT] = o.delta?.baseSeq ?? -1;
    const runs = o.delta?.copies;
    table[row + COPIES_AT] = runs === undefined ? -1 : c;
    table[row + COPIES_N] = runs?.length ?? 0;
    if (runs !== undefined) {
      copies.set(runs, c);
      c += runs.length;
    }
    if (o.delta !== undefined) writeOid(o.delta.base, bases, 20 * d++);
  });
  transfer.add(kept.buffer);
  transfer.add(loose.buffer);
  transfer.add(table.buffer as ArrayBuffer);
  transfer.add(copies.buffer as ArrayBuffer);
  transfer.add(ids.buffer);
  transfer.add(bases.buffer);
  return { table, ids, bases, kept, loose, big, copies };
}

/** The objects of a WireBatch, their parts views into its buffers. */
export function fromWireBatch(w: WireBatch): ReadObject[] {
  const { table, kept, loose, big } = w;
  const n = table.length / FIELDS;
  const { ids, bases } = w;
  let b = 0;
  const get = (row: number, slot: number, inKept: boolean): Uint8Array | undefined => {
    const at = row + 1 + 2 * slot;
    const len = table[at + 1]!;
    if (len < 0) return undefined;
    const ref = table[at]!;
    if (ref < 0) return big[-ref - 1]!;
    return (inKept ? kept : loose).subarray(ref, ref + len);
  };
  const out: ReadObject[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * FIELDS;
    const flags = table[row]!;
    let delta: ReadObject['delta'];
    if (flags & HAS_DELTA) {
      const at = table[row + COPIES_AT]!;
      const copies = at >= 0 ? w.copies.subarray(at, at + table[row + COPIES_N]!) : undefined;
      const baseSeq = table[row + BASE_SEQ_AT]!;
      delta = { base: oidFromBytes(bases, 20 * b++), data: get(row, DATA, false)!, copies, baseSeq: baseSeq >= 0 ? baseSeq : undefined };
    }
    const stored = get(row, STORED, true);
    const dropped = table[row + DROPPED_AT]!;
    const seq = table[row + SEQ_AT]!;
    // Every object with every field, in one order (absent ones undefined): one shape for all,
    // so the consumer's reads of them stay monomorphic (objects built with only the fields they
    // have took a dozen shapes, and the ingest loop was compiled again each time a new one came).
    const o: ReadObject = {
      oid: flags & NO_ID ? ('' as Oid) : oidFromBytes(ids, i * 20),
      type: TYPE_NAMES[flags & 7]!,
      body: get(row, BODY, false)!,
      entry: get(row, ENTRY, true),
      delta,
      stored,
      deltaEntry: get(row, DELTA_ENTRY, false) ?? (stored === undefined ? undefined : storedDeltaRefEntry(stored)),
      piece: get(row, PIECE, false),
      whole: get(row, WHOLE, true),
      streamed: flags & IS_STREAMED ? table[row + STREAMED_AT]! : undefined,
      dropped: dropped >= 0 ? dropped : undefined,
      seq: seq >= 0 ? seq : undefined,
    };
    out[i] = o;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

/** Capacity of a new `loose` buffer: the next power of two from 64 KiB. */
function roomFor(bytes: number): number {
  let n = TRANSFER_MIN;
  while (n < bytes) n *= 2;
  return n;
}
