/**
 * What ingest.ts does with big objects stored in chunks (object/chunked.ts), kept here so the
 * ingest loop stays small:
 *   - `bigBaseReader`: the reader's `getBase` (pack/delta-resolver.ts GetBase) answers a chunked
 *     object (in the quarantine or the store) with its size and then chunk by chunk, as stored
 *     (the reader inflates them, off the event loop), never whole, so a delta against a big
 *     base, even one sent before it, is applied as a stream;
 *   - `refuseCollision`: a streamed blob whose id is already stored is compared with the stored
 *     content, both inflated side by side a piece at a time (the non-streamed path compares
 *     bodies), and refused with HashCollisionError when they differ.
 */
import { HashCollisionError } from '../errors.js';
import type { Kv } from '../storage/kv.js';
import { decodeChunked, isChunked, readChunk } from '../object/chunked.js';
import type { FormsLookup, ObjectStore, RawObject } from '../object/object-store.js';
import type { Oid } from '../object/oid.js';
import type { GetBase } from '../pack/pack-reader.js';

const EMPTY = new Uint8Array(0);

/** A getBase that hands chunked objects out chunk by chunk (compressed, as stored), never whole. */
export function bigBaseReader(kv: Kv, poolId: number, lookup: FormsLookup, whole: (oid: Oid) => Promise<RawObject | undefined>): GetBase {
  return async (oid, chunk) => {
    const [forms] = await lookup([oid]);
    const w = forms?.whole;
    if (w === undefined || !isChunked(w)) return whole(oid);
    const ref = decodeChunked(w);
    return { type: ref.type, body: chunk === undefined ? EMPTY : await readChunk(kv, poolId, ref, chunk), size: ref.size };
  };
}

/**
 * Throws HashCollisionError unless the stored object `oid` is a blob with exactly the content
 * of the chunked entry `marker` (just stored). Memory: a piece of each side.
 */
export async function refuseCollision(store: ObjectStore, oid: Oid, marker: Uint8Array): Promise<void> {
  const fresh = decodeChunked(marker);
  const storedRef = await store.chunkedRef(oid);
  let stored: AsyncIterable<Uint8Array>;
  if (storedRef !== undefined) {
    stored = storedRef.type === fresh.type && storedRef.size === fresh.size ? store.inflateChunked(storedRef) : one(undefined);
  } else {
    const [raw] = await store.readMany([oid]);
    stored = one(raw !== undefined && raw.type === fresh.type && raw.body.length === fresh.size ? raw.body : undefined);
  }
  if (!(await sameBytes(stored, store.inflateChunked(fresh)))) {
    throw new HashCollisionError(`object ${oid} differs from the stored object with the same id`, { details: { oid } });
  }
}

/** One body as a stream; undefined: a stream that can never match (type or size differ). */
async function* one(body: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  if (body === undefined) throw new Mismatch();
  yield body;
}

class Mismatch extends Error {}

/** Whether two streams of pieces carry the same bytes (pieces cut anywhere). */
async function sameBytes(a: AsyncIterable<Uint8Array>, b: AsyncIterable<Uint8Array>): Promise<boolean> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  let x: Uint8Array | null = EMPTY;
  let y: Uint8Array | null = EMPTY;
  try {
    for (;;) {
      while (x !== null && x.length === 0) x = next(await ia.next());
      while (y !== null && y.length === 0) y = next(await ib.next());
      if (x === null || y === null) return x === y;
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
      x = x.subarray(n);
      y = y.subarray(n);
    }
  } catch (err) {
    if (err instanceof Mismatch) return false;
    throw err;
  } finally {
    await ia.return?.(undefined);
    await ib.return?.(undefined);
  }
}

function next(r: IteratorResult<Uint8Array>): Uint8Array | null {
  return r.done ? null : r.value;
}
