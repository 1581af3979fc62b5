/**
 * Kv (src/storage/kv.ts) over memory-level: binary get/getMany, atomic batches, half-open
 * ranges in key order (across the 1000-entry read batches), range clear, closed state.
 */
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { Kv, type AnyLevel, type KvOp } from '../../src/storage/kv.js';

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const key = (i: number) => b(0x4f, i >> 8, i & 0xff);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const open: MemoryLevel<any, any>[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) if (db.status === 'open') await db.close();
});
function fresh(options?: ConstructorParameters<typeof MemoryLevel>[0]): Kv {
  const db = new MemoryLevel(options);
  open.push(db);
  return new Kv(db);
}

describe('Kv', () => {
  it('reads back binary values, undefined when missing, whatever the database default encodings', async () => {
    for (const kv of [fresh(), fresh({ keyEncoding: 'utf8', valueEncoding: 'json' })]) {
      expect(await kv.get(b(1))).toBeUndefined();
      await kv.batch([{ type: 'put', key: b(1, 0, 0xff), value: b(0, 0xff, 7) }]);
      const v = await kv.get(b(1, 0, 0xff));
      expect(v).toBeInstanceOf(Uint8Array);
      expect([...v!]).toEqual([0, 0xff, 7]);
      expect(await kv.get(b(1, 0))).toBeUndefined();
    }
  });

  it('getMany answers in the order asked, undefined where missing, [] for no keys', async () => {
    const kv = fresh();
    await kv.batch([1, 3, 5].map((i) => ({ type: 'put', key: key(i), value: b(i) })));
    const got = await kv.getMany([key(5), key(2), key(1), key(5), key(4), key(3)]);
    expect(got.map((v) => (v === undefined ? undefined : v[0]))).toEqual([5, undefined, 1, 5, undefined, 3]);
    expect(await kv.getMany([])).toEqual([]);
  });

  it('a batch applies puts and deletes together; an empty batch is a no-op', async () => {
    const kv = fresh();
    await kv.batch([
      { type: 'put', key: key(1), value: b(1) },
      { type: 'put', key: key(2), value: b(2) },
    ]);
    await kv.batch([
      { type: 'del', key: key(1) },
      { type: 'put', key: key(3), value: b(3) },
      { type: 'del', key: key(9) },
    ]);
    await kv.batch([]);
    expect((await collect(kv.keys({ gte: b(0), lt: b(0xff) }))).map(hex)).toEqual([key(2), key(3)].map(hex));
  });

  it('a batch with an invalid operation applies none of its operations', async () => {
    const kv = fresh();
    await kv.batch([{ type: 'put', key: key(1), value: b(1) }]);
    const bad = [
      { type: 'del', key: key(1) },
      { type: 'put', key: key(2), value: b(2) },
      { type: 'put', key: undefined, value: b(3) },
    ] as unknown as KvOp[];
    await expect(kv.batch(bad)).rejects.toThrow();
    expect((await collect(kv.keys({ gte: b(0), lt: b(0xff) }))).map(hex)).toEqual([hex(key(1))]);
  });

  it('a reader running beside a batch sees all of it or none of it', async () => {
    const kv = fresh();
    const ops: KvOp[] = Array.from({ length: 2000 }, (_, i) => ({ type: 'put', key: key(i), value: b(1) }));
    const seen: number[] = [];
    const reader = (async () => {
      for (let r = 0; r < 10; r++) {
        seen.push((await collect(kv.keys({ gte: b(0), lt: b(0xff) }))).length);
        await new Promise((res) => setImmediate(res));
      }
    })();
    await Promise.all([kv.batch(ops), reader]);
    for (const n of seen) expect([0, 2000]).toContain(n);
    expect((await collect(kv.keys({ gte: b(0), lt: b(0xff) }))).length).toBe(2000);
  });

  it('entries and keys list [gte, lt) in byte order, across read batches, and honour limit', async () => {
    const kv = fresh();
    const n = 2500; // more than one 1000-entry batch
    const ops: KvOp[] = Array.from({ length: n }, (_, i) => ({ type: 'put', key: key(n - 1 - i), value: b(i & 0xff) }));
    ops.push({ type: 'put', key: b(0x4e), value: b(0) }, { type: 'put', key: b(0x50), value: b(0) });
    await kv.batch(ops);
    const range = { gte: key(10), lt: key(2210) };
    const entries = await collect(kv.entries(range));
    expect(entries.length).toBe(2200);
    expect(entries.map(([k]) => hex(k))).toEqual(Array.from({ length: 2200 }, (_, i) => hex(key(10 + i))));
    expect(entries[0]![1][0]).toBe((n - 1 - 10) & 0xff);
    expect((await collect(kv.keys(range))).map(hex)).toEqual(entries.map(([k]) => hex(k)));
    expect((await collect(kv.entries({ ...range, limit: 1500 }))).length).toBe(1500);
    expect((await collect(kv.keys({ ...range, limit: 3 }))).map(hex)).toEqual([10, 11, 12].map((i) => hex(key(i))));
    expect(await collect(kv.entries({ gte: key(5), lt: key(5) }))).toEqual([]);
  });

  it('ranges match a model of sorted byte strings (property)', async () => {
    const bytes = fc.uint8Array({ maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(fc.array(bytes, { maxLength: 40 }), bytes, bytes, async (keys, x, y) => {
        const kv = fresh();
        await kv.batch(keys.map((k) => ({ type: 'put', key: k, value: k })));
        const [gte, lt] = Buffer.compare(x, y) <= 0 ? [x, y] : [y, x];
        const expected = [...new Set(keys.map(hex))]
          .map((h) => Buffer.from(h, 'hex'))
          .filter((k) => Buffer.compare(k, gte) >= 0 && Buffer.compare(k, lt) < 0)
          .sort(Buffer.compare)
          .map((k) => k.toString('hex'));
        const got = await collect(kv.entries({ gte, lt }));
        expect(got.map(([k]) => hex(k))).toEqual(expected);
        for (const [k, v] of got) expect(hex(v)).toBe(hex(k));
        await kv.clear({ gte, lt });
        const left = (await collect(kv.keys({ gte: b(), lt: b(0xff, 0xff, 0xff, 0xff, 0xff) }))).map(hex).sort();
        expect(left).toEqual([...new Set(keys.map(hex))].filter((h) => !expected.includes(h)).sort());
      }),
      { seed: 8_013, numRuns: 60 },
    );
  });

  it('clear removes exactly the range', async () => {
    const kv = fresh();
    await kv.batch(Array.from({ length: 20 }, (_, i) => ({ type: 'put', key: key(i), value: b(i) })));
    await kv.clear({ gte: key(5), lt: key(15) });
    expect((await collect(kv.keys({ gte: b(0), lt: b(0xff) }))).map(hex)).toEqual([0, 1, 2, 3, 4, 15, 16, 17, 18, 19].map((i) => hex(key(i))));
  });

  it('works over a sublevel, seeing only its own keys', async () => {
    const db = new MemoryLevel();
    open.push(db);
    const a = new Kv(db.sublevel('a') as unknown as AnyLevel);
    const c = new Kv(db.sublevel('c') as unknown as AnyLevel);
    await a.batch([{ type: 'put', key: key(1), value: b(1) }]);
    await c.batch([{ type: 'put', key: key(2), value: b(2) }]);
    expect((await collect(a.keys({ gte: b(0), lt: b(0xff) }))).map(hex)).toEqual([hex(key(1))]);
    expect(await c.get(key(1))).toBeUndefined();
  });

  it('throws ClosedError once marked closed or once the database closes', async () => {
    const kv = fresh();
    kv.markClosed();
    await expect(kv.get(b(1))).rejects.toThrow(ClosedError);
    await expect(kv.getMany([b(1)])).rejects.toThrow(ClosedError);
    await expect(kv.batch([])).rejects.toThrow(ClosedError);
    await expect(kv.clear({ gte: b(0), lt: b(1) })).rejects.toThrow(ClosedError);
    await expect(collect(kv.entries({ gte: b(0), lt: b(1) }))).rejects.toThrow(ClosedError);
    await expect(collect(kv.keys({ gte: b(0), lt: b(1) }))).rejects.toThrow(ClosedError);

    const db = new MemoryLevel();
    const other = new Kv(db);
    await db.close();
    await expect(other.get(b(1))).rejects.toThrow(ClosedError);
  });

  it('closes its iterator when a reader stops early', async () => {
    const kv = fresh();
    await kv.batch(Array.from({ length: 10 }, (_, i) => ({ type: 'put', key: key(i), value: b(i) })));
    for await (const [k] of kv.entries({ gte: b(0), lt: b(0xff) })) if (k[2] === 3) break;
    for await (const k of kv.keys({ gte: b(0), lt: b(0xff) })) if (k[2] === 3) break;
    // A database with an open iterator would wait on close; this must return.
    await kv.db.close();
    expect(kv.db.status).toBe('closed');
  });
});
