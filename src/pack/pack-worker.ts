/**
 * The worker-thread side of a pack read (started by read-pack-auto.ts through the platform's
 * WorkerHost): runs `readPack` over the input the main thread sends, asks the main thread for
 * `getBase`, and posts each batch as a WireBatch (small parts copied into two transferred
 * buffers; big bodies transferred, copied only while the reader still reads them as delta
 * bases). Posts a batch per `pull` the consumer sent (read-pack-auto.ts keeps a few ahead), so
 * batches are built while earlier ones are stored, and no further.
 */
import type { JobPort } from '../platform/index.js';
import type { Oid } from '../object/oid.js';
import type { GetBase, PackObject } from './delta-resolver.js';
import { encodePacked, storedDeltaHeadLength, wholeMayBeSmaller } from '../object/packed.js';
import { readPack, type ReadPackInternals } from './pack-reader.js';
import { type FromWorker, type ReadObject, type ToWorker, toWire, toWireBatch } from './worker-protocol.js';

/** `loose` buffers kept for reuse: the batches the consumer keeps in flight (read-pack-auto.ts AHEAD), and one. */
const SPARES = 5;
/** ...and at most this many bytes of them (a batch's bodies reach 16 MiB: pack-reader.ts BATCH_BYTES). */
const SPARE_BYTES = 64 * 1024 * 1024;

/** Aborted by the main thread: ends the job silently. */
class Aborted extends Error {}

/** Serves one pack read on `port` (called by platform/worker-thread.ts). */
export function serveJob(port: JobPort): void {
  const input: (Uint8Array | null)[] = [];
  let wakeInput: (() => void) | undefined;
  let credits = 0;
  /** `loose` buffers the consumer gave back (recycleBodies), smallest first: one per batch in flight, a few more at most. */
  const spares: ArrayBuffer[] = [];
  let spareBytes = 0;
  // The smallest that holds `bytes`.
  const spare = (bytes: number): ArrayBuffer | undefined => {
    const i = spares.findIndex((b) => b.byteLength >= bytes);
    if (i < 0) return undefined;
    spareBytes -= spares[i]!.byteLength;
    return spares.splice(i, 1)[0];
  };
  let wakeCredit: (() => void) | undefined;
  const bases = new Map<number, { resolve: (v: Awaited<ReturnType<GetBase>>) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let aborted = false;
  const send = (m: FromWorker, transfer?: ArrayBuffer[]) => port.post(m, transfer);

  port.onMessage((raw) => {
    const m = (raw ?? { t: 'abort' }) as ToWorker;
    if (m.t === 'start') void run(m);
    else if (m.t === 'data' || m.t === 'end') {
      input.push(m.t === 'data' ? m.chunk : null);
      wakeInput?.();
    } else if (m.t === 'pull') {
      credits++;
      if (m.spare !== undefined) {
        const given = m.spare;
        const at = spares.findIndex((b) => b.byteLength > given.byteLength);
        spares.splice(at < 0 ? spares.length : at, 0, given);
        spareBytes += given.byteLength;
        // Past the batches in flight or SPARE_BYTES, the smallest goes.
        while (spares.length > SPARES || spareBytes > SPARE_BYTES) spareBytes -= spares.shift()!.byteLength;
      }
      wakeCredit?.();
    } else if (m.t === 'base') {
      bases.get(m.id)?.resolve(m.found);
      bases.delete(m.id);
    } else if (m.t === 'abort') {
      aborted = true;
      for (const b of bases.values()) b.reject(new Aborted());
      bases.clear();
      wakeInput?.();
      wakeCredit?.();
    }
  });

  async function* source(): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (input.length === 0 && !aborted) await new Promise<void>((r) => (wakeInput = r));
      if (aborted) throw new Aborted();
      const c = input.shift()!;
      if (c === null) return;
      send({ t: 'ack', bytes: c.length });
      yield c;
    }
  }

  async function run(start: Extract<ToWorker, { t: 'start' }>): Promise<void> {
    const getBase: GetBase | undefined = start.hasGetBase
      ? (oid: Oid, chunk?: number) =>
          new Promise((resolve, reject) => {
            if (aborted) return reject(new Aborted());
            const id = nextId++;
            bases.set(id, { resolve, reject });
            send(chunk === undefined ? { t: 'getBase', id, oid } : { t: 'getBase', id, oid, chunk });
          })
      : undefined;
    // Every batch is copied or transferred before the next is asked for (toWireBatch below).
    const internals: ReadPackInternals = { recycle: true };
    let skip = start.skip;
    try {
      for await (let batch of readPack(source(), { ...start.options, getBase }, internals)) {
        if (skip > 0) {
          // A read handed over from the main thread: the objects it already yielded (whole: the
          // pieces of one of them, streamed here, are dropped with it).
          let k = 0;
          while (k < batch.length && skip > 0) if (batch[k++]!.piece === undefined) skip--;
          batch = batch.slice(k);
          if (batch.length === 0) continue;
        }
        while (credits === 0 && !aborted) await new Promise<void>((r) => (wakeCredit = r));
        if (aborted) throw new Aborted();
        credits--;
        const dropDepth = start.options.dropBlobBodies;
        if (start.options.wholeBesideDeltas === true) addWholes(batch, dropDepth);
        const transfer = new Set<ArrayBuffer>();
        const drops = dropDepth === undefined ? undefined : droppable;
        const wire = toWireBatch(batch, transfer, (o) => internals.retains?.(o) ?? true, start.options.dropDeltaData, spare, drops);
        send({ t: 'batch', batch: wire }, [...transfer]);
      }
      send({ t: 'done' });
    } catch (err) {
      if (!aborted) send({ t: 'error', error: toWire(err) });
    } finally {
      port.close();
    }
  }
}

/**
 * `wholeBesideDeltas`: deflates the whole entry of each delta whose stored form (a type byte,
 * the size varint and the delta entry: object/packed.ts encodeStoredDelta) may be larger
 * (`wholeMayBeSmaller`), here rather than on the consumer's thread, which would deflate it to
 * choose the smaller form.
 */
function addWholes(batch: PackObject[], dropDepth: number | undefined): void {
  for (const o of batch as ReadObject[]) {
    if (o.deltaEntry === undefined) continue;
    const deep = dropDepth !== undefined && o.type === 'blob' && (o.delta?.depth ?? Infinity) > dropDepth;
    if (deep || wholeMayBeSmaller(o.type, o.body.length, storedDeltaHeadLength(o.body.length) + o.deltaEntry.length)) o.whole = encodePacked(o.type, o.body);
  }
}

/**
 * `dropBlobBodies`: whether a blob's body stays in the worker: one the consumer can store without
 * it (a whole entry, or a delta's `D` value with its whole entry where it may be wanted).
 */
function droppable(o: ReadObject): boolean {
  if (o.type !== 'blob' || o.streamed !== undefined || o.piece !== undefined) return false;
  return o.deltaEntry === undefined ? o.entry !== undefined : o.stored !== undefined;
}
