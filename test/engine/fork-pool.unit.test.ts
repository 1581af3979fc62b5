/**
 * The object pool a fork shares with its source: forking writes no object, a member's objects
 * survive the other's deletion and the orphan scan of a fresh engine, the last member's deletion
 * leaves no key behind, and a repository written before pools existed forks as it is.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { toHex } from '../../src/platform/bytes.js';
import { AUTHOR } from './helpers.js';

async function keys(db: MemoryLevel<Uint8Array, Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of db.keys({ keyEncoding: 'view' })) out.push(toHex(k));
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('forks and object pools', () => {
  it('forking writes refs and membership only, no object', async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>();
    const engine = await openEngine({ db: db as never });
    const source = await engine.createRepo('source');
    await source.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a.txt', content: 'a' }] });
    await source.createTag('v1', 'main', { message: 'tag' });
    const before = new Set(await keys(db));
    await engine.forkRepo('source', 'fork');
    const added = (await keys(db)).filter((k) => !before.has(k));
    // Tags: N name, R record, F refs, P membership (S is the counter, rewritten).
    expect(new Set(added.map((k) => k.slice(0, 2)))).toEqual(new Set(['4e', '52', '46', '50']));
    const fork = await engine.getRepo('fork');
    expect((await fork.listTags()).map((t) => t.name)).toEqual(['v1']);
    expect(text(await fork.readFile('main', 'a.txt'))).toBe('a');
    await engine.close();
  });

  it('copies listed branches only, with the default branch among them', async () => {
    const engine = await openEngine({ db: new MemoryLevel() as never });
    const source = await engine.createRepo('source');
    await source.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a.txt', content: 'a' }] });
    await source.createBranch('dev', 'main');
    await source.createTag('v1', 'main');
    const fork = await engine.forkRepo('source', 'fork', { branches: ['dev'] });
    expect(fork.info.defaultBranch).toBe('dev');
    expect((await fork.listBranches()).map((b) => b.name)).toEqual(['dev']);
    expect(await fork.listTags()).toEqual([]);
    await expect(engine.forkRepo('source', 'x', { branches: ['nope'] })).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND' });
    await expect(engine.forkRepo('source', 'y', { branches: ['dev'], defaultBranch: 'main' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(engine.forkRepo('source', 'fork')).rejects.toMatchObject({ code: 'ERR_REPO_EXISTS' });
    await expect(engine.forkRepo('missing', 'z')).rejects.toMatchObject({ code: 'ERR_REPO_NOT_FOUND' });
    await engine.close();
  });

  it("keeps a fork's objects through its source's deletion and a fresh engine's orphan scan; the last deletion clears the pool", async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>();
    let engine = await openEngine({ db: db as never });
    const empty = new Set(await keys(db));
    const source = await engine.createRepo('source');
    await source.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a.txt', content: 'shared' }] });
    await engine.forkRepo('source', 'fork');
    const forkOfFork = await engine.forkRepo('fork', 'fork2');
    await forkOfFork.commit({ branch: 'main', message: 'f', author: AUTHOR, changes: [{ path: 'b.txt', content: 'own' }] });
    await engine.deleteRepo('source');
    await engine.close();
    // A new engine's first sweep scans for keys of ids without a record: the pool outlives its first member.
    engine = await openEngine({ db: db as never });
    await engine.sweep();
    const fork = await engine.getRepo('fork');
    expect(text(await fork.readFile('main', 'a.txt'))).toBe('shared');
    expect(text(await (await engine.getRepo('fork2')).readFile('main', 'b.txt'))).toBe('own');
    await engine.deleteRepo('fork');
    await engine.sweep();
    expect(text(await (await engine.getRepo('fork2')).readFile('main', 'a.txt'))).toBe('shared');
    await engine.deleteRepo('fork2');
    const left = (await keys(db)).filter((k) => !empty.has(k) && !k.startsWith('53'));
    expect(left).toEqual([]);
    await engine.close();
  });

  it('sweeps a pool from every member: what only one member reaches stays, what none reaches goes', async () => {
    const engine = await openEngine({ db: new MemoryLevel() as never });
    const source = await engine.createRepo('source');
    await source.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a.txt', content: 'a' }] });
    const side = await source.commit({ branch: 'side', baseBranch: 'main', message: 's', author: AUTHOR, changes: [{ path: 's.txt', content: 'side' }] });
    const fork = await engine.forkRepo('source', 'fork');
    await source.deleteBranch('side');
    expect(await source.sweep()).toMatchObject({ objects: 0 });
    expect(text(await fork.readFile(side.sha, 's.txt'))).toBe('side');
    await fork.deleteBranch('side');
    const swept = await fork.sweep();
    expect(swept.objects).toBeGreaterThan(0);
    await expect(fork.readFile(side.sha, 's.txt')).rejects.toMatchObject({ code: 'ERR_OBJECT_NOT_FOUND' });
    await engine.close();
  });
});
