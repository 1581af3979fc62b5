/**
 * A database that fails while a pack is stored is the server's fault, not the client's: the
 * ingest answers ERR_STORAGE (503), never ERR_CORRUPT_PACK (400), and stores nothing.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';

async function packOfOneCommit(): Promise<Uint8Array[]> {
  const engine = await openEngine({ db: new MemoryLevel() });
  const repo = await engine.createRepo('source');
  const { sha } = await repo.commit({
    branch: 'main',
    message: 'one',
    author: { name: 'A', email: 'a@example.com' },
    changes: [{ path: 'a.txt', content: 'a' }],
  });
  const chunks: Uint8Array[] = [];
  for await (const c of repo.packObjects({ wants: [sha] })) chunks.push(c);
  await engine.close();
  return chunks;
}

describe('ingest on a failing database', () => {
  it('a failing write is ERR_STORAGE (503)', async () => {
    const pack = await packOfOneCommit();
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    const repo = await engine.createRepo('target');
    db.batch = (async () => {
      throw new Error('disk full');
    }) as never;
    await expect(repo.indexPack(pack)).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503, message: expect.stringContaining('disk full') });
  });

  it('a failing read is ERR_STORAGE (503)', async () => {
    const pack = await packOfOneCommit();
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    const repo = await engine.createRepo('target');
    // The repository holds an object: ingest into an empty one needs no lookup per object.
    await repo.commit({ branch: 'other', message: 'b', author: { name: 'A', email: 'a@example.com' }, changes: [{ path: 'b.txt', content: 'b' }] });
    // Every batched read fails: values (getMany) and presence (hasMany, which asks keys only).
    db.getMany = (async () => {
      throw new Error('read error');
    }) as never;
    db.hasMany = db.getMany as never;
    await expect(repo.indexPack(pack)).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
  });

  it('a bad pack on a working database is still ERR_CORRUPT_PACK', async () => {
    const pack = await packOfOneCommit();
    const bytes = new Uint8Array(pack.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of pack) bytes.set(c, o), (o += c.length);
    bytes[bytes.length - 1] ^= 0xff; // the checksum no longer matches
    const engine = await openEngine({ db: new MemoryLevel() });
    const repo = await engine.createRepo('target');
    await expect(repo.indexPack([bytes])).rejects.toMatchObject({ code: 'ERR_CORRUPT_PACK', status: 400 });
  });
});
