/**
 * Small byte parts carved out of shared buffers: a fresh ArrayBuffer costs a few microseconds
 * (its backing store, and the collector's work to free it), a view into a shared one a tenth of
 * that; on a long history's pack the reader made one per stored delta and per whole entry
 * (~180,000 on 20,000 commits). A part keeps its whole slab alive: only parts that live about as
 * long as their neighbours go here (what one batch hands out), and a part of more than
 * MAX_PART bytes gets a buffer of its own. No part is ever transferred to another thread (the
 * worker copies parts under 64 KiB into its batch buffers: worker-protocol.ts), so a shared
 * buffer is never detached under a neighbour.
 */

/** Bytes of one shared buffer. */
const SLAB = 256 * 1024;
/** Largest part carved from a shared buffer (at most 1/16 of one is wasted at its end). */
const MAX_PART = 16 * 1024;

/** Allocates byte parts from shared buffers (see the module comment). */
export class Slabs {
  #buf: ArrayBuffer = new ArrayBuffer(0);
  #used = 0;

  /** A zero-filled part of `n` bytes. */
  alloc(n: number): Uint8Array {
    if (n > MAX_PART) return new Uint8Array(n);
    if (this.#used + n > this.#buf.byteLength) {
      this.#buf = new ArrayBuffer(SLAB);
      this.#used = 0;
    }
    const part = new Uint8Array(this.#buf, this.#used, n);
    this.#used += n;
    return part;
  }

  /** A copy of `bytes` in a part. */
  copy(bytes: Uint8Array): Uint8Array {
    const part = this.alloc(bytes.length);
    part.set(bytes);
    return part;
  }
}
