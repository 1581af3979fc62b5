/**
 * Cost limits of API commits: a commit over the change-count or byte budget is a 413 before any
 * object is built, and a large commit within it is built in slices, so the event loop keeps
 * getting turns (other requests, timers) while it runs.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };
let engine: Engine;
let db: MemoryLevel;
afterEach(async () => engine.close());

async function setup(options: { maxCommitChanges?: number; maxCommitBytes?: number } = {}): Promise<FetchHandler> {
  db = new MemoryLevel();
  engine = await openEngine({ db: db as never });
  await engine.createRepo('r');
  return createApiFetchHandler({
    engine,
    tokens: createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } }),
    adminKey: ADMIN,
    ...options,
  });
}

async function commit(api: FetchHandler, changes: unknown[]): Promise<Response> {
  const body = JSON.stringify({ branch: 'main', message: 'm', author: AUTHOR, changes });
  return (await api(new Request('http://api.test/api/v1/repos/r/commits', { method: 'POST', headers: { 'x-api-key': ADMIN }, body })))!;
}

/** Keys in the whole database: a refused commit writes none. */
async function keyCount(): Promise<number> {
  return (await db.keys().all()).length;
}

describe('API commit budget', () => {
  it('more changes than the default allows: 413 before any object is written', async () => {
    const api = await setup();
    const changes = Array.from({ length: 10_001 }, (_, i) => ({ path: `f${i}`, content: 'x' }));
    const before = await keyCount();
    const r = await commit(api, changes);
    expect(r.status).toBe(413);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ERR_LIMIT_EXCEEDED');
    expect(body.error.message).toMatch(/at most 10000 changes/);
    expect(await keyCount()).toBe(before);
    expect((await commit(api, changes.slice(0, 100))).status).toBe(201);
  });

  it('options set the change and byte budgets; bytes count text as UTF-8 and base64 decoded', async () => {
    const api = await setup({ maxCommitChanges: 3, maxCommitBytes: 10 });
    const before = await keyCount();
    expect(
      (
        await commit(api, [
          { path: 'a', content: 'x' },
          { path: 'b', content: 'x' },
          { path: 'c', content: 'x' },
          { path: 'd', content: 'x' },
        ])
      ).status,
    ).toBe(413);
    expect(
      (
        await commit(api, [
          { path: 'a', content: 'ééééé' },
          { path: 'b', content: 'x' },
        ])
      ).status,
    ).toBe(413); // 11 bytes in UTF-8
    expect((await commit(api, [{ path: 'a', content: btoa('0123456789x'), encoding: 'base64' }])).status).toBe(413);
    expect(await keyCount()).toBe(before);
    expect((await commit(api, [{ path: 'a', content: 'ééééé' }])).status).toBe(201);
  });
});

describe('large commits', () => {
  it('are built in slices: timers run while 10,000 files are hashed and stored', async () => {
    engine = await openEngine({ db: new MemoryLevel() as never });
    const repo = await engine.createRepo('big');
    const changes = Array.from({ length: 10_000 }, (_, i) => ({ path: `d${i % 10}/f${i}.txt`, content: `file ${i}\n`.repeat(20) }));
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    try {
      await repo.commit({ branch: 'main', message: 'big', author: AUTHOR, changes });
    } finally {
      clearInterval(timer);
    }
    // Without slices the whole build runs in one stretch and no timer fires until it ends (0 or
    // 1 turn); with them, several (how many depends on the machine's speed and load).
    expect(turns).toBeGreaterThan(2);
  }, 60_000);
});
