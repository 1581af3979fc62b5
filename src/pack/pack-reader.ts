/**
 * Streaming pack reader (gitformat-pack): `readPack` turns an async iterable of chunks into
 * batches of resolved objects, never holding the pack whole. Three parts:
 *   pack-parser.ts    bytes: working buffer, header, entry headers and zlib streams, checksum
 *   delta-resolver.ts meaning: object ids, delta bases (in-pack cache, `getBase`, deferred)
 *   this module       the loop that feeds one into the other and yields batches
 *
 * Objects are yielded in batches BEFORE the trailing checksum has been verified: a consumer
 * must treat them as provisional and commit nothing until the generator has completed
 * without throwing.
 */
import { DeltaResolver, type GetBase, type PackObject } from './delta-resolver.js';
import { PackParser } from './pack-parser.js';
import { InflateBudget } from './budget.js';
import { Slabs } from './slabs.js';

export type { GetBase, PackObject } from './delta-resolver.js';

/** Options of `readPack`; every limit has a safe default. */
export interface ReadPackOptions {
  /** A base that is not in this pack (thin pack) or was evicted from the reader's cache: return it from the store, or undefined. */
  getBase?: GetBase;
  /** Largest declared object (or delta) size; larger -> LimitExceededError before allocating. Default 512 MiB. */
  maxObjectSize?: number;
  /** Largest object count the pack header may declare. Default 10,000,000. */
  maxObjects?: number;
  /** Largest total input. Default 4 GiB. */
  maxPackBytes?: number;
  /** Longest delta chain. Default 10,000. */
  maxDeltaDepth?: number;
  /** Bytes of recently resolved bodies kept as delta bases. Default 64 MiB. */
  baseCacheBytes?: number;
  /**
   * Bytes of resolved entries' zlib streams kept to rebuild bases that left `baseCacheBytes`
   * on the reader's thread (pack/packed-bases.ts) before asking `getBase`. Default 32 MiB; 0: off.
   */
  packedBaseBytes?: number;
  /**
   * Bytes of deltas waiting for a base that comes later in the pack: their data, zlib streams
   * and the results they declare. Default 256 MiB.
   */
  maxDeferredBytes?: number;
  /**
   * Bytes the pack may inflate to (entries, delta data, delta results), charged before each
   * is produced. Default: 64 x the wire bytes received so far + 256 MiB, at most 8 GiB.
   */
  maxInflatedBytes?: number;
  /**
   * Where a push's pack is read on Node: `'auto'` (default) reads a pack of more than
   * `inlineMaxBytes`, or one that would inflate past `inlineMaxInflatedBytes`, in a worker
   * thread off the event loop; `'inline'` always on the calling thread; `'worker'` always in a
   * worker. Runtimes without workers (browsers) always read inline. Used by `readPackAuto`.
   */
  worker?: 'auto' | 'inline' | 'worker';
  /** For `worker: 'auto'`: the largest pack read inline. Default 256 KiB. */
  inlineMaxBytes?: number;
  /** For `worker: 'auto'`: the most an inline read may inflate before it moves to a worker. Default 8 MiB. */
  inlineMaxInflatedBytes?: number;
  /**
   * Blobs arriving whole that declare at least this many bytes are streamed: inflated into
   * their SHA-1 as they arrive, never held; the batches then carry the entry's verbatim bytes as
   * `piece` items before the object itself (`streamed` set, empty body). Undefined (default):
   * every body is yielded whole. Needs a platform with `createInflater` (Node); elsewhere ignored.
   */
  streamBlobsOver?: number;
}

/** Internal knobs of `readPack` (the worker hand-off). */
export interface ReadPackInternals {
  /** Throw OverSoftCap (budget.ts) once more than this would be produced. */
  softCap?: number;
  /** Set by readPack: whether the reader still reads a body it yielded (it must not be transferred). */
  retains?: (o: PackObject) => boolean;
  /**
   * Set by a consumer that is done with a batch's bodies when it asks for the next one (the pack
   * worker copies or transfers them first): the reader then reuses the memory of bodies that
   * left its base cache (slabs.ts `recycle`) instead of allocating fresh buffers.
   */
  recycle?: boolean;
}

const MiB = 1024 * 1024;
const DEFAULTS = {
  maxObjectSize: 512 * MiB,
  maxObjects: 10_000_000,
  maxPackBytes: 4 * 1024 * MiB,
  maxDeltaDepth: 10_000,
  baseCacheBytes: 64 * MiB,
  packedBaseBytes: 32 * MiB,
  maxDeferredBytes: 256 * MiB,
};

/** The smallest base cache whose bodies are carved from shared buffers (16 of slabs.ts's). */
const SHARED_BODIES_MIN_CACHE = 4 * MiB;

/** A batch is yielded early once it holds this many body bytes or objects. */
const BATCH_BYTES = 16 * MiB;
const BATCH_OBJECTS = 4096;
/**
 * A batch of pieces of a streamed object (a big blob or delta result) leaves at this size: its
 * bytes are held several times over on their way to storage (the batch crossing threads, the
 * chunks cut from it, the database's write batch and memtable), so small batches bound memory.
 */
const PIECE_BATCH_BYTES = 2 * MiB;

/** Whether the resolver's batch must leave now (see BATCH_BYTES, PIECE_BATCH_BYTES). */
function full(r: DeltaResolver): boolean {
  return r.mustYield || r.batchObjects >= BATCH_OBJECTS || r.batchBytes >= (r.pieceBytes > 0 ? PIECE_BATCH_BYTES : BATCH_BYTES);
}

/** Feeds the parser's entries to the resolver and hands out its batches. */
class PackReader {
  readonly #parser: PackParser;
  readonly #resolver: DeltaResolver;

  constructor(options: ReadPackOptions, internals: ReadPackInternals) {
    const maxObjectSize = options.maxObjectSize ?? DEFAULTS.maxObjectSize;
    const budget = new InflateBudget(options.maxInflatedBytes, internals.softCap);
    // Bodies and delta data: parts of shared buffers (slabs.ts; not those handed out to be kept),
    // where the base cache holds many of them (it counts each shared buffer whole).
    const baseCacheBytes = options.baseCacheBytes ?? DEFAULTS.baseCacheBytes;
    const bodies = baseCacheBytes >= SHARED_BODIES_MIN_CACHE ? new Slabs(internals.recycle === true) : undefined;
    this.#parser = new PackParser({
      maxObjectSize,
      maxObjects: options.maxObjects ?? DEFAULTS.maxObjects,
      maxPackBytes: options.maxPackBytes ?? DEFAULTS.maxPackBytes,
      budget,
      ...(bodies === undefined ? {} : { parts: bodies }),
      ...(options.streamBlobsOver === undefined ? {} : { streamOver: options.streamBlobsOver }),
    });
    this.#resolver = new DeltaResolver({
      getBase: options.getBase,
      maxObjectSize,
      maxDeltaDepth: options.maxDeltaDepth ?? DEFAULTS.maxDeltaDepth,
      baseCacheBytes,
      packedBaseBytes: options.packedBaseBytes ?? DEFAULTS.packedBaseBytes,
      maxDeferredBytes: options.maxDeferredBytes ?? DEFAULTS.maxDeferredBytes,
      budget,
      ...(bodies === undefined ? {} : { bodies }),
      ...(options.streamBlobsOver === undefined ? {} : { streamOver: options.streamBlobsOver }),
    });
  }

  /** The resolver (for pack-worker.ts: which bodies it still reads). */
  get resolver(): DeltaResolver {
    return this.#resolver;
  }

  /** Adds input bytes. */
  push(chunk: Uint8Array): void {
    this.#parser.push(chunk);
  }

  /** Releases what a read abandoned in the middle holds. */
  close(): void {
    this.#parser.close();
    this.#resolver.close();
  }

  /** Parses as much as the buffer allows, yielding batches of resolved objects. */
  async *process(final: boolean): AsyncGenerator<PackObject[]> {
    const resolver = this.#resolver;
    for (;;) {
      if (resolver.hasWork) {
        // Deltas that waited on a base just resolved: one at a time, each handed out once the
        // batch is full, so their results are never all held together.
        // (A big delta is streamed: a slice per step, a promise while its base is read back.)
        const stepped = resolver.step();
        if (stepped !== undefined) await stepped;
        if (full(resolver)) yield resolver.takeBatch();
        continue;
      }
      const part = this.#parser.next(final);
      // Only entries that need the caller's store return a promise: no await per object otherwise.
      const progressed = typeof part === 'boolean' ? part : resolver.add(part);
      if (typeof progressed !== 'boolean') await progressed;
      if (full(resolver)) yield resolver.takeBatch();
      if (!progressed) break;
    }
    if (resolver.batchObjects > 0) yield resolver.takeBatch();
    if (final) {
      // End of input: everything must have been read, checked and resolved.
      this.#parser.finish();
      resolver.finish();
    }
  }
}

/**
 * Reads a pack from `source`, yielding batches of resolved objects with their ids. Throws
 * CorruptPackError (bad signature, version, zlib data, sizes, deltas, checksum, truncation,
 * trailing bytes, unresolvable deltas) or LimitExceededError. The objects are provisional
 * until the generator completes without throwing: the checksum is verified last.
 */
export async function* readPack(
  source: AsyncIterable<Uint8Array>,
  options: ReadPackOptions = {},
  internals: ReadPackInternals = {},
): AsyncGenerator<PackObject[]> {
  const reader = new PackReader(options, internals);
  internals.retains = (o) => reader.resolver.retains(o);
  try {
    for await (const chunk of source) {
      reader.push(chunk);
      yield* reader.process(false);
    }
    yield* reader.process(true);
  } finally {
    reader.close();
  }
}

/** Reads a whole in-memory pack (tests and small packs). */
export async function readPackBytes(pack: Uint8Array, options: ReadPackOptions = {}): Promise<PackObject[]> {
  const out: PackObject[] = [];
  for await (const batch of readPack(
    (async function* () {
      yield pack;
    })(),
    options,
  )) {
    out.push(...batch);
  }
  return out;
}

// The same reader off the calling thread where the platform has workers (Node); see read-pack-auto.ts.
export { readPackAuto } from './read-pack-auto.js';
