/**
 * Random access into big objects stored in chunks (chunked.ts) for one ingest: a zlib stream
 * cannot be read from the middle, so the body of a chunked object used as a delta base is
 * inflated forward, once, into uncompressed windows of BASE_WINDOW bytes under
 * `'J' pool stream(8) seq(4)` (storage/keys.ts) as far as the windows asked for; a window
 * already passed is read back from there. Memory: one window being filled plus one inflater's
 * output burst (input is fed in small slices), whatever the object's size. The windows are
 * deleted when the ingest ends (`discard`); a crashed one's are garbage the sweep removes
 * (no ingest is in flight under its gate).
 */
import { InvalidObjectError } from '../errors.js';
import type { Kv } from '../storage/kv.js';
import { chunkKey, prefixRange, windowStreamPrefix } from '../storage/keys.js';
import { platform, type StreamInflater } from '../platform/index.js';
import { type ChunkedRef, newStreamId, readChunks } from './chunked.js';
import type { Oid } from './oid.js';

/** Bytes of a window (the same as pack/delta-stream.ts BASE_WINDOW: the reader's unit). */
export const WINDOW_BYTES = 1024 * 1024;
/** Compressed bytes fed to the inflater per call: bounds one call's output (zlib expands at most ~1032x). */
const FEED = 4096;

/** The forward inflation of one chunked object. */
interface Reader {
  ref: ChunkedRef;
  prefix: Uint8Array;
  chunks: AsyncGenerator<Uint8Array>;
  inflater: StreamInflater;
  inHeader: boolean;
  /** Windows written so far. */
  written: number;
  fill: Uint8Array;
  used: number;
  /** One window handed back at a time (the reads of one object are sequential). */
  busy: Promise<unknown>;
}

/** The windows of the chunked objects one ingest reads as delta bases. */
export class ChunkWindows {
  readonly #kv: Kv;
  readonly #poolId: number;
  readonly #readers = new Map<Oid, Reader>();

  constructor(kv: Kv, poolId: number) {
    this.#kv = kv;
    this.#poolId = poolId;
  }

  /** Window `k` of the body of chunked object `oid` (`ref`: its marker): WINDOW_BYTES bytes, fewer for the last. */
  window(oid: Oid, ref: ChunkedRef, k: number): Promise<Uint8Array> {
    let r = this.#readers.get(oid);
    if (r === undefined) {
      const inflater = platform().createInflater?.();
      if (inflater === undefined) throw new InvalidObjectError('this platform cannot inflate a stream');
      r = {
        ref,
        prefix: windowStreamPrefix(this.#poolId, newStreamId()),
        chunks: readChunks(this.#kv, this.#poolId, ref),
        inflater,
        inHeader: true,
        written: 0,
        fill: new Uint8Array(Math.min(WINDOW_BYTES, ref.size)),
        used: 0,
        busy: Promise.resolve(),
      };
      this.#readers.set(oid, r);
    }
    const reader = r;
    const run = reader.busy.then(() => this.#window(reader, k));
    reader.busy = run.catch(() => undefined);
    return run;
  }

  async #window(r: Reader, k: number): Promise<Uint8Array> {
    const count = Math.ceil(r.ref.size / WINDOW_BYTES);
    if (k < 0 || k >= count) throw new InvalidObjectError(`window ${k} is outside a stored big object of ${r.ref.size} bytes`);
    if (k < r.written) {
      const v = await this.#kv.get(chunkKey(r.prefix, k));
      if (v === undefined) throw new InvalidObjectError('a window of a big delta base is missing');
      return v;
    }
    let wanted: Uint8Array | undefined;
    while (wanted === undefined) {
      const next = await r.chunks.next();
      if (next.done) throw new InvalidObjectError(`a stored big object ends before its window ${k}`);
      const c = next.value;
      let at = 0;
      // The entry header: bytes with the high bit set, then one without.
      while (r.inHeader && at < c.length) if (!(c[at++]! & 0x80)) r.inHeader = false;
      for (; at < c.length; at += FEED) {
        const full: Uint8Array[] = [];
        r.inflater.push(c.subarray(at, Math.min(c.length, at + FEED)), (piece) => {
          let p = 0;
          while (p < piece.length) {
            if (r.fill.length === 0) throw new InvalidObjectError('a stored big object inflates to more than its marker says');
            const n = Math.min(piece.length - p, r.fill.length - r.used);
            r.fill.set(piece.subarray(p, p + n), r.used);
            r.used += n;
            p += n;
            if (r.used === r.fill.length) {
              full.push(r.fill);
              const left = r.ref.size - (r.written + full.length) * WINDOW_BYTES;
              r.fill = new Uint8Array(Math.max(0, Math.min(WINDOW_BYTES, left)));
              r.used = 0;
            }
          }
        });
        if (full.length > 0) {
          await this.#kv.batch(full.map((value, i) => ({ type: 'put' as const, key: chunkKey(r.prefix, r.written + i), value })));
          for (const w of full) if (r.written++ === k) wanted = w;
        }
      }
    }
    return wanted;
  }

  /** Deletes every window written and releases the inflaters (the ingest ended). */
  async discard(): Promise<void> {
    for (const r of this.#readers.values()) {
      r.inflater.close();
      await r.chunks.return(undefined);
      await this.#kv.clear(prefixRange(r.prefix));
    }
    this.#readers.clear();
  }
}
