/**
 * Deltas waiting for a base that comes later in the pack: an ofs-delta whose base entry is itself
 * a waiting delta, or a ref-delta whose base id was not seen yet (and the store, if asked, does
 * not hold it). Bounded by `maxDeferredBytes`, counting each delta's data, zlib stream AND the
 * result it declares (a crafted pack could otherwise make many small waiting deltas that each
 * promise a large body); past it LimitExceededError. When a base is resolved, `take` hands its
 * waiting deltas to the resolver, which resolves them one per step (delta-resolver.ts); those
 * still waiting at the pack's end make it corrupt (`finish`).
 */
import { CorruptPackError, LimitExceededError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { readDeltaSizes } from './delta.js';

/** A delta whose base is not known yet. */
export interface Deferred {
  offset: number;
  delta: Uint8Array;
  /** Its zlib stream as it arrived (a copy: the parser's view does not outlive the call). */
  zlib: Uint8Array;
  /** What it counts against maxDeferredBytes (delta, zlib stream, declared result). */
  cost: number;
}

/**
 * A deferred delta with its cost: its data, zlib stream and the result it declares. The data is
 * copied: the parser's may be a part of a shared buffer (slabs.ts) that a delta waiting long
 * would keep whole.
 */
export function deferred(offset: number, delta: Uint8Array, zlib: Uint8Array): Deferred {
  return { offset, delta: delta.slice(), zlib, cost: delta.length + zlib.length + readDeltaSizes(delta).resultSize };
}

/** Waiting deltas by their base's offset or id (see the module comment). */
export class WaitingDeltas {
  readonly #max: number;
  readonly #onOffset = new Map<number, Deferred[]>();
  readonly #onOid = new Map<Oid, Deferred[]>();
  #bytes = 0;
  #count = 0;

  /** Holds at most `maxBytes` of waiting deltas' costs. */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** `d` waits for the entry at `offset` (an ofs-delta on a waiting delta). */
  onOffset(offset: number, d: Deferred): void {
    this.#add(this.#onOffset, offset, d);
  }

  /** `d` waits for the object `oid` (a ref-delta). */
  onOid(oid: Oid, d: Deferred): void {
    this.#add(this.#onOid, oid, d);
  }

  /** The deltas waiting for the entry just resolved at `offset` as `oid`, taken out (undefined: none). */
  take(offset: number, oid: Oid): Deferred[] | undefined {
    const onOffset = this.#onOffset.size === 0 ? undefined : this.#onOffset.get(offset);
    const onOid = this.#onOid.size === 0 ? undefined : this.#onOid.get(oid);
    if (onOffset === undefined && onOid === undefined) return undefined;
    if (onOffset !== undefined) this.#onOffset.delete(offset);
    if (onOid !== undefined) this.#onOid.delete(oid);
    return onOffset === undefined ? onOid : onOid === undefined ? onOffset : [...onOffset, ...onOid];
  }

  /** A taken delta is resolved: it counts no more. */
  done(d: Deferred): void {
    this.#bytes -= d.cost;
    this.#count--;
  }

  /** End of input: throws CorruptPackError when deltas still wait for a base. */
  finish(): void {
    if (this.#count === 0) return;
    const missing = [...this.#onOid.keys()];
    const offsets = [...this.#onOffset.keys()];
    const what =
      missing.length > 0
        ? `missing delta base ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`
        : `unresolvable ofs-delta bases at ${offsets.slice(0, 5).join(', ')}`;
    throw new CorruptPackError(`pack has ${this.#count} deltas that cannot be resolved: ${what}`, {
      details: { missing: missing.slice(0, 100) },
    });
  }

  #add<K>(map: Map<K, Deferred[]>, key: K, d: Deferred): void {
    this.#bytes += d.cost;
    this.#count++;
    if (this.#bytes > this.#max) {
      throw new LimitExceededError(`deltas waiting for their base (with the results they declare) exceed ${this.#max} bytes`, {
        details: { limit: 'maxDeferredBytes', max: this.#max, size: this.#bytes },
      });
    }
    const list = map.get(key);
    if (list === undefined) map.set(key, [d]);
    else list.push(d);
  }
}
