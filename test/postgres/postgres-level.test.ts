/** PostgresLevel beyond abstract-level's suite: byte order, round trips, paging, large batches. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/index.js';
import { PostgresLevel, createPostgresLevel } from '../../src/postgres/index.js';
import { findPostgres, havePostgres, startPostgres, type PostgresServer } from './server.js';

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const b = (...xs: number[]) => new Uint8Array(xs);

describe.skipIf(!havePostgres())('PostgresLevel', () => {
  let server: PostgresServer;
  let n = 0;
  const fresh = async (options: { pageSize?: number } = {}) => {
    const db = createPostgresLevel({ connectionString: server.connectionString, table: `unit_${++n}`, poolSize: 2, ...options });
    await db.open();
    return db;
  };
  beforeAll(async () => {
    server = await startPostgres(findPostgres() as never);
  });
  afterAll(() => server?.stop());

  it('orders bytea keys bytewise, shorter first on a common prefix (memcmp, as abstract-level expects)', async () => {
    const db = await fresh();
    const keys = [b(0xff), b(0x80), b(0x7f, 0xff), b(0x00, 0x00), b(0x00), b(0x01, 0xff), b(0x02), b(0xfe, 0x00), b(0x00, 0x01)];
    await db.batch(
      keys.map((key) => ({ type: 'put' as const, key, value: b(1) })),
      VIEW,
    );
    const got = (await db.keys({ keyEncoding: 'view' }).all()).map((k) => [...k]);
    const want = keys.map((k) => [...k]).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(got).toEqual(want);
    const rev = (await db.keys({ keyEncoding: 'view', reverse: true, lt: b(0x7f, 0xff), gte: b(0x00, 0x01) }).all()).map((k) => [...k]);
    expect(rev).toEqual([[0x02], [0x01, 0xff], [0x00, 0x01]]);
    await db.close();
  });

  it('answers get, getMany (duplicates and misses), put, del and batch in one round trip each', async () => {
    const db = await fresh();
    const q = async (f: () => Promise<unknown>) => {
      const before = db.queryCount;
      await f();
      return db.queryCount - before;
    };
    expect(await q(() => db.put('a', '1'))).toBe(1);
    expect(
      await q(() =>
        db.batch([
          { type: 'put', key: 'b', value: '2' },
          { type: 'put', key: 'c', value: '3' },
          { type: 'del', key: 'a' },
        ]),
      ),
    ).toBe(1);
    let many: (string | undefined)[] = [];
    expect(await q(async () => (many = await db.getMany(['c', 'a', 'b', 'c', 'zz'])))).toBe(1);
    expect(many).toEqual(['3', undefined, '2', '3', undefined]);
    expect(await q(() => db.get('b'))).toBe(1);
    expect(await q(() => db.del('b'))).toBe(1);
    expect(await db.keys().all()).toEqual(['c']);
    await db.close();
  });

  it('applies the last write of a key within one batch, and the batch is all or nothing', async () => {
    const db = await fresh();
    await db.batch([
      { type: 'put', key: 'k', value: 'first' },
      { type: 'del', key: 'k' },
      { type: 'put', key: 'k', value: 'last' },
      { type: 'put', key: 'gone', value: 'x' },
      { type: 'del', key: 'gone' },
    ]);
    expect(await db.iterator().all()).toEqual([['k', 'last']]);
    // A key PostgreSQL refuses (over the btree's row size limit) fails the whole batch.
    const huge = randomBytes(20_000);
    await expect(
      db.batch(
        [
          { type: 'put', key: 'ok', value: '1' },
          { type: 'put', key: huge as never, value: '2' },
        ],
        { keyEncoding: 'view' },
      ),
    ).rejects.toThrow(/index row/);
    expect(await db.get('ok')).toBeUndefined();
    // Also when the batch takes several statements (one transaction).
    const many = Array.from({ length: 20_000 }, (_, i) => ({ type: 'put' as const, key: `m${i}`, value: 'v' }));
    await expect(db.batch([...many, { type: 'put', key: huge as never, value: '2' }], { keyEncoding: 'view' } as never)).rejects.toThrow(/index row/);
    expect(await db.get('m0')).toBeUndefined();
    await db.close();
  });

  it('writes a batch larger than one statement in one transaction', async () => {
    const db = await fresh();
    const ops = Array.from({ length: 40_000 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(6, '0')}`, value: `v${i}` }));
    await db.batch([{ type: 'put', key: 'old', value: 'x' }]);
    await db.batch([...ops, { type: 'del', key: 'old' }]);
    const keys = await db.keys({ limit: 3 }).all();
    expect(keys).toEqual(['k000000', 'k000001', 'k000002']);
    expect(await db.get('old')).toBeUndefined();
    expect(await db.get('k039999')).toBe('v39999');
    await db.close();
  });

  it('iterates in pages (never the whole table in one query), with limit, reverse and seek', async () => {
    const db = await fresh({ pageSize: 50 });
    await db.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: String(i).padStart(4, '0'), value: String(i) })));
    const before = db.queryCount;
    const all = await db.iterator().all();
    expect(all.length).toBe(1000);
    expect(db.queryCount - before).toBe(21); // 20 full pages of 50, and one empty page that ends it
    const it = db.iterator({ reverse: true, limit: 5, lt: '0500' });
    expect(await it.next()).toEqual(['0499', '499']);
    it.seek('0100');
    expect(await it.nextv(10)).toEqual([
      ['0100', '100'],
      ['0099', '99'],
      ['0098', '98'],
      ['0097', '97'],
    ]);
    await it.close();
    const before2 = db.queryCount;
    const first = await db.keys({ gte: '0900' }).next();
    expect(first).toBe('0900');
    expect(db.queryCount - before2).toBe(1);
    await db.close();
  });

  it('takes an engine in a sublevel, beside other data of the same table', async () => {
    const db = await fresh();
    await db.put('other', 'data');
    // No warm job left running at close (see engine-conformance.test.ts).
    const engine = await openEngine({ db: db.sublevel('git', { keyEncoding: 'view', valueEncoding: 'view' }), packCache: { warm: false } });
    const repo = await engine.createRepo('in-sub');
    const c = await repo.commit({
      branch: 'main',
      message: 'm',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 'a.txt', content: 'hello' }],
    });
    expect(new TextDecoder().decode(await repo.readFile('main', 'a.txt'))).toBe('hello');
    expect((await repo.log('main')).map((l) => l.sha)).toEqual([c.sha]);
    await engine.close();
    expect(await db.get('other')).toBe('data');
    expect((await db.keys({ gte: '!git!', lt: '!git"' }).all()).length).toBeGreaterThan(3);
    await db.close();
  });

  it('refuses bad options, and a table name that is not an identifier', () => {
    expect(() => new PostgresLevel({} as never)).toThrow(/connectionString/);
    expect(() => new PostgresLevel({ connectionString: server.connectionString, table: 'x; DROP TABLE y' })).toThrow(/identifier/);
    expect(() => new PostgresLevel({ connectionString: server.connectionString, pageSize: 0 })).toThrow(/pageSize/);
  });

  it('fails to open with a clear error when the server is unreachable, and the process survives', async () => {
    const db = new PostgresLevel({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    await expect(db.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    expect(db.status).toBe('closed');
  });
});
