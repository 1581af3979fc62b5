/**
 * Cost limits of API commits: a commit over the change-count or byte budget is a 413 before any
 * object is built, and a large commit within it is built in slices, so the event loop keeps
 * getting turns (other requests, timers) while it runs.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { Level } from 'level';
import { tempDir } from '../helpers/tmp.js';
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
  it('are built in slices: no stretch of the event loop takes more than a fraction of a 10,000-file commit', async () => {
    // The on-disk database (the server's default): its writes run off the event loop, so what
    // is measured is the engine's own work. 100 directories built concurrently: each used to
    // take a whole slice per turn, and the final batch was validated in one stretch.
    const tmp = tempDir('commit-slices-');
    const db = new Level(tmp.dir);
    try {
      engine = await openEngine({ db: db as never });
      const repo = await engine.createRepo('big');
      const changes = Array.from({ length: 10_000 }, (_, i) => ({ path: `d${i % 100}/f${i}.txt`, content: `file ${i}\n`.repeat(20) }));
      // CPU time of the process between two turns of a 1 ms timer: unlike wall time, it does
      // not grow when the machine is loaded.
      const cpuMs = () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      };
      let last = cpuMs();
      let longest = 0;
      let turns = 0;
      const timer = setInterval(() => {
        const now = cpuMs();
        longest = Math.max(longest, now - last);
        last = now;
        turns++;
      }, 1);
      const start = cpuMs();
      try {
        await repo.commit({ branch: 'main', message: 'big', author: AUTHOR, changes });
      } finally {
        clearInterval(timer);
      }
      const total = cpuMs() - start;
      longest = Math.max(longest, cpuMs() - last);
      console.log(`10,000-file commit: ${Math.round(total)} ms CPU, ${turns} timer turns, longest stretch ${Math.round(longest)} ms CPU`);
      // Slices are 20 ms; the bound leaves room for garbage collection (its helper threads
      // count in the process's CPU). Without slicing the longest stretch is most of the commit.
      expect(longest).toBeLessThan(Math.max(250, total / 4));
      expect(turns).toBeGreaterThan(2);
    } finally {
      await engine.close();
      tmp.cleanup();
    }
  }, 60_000);
});
