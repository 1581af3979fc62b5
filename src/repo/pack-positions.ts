/** Plan positions by id, for repo/pack-out.ts. */

/**
 * Plan positions by id: open addressing over the pack's own table of ids (a slot holds a
 * position, 4 bytes, the table at most half full; an id is compared with its row of `ids`),
 * where an OidMap would hold a second copy of every id. A full clone looks up about two ids per
 * object, and the smaller table stays in the processor's caches. A repeated id maps to its last position.
 */
export class Positions {
  readonly #ids: Uint8Array;
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #shift: number;
  readonly size: number;

  constructor(ids: Uint8Array, n: number) {
    let cap = 1024;
    let bits = 10;
    while (cap < n * 2) {
      cap *= 2;
      bits++;
    }
    this.#ids = ids;
    this.#slots = new Int32Array(cap); // position + 1; 0 is empty
    this.#mask = cap - 1;
    this.#shift = 32 - bits;
    this.size = n;
    for (let p = 0; p < n; p++) this.#slots[this.#find(ids, p * 20)] = p + 1;
  }

  // Ids are SHA-1 output: their first bytes are already a uniform hash. Their leading bits pick
  // the slot, so ids met in key order (a scan of the D range) walk the table front to back.
  #find(buf: Uint8Array, off: number): number {
    const ids = this.#ids;
    const slots = this.#slots;
    let i = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> this.#shift;
    for (;;) {
      const s = slots[i]!;
      if (s === 0) return i;
      const at = (s - 1) * 20;
      let k = 0;
      while (k < 20 && ids[at + k] === buf[off + k]) k++;
      if (k === 20) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** The position of the id at `buf[off..off+20]`, or -1. */
  get(buf: Uint8Array, off: number): number {
    return this.#slots[this.#find(buf, off)]! - 1;
  }
}
