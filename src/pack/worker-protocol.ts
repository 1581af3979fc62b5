/**
 * Messages between `readPackAuto` (main thread, read-pack-auto.ts) and `serveJob` (a worker
 * thread, pack-worker.ts) for one pack read, and the helpers both sides share.
 *   main -> worker: start, data (input bytes, transferred), end, pull (the consumer wants the
 *                   next batch), base (answer to getBase), abort
 *   worker -> main: ack (input consumed), getBase, batch (transferred bodies), done, error
 */
import { CorruptPackError, LevelGitError, LimitExceededError } from '../errors.js';
import type { ObjectType, Oid } from '../object/oid.js';
import type { PackObject } from './delta-resolver.js';
import type { ReadPackOptions } from './pack-reader.js';

/** Options a worker can be sent (no function). */
export type WorkerReadOptions = Omit<ReadPackOptions, 'getBase' | 'worker' | 'inlineMaxBytes' | 'inlineMaxInflatedBytes'>;

/** Main thread to worker. */
export type ToWorker =
  | { t: 'start'; options: WorkerReadOptions; hasGetBase: boolean; skip: number }
  | { t: 'data'; chunk: Uint8Array }
  | { t: 'end' }
  | { t: 'pull' }
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
  | { t: 'batch'; objects: PackObject[] }
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
