/**
 * ObjectWriter: the new objects of one write (an API commit, a merge), hashed and encoded as they
 * are added and written in one batch by `flush` (object-store.ts re-exports it).
 */
import type { Kv, KvOp } from '../storage/kv.js';
import { deltaKey, objectKey } from '../storage/keys.js';
import { type Oid, type ObjectType, hashObject, oidToBytes } from './oid.js';
import { deflatesInBatches, encodePacked, encodePackedMany, encodeStoredDelta, packedInfo } from './packed.js';

/** Objects deflated per slice at `flush` before the slice is handed to the database. */
const ENCODE_SLICE = 64;

/**
 * Collects new objects and writes them in one batch. Where the platform deflates in batches
 * (browsers), whole entries are encoded at `flush` (or when `queued` asks for one), from a copy
 * of each body taken at `add`, so a caller's buffer changing meanwhile cannot split an object
 * from its id.
 */
export class ObjectWriter {
  readonly #kv: Kv;
  readonly #repoId: number;
  readonly #ops = new Map<Oid, KvOp>();
  readonly #deltas = new Map<Oid, KvOp>();
  /** Objects whose whole entry is not encoded yet (batched deflate). */
  readonly #raw = new Map<Oid, { type: ObjectType; body: Uint8Array }>();
  readonly #defer = deflatesInBatches();

  constructor(kv: Kv, repoId: number) {
    this.#kv = kv;
    this.#repoId = repoId;
  }

  #put(oid: Oid, value: Uint8Array): KvOp {
    return { type: 'put', key: objectKey(this.#repoId, oidToBytes(oid)), value };
  }

  /** Hashes, encodes and queues an object; returns its id. */
  add(type: ObjectType, body: Uint8Array): Oid {
    const oid = hashObject(type, body);
    if (this.#ops.has(oid) || this.#raw.has(oid)) return oid;
    if (this.#defer) this.#raw.set(oid, { type, body: body.slice() });
    else this.#ops.set(oid, this.#put(oid, encodePacked(type, body)));
    return oid;
  }

  /** Queues an object already in stored form. */
  addStored(oid: Oid, stored: Uint8Array): void {
    this.#raw.delete(oid);
    this.#ops.set(oid, this.#put(oid, stored));
  }

  /** The stored form of a queued object. */
  queued(oid: Oid): Uint8Array | undefined {
    const raw = this.#raw.get(oid);
    if (raw !== undefined) {
      this.#raw.delete(oid);
      this.#ops.set(oid, this.#put(oid, encodePacked(raw.type, raw.body)));
    }
    const op = this.#ops.get(oid);
    return op?.type === 'put' ? op.value : undefined;
  }

  /**
   * Queues a kept delta of `oid` (a ref-delta pack entry, see encodeRefDelta) beside its whole
   * form, queued first: the `D` value then carries the type and size (StoredDelta, new layout).
   */
  addDelta(oid: Oid, entry: Uint8Array): void {
    const whole = this.queued(oid);
    const info = whole === undefined ? undefined : packedInfo(whole);
    const value = info === undefined ? entry : encodeStoredDelta(info.type, info.size, entry);
    this.#deltas.set(oid, { type: 'put', key: deltaKey(this.#repoId, oidToBytes(oid)), value });
  }

  /** Number of queued objects. */
  get size(): number {
    return this.#ops.size + this.#raw.size;
  }

  /** Writes every queued object (and kept delta) atomically, with `extra` writes in the same batch. */
  async flush(extra: readonly KvOp[] = []): Promise<void> {
    const raw = [...this.#raw];
    this.#raw.clear();
    const ops = [...this.#ops.values(), ...this.#deltas.values()];
    this.#ops.clear();
    this.#deltas.clear();
    if (extra.length > 0) ops.push(...extra);
    if (raw.length === 0) return this.#kv.batch(ops);
    // Deflated a slice at a time, each slice handed to the database as it is ready (Kv.batchFrom).
    const encoded = async function* (this: ObjectWriter) {
      for (let i = 0; i < raw.length; i += ENCODE_SLICE) {
        const slice = raw.slice(i, i + ENCODE_SLICE);
        const entries = await encodePackedMany(slice.map(([, o]) => o));
        yield slice.map(([oid], j) => this.#put(oid, entries[j]!));
      }
    };
    await this.#kv.batchFrom(ops, encoded.call(this));
  }
}
