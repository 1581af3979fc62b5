/**
 * One big file of an NDJSON commit (commit-ndjson.ts), deflated into chunks (object/chunked.ts)
 * as its lines arrive. Two ways to its object id:
 *   a declared `size`  one pass: the blob header `blob <size>\0` is known before the first byte,
 *                      so SHA-1 and deflate both take each piece as it arrives, the entry
 *                      header is the stream's first bytes, and nothing is read back. A file
 *                      that turns out longer or shorter than declared is a 400.
 *   no declared size   the header is known only at the end: the entry header takes chunk 0,
 *                      written last, and the id is hashed by reading the chunks back (a bounded
 *                      second pass: a few chunks at a time through a streaming inflate).
 * Pieces handed to `push` are consumed during the call (they may be a reused buffer).
 */
import { InvalidArgumentError } from '../../errors.js';
import { ChunkSink, decodeChunked, hashChunked } from '../../object/chunked.js';
import type { ObjectStore } from '../../object/object-store.js';
import { encodeEntryHeader } from '../../object/packed.js';
import type { Oid } from '../../object/oid.js';
import { platform, type Sha1Hasher, type StreamDeflater } from '../../platform/index.js';
import { toHex, utf8 } from '../../platform/bytes.js';

/** Whether this platform can stream a file into chunks (a streaming deflater and inflater). */
export function canStream(): boolean {
  return platform().createDeflater !== undefined && platform().createInflater !== undefined;
}

/** A big file being streamed into chunks; `sink` is what to delete when it is not committed. */
export class StreamedBlob {
  readonly sink: ChunkSink;
  readonly #store: ObjectStore;
  readonly #deflater: StreamDeflater;
  readonly #declared: number | undefined;
  readonly #hash: Sha1Hasher | undefined;
  readonly #path: string;
  #bytes = 0;

  /** Starts the stream; with `declared`, the one-pass way (see the module comment). */
  constructor(store: ObjectStore, path: string, declared: number | undefined) {
    this.#store = store;
    this.#path = path;
    this.#declared = declared;
    this.#deflater = platform().createDeflater!(1);
    this.sink = new ChunkSink(store.repoId, { headerFirst: declared === undefined });
    if (declared !== undefined) {
      this.sink.add(encodeEntryHeader(3, declared));
      this.#hash = platform().createSha1();
      this.#hash.update(utf8(`blob ${declared}\0`));
    }
  }

  /** Bytes of the file so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Takes the next bytes of the file (read during the call only); 400 past a declared size. */
  push(bytes: Uint8Array, line: number): void {
    this.#bytes += bytes.length;
    if (this.#declared !== undefined && this.#bytes > this.#declared) {
      throw new InvalidArgumentError(`NDJSON line ${line}: "${this.#path}" is longer than its declared size ${this.#declared}`, {
        details: { path: this.#path, size: this.#declared },
      });
    }
    this.#hash?.update(bytes);
    this.#deflater.push(bytes, (z) => this.sink.add(z));
  }

  /** Writes the chunks completed so far (memory stays at about one chunk). */
  async flush(): Promise<void> {
    const ops = this.sink.takeOps();
    if (ops.length > 0) await this.#store.kv.batch(ops);
  }

  /** Ends the file: its last chunks written, its id and marker (400 when shorter than declared). */
  async finish(): Promise<{ oid: Oid; marker: Uint8Array }> {
    if (this.#declared !== undefined && this.#bytes !== this.#declared) {
      throw new InvalidArgumentError(`"${this.#path}" has ${this.#bytes} bytes, not its declared size ${this.#declared}`, {
        details: { path: this.#path, size: this.#declared },
      });
    }
    this.#deflater.finish((z) => this.sink.add(z));
    const header = this.#hash === undefined ? encodeEntryHeader(3, this.#bytes) : undefined;
    const marker = this.sink.finish('blob', this.#bytes, header);
    await this.flush();
    const oid = this.#hash !== undefined ? (toHex(this.#hash.digest()) as Oid) : await hashChunked(this.#store.kv, this.#store.repoId, decodeChunked(marker));
    return { oid, marker };
  }

  /** Releases the deflater (the chunks are the caller's to discard). */
  close(): void {
    this.#deflater.close();
  }
}
