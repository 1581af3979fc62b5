/**
 * Storage of full-clone packs (policy in full-pack.ts), under `'M' pool` (storage/keys.ts):
 *
 *   0x00 tips(20)          -> record (JSON): the tip set, its series, entry count and byte length
 *   0x01 series(8) seq(4)  -> pack bytes (entries only: no header, no trailer), CHUNK bytes each
 *   0x02 series(8) seq(4)  -> the entries' object ids in pack order, IDS_PER_CHUNK ids each
 *   0x03 series(8)         -> (empty) the series exists: found and collected when no record names it
 *   0x04 tips(20)          -> clone-plan record (JSON, same shape, `bytes` 0): a series of ids only (clone-plan.ts)
 *   0x05 tips(20)          -> depth-1 plan record (the same, plus its shallow boundary: depth1-plan.ts)
 *   0x06 tips(20)          -> mark record (the same shape, `bytes` 0): every object the tips reach, as the sweep marked them (sweep-record.ts)
 *   0x07                   -> import record (binary): the roots, object count and size of the pack that filled the empty pool (import-plan.ts)
 *
 * A series only grows at its end: a record is a prefix of its series (its `count` ids, its
 * `bytes` bytes), so several records may share one series, and appending to it (rewriting the
 * last, partial chunk with more bytes after the same prefix) never changes what an older record
 * reads. Ofs-delta offsets are relative, so entries appended after a prefix stay valid.
 */
import { NotFoundError } from '../errors.js';
import type { Oid } from '../object/oid.js';
import { oidFromBytes, oidToBytes } from '../object/oid.js';
import { fromHex, toHex, utf8 } from '../platform/bytes.js';
import { platform } from '../platform/index.js';
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, prefixRange, repoKey } from '../storage/keys.js';

/** Bytes of pack per chunk. */
export const CHUNK = 1 << 20;
/** Object ids per id chunk (160 KiB). */
export const IDS_PER_CHUNK = 8192;
/** Chunks read per batched read while streaming. */
const READ_BATCH = 4;

const RECORD = 0x00;
const BYTES = 0x01;
const IDS = 0x02;
const SERIES = 0x03;
const PLAN = 0x04;
const DEPTH1 = 0x05;
const MARK = 0x06;
const IMPORT = 0x07;

/**
 * Which records: full-clone packs (entries and ids), clone plans (ids only, clone-plan.ts),
 * depth-1 plans (depth1-plan.ts) or the sweep's mark records (ids only, sweep-record.ts).
 */
export type RecordKind = 'pack' | 'plan' | 'depth1' | 'mark';

/** Every kind (a series named by a record of any kind is kept). */
const KINDS: readonly RecordKind[] = ['pack', 'plan', 'depth1', 'mark'];

const TAGS: Record<RecordKind, number> = { pack: RECORD, plan: PLAN, depth1: DEPTH1, mark: MARK };

function recordTag(kind: RecordKind): number {
  return TAGS[kind];
}

/** A stored full-clone pack: exactly the objects reachable from `tips`, each once. */
export interface FullPackRecord {
  v: 1;
  /** The wants it answers (sorted, distinct). */
  tips: Oid[];
  /** Each tip's commit when it peels to one (same order), else null. */
  commits: (Oid | null)[];
  /** The series (16 hex digits) it is a prefix of. */
  series: string;
  count: number;
  bytes: number;
  /** Creation time, ms (the oldest records go first past the limit). */
  at: number;
  /**
   * The pack's SHA-1 trailer (40 hex digits) over its header and its `bytes`, when the record
   * was built from nothing (the writer's own pack ends with it); streamed instead of hashing
   * every byte again. Absent on an extended record and on records written before it existed.
   */
  trailer?: string;
}

function key(poolId: number, kind: number, rest: Uint8Array = new Uint8Array(0)): Uint8Array {
  const suffix = new Uint8Array(1 + rest.length);
  suffix[0] = kind;
  suffix.set(rest, 1);
  return repoKey(TAG.fullPack, poolId, suffix);
}

function seqKey(poolId: number, kind: number, series: string, seq: number): Uint8Array {
  const rest = new Uint8Array(12);
  rest.set(fromHex(series));
  new DataView(rest.buffer).setUint32(8, seq);
  return key(poolId, kind, rest);
}

/**
 * What a pack stored into an empty pool was (import-plan.ts): `objects` distinct objects,
 * `commits` of them commits, every one reachable from `roots` (raw ids, 20 bytes each), and the
 * pack's size in `bytes` (undefined in a record of the first version, which did not hold it).
 */
export interface ImportRecord {
  objects: number;
  commits: number;
  bytes?: number;
  roots: Uint8Array;
}

/** The key of a pool's import record. */
export function importRecordKey(poolId: number): Uint8Array {
  return key(poolId, IMPORT);
}

/** Bytes before the roots in a record of version 1 (version, objects, commits) and of version 2 (then the pack's size). */
const IMPORT_HEAD_V1 = 9;
const IMPORT_HEAD_V2 = 17;

/** The write of a pool's import record (one per pool: a later one replaces it), in version 2. */
export function importRecordOp(poolId: number, r: ImportRecord): KvOp {
  const value = new Uint8Array(IMPORT_HEAD_V2 + r.roots.length);
  const view = new DataView(value.buffer);
  value[0] = 2;
  view.setUint32(1, r.objects);
  view.setUint32(5, r.commits);
  view.setFloat64(9, r.bytes ?? -1);
  value.set(r.roots, IMPORT_HEAD_V2);
  return { type: 'put', key: importRecordKey(poolId), value };
}

/** The pool's import record, if one is stored (of a version this code reads: 1 or 2). */
export async function readImportRecord(kv: Kv, poolId: number): Promise<ImportRecord | undefined> {
  const v = await kv.get(importRecordKey(poolId));
  const head = v?.[0] === 1 ? IMPORT_HEAD_V1 : v?.[0] === 2 ? IMPORT_HEAD_V2 : undefined;
  if (v === undefined || head === undefined || v.length < head || (v.length - head) % 20 !== 0) return undefined;
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const bytes = head === IMPORT_HEAD_V2 ? view.getFloat64(9) : -1;
  return { objects: view.getUint32(1), commits: view.getUint32(5), ...(bytes >= 0 ? { bytes } : {}), roots: v.subarray(head) };
}

/** The record key of a tip set: the SHA-1 of its sorted ids. */
export function tipsDigest(tips: readonly Oid[]): Uint8Array {
  return platform().sha1(utf8([...new Set(tips)].sort().join(',')));
}

/** Sorted distinct tips. */
export function normalTips(tips: readonly Oid[]): Oid[] {
  return [...new Set(tips)].sort();
}

/** The record of `kind` answering exactly `tips`, if stored. */
export async function readRecord(kv: Kv, poolId: number, tips: readonly Oid[], kind: RecordKind = 'pack'): Promise<FullPackRecord | undefined> {
  const v = await kv.get(key(poolId, recordTag(kind), tipsDigest(tips)));
  return v === undefined ? undefined : parseRecord(v);
}

function parseRecord(v: Uint8Array): FullPackRecord | undefined {
  try {
    const r = JSON.parse(new TextDecoder().decode(v)) as FullPackRecord;
    return r.v === 1 ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Every record of `kind` of the pool (a handful: see full-pack.ts MAX_RECORDS). */
export async function listRecords(kv: Kv, poolId: number, kind: RecordKind = 'pack'): Promise<FullPackRecord[]> {
  const out: FullPackRecord[] = [];
  for await (const [, v] of kv.entries(prefixRange(key(poolId, recordTag(kind))))) {
    const r = parseRecord(v);
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** Series being read or written in this process: never collected under them. */
const busy = new WeakMap<Kv, Map<string, number>>();

/** Marks a series in use until the returned release is called. */
export function holdSeries(kv: Kv, poolId: number, series: string): () => void {
  let m = busy.get(kv);
  if (m === undefined) busy.set(kv, (m = new Map()));
  const k = `${poolId}:${series}`;
  m.set(k, (m.get(k) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const n = m.get(k)! - 1;
    if (n === 0) m.delete(k);
    else m.set(k, n);
  };
}

/**
 * Drops the records of `kind` `drop` says to, then every series no record of either kind names
 * (and nobody in this process reads or writes). Returns the records of `kind` kept.
 */
export async function collect(
  kv: Kv,
  poolId: number,
  drop: (r: FullPackRecord, all: FullPackRecord[]) => boolean,
  kind: RecordKind = 'pack',
): Promise<FullPackRecord[]> {
  const all = await listRecords(kv, poolId, kind);
  const kept = all.filter((r) => !drop(r, all));
  if (kept.length < all.length) {
    const ops: KvOp[] = all.filter((r) => !kept.includes(r)).map((r) => ({ type: 'del', key: key(poolId, recordTag(kind), tipsDigest(r.tips)) }));
    await kv.batch(ops);
  }
  const named = new Set(kept.map((r) => r.series));
  for (const other of KINDS) if (other !== kind) for (const r of await listRecords(kv, poolId, other)) named.add(r.series);
  const inUse = busy.get(kv);
  const orphans: string[] = [];
  for await (const k of kv.keys(prefixRange(key(poolId, SERIES)))) {
    const series = toHex(k.subarray(k.length - 8));
    if (!named.has(series) && !inUse?.has(`${poolId}:${series}`)) orphans.push(series);
  }
  for (const series of orphans) {
    const s = fromHex(series);
    await kv.clear(prefixRange(key(poolId, BYTES, s)));
    await kv.clear(prefixRange(key(poolId, IDS, s)));
    await kv.batch([{ type: 'del', key: key(poolId, SERIES, s) }]);
  }
  return kept;
}

/**
 * The pack bytes of a record (entries only), chunk by chunk, a batch of chunks read ahead.
 * Memory: at most two batches (READ_BATCH MiB each).
 */
export async function* recordBytes(kv: Kv, poolId: number, r: FullPackRecord): AsyncGenerator<Uint8Array> {
  const n = Math.ceil(r.bytes / CHUNK);
  const read = (from: number): Promise<(Uint8Array | undefined)[]> | undefined => {
    if (from >= n) return undefined;
    const keys: Uint8Array[] = [];
    for (let i = from; i < Math.min(n, from + READ_BATCH); i++) keys.push(seqKey(poolId, BYTES, r.series, i));
    const p = kv.getMany(keys);
    p.catch(() => undefined);
    return p;
  };
  let next = read(0);
  for (let from = 0; from < n; from += READ_BATCH) {
    const got = await next!;
    next = read(from + READ_BATCH);
    for (let j = 0; j < got.length; j++) {
      const c = got[j];
      const seq = from + j;
      const want = Math.min(CHUNK, r.bytes - seq * CHUNK);
      if (c === undefined || c.length < want) throw gone(r, seq);
      yield c.length === want ? c : c.subarray(0, want);
    }
  }
}

function gone(r: FullPackRecord, seq: number): NotFoundError {
  return new NotFoundError('ERR_OBJECT_NOT_FOUND', `full-clone pack ${r.series} lost its chunk ${seq}`, { details: { oid: r.tips[0] } });
}

/** The record's object ids in pack order, as raw 20-byte ids, one id chunk at a time. */
export async function* recordIds(kv: Kv, poolId: number, r: FullPackRecord): AsyncGenerator<Uint8Array> {
  const n = Math.ceil(r.count / IDS_PER_CHUNK);
  for (let i = 0; i < n; i += READ_BATCH) {
    const keys: Uint8Array[] = [];
    for (let j = i; j < Math.min(n, i + READ_BATCH); j++) keys.push(seqKey(poolId, IDS, r.series, j));
    const got = await kv.getMany(keys);
    for (let j = 0; j < got.length; j++) {
      const want = Math.min(IDS_PER_CHUNK, r.count - (i + j) * IDS_PER_CHUNK) * 20;
      const c = got[j];
      if (c === undefined || c.length < want) throw gone(r, i + j);
      yield c.subarray(0, want);
    }
  }
}

/** The hex ids of a raw id chunk. */
export function idsOf(chunk: Uint8Array): Oid[] {
  const out: Oid[] = [];
  for (let o = 0; o < chunk.length; o += 20) out.push(oidFromBytes(chunk, o));
  return out;
}

/**
 * Writes a series: from empty (a new series) or from a record's end (an append). Full chunks
 * are written as they fill; `finish` writes the partial last ones with the new record, in one batch.
 */
export class SeriesWriter {
  readonly #kv: Kv;
  readonly #poolId: number;
  readonly series: string;
  #bytes: number;
  #count: number;
  #buf = new Uint8Array(CHUNK);
  #used = 0;
  #ids = new Uint8Array(IDS_PER_CHUNK * 20);
  #idsUsed = 0;
  readonly #release: () => void;

  private constructor(kv: Kv, poolId: number, series: string, bytes: number, count: number) {
    this.#kv = kv;
    this.#poolId = poolId;
    this.series = series;
    this.#bytes = bytes;
    this.#count = count;
    this.#release = holdSeries(kv, poolId, series);
  }

  /** A writer of a new, empty series (its marker written first, so a crash leaves a collectable orphan). */
  static async create(kv: Kv, poolId: number): Promise<SeriesWriter> {
    const id = new Uint8Array(8);
    globalThis.crypto.getRandomValues(id);
    const w = new SeriesWriter(kv, poolId, toHex(id), 0, 0);
    await kv.batch([{ type: 'put', key: key(poolId, SERIES, id), value: new Uint8Array(0) }]);
    return w;
  }

  /** A writer appending after `r` (whose series may already be longer: what follows is overwritten). */
  static async after(kv: Kv, poolId: number, r: FullPackRecord): Promise<SeriesWriter> {
    const w = new SeriesWriter(kv, poolId, r.series, r.bytes, r.count);
    try {
      const partBytes = r.bytes % CHUNK;
      const partIds = (r.count % IDS_PER_CHUNK) * 20;
      const [b, ids] = await kv.getMany([
        seqKey(poolId, BYTES, r.series, Math.floor(r.bytes / CHUNK)),
        seqKey(poolId, IDS, r.series, Math.floor(r.count / IDS_PER_CHUNK)),
      ]);
      if ((partBytes > 0 && (b === undefined || b.length < partBytes)) || (partIds > 0 && (ids === undefined || ids.length < partIds))) throw gone(r, -1);
      if (partBytes > 0) w.#buf.set(b!.subarray(0, partBytes));
      if (partIds > 0) w.#ids.set(ids!.subarray(0, partIds));
      w.#used = partBytes;
      w.#idsUsed = partIds;
      w.#bytes -= partBytes;
      w.#count -= partIds / 20;
    } catch (err) {
      w.#release();
      throw err;
    }
    return w;
  }

  /** Ids written so far (the record's count once finished). */
  get count(): number {
    return this.#count + this.#idsUsed / 20;
  }

  /** Appends pack bytes. */
  async bytes(b: Uint8Array): Promise<void> {
    let at = 0;
    while (at < b.length) {
      const n = Math.min(b.length - at, CHUNK - this.#used);
      this.#buf.set(b.subarray(at, at + n), this.#used);
      this.#used += n;
      at += n;
      if (this.#used === CHUNK) {
        await this.#kv.batch([{ type: 'put', key: seqKey(this.#poolId, BYTES, this.series, this.#bytes / CHUNK), value: this.#buf }]);
        this.#bytes += CHUNK;
        this.#buf = new Uint8Array(CHUNK);
        this.#used = 0;
      }
    }
  }

  /** Appends object ids (pack order). */
  async ids(oids: readonly Oid[]): Promise<void> {
    for (const o of oids) {
      const full = this.rawId(oidToBytes(o));
      if (full !== undefined) await full;
    }
  }

  /** Appends a table of raw ids (20 bytes each, pack order). */
  async rawIds(table: Uint8Array): Promise<void> {
    for (let at = 0; at + 20 <= table.length; at += 20) {
      const full = this.rawId(table, at);
      if (full !== undefined) await full;
    }
  }

  /** Appends the raw id at `buf[off..off+20]`; the write of a chunk it filled, to await before the next. */
  rawId(buf: Uint8Array, off = 0): Promise<void> | undefined {
    this.#ids.set(buf.subarray(off, off + 20), this.#idsUsed);
    this.#idsUsed += 20;
    if (this.#idsUsed < this.#ids.length) return undefined;
    const done = this.#kv.batch([{ type: 'put', key: seqKey(this.#poolId, IDS, this.series, this.#count / IDS_PER_CHUNK), value: this.#ids }]);
    this.#count += IDS_PER_CHUNK;
    this.#ids = new Uint8Array(IDS_PER_CHUNK * 20);
    this.#idsUsed = 0;
    return done;
  }

  /** Writes the partial chunks and the record of `kind` of `tips` (with `extra` fields of its kind) in one batch; returns the record. */
  async finish<R extends FullPackRecord = FullPackRecord>(
    tips: readonly Oid[],
    commits: readonly (Oid | null)[],
    kind: RecordKind = 'pack',
    extra?: Omit<R, keyof FullPackRecord>,
  ): Promise<R> {
    const record = {
      ...extra,
      v: 1,
      tips: [...tips],
      commits: [...commits],
      series: this.series,
      count: this.#count + this.#idsUsed / 20,
      bytes: this.#bytes + this.#used,
      at: Date.now(),
    } as R;
    const ops: KvOp[] = [];
    if (this.#used > 0) ops.push({ type: 'put', key: seqKey(this.#poolId, BYTES, this.series, this.#bytes / CHUNK), value: this.#buf.slice(0, this.#used) });
    if (this.#idsUsed > 0)
      ops.push({ type: 'put', key: seqKey(this.#poolId, IDS, this.series, this.#count / IDS_PER_CHUNK), value: this.#ids.slice(0, this.#idsUsed) });
    ops.push({ type: 'put', key: key(this.#poolId, recordTag(kind), tipsDigest(tips)), value: utf8(JSON.stringify(record)) });
    await this.#kv.batch(ops);
    return record;
  }

  /** Ends the writer's hold on its series (after `finish`, or on failure). */
  close(): void {
    this.#release();
  }
}
