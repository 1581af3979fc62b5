/**
 * Streaming zlib over Node's native engine, synchronously: `zlib.inflateSync` closes its engine
 * after one buffer, and the stream classes are asynchronous, so this drives the engine handle a
 * `zlib.Inflate` / `zlib.Deflate` object owns (`_handle.writeSync` and `_writeState`, the calls
 * Node's own synchronous path makes) and keeps it open between pieces. No `node:` import here:
 * the module is handed in by node-impl.ts.
 */
import type * as NodeZlib from 'node:zlib';
import type { StreamDeflater, StreamInflater } from './types.js';
import { OutputLimitError } from './errors.js';

/** The engine handle inside a zlib stream object (Node internals, stable since Node 10). */
interface Handle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}
interface Engine {
  _handle: Handle | null;
  _writeState: Uint32Array;
}

/** Output piece size: bounds what one call holds. */
const OUT = 256 * 1024;

/** Drives one engine; see the module comment. */
class Driver {
  readonly #handle: Handle;
  readonly #state: Uint32Array;
  readonly #out = new Uint8Array(OUT);
  #error: string | undefined;
  #closed = false;

  constructor(engine: Engine) {
    if (engine._handle === null || typeof engine._handle.writeSync !== 'function') throw new Error('zlib engine handle not available');
    this.#handle = engine._handle;
    this.#state = engine._writeState;
    this.#handle.onerror = (message) => {
      this.#error = message;
    };
  }

  /** Runs the engine over `input` with `flush` until it stops producing; returns the input used. */
  run(flush: number, input: Uint8Array, onData: (piece: Uint8Array) => void): number {
    if (this.#closed) throw new Error('zlib stream is closed');
    let off = 0;
    let len = input.length;
    for (;;) {
      this.#handle.writeSync(flush, input, off, len, this.#out, 0, OUT);
      if (this.#error !== undefined) {
        const message = this.#error;
        this.close();
        throw new Error(message);
      }
      const availOut = this.#state[0]!;
      const availIn = this.#state[1]!;
      const have = OUT - availOut;
      const used = len - availIn;
      off += used;
      len = availIn;
      if (have > 0) onData(this.#out.subarray(0, have));
      // Output space left means the engine took what it could: input done, or the stream ended.
      if (availOut !== 0 || (have === 0 && used === 0)) return off;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.close();
  }
}

/** A streaming inflater over Node's zlib (see StreamInflater). */
export function nodeInflater(zlib: typeof NodeZlib, maxOutput = Number.MAX_SAFE_INTEGER): StreamInflater {
  const d = new Driver(new zlib.Inflate() as unknown as Engine);
  const flush = zlib.constants.Z_SYNC_FLUSH;
  let ended = false;
  let total = 0;
  return {
    get ended() {
      return ended;
    },
    push(input, onData) {
      if (ended) return 0;
      const used = d.run(flush, input, (piece) => {
        total += piece.length;
        if (total > maxOutput) throw new OutputLimitError(`inflated data exceeds ${maxOutput} bytes`);
        onData(piece);
      });
      // The engine stops taking input only at the end of the stream (a stream that ends exactly
      // where a piece does is seen ended on the next piece, of which it takes nothing).
      if (used < input.length) {
        ended = true;
        d.close();
      }
      return used;
    },
    close: () => d.close(),
  };
}

/** A streaming deflater over Node's zlib (see StreamDeflater). */
export function nodeDeflater(zlib: typeof NodeZlib, level = 1): StreamDeflater {
  const d = new Driver(new zlib.Deflate({ level }) as unknown as Engine);
  return {
    push(input, onData) {
      let at = 0;
      while (at < input.length) {
        const used = d.run(zlib.constants.Z_NO_FLUSH, input.subarray(at), onData);
        if (used === 0) throw new Error('zlib deflate made no progress');
        at += used;
      }
    },
    finish(onData) {
      d.run(zlib.constants.Z_FINISH, new Uint8Array(0), onData);
      d.close();
    },
    close: () => d.close(),
  };
}
