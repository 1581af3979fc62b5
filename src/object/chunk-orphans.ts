/**
 * Reclaiming chunk streams (chunked.ts) that no marker names: left by a crash in the middle of
 * a write, or by two pushes of the same big blob at once (both streams stored, one marker
 * kept). A stream is live when its owner record (`OWNER_SEQ`, written with its chunks) names an
 * object whose `O` value is a marker of this stream. Streams without an owner record (written
 * before owner records existed, or by the NDJSON commit route) are looked up in one scan of the
 * pool's `O` values, and the live ones get their owner record then, so the scan is paid once.
 *
 * The sweep (repo/sweep.ts) lists candidates with writes going on (`findOrphanStreams`), then
 * removes them under its gate (`reclaimOrphanStreams`), where no ingest is in flight, after
 * looking again. Only streams older than ORPHAN_GRACE_MS are candidates: chunks written outside
 * a counted write (an NDJSON commit streams its files before its write begins) are left to a
 * later sweep.
 */
import type { Kv, KvOp } from '../storage/kv.js';
import { TAG, chunkKey, chunkStreamPrefix, objectKey, prefixRange, repoRange } from '../storage/keys.js';
import { equal, toHex } from '../platform/bytes.js';
import { OWNER_SEQ, decodeChunked, isChunked } from './chunked.js';

/** Age (from the stream id's clock) before an unnamed stream is taken for garbage. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** What `findOrphanStreams` found. */
export interface OrphanStreams {
  /** Stream ids (8 bytes) no marker named, older than the grace. */
  candidates: Uint8Array[];
  /** Whether younger unnamed streams were left (a later sweep should look again). */
  young: boolean;
}

/** Every stream id of the pool: one seek per stream. */
async function* listStreams(kv: Kv, poolId: number): AsyncGenerator<Uint8Array> {
  const range = repoRange(TAG.chunk, poolId);
  let from = range.gte;
  for (;;) {
    let found: Uint8Array | undefined;
    for await (const k of kv.keys({ gte: from, ...(range.lt ? { lt: range.lt } : {}), limit: 1 })) found = k;
    if (found === undefined || found.length < 13) return;
    const stream = found.slice(5, 13);
    yield stream;
    const next = prefixRange(chunkStreamPrefix(poolId, stream)).lt;
    if (next === undefined) return;
    from = next;
  }
}

/** Whether the owner record of `stream` names an object whose marker names `stream`. */
async function ownerNames(kv: Kv, poolId: number, owner: Uint8Array, stream: Uint8Array): Promise<boolean> {
  const v = await kv.get(objectKey(poolId, owner));
  return v !== undefined && isChunked(v) && equal(decodeChunked(v).stream, stream);
}

/** Streams named by the pool's markers (hex stream -> object id bytes): one scan of its `O` values. */
async function markerStreams(kv: Kv, poolId: number): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const [k, v] of kv.entries(repoRange(TAG.object, poolId))) {
    if (isChunked(v)) out.set(toHex(decodeChunked(v).stream), k.slice(5));
  }
  return out;
}

function ownerKey(poolId: number, stream: Uint8Array): Uint8Array {
  return chunkKey(chunkStreamPrefix(poolId, stream), OWNER_SEQ);
}

/** Milliseconds since the stream was opened (its first 4 bytes are seconds, chunked.ts newStreamId). */
function age(stream: Uint8Array, now: number): number {
  return now - new DataView(stream.buffer, stream.byteOffset, 4).getUint32(0) * 1000;
}

/** Lists streams no marker names (see the module comment); writes owner records found missing. */
export async function findOrphanStreams(kv: Kv, poolId: number, now = Date.now()): Promise<OrphanStreams> {
  const out: OrphanStreams = { candidates: [], young: false };
  const consider = (s: Uint8Array) => {
    if (age(s, now) < ORPHAN_GRACE_MS) out.young = true;
    else out.candidates.push(s);
  };
  const ownerless: Uint8Array[] = [];
  for await (const s of listStreams(kv, poolId)) {
    const owner = await kv.get(ownerKey(poolId, s));
    if (owner === undefined) ownerless.push(s);
    else if (!(await ownerNames(kv, poolId, owner, s))) consider(s);
  }
  if (ownerless.length === 0) return out;
  const named = await markerStreams(kv, poolId);
  const ops: KvOp[] = [];
  for (const s of ownerless) {
    const oid = named.get(toHex(s));
    if (oid === undefined) consider(s);
    else ops.push({ type: 'put', key: ownerKey(poolId, s), value: oid });
  }
  if (ops.length > 0) await kv.batch(ops);
  return out;
}

/**
 * Removes the candidate streams still named by no marker: call with no write in flight (the sweep's gate). Returns how many streams were removed.
 */
export async function reclaimOrphanStreams(kv: Kv, poolId: number, candidates: readonly Uint8Array[]): Promise<number> {
  let removed = 0;
  let named: Map<string, Uint8Array> | undefined;
  for (const s of candidates) {
    const owner = await kv.get(ownerKey(poolId, s));
    if (owner !== undefined) {
      if (await ownerNames(kv, poolId, owner, s)) continue;
    } else {
      // Named since it was listed (a write that ended meanwhile)? Look again.
      named ??= await markerStreams(kv, poolId);
      if (named.has(toHex(s))) continue;
    }
    await kv.clear(prefixRange(chunkStreamPrefix(poolId, s)));
    removed++;
  }
  return removed;
}
