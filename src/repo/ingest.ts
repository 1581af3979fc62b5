/**
 * Storing a pack (`indexPack`, and the pack of a push). Objects are quarantined until the
 * whole pack is read, its checksum verified, every object checked as `receive.fsckObjects`
 * does (object/fsck.ts, one FsckSession per pack: content as it is read, the blobs trees name
 * `.gitmodules`/`.gitattributes` at the end) and parsed, and every object they reference
 * found in the pack or the store with the type the reference needs (a commit's tree is a
 * tree, its parents commits, tree entries by mode, a tag's object by its `type` line). Only
 * then are they promoted into the repository's object space, so the store stays closed under
 * reachability: whatever is in it has everything it points to, with the right types. A
 * failure anywhere leaves the store as it was. Small packs are quarantined in memory. A large
 * one's blobs and trees land while it is read, its commits and tags last (ingest-promote.ts,
 * EarlyLanding): a failure takes them back, or leaves them unreferenced to the sweep when
 * another write of the pool may have relied on them; what waits past the memory quarantine
 * spills to the quarantine key range.
 *
 * What arrives is kept: an object that arrived whole is stored whole (`O`, its entry copied), one
 * that arrived as a delta is stored as that delta only (`D`: the zlib stream as it arrived, no
 * deflate), unless the delta is not smaller than the whole entry or would make a stored chain
 * longer than MAX_STORED_CHAIN. The quarantine holds both forms (object/packed.ts
 * `isStoredDelta` tells them apart).
 */
import { HashCollisionError, LevelGitError, MissingObjectsError, CorruptPackError } from '../errors.js';
import { equal } from '../platform/bytes.js';
import { storageOp, type Kv, type KvOp } from '../storage/kv.js';
import { TAG, prefixRange, quarantineKey, quarantinePrefix, repoRange } from '../storage/keys.js';
import { type Oid, oidFromBytes, oidToBytes } from '../object/oid.js';
import { decodeStoredDelta, encodePacked, encodeStoredDelta, isStoredDelta, refDeltaBase, wholeMayBeSmaller } from '../object/packed.js';
import type { ObjectStore, RawObject, StoredForms } from '../object/object-store.js';
import type { ObjectType } from '../object/oid.js';
import { type FsckConfig, FsckSession, type FsckOptions, type FsckReport } from '../object/fsck.js';
import { readPackAuto as readPack, type ReadPackOptions } from '../pack/pack-reader.js';
import type { ReadObject } from '../pack/worker-protocol.js';
import { refuseIfBad } from './checks.js';
import { PackLinks, parseArrived } from './ingest-links.js';
import { OidList } from './oid-set.js';
import { ChunkSink } from '../object/chunked.js';
import { bigBaseReader, refuseCollision } from './ingest-big.js';
import { type CommitFacts, commitGraph } from './commit-graph.js';
import { EarlyLanding, ONE_BATCH_KEYS, batched, promote } from './ingest-promote.js';
import { ChainBook, MAX_STORED_CHAIN, reachRecordOps } from './chain-reach.js';
import { importRecordOp } from './full-pack-store.js';
import { MAX_IMPORT_ROOTS } from './import-plan.js';

/** Limits of an ingest (all optional; see ReadPackOptions for the pack reader's). */
export interface IngestOptions extends Omit<ReadPackOptions, 'getBase'> {
  /**
   * Bytes of new objects held in memory before a pack's blobs and trees land early (and what must
   * still wait spills to the quarantine range). Default 32 MiB.
   */
  memoryQuarantineBytes?: number;
  /** Ignored: every delta is now kept as it arrived (it was the bytes of deltas kept beside whole objects). */
  maxDeltaRecordBytes?: number;
  /** The object checks (git's `receive.fsck.<msg-id>` levels); default strict, every id at git's level. */
  fsck?: FsckOptions | FsckConfig;
  /** Commits at a shallow boundary (a shallow fetch's `shallow` lines): their parents need not be present. */
  shallow?: ReadonlySet<string>;
  /**
   * Blobs arriving whole from this size on are streamed into chunks (object/chunked.ts), never
   * held whole. Default 4 MiB (STREAM_BLOBS_OVER); Infinity turns it off.
   */
  streamBlobsOver?: number;
  /** Called after each batch of objects read (`objects` so far) and once before storing: what a person importing watches (cli/progress.ts). */
  onProgress?: (objects: number, phase: 'reading' | 'storing') => void;
}

/** Default `streamBlobsOver`: blobs from 4 MiB on are streamed into chunks. */
export const STREAM_BLOBS_OVER = 4 * 1024 * 1024;

/** Result of storing a pack. */
export interface IngestResult {
  /** Every object id in the pack, in pack order (made on first read: a push does not read them). */
  oids: Oid[];
  /** How many of them were new to the repository. */
  added: number;
  /** Findings of checks downgraded to warnings (`<type> <oid>: <id>: <message>`, at most 100); absent when none. */
  warnings?: string[];
}

const MAX_WARNINGS = 100;

/** Longest chain of stored deltas ingest builds (chain-reach.ts); a longer one is stored whole. */
export { MAX_STORED_CHAIN };

const MiB = 1024 * 1024;
const READING = 'reading objects for a pack';
const WRITING = 'storing a pack';

/**
 * The write an ingest runs in (SweepGuard): whether objects it landed early may be deleted again
 * after a failure. Without it they are left to the sweep.
 */
export interface IngestWrite {
  alone(): (undo: () => Promise<void>) => Promise<boolean>;
}

/** Reads, checks and stores a pack; see the module comment. */
export async function ingestPack(
  kv: Kv,
  store: ObjectStore,
  source: AsyncIterable<Uint8Array>,
  options: IngestOptions = {},
  write?: IngestWrite,
): Promise<IngestResult> {
  const repoId = store.repoId;
  const memLimit = options.memoryQuarantineBytes ?? 32 * MiB;
  const qid = (Math.random() * 0xffffffff) >>> 0;
  const qPrefix = quarantinePrefix(repoId, qid);
  const qKey = (oid: Oid) => quarantineKey(qPrefix, oidToBytes(oid));
  const pending = new Map<Oid, Uint8Array>(); // new objects not yet spilled (whole entries or D values)
  const spilled = new Set<Oid>();
  const chains = new ChainBook(); // chains of objects stored as deltas (new or bases read): lengths, roots
  let pendingBytes = 0;
  const read = { bytes: 0 }; // the pack's size, for the import record
  const links = new PackLinks(); // types of the pack's objects, references waiting for their target
  const session = new FsckSession(options.fsck);
  let warnings: string[] | undefined;
  // Every id of the pack in order, raw: made hex strings only if the caller reads them (a push does not).
  const oids = new OidList();
  const commits = new Map<Oid, CommitFacts>(); // the pack's commits, for their commit-graph records
  // Big blobs streamed into chunks (object/chunked.ts): the chunks are written as they arrive,
  // the marker waits in `pending` like any object; every stream is deleted unless promoted.
  const sinks: ChunkSink[] = [];
  let sink: ChunkSink | undefined;
  const streamed = new Set<Oid>();
  let landed = false;
  // A large pack's blobs and trees, landed while it is read, and what may take them back.
  let early: EarlyLanding | undefined;
  let takeBack: ((undo: () => Promise<void>) => Promise<boolean>) | undefined;
  // Whether an object stored as `value` must wait for the last batch: a commit or tag, a
  // streamed blob's marker, a delta whose base waits.
  const waits = (oid: Oid, type: ObjectType | undefined, value: Uint8Array, base?: Oid): boolean => {
    if (type === 'commit' || type === 'tag' || streamed.has(oid)) return true;
    if (!isStoredDelta(value)) return false;
    const b = base ?? (decodeStoredDelta(value).base as Oid);
    return pending.has(b) || spilled.has(b);
  };
  const streamOver = options.streamBlobsOver ?? STREAM_BLOBS_OVER;

  const checked = (oid: Oid, type: ObjectType, report: FsckReport) => {
    refuseIfBad(oid, type, report);
    for (const p of report.problems) {
      if ((warnings ??= []).length < MAX_WARNINGS) warnings.push(`${type} ${oid}: ${p.id}: ${p.message}`);
    }
  };
  // Stored forms of ids, from the quarantine (memory, then spilled) before the store.
  const asForms = (v: Uint8Array): StoredForms => (isStoredDelta(v) ? { delta: v } : { whole: v });
  const lookup = async (ids: Oid[]): Promise<(StoredForms | undefined)[]> => {
    const out: (StoredForms | undefined)[] = new Array(ids.length);
    const fromQ: number[] = [];
    const rest: number[] = [];
    ids.forEach((oid, i) => {
      const mem = pending.get(oid) ?? early?.get(oid);
      if (mem !== undefined) out[i] = asForms(mem);
      else (spilled.has(oid) ? fromQ : rest).push(i);
    });
    if (fromQ.length > 0) {
      const vals = await kv.getMany(fromQ.map((i) => qKey(ids[i]!)));
      fromQ.forEach((i, j) => (vals[j] === undefined ? rest.push(i) : (out[i] = asForms(vals[j]!))));
    }
    if (rest.length > 0) {
      const forms = await store.forms(rest.map((i) => ids[i]!));
      rest.forEach((i, j) => (out[i] = forms[j]));
    }
    return out;
  };
  const readQuarantined = async (oid: Oid): Promise<RawObject | undefined> => {
    const depths = new Map<Oid, number>();
    const ends = new Map<Oid, Oid>();
    const [raw] = await storageOp(READING, () => store.readMany([oid], { lookup, depths, ends }));
    if (!chains.has(oid) && (depths.get(oid) ?? 0) > 0) chains.stored(oid, depths.get(oid)!, ends.get(oid)!);
    return raw;
  };
  // Chunked objects are handed to the reader chunk by chunk, never whole (ingest-big.ts).
  const getBase = bigBaseReader(kv, repoId, lookup, readQuarantined);

  try {
    // Into a repository with no object yet (a first push, an import), nothing of the pack can be
    // stored already: no lookup per object (two per absent id). As racy as the lookups were: a
    // push landing meanwhile could store the same ids either way.
    const fresh = await storageOp(READING, () => holdsNoObject(kv, repoId));
    const readOptions = {
      ...options,
      getBase,
      wholeBesideDeltas: true,
      dropDeltaData: true,
      // Nothing below keeps a body, delta data or piece view past its batch (pieces are never recycled).
      recycleBodies: true,
      // Into an empty repository no blob is compared with a stored one, so a blob's body is read
      // only when a tree names it .gitmodules or .gitattributes: then from what was stored
      // (session.pending below). Left in the reader's worker, it is never copied across threads.
      ...(fresh ? { dropBlobBodies: MAX_STORED_CHAIN } : {}),
      ...(Number.isFinite(streamOver) ? { streamBlobsOver: streamOver } : {}),
    };
    for await (const batch of readPack(
      announced(source, (count) => links.expect(count), read),
      readOptions,
    )) {
      const existing = fresh ? NONE_STORED : await storageOp(READING, () => storedBodies(store, objectIds(batch)));
      const chunkOps: KvOp[] = [];
      const duplicates: ChunkSink[] = [];
      const collisions: [Oid, Uint8Array][] = []; // streamed blobs already stored: compared once written
      for (let i = 0; i < batch.length; i++) {
        const o = batch[i]!;
        if (o.piece !== undefined) {
          if (sink === undefined) sinks.push((sink = new ChunkSink(repoId)));
          // Pieces are the reader's own copies: a whole chunk is stored without another.
          sink.addOwned(o.piece);
          for (const op of sink.takeOps()) chunkOps.push(op);
          continue;
        }
        if (o.streamed !== undefined) {
          const s = sink!;
          sink = undefined;
          const marker = s.finish('blob', o.streamed);
          s.own(o.oid);
          for (const op of s.takeOps()) chunkOps.push(op);
          const id = oidToBytes(o.oid);
          oids.push(id);
          const inPack = links.has(id);
          const known = inPack || (!fresh && (await storageOp(READING, () => store.has([o.oid])))[0]!);
          if (known) {
            duplicates.push(s);
            if (!inPack) collisions.push([o.oid, marker]);
            if (!inPack) links.arrived(id, 'blob');
            continue;
          }
          links.arrived(id, 'blob');
          // Its body is never held: a tree naming it `.gitmodules` gets it refused as too large.
          checked(o.oid, 'blob', session.check(o.oid, 'blob', null));
          streamed.add(o.oid);
          pending.set(o.oid, marker);
          pendingBytes += marker.length;
          continue;
        }
        const id = oidToBytes(o.oid);
        oids.push(id);
        if (links.has(id)) continue;
        links.arrived(id, o.type);
        // Our parse first, git's checks after it: a body both refuse fails as our parse says.
        const report = parseArrived(o, links, session, commits, options.shallow);
        // A blob whose body stayed in the reader (`dropped`) is checked by session.pending() if named.
        if (o.dropped === undefined || o.type !== 'blob') checked(o.oid, o.type, report ?? session.check(o.oid, o.type, o.body));
        const stored = existing.get(o.oid);
        if (stored !== undefined) {
          if (!equal(stored.body, o.body)) {
            throw new HashCollisionError(`object ${o.oid} differs from the stored object with the same id`, { details: { oid: o.oid } });
          }
          continue;
        }
        const packed = storedForm(o, chains);
        if (early !== undefined && !waits(o.oid, o.type, packed, o.delta?.base)) {
          early.add(o.oid, id, packed);
          continue;
        }
        pending.set(o.oid, packed);
        pendingBytes += packed.length;
      }
      if (early === undefined && (pending.size > ONE_BATCH_KEYS || pendingBytes > memLimit)) {
        // Large: from now on blobs and trees land as they come, these first (in arrival order,
        // so a base before its deltas).
        takeBack = write?.alone();
        early = new EarlyLanding(kv, repoId);
        for (const [oid, v] of pending) {
          const id = oidToBytes(oid);
          if (waits(oid, links.typeOf(id), v)) continue;
          early.add(oid, id, v);
          pending.delete(oid);
          pendingBytes -= v.length;
        }
      }
      if (early !== undefined) await storageOp(WRITING, () => early!.flush());
      if (chunkOps.length > 0) await storageOp(WRITING, () => kv.batch(chunkOps));
      for (const [oid, marker] of collisions) await storageOp(READING, () => refuseCollision(store, oid, marker));
      for (const d of duplicates) await storageOp(WRITING, () => d.discard(kv));
      if (pendingBytes > memLimit) {
        await storageOp(WRITING, () =>
          batched(
            kv,
            [...pending].map(([oid, v]) => ({ type: 'put' as const, key: qKey(oid), value: v })),
          ),
        );
        for (const oid of pending.keys()) spilled.add(oid);
        // In batches too small for Kv to count (commits of ~300 bytes): the range is compacted once cleared.
        kv.compactor.wrote([qPrefix]);
        pending.clear();
        pendingBytes = 0;
      }
      options.onProgress?.(oids.length, 'reading');
    }
    if (early !== undefined) await storageOp(WRITING, () => early!.done());
    options.onProgress?.(oids.length, 'storing');

    // Connectivity: everything referenced and not in the pack is stored, with the right type
    // (types read from the stored entries' headers or delta values, in batches).
    const outside = links.outside();
    for (let i = 0; i < outside.length; i += 4096) {
      const chunk = outside.slice(i, i + 4096);
      const infos = await storageOp(READING, () => store.info(chunk));
      const missing = chunk.filter((_, j) => infos[j] === undefined);
      if (missing.length > 0) {
        throw new MissingObjectsError(
          `pack is not complete: ${missing.length === 1 ? 'object' : `${missing.length} objects, e.g.`} ${missing[0]} referenced but not present`,
          {
            details: { missing: missing.slice(0, 20) },
          },
        );
      }
      chunk.forEach((oid, j) => links.arrived(oidToBytes(oid), infos[j]!.type));
    }

    // Blobs named .gitmodules / .gitattributes that came before their tree, or are stored.
    for (const { oid, kind } of session.pending()) {
      const found = streamed.has(oid) ? { type: 'blob' as const, body: null } : await readQuarantined(oid);
      checked(oid, 'blob', session.checkPending(oid, kind, found));
    }

    // Commit-graph records of the pack's commits, generations parents first (commit-graph.ts).
    const graph = await storageOp(READING, () => commitGraph(store).recordsFor(commits, options.shallow));
    // Promote in batches, bases before their deltas, commits last (ingest-promote.ts).
    const added = pending.size + spilled.size + (early?.count ?? 0);
    const q = { pending, spilled, qKey, chains, typeOf: (id: Uint8Array) => links.typeOf(id) };
    // The reach records of the roots the pack's chains end at land with the last batch, and
    // into an empty pool, what the pack was: its object count and roots (import-plan.ts).
    const reach = await storageOp(READING, () => reachRecordOps(kv, repoId, chains, fresh));
    const imported = fresh && outside.length === 0 && !options.shallow?.size ? links.roots(MAX_IMPORT_ROOTS) : undefined;
    const last = [...(early?.withdrawal() ?? []), ...reach];
    if (imported !== undefined)
      last.push(importRecordOp(repoId, { objects: imported.objects, commits: commits.size, bytes: read.bytes, roots: imported.roots }));
    await storageOp(WRITING, () => promote(kv, repoId, q, graph, last, early));
    landed = true;
    let hex: Oid[] | undefined;
    const result: IngestResult = {
      get oids() {
        hex ??= Array.from(oids, (id) => oidFromBytes(id));
        return hex;
      },
      added,
    };
    if (warnings !== undefined) result.warnings = warnings;
    return result;
  } catch (err) {
    // Storage failures arrive as StorageError (storageOp); what else fails is the pack's
    // bytes or the stream carrying them.
    if (err instanceof LevelGitError) throw err;
    throw new CorruptPackError(`cannot read pack: ${(err as Error).message}`, { cause: err });
  } finally {
    if (spilled.size > 0) await kv.clear(prefixRange(qPrefix)).catch(() => undefined);
    if (!landed) for (const s of sinks) await s.discard(kv).catch(() => undefined);
    if (!landed && early !== undefined) {
      await early.settled();
      await takeBack?.(() => early!.takeBack()).catch(() => undefined);
    }
  }
}

/** `source` as it is, telling `count` the object count of the pack header in its first chunk (when whole there), counting its bytes in `read`. */
async function* announced(source: AsyncIterable<Uint8Array>, count: (n: number) => void, read: { bytes: number }): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const chunk of source) {
    read.bytes += chunk.length;
    if (first && chunk.length >= 12 && chunk[0] === 0x50 && chunk[1] === 0x41 && chunk[2] === 0x43 && chunk[3] === 0x4b) {
      count(((chunk[8]! << 24) | (chunk[9]! << 16) | (chunk[10]! << 8) | chunk[11]!) >>> 0);
    }
    first = false;
    yield chunk;
  }
}

/**
 * The form an object is stored in: the delta it arrived as (a `D` value) when that is smaller
 * than the whole entry and keeps its chain within MAX_STORED_CHAIN (recorded in `chains`), else
 * the whole entry (the one that arrived, or deflated here).
 */
function storedForm(o: ReadObject, chains: ChainBook): Uint8Array {
  const { type, entry, deltaEntry, oid } = o;
  const size = o.dropped ?? o.body.length;
  if (deltaEntry === undefined) return entry ?? deflated(o);
  const base = o.delta?.base ?? (refDeltaBase(deltaEntry) as Oid);
  const depth = chains.depth(base) + 1;
  if (depth > MAX_STORED_CHAIN) return o.whole ?? deflated(o);
  // Built by the reader (PackObject.stored) beside the ref-delta entry: no copy here.
  const delta = o.stored ?? encodeStoredDelta(type, size, deltaEntry);
  if (wholeMayBeSmaller(type, size, delta.length)) {
    // Deflated by the reader's worker where it ran in one (wholeBesideDeltas).
    const whole = o.whole ?? deflated(o);
    if (whole.length <= delta.length) return whole;
  }
  chains.link(oid, base, depth);
  return delta;
}

/** The whole entry of `o`, deflated here. The reader leaves a body out only where it sent every form storedForm could need (dropBlobBodies). */
function deflated(o: ReadObject): Uint8Array {
  if (o.dropped !== undefined) throw new Error(`the pack reader left out the body of ${o.oid}, which is needed to store it`);
  return encodePacked(o.type, o.body);
}

const NONE_STORED: ReadonlyMap<Oid, RawObject> = new Map();

/** The ids of a batch's objects (not pieces, not streamed blobs): what the collision check looks up. */
function objectIds(batch: readonly ReadObject[]): Oid[] {
  return batch.filter((o) => o.piece === undefined && o.streamed === undefined).map((o) => o.oid);
}

/** Whether the repository stores no object (whole or delta). */
async function holdsNoObject(kv: Kv, repoId: number): Promise<boolean> {
  for (const tag of [TAG.object, TAG.delta]) if (await kv.anyKey(repoRange(tag, repoId))) return false;
  return true;
}

/** Bodies of those of `oids` already stored (for the collision check), one lookup for the batch. */
async function storedBodies(store: ObjectStore, oids: Oid[]): Promise<Map<Oid, RawObject>> {
  const present = await store.has(oids);
  const found = oids.filter((_, i) => present[i]);
  const out = new Map<Oid, RawObject>();
  if (found.length === 0) return out;
  const raws = await store.readMany(found);
  found.forEach((o, i) => raws[i] && out.set(o, raws[i]!));
  return out;
}
