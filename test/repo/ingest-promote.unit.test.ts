/**
 * Promotion out of quarantine (repo/ingest-promote.ts), without the git binary:
 * - a pack of up to ONE_BATCH_KEYS objects held in memory lands in one batch (atomic);
 * - a larger one, and any spilled one, lands in batches where every delta comes after its base
 *   (chains of any length), commits and tags and the graph records come last, in one batch, and
 *   every object ends up under `O` or `D` by its form with the value it had in quarantine;
 * - a pack landing early lands its commits and their graph records through EarlyLanding, parents
 *   first, in bounded batches, and only its tags and the marker's withdrawal in the last batch;
 * - the engine's own database takes writes without per-operation options (`view` defaults) and
 *   reads them back like a database with other defaults;
 * - EarlyLanding sends one batch at a time, serves values until they are written, writes a sweep
 *   marker first and withdraws it last, and takes back exactly what it landed.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { Level } from 'level';
import { type AnyLevel, Kv, type KvOp, VIEW_DEFAULTS } from '../../src/storage/kv.js';
import { TAG, commitGraphKey, deltaKey, objectKey, quarantineKey, quarantinePrefix } from '../../src/storage/keys.js';
import { type ObjectType, type Oid, oidFromBytes, oidToBytes } from '../../src/object/oid.js';
import { EarlyLanding, ONE_BATCH_KEYS, PROMOTE_BATCH_KEYS, promote } from '../../src/repo/ingest-promote.js';
import { readSweepState } from '../../src/repo/sweep-state.js';
import type { RecordPut } from '../../src/repo/commit-graph.js';

const REPO = 7;
const TYPE_NUMBER: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/** A deterministic id for object n. */
function idOf(n: number): Oid {
  const b = new Uint8Array(20);
  new DataView(b.buffer).setUint32(0, n * 2654435761);
  new DataView(b.buffer).setUint32(16, n);
  return oidFromBytes(b);
}

/** A stand-in value of the form the store tells apart by its first byte: `D` below 0x10. */
function standIn(type: ObjectType, delta: boolean, n: number): Uint8Array {
  const v = new Uint8Array(8);
  v[0] = delta ? TYPE_NUMBER[type] : 0x80 | (TYPE_NUMBER[type] << 4);
  new DataView(v.buffer).setUint32(4, n);
  return v;
}

interface Fixture {
  pending: Map<Oid, Uint8Array>;
  spilled: Set<Oid>;
  chains: Map<Oid, number>;
  types: Map<Oid, ObjectType>;
  /** Base of each delta. */
  bases: Map<Oid, Oid>;
  /** Graph records, parents first: the reverse of the commits' pack order, as in C git's packs. */
  graph: RecordPut[];
}

/** `blobs` blobs in chains of up to `depth` deltas, a tree per 50 blobs, `commits` commits with graph records. */
function fixture(blobs: number, depth: number, commits: number): Fixture {
  const f: Fixture = { pending: new Map(), spilled: new Set(), chains: new Map(), types: new Map(), bases: new Map(), graph: [] };
  let n = 0;
  const add = (type: ObjectType, base?: Oid) => {
    const oid = idOf(n++);
    const chain = base === undefined ? 0 : (f.chains.get(base) ?? 0) + 1;
    f.pending.set(oid, standIn(type, base !== undefined, n));
    f.types.set(oid, type);
    if (base !== undefined) {
      f.chains.set(oid, chain);
      f.bases.set(oid, base);
    }
    return oid;
  };
  let prev: Oid | undefined;
  for (let i = 0; i < blobs; i++) prev = add('blob', i % depth === 0 ? undefined : prev);
  for (let i = 0; i < blobs / 50; i++) add('tree');
  for (let i = 0; i < commits; i++) {
    const c = add('commit');
    f.graph.unshift({ oid: c, op: { type: 'put', key: commitGraphKey(REPO, oidToBytes(c)), value: new Uint8Array([1]) } });
  }
  add('tag');
  return f;
}

/** A Kv over memory that records its batches. */
function recording(db: AnyLevel = new MemoryLevel() as unknown as AnyLevel): { kv: Kv; batches: KvOp[][] } {
  const kv = new Kv(db);
  const batches: KvOp[][] = [];
  const batch = kv.batch.bind(kv);
  kv.batch = async (ops: KvOp[]) => {
    batches.push([...ops]);
    return batch(ops);
  };
  return { kv, batches };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function promoted(f: Fixture, kv: Kv, qKey: (oid: Oid) => Uint8Array = () => new Uint8Array(0), early?: EarlyLanding): Promise<void> {
  const q = {
    pending: f.pending,
    spilled: f.spilled,
    qKey,
    chains: { depth: (oid: Oid) => f.chains.get(oid) ?? 0 },
    typeOf: (id: Uint8Array) => f.types.get(oidFromBytes(id)),
  };
  await promote(kv, REPO, q, f.graph, early?.withdrawal() ?? [], early);
}

/** Asserts every object sits under its form's key with its value. */
async function expectStored(kv: Kv, f: Fixture, values: Map<Oid, Uint8Array>): Promise<void> {
  const ids = [...values.keys()];
  const keys = ids.map((oid) => (f.bases.has(oid) ? deltaKey : objectKey)(REPO, oidToBytes(oid)));
  const got = await kv.getMany(keys);
  ids.forEach((oid, i) => expect(got[i] === undefined ? undefined : [...got[i]!], oid).toEqual([...values.get(oid)!]));
}

describe('promote', () => {
  it('lands a pack of up to ONE_BATCH_KEYS objects in one batch', async () => {
    const f = fixture(3000, 10, 200);
    expect(f.pending.size + f.graph.length).toBeLessThanOrEqual(ONE_BATCH_KEYS);
    const { kv, batches } = recording();
    await promoted(f, kv);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(f.pending.size + f.graph.length);
    await expectStored(kv, f, f.pending);
  });

  it('lands a larger pack in bounded batches, every delta after its base, commits and tags last', async () => {
    const f = fixture(ONE_BATCH_KEYS + 2000, 60, 3000);
    const { kv, batches } = recording();
    await promoted(f, kv);
    expect(batches.length).toBeGreaterThan(ONE_BATCH_KEYS / PROMOTE_BATCH_KEYS);
    const batchOf = new Map<string, number>();
    batches.forEach((ops, i) => {
      for (const op of ops) batchOf.set(hex(op.key.subarray(5)), i);
    });
    for (const [oid, base] of f.bases) expect(batchOf.get(oid)!, `${oid} after its base`).toBeGreaterThan(batchOf.get(base)!);
    const last = batches.length - 1;
    for (const [oid, type] of f.types) {
      if (type === 'commit' || type === 'tag') expect(batchOf.get(oid)).toBe(last);
      else expect(batchOf.get(oid)).toBeLessThan(last);
    }
    expect(batches[last]!.filter((op) => op.key[0] === TAG.commitGraph)).toHaveLength(f.graph.length);
    for (const ops of batches.slice(0, last)) expect(ops.length).toBeLessThanOrEqual(PROMOTE_BATCH_KEYS);
    await expectStored(kv, f, f.pending);
  });

  it('lands the commits of a pack landing early through it, parents first, before the last batch', async () => {
    const f = fixture(ONE_BATCH_KEYS + 2000, 60, 3 * PROMOTE_BATCH_KEYS + 5);
    const { kv, batches } = recording();
    const early = new EarlyLanding(kv, REPO);
    early.add(idOf(999_999), oidToBytes(idOf(999_999)), standIn('blob', false, 0)); // what landed while reading
    await early.flush();
    await promoted(f, kv, undefined, early);
    const batchOf = new Map<string, number>(); // objects' batches (graph records share their commits' ids)
    batches.forEach((ops, i) => {
      for (const op of ops) if (op.key[0] !== TAG.commitGraph) batchOf.set(hex(op.key.subarray(5)), i);
    });
    for (const [oid, base] of f.bases) expect(batchOf.get(oid)!, `${oid} after its base`).toBeGreaterThan(batchOf.get(base)!);
    const last = batches.length - 1;
    const at = f.graph.map((r) => batchOf.get(r.oid)!);
    expect(new Set(at).size).toBeGreaterThan(3); // in several batches
    at.forEach((b, i) => expect(b).toBeGreaterThanOrEqual(at[i - 1] ?? 0)); // parents first
    expect(Math.max(...at)).toBeLessThan(last);
    const blobsAndTrees = [...f.types].filter(([, t]) => t === 'blob' || t === 'tree').map(([oid]) => batchOf.get(oid)!);
    expect(Math.min(...at)).toBeGreaterThan(Math.max(...blobsAndTrees));
    // Each record with its commit; the last batch: the tag and the marker's withdrawal, nothing else.
    const recordIn = new Map<string, number>();
    batches.forEach((ops, i) => {
      for (const op of ops) if (op.key[0] === TAG.commitGraph) recordIn.set(hex(op.key.subarray(5)), i);
    });
    for (const r of f.graph) expect(recordIn.get(r.oid)).toBe(batchOf.get(r.oid));
    const lastOps = batches[last]!;
    expect(lastOps.filter((op) => op.type === 'del')).toEqual(early.withdrawal());
    expect(lastOps).toHaveLength(2);
    for (const ops of batches.slice(0, last)) expect(ops.length).toBeLessThanOrEqual(PROMOTE_BATCH_KEYS + 1);
    await expectStored(kv, f, f.pending);
    expect((await readSweepState(kv, REPO)).markers).toHaveLength(0);
    // What landed through it is recorded: taking back (a failure after promotion began) deletes the commits and records too.
    await early.takeBack();
    const keys = f.graph.flatMap((r) => [objectKey(REPO, oidToBytes(r.oid)), commitGraphKey(REPO, oidToBytes(r.oid))]);
    expect((await kv.getMany(keys)).every((v) => v === undefined)).toBe(true);
  });

  it('reads spilled objects back from the quarantine range and orders them too', async () => {
    const f = fixture(2000, 5, 50);
    const { kv, batches } = recording();
    const prefix = quarantinePrefix(REPO, 42);
    const qKey = (oid: Oid) => quarantineKey(prefix, oidToBytes(oid));
    const all = new Map(f.pending);
    // Half of them spilled: in the quarantine range only.
    const spilled = [...f.pending.keys()].filter((_, i) => i % 2 === 0);
    await kv.batch(spilled.map((oid) => ({ type: 'put' as const, key: qKey(oid), value: f.pending.get(oid)! })));
    for (const oid of spilled) {
      f.pending.delete(oid);
      f.spilled.add(oid);
    }
    batches.length = 0;
    await promoted(f, kv, qKey);
    expect(batches.length).toBeGreaterThan(1); // a spilled pack is never one batch
    const batchOf = new Map<string, number>();
    batches.forEach((ops, i) => {
      for (const op of ops) batchOf.set(hex(op.key.subarray(5)), i);
    });
    for (const [oid, base] of f.bases) expect(batchOf.get(oid)!).toBeGreaterThan(batchOf.get(base)!);
    await expectStored(kv, f, all);
  });
});

describe('Kv writes on a database with view defaults', () => {
  it('stores and reads binary keys and values as a database with other defaults does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'level-git-kv-'));
    const ops: KvOp[] = Array.from({ length: 3000 }, (_, i) => ({
      type: 'put' as const,
      key: objectKey(REPO, oidToBytes(idOf(i))),
      value: new Uint8Array([0, 255, i & 255, 0x80]),
    }));
    try {
      for (const db of [new Level(join(dir, 'a'), VIEW_DEFAULTS), new Level(join(dir, 'b')), new MemoryLevel()] as unknown as AnyLevel[]) {
        await db.open();
        const kv = new Kv(db);
        await kv.batch(ops.slice(0, 100)); // an array batch
        await kv.batch(ops.slice(100)); // a chained one, a slice at a time
        const got = await kv.getMany(ops.map((op) => op.key));
        expect(got.map((v) => (v === undefined ? v : [...v]))).toEqual(ops.map((op) => (op.type === 'put' ? [...op.value] : undefined)));
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EarlyLanding', () => {
  it('lands batches one after another, serves values until written, marks the pool and takes back what it landed', async () => {
    const db = new MemoryLevel() as unknown as AnyLevel;
    const kv = new Kv(db);
    // Something stored before, which takeBack must leave.
    const before = idOf(999_999);
    await kv.batch([{ type: 'put', key: objectKey(REPO, oidToBytes(before)), value: standIn('blob', false, 0) }]);
    // Writes wait until released, one recorded batch at a time.
    const batches: KvOp[][] = [];
    let release: (() => void) | undefined;
    const write = kv.batch.bind(kv);
    kv.batch = async (ops: KvOp[]) => {
      batches.push([...ops]);
      await new Promise<void>((r) => (release = r));
      return write(ops);
    };
    const early = new EarlyLanding(kv, REPO);
    const ids = Array.from({ length: 3000 }, (_, n) => idOf(n));
    const value = (n: number) => standIn('blob', n % 3 === 1, n);
    ids.slice(0, 1500).forEach((oid, n) => early.add(oid, oidToBytes(oid), value(n)));
    await early.flush();
    // The first batch carries the sweep marker and is in flight: its values are served from memory.
    expect(batches).toHaveLength(1);
    expect(batches[0]![0]!.key[0]).toBe(TAG.sweepState);
    expect([...early.get(ids[7]!)!]).toEqual([...value(7)]);
    ids.slice(1500).forEach((oid, n) => early.add(oid, oidToBytes(oid), value(1500 + n)));
    expect([...early.get(ids[2000]!)!]).toEqual([...value(2000)]);
    // The next flush waits for the write in flight before it sends anything.
    let flushed = false;
    const second = early.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(flushed).toBe(false);
    expect(batches).toHaveLength(1);
    while (!flushed) {
      release?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    await second;
    let finished = false;
    const done = early.done().then(() => (finished = true));
    while (!finished) {
      release?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    await done;
    expect(early.count).toBe(3000);
    expect(early.get(ids[7]!)).toBeUndefined();
    // Every object under its form's key, and the marker set.
    const keys = ids.map((oid, n) => ((n % 3 === 1 ? deltaKey : objectKey) as typeof objectKey)(REPO, oidToBytes(oid)));
    expect((await kv.getMany(keys)).every((v) => v !== undefined)).toBe(true);
    expect((await readSweepState(kv, REPO)).markers).toHaveLength(1);
    expect(early.withdrawal()).toEqual([{ type: 'del', key: batches[0]![0]!.key }]);
    // Taking back deletes them and the marker, nothing else.
    kv.batch = write;
    await early.takeBack();
    expect((await kv.getMany(keys)).every((v) => v === undefined)).toBe(true);
    expect((await readSweepState(kv, REPO)).markers).toHaveLength(0);
    expect(await kv.get(objectKey(REPO, oidToBytes(before)))).toBeDefined();
  });
});
