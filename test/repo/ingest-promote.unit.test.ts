/**
 * Promotion out of quarantine (repo/ingest-promote.ts), without the git binary:
 * - a pack of up to ONE_BATCH_KEYS objects held in memory lands in one batch (atomic);
 * - a larger one, and any spilled one, lands in batches where every delta comes after its base
 *   (chains of any length), commits and tags and the graph records come last, in one batch, and
 *   every object ends up under `O` or `D` by its form with the value it had in quarantine;
 * - the engine's own database takes writes without per-operation options (`view` defaults) and
 *   reads them back like a database with other defaults.
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
import { ONE_BATCH_KEYS, PROMOTE_BATCH_KEYS, promote } from '../../src/repo/ingest-promote.js';

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
  graph: KvOp[];
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
    f.graph.push({ type: 'put', key: commitGraphKey(REPO, oidToBytes(c)), value: new Uint8Array([1]) });
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

async function promoted(f: Fixture, kv: Kv, qKey: (oid: Oid) => Uint8Array = () => new Uint8Array(0)): Promise<void> {
  await promote(kv, REPO, { pending: f.pending, spilled: f.spilled, qKey, chains: f.chains, typeOf: (id) => f.types.get(oidFromBytes(id)) }, f.graph);
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
