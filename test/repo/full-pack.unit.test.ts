/**
 * A full clone answered from its stored pack (repo/full-pack.ts) plans nothing: no tree, commit
 * or commit-graph record of the history is read, and the pack holds exactly the objects the
 * planner selects, each once. A request that is not a plain full clone takes the planner.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { ObjectStore } from '../../src/object/object-store.js';
import { CommitGraph } from '../../src/repo/commit-graph.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { planObjects } from '../../src/repo/walk.js';
import { listRecords } from '../../src/repo/full-pack-store.js';
import { isFullClone } from '../../src/repo/full-pack.js';
import type { Oid } from '../../src/object/oid.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';

let engine: Engine;
let repo: Repository;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, fullPacks: { minCommits: 1 } } });
  repo = await engine.createRepo('fp');
  const text = (n: number) => Array.from({ length: 300 }, (_, i) => `line ${i} ${i % 11 === n % 11 ? n : ''}`).join('\n');
  for (let i = 0; i < 8; i++) {
    await repo.commit({
      branch: 'main',
      message: `c${i}`,
      author: { ...AUTHOR, timestamp: AUTHOR.timestamp + i },
      changes: [
        { path: 'a.txt', content: text(i) },
        { path: `d${i % 3}/b.txt`, content: text(i * 5) },
      ],
    });
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  await engine.close();
});

async function packIds(pack: AsyncIterable<Uint8Array>): Promise<string[]> {
  const objects = await readPackBytes(await collectBytes(pack));
  return objects.map((o) => o.oid);
}

describe('full-clone packs', () => {
  it('answer a full clone without reading a tree, a commit or a commit-graph record', async () => {
    const internals = internalsOf(repo);
    const tip = (await repo.getRef('refs/heads/main'))!.oid;
    const input = { wants: [tip], ofsDelta: true };
    // The first full clone builds the stored pack (or finds the background's).
    await collectBytes((await internals.fetchPack(input)).pack);
    expect((await listRecords(internals.objects.kv, internals.objects.repoId)).some((r) => r.tips[0] === tip)).toBe(true);
    // The commits' background work (depth-1 materialization) reads objects too: not counted below.
    await engine.settled();

    const decode = vi.spyOn(ObjectStore.prototype, 'decodeMany');
    const read = vi.spyOn(ObjectStore.prototype, 'readMany');
    const graph = vi.spyOn(CommitGraph.prototype, 'stored');
    const served = engine.packCache.stats.fullServed;
    const ids = await packIds((await internals.fetchPack(input)).pack);
    expect(engine.packCache.stats.fullServed).toBe(served + 1);
    expect(decode).not.toHaveBeenCalled();
    expect(read).not.toHaveBeenCalled();
    expect(graph).not.toHaveBeenCalled();
    vi.restoreAllMocks();

    const planned = (await planObjects(internals.objects, { wants: [tip] })).oids;
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(planned));
  });

  it('is extended after a fast-forward, holding exactly the new closure', async () => {
    const internals = internalsOf(repo);
    await repo.commit({ branch: 'main', message: 'next', author: AUTHOR, changes: [{ path: 'a.txt', content: 'replaced\n' }] });
    const tip = (await repo.getRef('refs/heads/main'))!.oid;
    const input = { wants: [tip], ofsDelta: true };
    const ids = await packIds((await internals.fetchPack(input)).pack);
    const planned = (await planObjects(internals.objects, { wants: [tip] })).oids;
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(planned));
    expect(engine.packCache.stats.fullExtended).toBeGreaterThan(0);
  });

  it('is used only for plain full clones', () => {
    const id = (c: string) => c.repeat(40) as Oid;
    const w = [id('a')];
    expect(isFullClone({ wants: w, ofsDelta: true })).toBe(true);
    expect(isFullClone({ wants: w })).toBe(false);
    expect(isFullClone({ wants: w, ofsDelta: true, haves: [id('b')] })).toBe(false);
    expect(isFullClone({ wants: w, ofsDelta: true, depth: 1 })).toBe(false);
    expect(isFullClone({ wants: w, ofsDelta: true, clientShallows: [id('b')] })).toBe(false);
    expect(isFullClone({ wants: w, ofsDelta: true, deepenSince: 5 })).toBe(false);
    expect(isFullClone({ wants: w, ofsDelta: true, filter: { kind: 'blob:none' } })).toBe(false);
    // include-tag could add a tag the wants do not name.
    expect(isFullClone({ wants: w, ofsDelta: true, includeTags: [{ oid: id('c'), peeled: w[0]! }] })).toBe(false);
    expect(isFullClone({ wants: [...w, id('c')], ofsDelta: true, includeTags: [{ oid: id('c'), peeled: w[0]! }] })).toBe(true);
  });
});
