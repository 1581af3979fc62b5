/**
 * A full clone answered from its stored pack (repo/full-pack.ts) plans nothing: no tree, commit
 * or commit-graph record of the history is read, and the pack holds exactly the objects the
 * planner selects, each once. A request that is not a plain full clone takes the planner. A
 * record built from nothing keeps its pack's trailer and streams it without hashing; an
 * extended record, and one written before trailers were kept, hash as they stream.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { ObjectStore } from '../../src/object/object-store.js';
import { CommitGraph } from '../../src/repo/commit-graph.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { planObjects } from '../../src/repo/walk.js';
import { type FullPackRecord, collect, listRecords, tipsDigest } from '../../src/repo/full-pack-store.js';
import { TAG, repoKey } from '../../src/storage/keys.js';
import { platform } from '../../src/platform/index.js';
import { toHex, utf8 } from '../../src/platform/bytes.js';
import { CorruptPackError } from '../../src/errors.js';
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

describe('full-clone packs: the stored trailer', () => {
  let e: Engine;
  let r: Repository;

  beforeAll(async () => {
    e = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, fullPacks: { minCommits: 1 } } });
    r = await e.createRepo('trailer');
    for (let i = 0; i < 4; i++) {
      await r.commit({
        branch: 'main',
        message: `c${i}`,
        author: { ...AUTHOR, timestamp: AUTHOR.timestamp + i },
        changes: [{ path: `f${i}.txt`, content: `file ${i}\n`.repeat(50 + i) }],
      });
    }
    await e.settled();
    // The commits' background work may have stored a record of an earlier tip, which the first
    // clone would extend: dropped, so that clone builds its record from nothing.
    await collect(internalsOf(r).objects.kv, internalsOf(r).objects.repoId, () => true);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await e.close();
  });

  const clone = async (tip: Oid) => collectBytes((await internalsOf(r).fetchPack({ wants: [tip], ofsDelta: true })).pack);
  const recordOf = async (tip: Oid) => (await listRecords(internalsOf(r).objects.kv, internalsOf(r).objects.repoId)).find((x) => x.tips[0] === tip);
  /** Rewrites the stored record of `tip` as `change` makes it (a record of another version, a damaged one). */
  const rewrite = async (tip: Oid, change: (x: FullPackRecord) => FullPackRecord) => {
    const objects = internalsOf(r).objects;
    const record = (await recordOf(tip))!;
    const key = repoKey(TAG.fullPack, objects.repoId, Uint8Array.of(0, ...tipsDigest([tip])));
    await objects.kv.batch([{ type: 'put', key, value: utf8(JSON.stringify(change(record))) }]);
  };

  it('keeps the trailer of a pack built from nothing and streams it without a SHA-1 pass', async () => {
    const tip = (await r.getRef('refs/heads/main'))!.oid;
    const built = await clone(tip);
    const record = (await recordOf(tip))!;
    expect(e.packCache.stats.fullBuilt).toBeGreaterThan(0);
    expect(record.trailer).toBe(toHex(built.subarray(built.length - 20)));
    expect(record.trailer).toBe(toHex(platform().sha1(built.subarray(0, built.length - 20))));

    const hashers = vi.spyOn(platform(), 'createSha1');
    const served = e.packCache.stats.fullServed;
    const streamed = await clone(tip);
    expect(e.packCache.stats.fullServed).toBe(served + 1);
    expect(hashers).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(toHex(streamed)).toBe(toHex(built));
    expect((await readPackBytes(streamed)).length).toBe(record.count);
  });

  it('streams the trailer the record holds: a damaged one reaches the client, which refuses the pack', async () => {
    const tip = (await r.getRef('refs/heads/main'))!.oid;
    const good = (await recordOf(tip))!.trailer!;
    await rewrite(tip, (x) => ({ ...x, trailer: `${good.slice(0, 39)}${good[39] === '0' ? '1' : '0'}` }));
    const damaged = await clone(tip);
    await expect(readPackBytes(damaged)).rejects.toBeInstanceOf(CorruptPackError);
    await rewrite(tip, (x) => ({ ...x, trailer: good }));
  });

  it('hashes as it streams a record without one (written before trailers were kept) or with a malformed one', async () => {
    const tip = (await r.getRef('refs/heads/main'))!.oid;
    const good = (await recordOf(tip))!.trailer!;
    for (const trailer of [undefined, 'not hex', good.toUpperCase()]) {
      await rewrite(tip, ({ trailer: _, ...x }) => (trailer === undefined ? x : { ...x, trailer }));
      const pack = await clone(tip);
      expect(toHex(pack.subarray(pack.length - 20))).toBe(good);
      expect((await readPackBytes(pack)).length).toBe((await recordOf(tip))!.count);
    }
    await rewrite(tip, (x) => ({ ...x, trailer: good }));
  });

  it('an extended record keeps none: its pack is hashed as it streams', async () => {
    // Extended once, by the commit's background work or by the clone.
    const extended = e.packCache.stats.fullExtended;
    await r.commit({ branch: 'main', message: 'next', author: AUTHOR, changes: [{ path: 'f0.txt', content: 'replaced\n' }] });
    const tip = (await r.getRef('refs/heads/main'))!.oid;
    const pack = await clone(tip);
    expect(e.packCache.stats.fullExtended).toBe(extended + 1);
    const record = (await recordOf(tip))!;
    expect(record.trailer).toBeUndefined();
    expect((await readPackBytes(pack)).length).toBe(record.count);
  });
});
