/**
 * The key schema. Every key is binary: one tag byte, then (for per-repository data) the
 * repository's 4-byte internal id, then the rest. Grouping by id makes deleting a repository
 * one range clear per tag, and renaming it a change of one name entry. docs/storage.md
 * documents the same table.
 *
 *   'V'                        -> schema version (1 byte)
 *   'S'                        -> next repository id (uint32 BE)
 *   'N' name                   -> repository id (uint32 BE)
 *   'R' id                     -> repository record (JSON)
 *   'O' id oid(20)             -> object whole, pack-entry form: type+size varint header, zlib(body)
 *   'F' id refname             -> regular ref: oid(20) [peeled oid(20)] | 0x00 "ref: " target
 *   'E' id refname             -> ephemeral ref: oid(20) expiresAt(float64 BE ms) [peeled oid(20)]
 *   'D' id oid(20)             -> the object as a delta: type(1) size(varint) ref-delta pack entry
 *                                 (type 7 header, base oid, zlib(delta) as it arrived); the
 *                                 previous layout stored the entry alone, always beside an 'O'.
 *                                 An object exists iff it has an 'O' or a 'D' (or both)
 *   'Q' id ingest(4) oid(20)   -> quarantined object of an ingest in progress (an 'O' or a 'D' value)
 *   'I' id key                 -> idempotency record (JSON)
 *   'W' id 0x00                -> sweep baseline: an object sweep of this repository completed
 *   'W' id 0x01 stamp(12)      -> "needs an object sweep" marker (one key per event, see repo/sweep-state.ts)
 *   'K' pool [oid(20)]         -> reach (1 byte): the longest chain of stored deltas ending at that
 *                                 whole object; without an id, the pool's records are complete
 *                                 (repo/chain-reach.ts)
 *   'C' id oid(20)             -> commit-graph record: version(1) generation(uint32 BE)
 *                                 committer time(float64 BE) tree(20) parents(20 each)
 *   'H' id 0x00 hookId         -> webhook (JSON: url, events, secret; src/webhooks/); id 0: engine-wide hooks
 *   'H' id 0x01 hookId 0x00 at(8) delivery -> a delivery's outcome (JSON, the last 50 per hook)
 *   'A' pool oid(20)           -> (empty) a parent absent beyond a shallow fetch's boundary (repo/shallow.ts)
 *   'X' due(8) delivery        -> webhook outbox entry (JSON: target, signed body, attempts),
 *                                 engine-wide so a repository's deletion event survives it
 *   'L' id kind(1) holder(8) seq(4) -> a process's write in flight ('w'), closed sweep gate ('g')
 *                                 or pinned objects ('p': oids, 20 bytes each), live while its
 *                                 holder's 'G' alive record is (repo/sweep-leases.ts)
 *   'G' name                   -> engine-wide settings and leases: 'alive/' holder -> expiry
 *                                 (float64 BE ms), 'lead/' name '/' holder, 'setting/' name -> value
 *   'P' pool(4) member(4)      -> empty: `member` reads and writes the objects of `pool` (a fork
 *                                 and its source; no 'P' key: a repository is its own pool)
 *   'B' pool stream(8) seq(4)  -> one chunk of a big object's pack entry (object/chunked.ts);
 *                                 its 'O' value is then a 32-byte marker naming the stream;
 *                                 seq 0xffffffff -> the id of the object whose marker should name it
 *   'M' pool kind(1) ...       -> full-clone packs (repo/full-pack-store.ts): 0x00 tips(20) record
 *                                 (JSON), 0x01 series(8) seq(4) pack bytes, 0x02 series(8) seq(4)
 *                                 object ids in pack order, 0x03 series(8) marker, 0x04 tips(20)
 *                                 clone-plan record (JSON; its series holds ids only: repo/clone-plan.ts)
 * The object ranges ('O', 'D', 'C', 'Q', 'K', 'A', 'B', 'M'), the sweep state ('W') and the
 * cross-process leases ('L', whose sweep guard is the pool's) live under the pool's id
 * (POOL_TAGS); the record, refs and idempotency records under the repository's own (OWN_TAGS).
 */
import { utf8 } from '../platform/bytes.js';

export const TAG = {
  version: 0x56, // V
  nextId: 0x53, // S
  name: 0x4e, // N
  repo: 0x52, // R
  object: 0x4f, // O
  delta: 0x44, // D
  ref: 0x46, // F
  ephemeral: 0x45, // E
  quarantine: 0x51, // Q
  idempotency: 0x49, // I
  // Reserved for this round's work (one letter each, so parallel changes do not collide):
  commitGraph: 0x43, // C  per repository: commit-graph records
  reach: 0x4b, // K  per pool: longest chain of stored deltas ending at each whole object (repo/chain-reach.ts)
  sweepState: 0x57, // W  per repository: what the sweep needs to know between runs
  revoked: 0x54, // T  engine-wide: revoked tokens
  webhook: 0x48, // H  per repository: webhooks and their recent deliveries
  outbox: 0x58, // X  engine-wide: webhook deliveries due
  lease: 0x4c, // L  per repository: cross-process writes, sweep gates and pins
  global: 0x47, // G  engine-wide: settings, process liveness, leader leases
  pool: 0x50, // P  per pool: its member repositories (storage/pools.ts)
  absent: 0x41, // A  per pool: parents a shallow fetch left out (repo/shallow.ts)
  chunk: 0x42, // B  per pool: chunks of big objects (object/chunked.ts)
  fullPack: 0x4d, // M  per pool: full-clone packs and their object lists (repo/full-pack-store.ts)
} as const;

/** Tags of every per-repository key range (cleared when a repository is deleted). */
export const REPO_TAGS = [
  TAG.repo,
  TAG.object,
  TAG.delta,
  TAG.ref,
  TAG.ephemeral,
  TAG.quarantine,
  TAG.idempotency,
  TAG.commitGraph,
  TAG.reach,
  TAG.sweepState,
  TAG.webhook,
  TAG.lease,
  TAG.pool,
  TAG.absent,
  TAG.chunk,
  TAG.fullPack,
] as const;

/** Tags of the ranges kept under a pool's id: shared by every member, cleared when the last member is deleted. */
export const POOL_TAGS: readonly number[] = [
  TAG.object,
  TAG.delta,
  TAG.quarantine,
  TAG.commitGraph,
  TAG.reach,
  TAG.sweepState,
  TAG.pool,
  TAG.lease,
  TAG.absent,
  TAG.chunk,
  TAG.fullPack,
];

/** Tags of the ranges kept under a repository's own id: cleared when it is deleted. */
export const OWN_TAGS: readonly number[] = REPO_TAGS.filter((t) => !POOL_TAGS.includes(t));

/** `tag` followed by the 4-byte id. */
export function repoPrefix(tag: number, repoId: number, extra = 0): Uint8Array {
  const k = new Uint8Array(5 + extra);
  k[0] = tag;
  // Big-endian id, written byte by byte (a DataView per key cost more than the rest of the key).
  k[1] = repoId >>> 24;
  k[2] = (repoId >>> 16) & 0xff;
  k[3] = (repoId >>> 8) & 0xff;
  k[4] = repoId & 0xff;
  return k;
}

/** `tag id suffix`. */
export function repoKey(tag: number, repoId: number, suffix: Uint8Array): Uint8Array {
  const k = repoPrefix(tag, repoId, suffix.length);
  k.set(suffix, 5);
  return k;
}

/** `tag id string`. */
export function repoStringKey(tag: number, repoId: number, s: string): Uint8Array {
  return repoKey(tag, repoId, utf8(s));
}

/** A key range: from `gte` up to (not including) `lt`; without `lt`, to the end. */
export interface KeyRange {
  gte: Uint8Array;
  lt?: Uint8Array;
}

/**
 * Range bounds covering every key that starts with `prefix`. A prefix of 0xff bytes only (or an
 * empty one) has no upper bound below it: every key from it on starts with it or sorts after
 * all that do, so the range is open-ended.
 */
export function prefixRange(prefix: Uint8Array): KeyRange {
  const lt = prefix.slice();
  for (let i = lt.length - 1; i >= 0; i--) {
    if (lt[i]! < 0xff) {
      lt[i]!++;
      return { gte: prefix, lt: lt.subarray(0, i + 1) };
    }
  }
  return { gte: prefix };
}

/** Key of a repository name. */
export function nameKey(name: string): Uint8Array {
  const n = utf8(name);
  const k = new Uint8Array(1 + n.length);
  k[0] = TAG.name;
  k.set(n, 1);
  return k;
}

/** Key of an object (20 raw id bytes appended). */
export function objectKey(repoId: number, oidBytes: Uint8Array): Uint8Array {
  return repoKey(TAG.object, repoId, oidBytes);
}

/** Key of an object's reach record (repo/chain-reach.ts); without id bytes, the pool's "records complete" marker. */
export function reachKey(poolId: number, oidBytes: Uint8Array = new Uint8Array(0)): Uint8Array {
  return repoKey(TAG.reach, poolId, oidBytes);
}

/** Key of an object's ref-delta form (20 raw id bytes appended). */
export function deltaKey(repoId: number, oidBytes: Uint8Array): Uint8Array {
  return repoKey(TAG.delta, repoId, oidBytes);
}

/** Key of a repository's sweep state: `'W' id suffix` (repo/sweep-state.ts: baseline and markers). */
export function sweepStateKey(repoId: number, suffix: Uint8Array): Uint8Array {
  return repoKey(TAG.sweepState, repoId, suffix);
}

/** Key of a commit's commit-graph record (20 raw id bytes appended; repo/commit-graph.ts). */
export function commitGraphKey(repoId: number, oidBytes: Uint8Array): Uint8Array {
  return repoKey(TAG.commitGraph, repoId, oidBytes);
}

/** Key of a pool membership: `'P' pool(4) member(4)`. */
export function poolMemberKey(poolId: number, memberId: number): Uint8Array {
  return repoKey(TAG.pool, poolId, encodeRepoId(memberId));
}

/** Key of the next repository id counter. */
export function nextIdKey(): Uint8Array {
  return new Uint8Array([TAG.nextId]);
}

/** Key of a repository's record. */
export function repoRecordKey(repoId: number): Uint8Array {
  return repoPrefix(TAG.repo, repoId);
}

/** A repository id as stored (the value of a name key and of the next-id counter): uint32 BE. */
export function encodeRepoId(id: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, id);
  return b;
}

/** The repository id an `encodeRepoId` value holds. */
export function decodeRepoId(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
}

/** Prefix of one ingest's quarantine range: `'Q' id ingest(4)`. */
export function quarantinePrefix(repoId: number, ingestId: number): Uint8Array {
  return repoKey(TAG.quarantine, repoId, encodeRepoId(ingestId >>> 0));
}

/** Key of a quarantined object under an ingest's prefix (20 raw id bytes appended). */
export function quarantineKey(prefix: Uint8Array, oidBytes: Uint8Array): Uint8Array {
  const k = new Uint8Array(prefix.length + oidBytes.length);
  k.set(prefix);
  k.set(oidBytes, prefix.length);
  return k;
}

/** Key of a regular ref (or of HEAD). */
export function refKey(repoId: number, name: string): Uint8Array {
  return repoStringKey(TAG.ref, repoId, name);
}

/** Key of an ephemeral ref. */
export function ephemeralRefKey(repoId: number, name: string): Uint8Array {
  return repoStringKey(TAG.ephemeral, repoId, name);
}

/** The range of one repository's keys under one tag (cleared when the repository is deleted). */
export function repoRange(tag: number, repoId: number): KeyRange {
  return prefixRange(repoPrefix(tag, repoId));
}

/** The range of every repository record. */
export function repoRecordsRange(): KeyRange {
  return prefixRange(new Uint8Array([TAG.repo]));
}

/** Key of a parent commit known to be absent beyond a shallow fetch's boundary: `'A' pool oid(20)`. */
export function shallowParentKey(poolId: number, oidBytes: Uint8Array): Uint8Array {
  const k = repoPrefix(TAG.absent, poolId, 20);
  k.set(oidBytes, 5);
  return k;
}

/** The range of an object pool's shallow-boundary parents. */
export function shallowParentsRange(poolId: number): KeyRange {
  return prefixRange(repoPrefix(TAG.absent, poolId));
}
/** Prefix of one big object's chunks: `'B' id stream(8)` (object/chunked.ts). */
export function chunkStreamPrefix(repoId: number, stream: Uint8Array): Uint8Array {
  return repoKey(TAG.chunk, repoId, stream);
}

/** Key of chunk `seq` under a stream prefix (uint32 BE appended, so chunks sort in order). */
export function chunkKey(prefix: Uint8Array, seq: number): Uint8Array {
  const k = new Uint8Array(prefix.length + 4);
  k.set(prefix);
  new DataView(k.buffer).setUint32(prefix.length, seq);
  return k;
}
