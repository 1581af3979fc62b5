/**
 * `readPackAuto`: `readPack` with the work moved off the calling thread where the platform
 * has worker threads (Node). A pack of more than `inlineMaxBytes` is read in a pooled worker
 * from its first byte; a smaller one (most pushes: cheaper inline) is read inline until it
 * would inflate past `inlineMaxInflatedBytes`, and then handed to a worker, which reads it
 * again (it is small and fully buffered) and skips the objects already yielded. Same contract
 * as `readPack`: batches of objects, provisional until the generator completes.
 */
import { platform, type JobPort, type WorkerHost } from '../platform/index.js';
import { OverSoftCap } from './budget.js';
import type { PackObject } from './delta-resolver.js';
import { readPack, type ReadPackOptions } from './pack-reader.js';
import { type FromWorker, type ReadObject, type ToWorker, type WorkerReadOptions, forPosting, fromWire, fromWireBatch } from './worker-protocol.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const INLINE_MAX_BYTES = 256 * KiB;
const INLINE_MAX_INFLATED = 8 * MiB;
/** Input is sent to a worker once this much is gathered (smaller chunks of the source are joined)... */
const SEND_MIN = 64 * KiB;
/** ...in pieces of at most this size... */
const SEND_CHUNK = 1 * MiB;
/** ...with at most this much sent and not yet consumed (backpressure to the source). */
const IN_FLIGHT = 8 * MiB;
/**
 * Batches the worker may post ahead of the consumer. With one, either thread waited whenever its
 * batch took longer than the other's: indexPack of a 184,000-object history on disk, medians of
 * three alternated runs, 6.0 s with one, 5.9 with two, 5.7 with four, 5.6 with eight.
 */
const AHEAD = 4;

/**
 * Options of `readPackAuto`: `readPack`'s, and `wholeBesideDeltas`: in a worker, each delta
 * whose stored form may be larger than its whole entry (object/packed.ts `wholeMayBeSmaller`)
 * also carries that entry, deflated there (`ReadObject.whole`), so the consumer can keep the
 * smaller form without a deflate of its own. Inline reads leave that to the consumer. `dropDeltaData`: in a worker,
 * `delta.data` arrives empty (a consumer that stores `stored` never reads it; it is not copied
 * across threads). `recycleBodies`: in a worker, the buffer a batch's bodies, delta data and
 * delta entries (under 64 KiB) arrived in goes back to the worker when the next batch is pulled,
 * for it to fill again: those views are empty from then on, so the consumer must not keep them
 * (entries, `whole` and `stored` stay valid). Fresh memory costs ~2.4 ms per MiB on a VM where
 * a reused buffer costs 0.03: on a long history's pack the bodies are hundreds of MiB.
 * `dropBlobBodies` (a depth n): in a worker, a blob that arrived whole (it has `entry`) or as a
 * delta (it has `stored`) arrives with an empty body and its size in `ReadObject.dropped`; a
 * blob delta deeper than n in the pack also carries its deflated whole entry (`whole`), for a
 * consumer that stores chains of at most n. Bodies the consumer does not read never cross.
 */
export type ReadAutoOptions = ReadPackOptions & {
  wholeBesideDeltas?: boolean;
  dropDeltaData?: boolean;
  recycleBodies?: boolean;
  dropBlobBodies?: number;
};

/** The URL of the worker's job module in this build. */
const workerModule = (host: WorkerHost): string => new URL(`pack-worker.${host.ext}`, import.meta.url).href;

/**
 * Readies a worker thread with the pack reader loaded, for a pack expected soon: receive-pack
 * calls it when it serves its advertisement, so a large push's reader does not start its thread
 * (~0.2 s from a build, ~0.5 s from sources through tsx) once the pack is already arriving; the
 * client spends that time making its pack. Nothing where the platform has no workers.
 */
export function preparePackReader(): void {
  const host = platform().workers;
  host?.prepare?.(workerModule(host));
}

/** Reads a pack like `readPack`, in a worker thread when `options.worker` and the platform allow. */
export async function* readPackAuto(source: AsyncIterable<Uint8Array>, options: ReadAutoOptions = {}): AsyncGenerator<ReadObject[]> {
  const mode = options.worker ?? 'auto';
  const host = platform().workers;
  if (mode === 'inline' || host === undefined) return yield* readPack(source, options);
  if (mode === 'worker') return yield* readInWorker(host, source, options, 0);

  // Auto: buffer up to inlineMaxBytes to learn whether the pack is small.
  const inlineMax = options.inlineMaxBytes ?? INLINE_MAX_BYTES;
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    if (n > inlineMax) return yield* readInWorker(host, resume(head, it), options, 0);
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    n += r.value.length;
  }
  let yielded = 0;
  // The inline trial streams nothing (a pack this small holding a big blob moves to a worker,
  // which re-reads it and skips what was yielded: a count of objects, never of pieces).
  const { streamBlobsOver: _, ...trial } = options;
  try {
    for await (const batch of readPack(replay(head), trial, { softCap: options.inlineMaxInflatedBytes ?? INLINE_MAX_INFLATED })) {
      yielded += batch.length;
      yield batch;
    }
    return;
  } catch (err) {
    if (!(err instanceof OverSoftCap)) throw err;
  }
  yield* readInWorker(host, replay(head), options, yielded);
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function* resume(head: Uint8Array[], it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}

/** The options a worker is sent. */
const LIMITS = [
  'maxObjectSize',
  'maxObjects',
  'maxPackBytes',
  'maxDeltaDepth',
  'baseCacheBytes',
  'packedBaseBytes',
  'maxDeferredBytes',
  'maxInflatedBytes',
  'streamBlobsOver',
  'wholeBesideDeltas',
  'dropDeltaData',
  'recycleBodies',
  'dropBlobBodies',
] as const;

/** A queue of what the worker sent, read by the generator (`loose`: the buffer given back with the next pull). */
type Event = { t: 'batch'; objects: ReadObject[]; loose?: ArrayBuffer } | { t: 'done' } | { t: 'fail'; err: unknown };

/** Runs one pack read in a pooled worker; see the module comment. */
async function* readInWorker(host: WorkerHost, source: AsyncIterable<Uint8Array>, options: ReadAutoOptions, skip: number): AsyncGenerator<ReadObject[]> {
  const getBase = options.getBase;
  // Only the reader's own limits cross: a caller's options object may carry anything (ingest's).
  const limits: WorkerReadOptions = {};
  for (const k of LIMITS) if (options[k] !== undefined) (limits as Record<string, unknown>)[k] = options[k];
  const port: JobPort = host.open(workerModule(host));
  const post = (m: ToWorker, transfer?: ArrayBuffer[]) => port.post(m, transfer);

  const events: Event[] = [];
  let wakeEvents: (() => void) | undefined;
  const push = (e: Event) => {
    events.push(e);
    wakeEvents?.();
  };
  let inFlight = 0;
  let wakePump: (() => void) | undefined;
  let stopped = false;
  // getBase requests wait while the consumer holds a batch or has batches queued: the base may
  // be in one, stored only once the consumer has taken it.
  let consumerBusy = false;
  const queued = () => events.some((e) => e.t === 'batch');
  const held: { id: number; oid: PackObject['oid']; chunk?: number }[] = [];
  const answer = (id: number, oid: PackObject['oid'], chunk?: number) => {
    getBase!(oid, chunk).then(
      // Copied, never transferred (the caller may keep it); sliced out of a larger buffer first.
      // `size`: a big base, read back chunk by chunk (GetBase).
      (found) =>
        post({
          t: 'base',
          id,
          found:
            found === undefined
              ? undefined
              : { type: found.type, body: forPosting(found.body, new Set(), true), ...(found.size === undefined ? {} : { size: found.size }) },
        }),
      (err: unknown) => push({ t: 'fail', err }),
    );
  };

  port.onFailure((err) => push({ t: 'fail', err }));
  port.onMessage((raw) => {
    const m = raw as FromWorker;
    if (m.t === 'ack') {
      inFlight -= m.bytes;
      wakePump?.();
    } else if (m.t === 'getBase') {
      if (consumerBusy || queued()) held.push({ id: m.id, oid: m.oid, chunk: m.chunk });
      else answer(m.id, m.oid, m.chunk);
    } else if (m.t === 'batch') {
      const objects = fromWireBatch(m.batch);
      // Pieces in it are kept by the consumer (chunks of a streamed blob): that buffer stays.
      const loose = options.recycleBodies && !objects.some((o) => o.piece !== undefined) ? (m.batch.loose.buffer as ArrayBuffer) : undefined;
      push(loose === undefined ? { t: 'batch', objects } : { t: 'batch', objects, loose });
    } else if (m.t === 'done') push({ t: 'done' });
    else push({ t: 'fail', err: fromWire(m.error) });
  });

  const pump = async () => {
    // Every byte is copied into buffers of our own (the source's chunks may share a pool we must
    // not detach), sized to what is sent: a fresh SEND_CHUNK buffer per message, mostly unused,
    // had V8 collect for external memory ~2 s of a 27 MB push.
    let buf: Uint8Array | undefined;
    let used = 0;
    const send = async (chunk: Uint8Array) => {
      inFlight += chunk.length;
      post({ t: 'data', chunk }, [chunk.buffer as ArrayBuffer]);
      while (inFlight > IN_FLIGHT && !stopped) await new Promise<void>((r) => (wakePump = r));
    };
    const flush = async () => {
      if (buf === undefined || used === 0) return;
      const chunk = used === buf.length ? buf : buf.slice(0, used);
      buf = undefined;
      used = 0;
      await send(chunk);
    };
    try {
      for await (const c of source) {
        if (stopped) return;
        let at = 0;
        while (at < c.length) {
          if (used === 0 && c.length - at >= SEND_MIN) {
            const k = Math.min(c.length - at, SEND_CHUNK);
            await send(new Uint8Array(c.subarray(at, at + k)));
            at += k;
            continue;
          }
          buf ??= new Uint8Array(SEND_MIN);
          const k = Math.min(c.length - at, SEND_MIN - used);
          buf.set(c.subarray(at, at + k), used);
          used += k;
          at += k;
          if (used === SEND_MIN) await flush();
        }
      }
      await flush();
      post({ t: 'end' });
    } catch (err) {
      push({ t: 'fail', err });
    }
  };

  post({ t: 'start', options: limits, hasGetBase: getBase !== undefined, skip });
  for (let i = 0; i < AHEAD; i++) post({ t: 'pull' });
  void pump();
  let done = false;
  try {
    for (;;) {
      while (events.length === 0) await new Promise<void>((r) => (wakeEvents = r));
      const e = events.shift()!;
      if (e.t === 'fail') throw e.err;
      if (e.t === 'done') {
        done = true;
        return;
      }
      consumerBusy = true;
      yield e.objects;
      consumerBusy = false;
      if (!queued()) for (const h of held.splice(0)) answer(h.id, h.oid, h.chunk);
      if (e.loose === undefined || e.loose.byteLength === 0) post({ t: 'pull' });
      else post({ t: 'pull', spare: e.loose }, [e.loose]);
    }
  } finally {
    stopped = true;
    wakePump?.();
    if (!done) post({ t: 'abort' });
    port.close();
  }
}
