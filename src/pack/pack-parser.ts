/**
 * The byte level of a streaming pack read: a working buffer of the bytes not yet parsed, the
 * running SHA-1 of everything consumed, the 12-byte header, each entry's header and zlib
 * stream, and the trailing checksum. Grammar (gitformat-pack):
 *   pack    = "PACK" version(4, big-endian: 2 or 3) count(4, big-endian) count*entry trailer
 *   entry   = see entry.ts; its data is a zlib stream whose compressed length is not recorded
 *   trailer = 20(SHA-1 of every byte before it)
 *
 * Only about one chunk, or one entry's zlib stream while it is incomplete, is held. Each zlib
 * stream is inflated from the buffer with `inflatePrefix`; when it needs more input the next
 * attempt waits for twice the bytes, so a big entry costs amortized linear time. What an
 * entry means (delta bases, object ids) is delta-resolver.ts's business.
 */
import { CorruptPackError, LimitExceededError } from '../errors.js';
import { platform, OutputLimitError } from '../platform/index.js';
import type { Sha1Hasher } from '../platform/index.js';
import { equal, toHex } from '../platform/bytes.js';
import { type Oid, oidFromBytes } from '../object/oid.js';
import { OBJ_OFS_DELTA, OBJ_REF_DELTA, decodeEntryHeader, decodeOfsOffset } from './entry.js';
import type { InflateBudget } from './budget.js';
import { StreamedEntry, canStream } from './streamed-entry.js';
import type { Slabs } from './slabs.js';

/** Limits the parser enforces. */
export interface ParserLimits {
  /** Largest declared object (or delta) size. */
  maxObjectSize: number;
  /** Largest object count the pack header may declare. */
  maxObjects: number;
  /** Largest total input. */
  maxPackBytes: number;
  /** The inflated-byte budget, shared with the resolver; told of every wire byte. */
  budget: InflateBudget;
  /**
   * Blob entries declaring at least this many bytes are streamed (streamed-entry.ts): handed
   * out as RawPieces of their verbatim bytes, then a RawEntry with `streamed` set and no data.
   * Undefined: every entry is inflated whole. Needs a platform with `createInflater`.
   */
  streamOver?: number;
  /** Where inflated data (bodies, delta data) is carved from (slabs.ts); fresh buffers without it. */
  parts?: Slabs;
}

/** A piece of a streamed entry's verbatim bytes (header, then its zlib stream), in order; a copy. */
export interface RawPiece {
  piece: Uint8Array;
}

/** One entry as it appears in the pack, its data inflated. */
export interface RawEntry {
  /** Pack offset of the entry's header. */
  offset: number;
  /** Entry type code (1..4 for objects, OBJ_OFS_DELTA, OBJ_REF_DELTA). */
  type: number;
  /** For an ofs-delta: the pack offset of its base (checked to lie after the pack header). */
  baseOffset: number;
  /** For a ref-delta: the id of its base. */
  baseOid: Oid | undefined;
  /** The inflated data: the object body, or the delta. */
  data: Uint8Array;
  /** The verbatim entry (header + zlib); a view valid only until the next `push`. */
  bytes: Uint8Array;
  /** Where the zlib stream starts in `bytes` (after the header and any delta base). */
  zlibAt: number;
  /** Whether `bytes` stays valid after the next `push` (a big entry handed over, not copied). */
  stable: boolean;
  /** For a streamed blob (ParserLimits.streamOver): its id and size; `data` and `bytes` are then empty, its bytes left as RawPieces. */
  streamed?: { oid: Oid; size: number };
}

/** Entries at least this big are read into a buffer sized for them and handed over whole. */
const BIG_ENTRY = 1024 * 1024;

/**
 * Longest zlib stream accepted for `size` inflated bytes. Real compressors stay well under
 * size * 9/8 plus a few bytes per block; anything longer is padding meant to make us buffer.
 */
function maxCompressedLength(size: number): number {
  return 2 * size + 4096;
}

/** Splits streamed pack bytes into its header, entries and trailer, hashing as it goes. */
export class PackParser {
  readonly #o: ParserLimits;
  readonly #hash: Sha1Hasher = platform().createSha1();

  // Working buffer: unparsed bytes are #buf[#start, #end); #owned says whether we may write into it.
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #owned = false;
  /** Pack offset of #buf[#start]. */
  #offset = 0;
  #received = 0;

  #phase: 'header' | 'entries' | 'trailer' | 'done' = 'header';
  #count = 0;
  #parsed = 0;
  /** Smallest window worth trying for the zlib stream of the current entry (0 = try now). */
  #retryAt = 0;
  /** Whether the current entry's declared size was charged to the budget. */
  #charged = false;
  /** Size the working buffer should grow to at once for the current big entry (0: none). */
  #reserve = 0;
  /** The entry being streamed, if any. */
  #streaming: StreamedEntry | undefined;
  /** A streamed entry's end, handed out after its last piece. */
  #ended: RawEntry | undefined;
  /** Where the current entry inflates to, kept across attempts that need more input. */
  #into: Uint8Array | undefined;

  /** Creates a parser enforcing `limits`. */
  constructor(limits: ParserLimits) {
    this.#o = limits;
  }

  /** Adds input bytes to the working buffer. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#phase === 'done') throw new CorruptPackError('pack has trailing bytes after its checksum');
    this.#received += chunk.length;
    this.#o.budget.received(chunk.length);
    if (this.#received > this.#o.maxPackBytes) {
      throw new LimitExceededError(`pack exceeds ${this.#o.maxPackBytes} bytes`, {
        details: { limit: 'maxPackBytes', max: this.#o.maxPackBytes },
      });
    }
    const left = this.#end - this.#start;
    if (left === 0) {
      // Nothing pending: parse straight from the caller's chunk (read-only).
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#end + chunk.length <= this.#buf.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    const need = left + chunk.length;
    if (this.#owned && need <= this.#buf.length >> 1) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      // A big entry's buffer is sized for it once (no doubling copies of its bytes).
      const next = new Uint8Array(Math.max(need > this.#reserve ? 2 * need : this.#reserve, 64 * 1024));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#owned = true;
    }
    this.#buf.set(chunk, left);
    this.#start = 0;
    this.#end = need;
  }

  /**
   * Parses the next part the buffer holds in full: an entry, true after the header or false
   * when more input is needed (or the trailer was read).
   */
  next(final: boolean): RawEntry | RawPiece | boolean {
    if (this.#phase === 'header') return this.#readHeader();
    if (this.#ended !== undefined) {
      const e = this.#ended;
      this.#ended = undefined;
      this.#entryDone();
      return e;
    }
    if (this.#streaming !== undefined) return this.#readStreamed(final) ?? false;
    if (this.#phase === 'entries') return this.#readEntry(final) ?? false;
    if (this.#phase === 'trailer') return this.#readTrailer();
    return false;
  }

  /** Releases a streamed entry's inflater (a read abandoned in the middle). */
  close(): void {
    this.#streaming?.close();
    this.#streaming = undefined;
  }

  /** End of input: throws CorruptPackError unless the whole pack, trailer included, was read. */
  finish(): void {
    if (this.#phase !== 'done') {
      const where =
        this.#phase === 'header' ? 'in its header' : this.#phase === 'entries' ? `after ${this.#parsed} of ${this.#count} entries` : 'before its checksum';
      throw new CorruptPackError(`pack is truncated ${where}`);
    }
  }

  /** Consumes `n` parsed bytes: hashes them and advances. */
  #consume(n: number): Uint8Array {
    const bytes = this.#buf.subarray(this.#start, this.#start + n);
    this.#hash.update(bytes);
    this.#start += n;
    this.#offset += n;
    return bytes;
  }

  #readHeader(): boolean {
    if (this.#end - this.#start < 12) return false;
    const b = this.#buf.subarray(this.#start, this.#start + 12);
    if (b[0] !== 0x50 || b[1] !== 0x41 || b[2] !== 0x43 || b[3] !== 0x4b) throw new CorruptPackError('not a pack: missing "PACK" signature');
    const view = new DataView(b.buffer, b.byteOffset, 12);
    const version = view.getUint32(4);
    if (version !== 2 && version !== 3) throw new CorruptPackError(`unsupported pack version ${version}`, { details: { version } });
    const count = view.getUint32(8);
    if (count > this.#o.maxObjects) {
      throw new LimitExceededError(`pack declares ${count} objects, more than the limit of ${this.#o.maxObjects}`, {
        details: { limit: 'maxObjects', count, max: this.#o.maxObjects },
      });
    }
    this.#count = count;
    this.#consume(12);
    this.#phase = count === 0 ? 'trailer' : 'entries';
    return true;
  }

  #readTrailer(): boolean {
    if (this.#end - this.#start < 20) return false;
    const want = this.#hash.digest();
    const got = this.#buf.subarray(this.#start, this.#start + 20);
    if (!equal(want, got)) {
      throw new CorruptPackError(`pack checksum mismatch: trailer says ${toHex(got)}, content hashes to ${toHex(want)}`);
    }
    this.#start += 20;
    this.#offset += 20;
    this.#phase = 'done';
    if (this.#start < this.#end) throw new CorruptPackError('pack has trailing bytes after its checksum');
    return false;
  }

  /** Parses one entry if the buffer holds all of it; null when more input is needed. */
  #readEntry(final: boolean): RawEntry | RawPiece | null {
    const view = this.#buf.subarray(this.#start, this.#end);
    const header = decodeEntryHeader(view, 0);
    if (header === null) return null;
    const { type, size } = header;
    if (size > this.#o.maxObjectSize) {
      throw new LimitExceededError(`pack entry declares ${size} bytes, more than the limit of ${this.#o.maxObjectSize}`, {
        details: { limit: 'maxObjectSize', size, max: this.#o.maxObjectSize },
      });
    }
    let dataAt = header.length;
    let baseOffset = -1;
    let baseOid: Oid | undefined;
    if (type === OBJ_OFS_DELTA) {
      const ofs = decodeOfsOffset(view, dataAt);
      if (ofs === null) return null;
      baseOffset = this.#offset - ofs.distance;
      if (ofs.distance === 0 || baseOffset < 12) throw new CorruptPackError(`ofs-delta at ${this.#offset} points before the pack start`);
      dataAt += ofs.length;
    } else if (type === OBJ_REF_DELTA) {
      if (view.length < dataAt + 20) return null;
      baseOid = oidFromBytes(view, dataAt);
      dataAt += 20;
    }

    if (!this.#charged) {
      // Charged before inflating. A size the budget cannot take yet waits for more input (the
      // default budget grows with it); at the end of input it is refused.
      if (!final && !this.#o.budget.fits(size)) return null;
      this.#o.budget.charge(size, `the entry at ${this.#offset} (${size} bytes)`);
      this.#charged = true;
    }
    if (type === 3 && this.#o.streamOver !== undefined && size >= this.#o.streamOver && canStream()) {
      // A big blob: inflated into its SHA-1 as it arrives, its bytes handed out as pieces.
      this.#streaming = new StreamedEntry(this.#offset, size, maxCompressedLength(size));
      this.#charged = false;
      return { piece: this.#consume(dataAt).slice() };
    }
    const inflated = this.#inflate(view, dataAt, size, final, type !== OBJ_OFS_DELTA && type !== OBJ_REF_DELTA);
    if (inflated === null) {
      if (size >= BIG_ENTRY) this.#reserve = dataAt + Math.min(maxCompressedLength(size), size + (size >>> 3) + 64) + 64 * 1024;
      return null;
    }
    const offset = this.#offset;
    const bytes = this.#consume(dataAt + inflated.consumed);
    this.#into = undefined;
    this.#retryAt = 0;
    this.#charged = false;
    this.#reserve = 0;
    // A big entry in a buffer of our own is handed over as it is: the buffer becomes the
    // entry's (it may be transferred to another thread), the bytes after it move to a new one.
    const stable = this.#owned && bytes.length >= BIG_ENTRY;
    if (stable) {
      this.#buf = this.#buf.slice(this.#start, this.#end);
      this.#start = 0;
      this.#end = this.#buf.length;
    }
    this.#entryDone();
    return { offset, type, baseOffset, baseOid, data: inflated.output, bytes, zlibAt: dataAt, stable };
  }

  #entryDone(): void {
    this.#parsed++;
    if (this.#parsed === this.#count) this.#phase = 'trailer';
  }

  /** Feeds the buffered bytes to the entry being streamed: a piece, or null when more input is needed. */
  #readStreamed(final: boolean): RawEntry | RawPiece | null {
    const s = this.#streaming!;
    const view = this.#buf.subarray(this.#start, this.#end);
    const used = view.length === 0 ? 0 : s.feed(view);
    const piece = used === 0 ? undefined : this.#consume(used).slice();
    if (s.ended || (used < view.length && view.length > 0)) {
      this.#streaming = undefined;
      const oid = s.finish();
      const none = new Uint8Array(0);
      this.#ended = {
        offset: s.offset,
        type: 3,
        baseOffset: -1,
        baseOid: undefined,
        data: none,
        bytes: none,
        zlibAt: 0,
        stable: true,
        streamed: { oid, size: s.size },
      };
      if (piece === undefined) return this.next(final) as RawEntry | RawPiece;
    } else if (piece === undefined) {
      if (final) {
        s.close();
        throw new CorruptPackError(`pack is truncated inside the entry at ${s.offset}`);
      }
      return null;
    }
    return { piece: piece! };
  }

  /**
   * Inflates the zlib stream at `view[at]`: null when more input is needed. Attempts grow
   * the window geometrically so retries cost amortized linear time. `body`: an object's body
   * (not delta data), whose buffer its owner may give back for reuse (slabs.ts allocBody).
   */
  #inflate(view: Uint8Array, at: number, size: number, final: boolean, body: boolean): { output: Uint8Array; consumed: number } | null {
    const cap = maxCompressedLength(size);
    for (;;) {
      const avail = view.length - at;
      if (!final && avail < this.#retryAt) return null;
      const window = Math.min(avail, cap, Math.max(this.#retryAt, size + (size >>> 3) + 64));
      let r: ReturnType<ReturnType<typeof platform>['inflatePrefix']>;
      try {
        this.#into ??= body ? this.#o.parts?.allocBody(size + 1) : this.#o.parts?.alloc(size + 1);
        r = platform().inflatePrefix(view.subarray(at, at + window), size, this.#into);
      } catch (err) {
        if (err instanceof OutputLimitError) {
          throw new CorruptPackError(`pack entry at ${this.#offset} inflates to more than its declared ${size} bytes`, { cause: err });
        }
        throw new CorruptPackError(`pack entry at ${this.#offset} has a corrupt zlib stream: ${(err as Error).message}`, { cause: err });
      }
      if (r !== null) {
        if (r.output.length !== size) {
          throw new CorruptPackError(`pack entry at ${this.#offset} inflates to ${r.output.length} bytes but declares ${size}`);
        }
        return r;
      }
      if (window >= cap) throw new CorruptPackError(`pack entry at ${this.#offset} has a zlib stream longer than ${cap} bytes for ${size} bytes of content`);
      if (final && window === avail) throw new CorruptPackError(`pack is truncated inside the entry at ${this.#offset}`);
      this.#retryAt = Math.min(cap, Math.max(window * 2, window + 1));
    }
  }
}
