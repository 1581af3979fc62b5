/**
 * The code paths level-git takes on IndexedDB, run in Node over memory-level dressed as a
 * browser-level database (`type`, `location`, no connection: so `Kv` takes the paths for costly
 * requests — delta ids read once for a pack, presence checked by key — while the data goes
 * through abstract-level): the engine conformance suite, packs byte-identical to plain
 * memory-level's, and the lock and error choices. The direct IndexedDB requests themselves
 * run in Chromium (test/browser/storage.test.ts).
 */
import { MemoryLevel } from 'memory-level';
import { afterEach, describe, expect, it } from 'vitest';
import { openEngine, InProcessLock, WebLocksLock, StorageError, type Engine } from '../../src/index.js';
import { Kv } from '../../src/storage/kv.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { storageError } from '../../src/storage/idb.js';
import { defaultRefLock } from '../../src/refs/web-locks.js';
import { conformance } from '../engine/conformance.js';

/** memory-level with browser-level's identity and no IndexedDB connection. */
class IdbLikeLevel extends MemoryLevel {
  get type(): string {
    return 'browser-level';
  }
  get location(): string {
    return 'app';
  }
  get db(): null {
    return null;
  }
}

conformance('memory-level taking the IndexedDB paths', async () => {
  const db = new IdbLikeLevel();
  const engine = await openEngine({ db });
  return { engine, dispose: async () => (await engine.close(), await db.close()) };
});

const AUTHOR = { name: 'A', email: 'a@example.com', timestamp: 1700000000, timezone: '+0000' };

async function bytes(src: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('hex');
}

/** A history whose commits store replaced files as deltas, and its packs. */
async function packsOf(engine: Engine): Promise<string[]> {
  const repo = await engine.createRepo('r');
  const files = Array.from({ length: 90 }, (_, i) => ({ path: `d${i % 7}/f${i}.txt`, content: `file ${i}\n${'line\n'.repeat(40 + i)}` }));
  const first = await repo.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: files });
  const second = await repo.commit({
    branch: 'main',
    message: 'two',
    author: AUTHOR,
    changes: files.slice(0, 10).map((f) => ({ path: f.path, content: `${f.content}more\n` })),
  });
  return [
    await bytes(repo.packObjects({ wants: [second.sha], depth: 1 })),
    await bytes(repo.packObjects({ wants: [second.sha] })),
    await bytes(repo.packObjects({ wants: [second.sha], haves: [first.sha] })),
  ];
}

/** Each pack's objects: id, type and body (hex), in id order. */
async function objectsOf(packs: string[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const hex of packs) {
    const objects = await readPackBytes(new Uint8Array(Buffer.from(hex, 'hex')));
    out.push(objects.map((o) => `${o.oid} ${o.type} ${Buffer.from(o.body).toString('hex')}`).sort());
  }
  return out;
}

const opened: MemoryLevel[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.status === 'open') await db.close();
});

describe('IndexedDB paths', () => {
  it('writes the same packs as plain memory-level', async () => {
    const plain = new MemoryLevel();
    const idbLike = new IdbLikeLevel();
    opened.push(plain, idbLike);
    const a = await openEngine({ db: plain });
    const b = await openEngine({ db: idbLike });
    expect(new Kv(idbLike).costlyRequests).toBe(true);
    expect(new Kv(plain).costlyRequests).toBe(false);
    // The same objects, ids and bodies (which go whole and which as deltas, and their order,
    // depend on how far the background materialization of the tip has come).
    expect(await objectsOf(await packsOf(b))).toEqual(await objectsOf(await packsOf(a)));
    await a.close();
    await b.close();
  });

  it('answers hasMany by presence, on both kinds', async () => {
    for (const db of [new MemoryLevel(), new IdbLikeLevel()]) {
      opened.push(db);
      const kv = new Kv(db);
      await kv.batch([{ type: 'put', key: Uint8Array.of(1), value: new Uint8Array(0) }]);
      expect(await kv.hasMany([Uint8Array.of(1), Uint8Array.of(2)])).toEqual([true, false]);
    }
  });

  it('locks across tabs with navigator.locks on browser-level only', async () => {
    const plain = new Kv(new MemoryLevel());
    const idbLike = new Kv(new IdbLikeLevel());
    const names: string[] = [];
    const locks = {
      request: <T>(name: string, fn: () => Promise<T>) => (names.push(name), fn()),
    };
    const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
    try {
      expect(defaultRefLock(plain)).toBeInstanceOf(InProcessLock);
      const lock = defaultRefLock(idbLike);
      expect(lock).toBeInstanceOf(WebLocksLock);
      expect(await lock.run('engine', async () => 7)).toBe(7);
      expect(names).toEqual(['level-git:app:engine']);
    } finally {
      if (nav) Object.defineProperty(globalThis, 'navigator', nav);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
    // Without the Web Locks API (Node, an insecure page): the in-process lock.
    if (!(globalThis as { navigator?: { locks?: unknown } }).navigator?.locks) expect(defaultRefLock(idbLike)).toBeInstanceOf(InProcessLock);
    expect(() => new WebLocksLock('x', undefined)).toThrow(TypeError);
  });

  it('makes an IndexedDB failure a StorageError that says when the quota ran out', () => {
    const quota = storageError('writing', Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' }), 12);
    expect(quota).toBeInstanceOf(StorageError);
    expect(quota.code).toBe('ERR_STORAGE');
    expect(quota.details).toEqual({ operation: 'writing', reason: 'quota-exceeded' });
    expect(quota.message).toMatch(/quota exceeded while writing 12 entries; nothing of this write was stored/);
    const other = storageError('reading', new Error('boom'));
    expect(other.details).toEqual({ operation: 'reading' });
  });
});
