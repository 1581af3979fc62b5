/**
 * Small byte parts carved out of shared buffers: a fresh ArrayBuffer costs a few microseconds
 * (its backing store, and the collector's work to free it), a view into a shared one a tenth of
 * that; on a long history's pack the reader made one per stored delta and per whole entry
 * (~180,000 on 20,000 commits). A part keeps its whole slab alive: only parts that live about as
 * long as their neighbours go here (what one batch hands out), and a part of more than
 * MAX_PART bytes gets a buffer of its own. No part is ever transferred to another thread (the
 * worker copies parts under 64 KiB into its batch buffers: worker-protocol.ts), so a shared
 * buffer is never detached under a neighbour.
 *
 * With `recycle`, bodies (`allocBody`) come from memory their owner gives back (`release`) once
 * it reads them no more: every fresh ArrayBuffer counts as external memory, and V8 runs a
 * collection each time some tens of MiB more of it were allocated; on git's own history the
 * pack worker builds 8 GB of bodies and ran a full collection every ~180 ms for them. Small
 * bodies are carved from body slabs of their own, each counting the parts it handed out; one
 * whose parts all came back is carved again. Big ones (up to RECYCLED_MAX) get buffers of a
 * size class, four per power of two (2^k times 1, 1.25, 1.5 or 1.75: a body fills at least 80%
 * of its buffer, where a power of two left 28% of a base cache's bytes empty on average), kept
 * on a free list per class once released; a request takes a free buffer of its class, else of
 * one of the next two (at most half again as big), else a fresh one; past FREE_MAX bytes kept,
 * the class with the most bytes gives up its oldest. Memory is only reused by a later `allocBody` of the same
 * reader, and its old bytes are never read (a body is written whole before use: applyDelta and
 * inflate check they produced exactly the declared size). Each body must be released once at
 * most; a big buffer released twice, or detached by a transfer since, is ignored.
 */

/** Bytes of one shared buffer. */
const SLAB = 256 * 1024;
/** Largest part carved from a shared buffer (at most 1/16 of one is wasted at its end). */
const MAX_PART = 16 * 1024;
/** Largest recycled buffer (bigger bodies get buffers of their own, as without `recycle`). */
const RECYCLED_MAX = 16 * 1024 * 1024;
/** Bytes of released big buffers kept for reuse (past it, some are left to the collector). */
const FREE_MAX = 48 * 1024 * 1024;
/** Emptied body slabs kept for reuse. */
const FREE_SLABS = 64;

/** The size class of a buffer for `n` bytes (n > 4): 4k + q for the class of 2^k * (4 + q) / 4 bytes, the smallest holding `n`. */
export function classOf(n: number): number {
  const k = 31 - Math.clz32(n);
  const q = Math.ceil((n * 4) / 2 ** k) - 4;
  return q === 4 ? 4 * (k + 1) : 4 * k + q;
}

/** The bytes of size class `c`. */
export function classBytes(c: number): number {
  return CLASS_BYTES[c] ?? sizeOfClass(c);
}

function sizeOfClass(c: number): number {
  return (2 ** (c >>> 2) * (4 + (c & 3))) / 4;
}

/** classBytes of the classes up to 2^26 (release's eviction loop reads them all). */
const CLASS_BYTES = Float64Array.from({ length: 4 * 26 }, (_, c) => sizeOfClass(c));

/** A body slab with the count of its parts not released yet. */
interface BodySlab {
  buf: ArrayBuffer;
  live: number;
}

/** Allocates byte parts from shared buffers (see the module comment). */
export class Slabs {
  #buf: ArrayBuffer = new ArrayBuffer(0);
  #used = 0;
  /** With `recycle`: released big buffers by size class (`classOf`). */
  readonly #free: ArrayBuffer[][] | undefined;
  #freeBytes = 0;
  /** Recycled big buffers handed out and not released yet. */
  readonly #live = new WeakSet<ArrayBuffer>();
  /** With `recycle`: the body slab being carved, those emptied, and each slab by its buffer. */
  #bodySlab: BodySlab | undefined;
  #bodyUsed = 0;
  readonly #emptySlabs: BodySlab[] = [];
  readonly #slabOf = new WeakMap<ArrayBuffer, BodySlab>();

  /** `recycle`: bodies' memory is reused once released (see the module comment). */
  constructor(recycle = false) {
    this.#free = recycle ? [] : undefined;
  }

  /** Whether released bodies' memory is reused (`release` is a no-op otherwise). */
  get recycles(): boolean {
    return this.#free !== undefined;
  }

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

  /**
   * A part of `n` bytes for a body its caller writes whole before reading it: zero-filled when
   * fresh, holding a released body's old bytes when recycled (`release` gives it back).
   */
  allocBody(n: number): Uint8Array {
    const free = this.#free;
    if (free === undefined || n > RECYCLED_MAX) return this.alloc(n);
    if (n <= MAX_PART) return this.#carveBody(n);
    const c = classOf(n);
    let buf = free[c]?.pop() ?? free[c + 1]?.pop() ?? free[c + 2]?.pop();
    if (buf === undefined) buf = new ArrayBuffer(classBytes(c));
    else this.#freeBytes -= buf.byteLength;
    this.#live.add(buf);
    return new Uint8Array(buf, 0, n);
  }

  /** Gives the memory of a body from `allocBody` back for reuse: its owner reads it no more. Anything else is ignored. */
  release(body: Uint8Array): void {
    const free = this.#free;
    if (free === undefined) return;
    const buf = body.buffer as ArrayBuffer;
    const slab = this.#slabOf.get(buf);
    if (slab !== undefined) {
      // The slab being carved stays; another one goes back once all its parts did.
      if (--slab.live === 0 && slab !== this.#bodySlab && this.#emptySlabs.length < FREE_SLABS) this.#emptySlabs.push(slab);
      return;
    }
    if (!this.#live.has(buf)) return;
    this.#live.delete(buf);
    // Detached by a transfer to another thread: gone.
    if (buf.byteLength === 0) return;
    const c = classOf(buf.byteLength);
    (free[c] ??= []).push(buf);
    this.#freeBytes += buf.byteLength;
    while (this.#freeBytes > FREE_MAX) {
      let most = c;
      let mostBytes = (free[most]?.length ?? 0) * classBytes(most);
      for (let k = 0; k < free.length; k++) {
        const bytes = (free[k]?.length ?? 0) * classBytes(k);
        if (bytes > mostBytes) {
          most = k;
          mostBytes = bytes;
        }
      }
      this.#freeBytes -= free[most]!.shift()!.byteLength;
    }
  }

  /** A small body carved from a body slab (an emptied one, else a fresh one, once the current is full). */
  #carveBody(n: number): Uint8Array {
    let slab = this.#bodySlab;
    if (slab === undefined || this.#bodyUsed + n > SLAB) {
      if (slab !== undefined && slab.live === 0 && this.#emptySlabs.length < FREE_SLABS) this.#emptySlabs.push(slab);
      slab = this.#emptySlabs.pop();
      if (slab === undefined) {
        slab = { buf: new ArrayBuffer(SLAB), live: 0 };
        this.#slabOf.set(slab.buf, slab);
      }
      this.#bodySlab = slab;
      this.#bodyUsed = 0;
    }
    slab.live++;
    const part = new Uint8Array(slab.buf, this.#bodyUsed, n);
    this.#bodyUsed += n;
    return part;
  }

  /** A copy of `bytes` in a part. */
  copy(bytes: Uint8Array): Uint8Array {
    const part = this.alloc(bytes.length);
    part.set(bytes);
    return part;
  }
}
