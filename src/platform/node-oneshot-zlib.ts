/**
 * One-shot inflate and deflate over reused native zlib engines. `zlib.inflateSync` and
 * `deflateSync` create (and allocate the window and tables of) a new engine per call: for a
 * pack of small objects that set-up cost more than the work, and its garbage was a large part
 * of ingest's collection time (measured: 16.5 -> 6 us per inflate, 55 -> 24 us per deflate of
 * a 1.5 KB body). Here one engine per thread (and level) is kept and reset after each buffer,
 * driven through the engine handle of a `zlib.Inflate` / `zlib.Deflate` object, as
 * node-stream-zlib.ts does. Where that handle is not available (another runtime's `node:zlib`),
 * `createOneShotZlib` answers undefined and node-impl.ts keeps the public calls. No `node:`
 * import here: the module is handed in.
 */
import type * as NodeZlib from 'node:zlib';
import { OutputLimitError } from './errors.js';

/** The engine handle inside a zlib stream object (Node internals, stable since Node 10). */
interface Handle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}
interface Engine {
  _handle: Handle | null;
  _writeState: Uint32Array;
}

/** zlib's Z_BUF_ERROR: with Z_FINISH, the input ended before the stream did. */
const Z_BUF_ERROR = -5;

/** A reusable engine; replaced by a fresh one after an error. */
class Reused {
  readonly #make: () => Engine;
  #handle: Handle | undefined;
  #state: Uint32Array | undefined;
  #error: { message: string; errno: number } | undefined;

  constructor(make: () => Engine) {
    this.#make = make;
  }

  /** Runs one Z_FINISH call; the engine is reset (or dropped after an error) before returning. */
  run(input: Uint8Array, out: Uint8Array, finish: number): { availOut: number; availIn: number } {
    if (this.#handle === undefined) {
      const e = this.#make();
      if (e._handle === null || typeof e._handle.writeSync !== 'function' || typeof e._handle.reset !== 'function')
        throw new Error('zlib engine handle not available');
      this.#handle = e._handle;
      this.#state = e._writeState;
      this.#handle.onerror = (message, errno) => {
        this.#error = { message, errno };
      };
    }
    const h = this.#handle;
    this.#error = undefined;
    h.writeSync(finish, input, 0, input.length, out, 0, out.length);
    const err = this.#error as { message: string; errno: number } | undefined;
    if (err !== undefined) {
      // An engine that failed is not trusted again.
      this.#handle = undefined;
      h.close();
      const e = new Error(err.message) as Error & { errno: number };
      e.errno = err.errno;
      throw e;
    }
    const r = { availOut: this.#state![0]!, availIn: this.#state![1]! };
    h.reset();
    return r;
  }
}

/** One-shot zlib calls over reused engines. */
export interface OneShotZlib {
  /** Inflates the stream at the front of `data` into at most `size` bytes (of `into` when given: `size + 1` bytes or more): null when `data` ends first. */
  inflatePrefix(data: Uint8Array, size: number, into?: Uint8Array): { output: Uint8Array; consumed: number } | null;
  /** zlib-wraps `data` at `level`. */
  deflate(data: Uint8Array, level: number): Uint8Array;
}

/** Outputs up to this size are deflated into a reused scratch buffer, then copied out at their size. */
const SCRATCH_MAX = 1024 * 1024;

/** The one-shot calls over `zlib`'s engines, or undefined where its engine handles are not reachable. */
export function createOneShotZlib(zlib: typeof NodeZlib): OneShotZlib | undefined {
  try {
    const probe = new zlib.Inflate() as unknown as Engine;
    const ok = probe._handle !== null && typeof probe._handle?.writeSync === 'function' && probe._writeState instanceof Uint32Array;
    probe._handle?.close();
    if (!ok) return undefined;
  } catch {
    return undefined;
  }
  const FINISH = zlib.constants.Z_FINISH;
  const inflater = new Reused(() => new zlib.Inflate() as unknown as Engine);
  const deflaters = new Map<number, Reused>();
  let scratch = new Uint8Array(64 * 1024);
  return {
    inflatePrefix(data, size, into) {
      // One spare byte: an output that fills it is longer than declared.
      const out = into !== undefined && into.length > size ? into.subarray(0, size + 1) : new Uint8Array(size + 1);
      let r: { availOut: number; availIn: number };
      try {
        r = inflater.run(data, out, FINISH);
      } catch (err) {
        if ((err as { errno?: number }).errno === Z_BUF_ERROR) return null;
        throw err;
      }
      if (r.availOut === 0) throw new OutputLimitError(`inflated data exceeds ${size} bytes`);
      return { output: out.subarray(0, size + 1 - r.availOut), consumed: data.length - r.availIn };
    },
    deflate(data, level) {
      let d = deflaters.get(level);
      if (d === undefined) deflaters.set(level, (d = new Reused(() => new zlib.Deflate({ level }) as unknown as Engine)));
      // Above zlib's deflateBound for any level (stored blocks cost 5 bytes per 16 KiB, plus
      // header and trailer), so one call always finishes the stream.
      const bound = data.length + (data.length >>> 10) * 5 + 64;
      if (bound > SCRATCH_MAX) {
        const out = new Uint8Array(bound);
        const r = d.run(data, out, FINISH);
        if (r.availOut === 0) throw new Error('zlib deflate output exceeded its bound');
        return out.slice(0, bound - r.availOut);
      }
      if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, 2 * scratch.length));
      const r = d.run(data, scratch, FINISH);
      if (r.availOut === 0) throw new Error('zlib deflate output exceeded its bound');
      return scratch.slice(0, scratch.length - r.availOut);
    },
  };
}
