/**
 * The inflated-byte budget of one pack read: every byte the reader produces (inflated entries,
 * inflated delta data, delta results) is charged BEFORE it is produced, from the size the pack
 * declares. The default budget grows with the wire bytes received (a pack that inflates a
 * thousandfold is an attack, not a repository) from a floor, up to an absolute cap; an
 * explicit `maxInflatedBytes` is a fixed budget. A soft cap (the inline trial of
 * pack-reader-worker.ts) throws `OverSoftCap` instead, so the read can move to a worker.
 */
import { LimitExceededError } from '../errors.js';

const MiB = 1024 * 1024;
/** Bytes a received wire byte may inflate to, by default. */
export const INFLATE_RATIO = 64;
/** Budget of a pack read before any byte arrived, by default. */
export const INFLATE_FLOOR = 256 * MiB;
/** Largest default budget, whatever the pack's size. */
export const INFLATE_CAP = 8 * 1024 * MiB;

/** Thrown when a charge passes the soft cap (never escapes readPack's worker hand-off). */
export class OverSoftCap extends Error {
  constructor() {
    super('inline pack read passed its soft cap');
  }
}

/** Counts wire bytes and charges produced bytes; see the module comment. */
export class InflateBudget {
  readonly #fixed: number | undefined;
  readonly #softCap: number;
  #wire = 0;
  #spent = 0;

  /** `fixed`: an explicit budget (else the default formula); `softCap`: see OverSoftCap. */
  constructor(fixed: number | undefined, softCap = Infinity) {
    this.#fixed = fixed;
    this.#softCap = softCap;
  }

  /** Bytes produced so far. */
  get spent(): number {
    return this.#spent;
  }

  /** The budget now (the default one grows with the wire bytes). */
  get limit(): number {
    return this.#fixed ?? Math.min(INFLATE_CAP, INFLATE_FLOOR + INFLATE_RATIO * this.#wire);
  }

  /** Records received wire bytes. */
  received(n: number): void {
    this.#wire += n;
  }

  /** Whether `n` more bytes fit now (more wire bytes may make them fit later). */
  fits(n: number): boolean {
    return this.#spent + n <= this.limit;
  }

  /** Charges `n` bytes about to be produced by `what`; LimitExceededError when they do not fit. */
  charge(n: number, what: string): void {
    if (this.#spent + n > this.#softCap) throw new OverSoftCap();
    const max = this.limit;
    if (this.#spent + n > max) {
      const how = this.#fixed === undefined ? ` (${INFLATE_RATIO} x ${this.#wire} bytes received + ${INFLATE_FLOOR}, at most ${INFLATE_CAP})` : '';
      throw new LimitExceededError(
        `pack inflates to more than ${max} bytes${how}: ${what} would bring it from ${this.#spent} to ${this.#spent + n}; raise maxInflatedBytes`,
        { details: { limit: 'maxInflatedBytes', max, size: this.#spent + n } },
      );
    }
    this.#spent += n;
  }
}
