/**
 * One big blob entry read as it streams (pack-parser.ts, `streamOver`): its zlib stream is fed
 * to a stateful inflater piece by piece and the output goes straight into the object's SHA-1,
 * never into a buffer of its size; the entry's verbatim bytes leave as pieces for the consumer
 * to store (object/chunked.ts). Memory is one inflater's window and output piece, whatever the
 * object's size.
 */
import { CorruptPackError } from '../errors.js';
import { platform, type Sha1Hasher, type StreamInflater } from '../platform/index.js';
import { utf8, toHex } from '../platform/bytes.js';
import type { Oid } from '../object/oid.js';

/** Whether this runtime can stream entries (a platform with `createInflater`). */
export function canStream(): boolean {
  return typeof platform().createInflater === 'function';
}

/** The streaming state of one entry. */
export class StreamedEntry {
  readonly offset: number;
  readonly size: number;
  readonly #cap: number;
  readonly #inflater: StreamInflater;
  readonly #hash: Sha1Hasher = platform().createSha1();
  #produced = 0;
  #compressed = 0;

  /** Starts the blob entry at pack `offset` declaring `size`, its zlib stream at most `cap` bytes. */
  constructor(offset: number, size: number, cap: number) {
    this.offset = offset;
    this.size = size;
    this.#cap = cap;
    this.#inflater = platform().createInflater!();
    this.#hash.update(utf8(`blob ${size}\0`));
  }

  /** Whether the zlib stream ended. */
  get ended(): boolean {
    return this.#inflater.ended;
  }

  /** Feeds bytes that follow; returns how many belonged to the zlib stream. */
  feed(bytes: Uint8Array): number {
    let used: number;
    try {
      used = this.#inflater.push(bytes, (piece) => {
        this.#produced += piece.length;
        if (this.#produced > this.size) throw new CorruptPackError(`pack entry at ${this.offset} inflates to more than its declared ${this.size} bytes`);
        this.#hash.update(piece);
      });
    } catch (err) {
      this.#inflater.close();
      if (err instanceof CorruptPackError) throw err;
      throw new CorruptPackError(`pack entry at ${this.offset} has a corrupt zlib stream: ${(err as Error).message}`, { cause: err });
    }
    this.#compressed += used;
    if (this.#compressed > this.#cap) {
      this.#inflater.close();
      throw new CorruptPackError(`pack entry at ${this.offset} has a zlib stream longer than ${this.#cap} bytes for ${this.size} bytes of content`);
    }
    return used;
  }

  /** The object id once the stream ended; CorruptPackError when it inflated to another size. */
  finish(): Oid {
    if (this.#produced !== this.size) {
      throw new CorruptPackError(`pack entry at ${this.offset} inflates to ${this.#produced} bytes but declares ${this.size}`);
    }
    return toHex(this.#hash.digest()) as Oid;
  }

  /** Releases the inflater (a read that stops in the middle). */
  close(): void {
    this.#inflater.close();
  }
}
