/**
 * Import plans (repo/import-plan.ts): a history pushed into an empty pool is fully cloned the
 * first time without a walk of it, from the count and roots its ingest recorded, with exactly
 * the objects the planner sends; and never when the pool holds anything the clone does not
 * reach (garbage in the pack, an ephemeral branch, a ref deleted since). With the pack cache
 * warming, that first clone's pack is made after the import's refs land (serve-packs.ts
 * `warmImportClone`), only while the record answers and the pack fits the cache; a larger one
 * gets its clone plan stored instead (clone-plan.ts `planImportClone`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import type { PackCacheOptions } from '../../src/repo/pack-cache.js';
import { internalsOf } from '../../src/repo/internals.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { planObjects } from '../../src/repo/walk.js';
import { packBytes } from '../../src/repo/pack-out.js';
import { importRecordKey, readImportRecord } from '../../src/repo/full-pack-store.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { utf8 } from '../../src/platform/bytes.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';

let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

const text = (n: number) => Array.from({ length: 120 }, (_, i) => `line ${i} ${i % 5 === n % 5 ? n : ''}`).join('\n');

/** An engine with clone plans past 6 commits (and no pack cache unless `cache`), and a source repository of 10 commits on main and a tag. */
async function source(cache: PackCacheOptions = { maxBytes: 0, warm: false }): Promise<{ src: Repository; head: Oid; tag: Oid }> {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { ...cache, clonePlans: { minCommits: 6 } } });
  const src = await engine.createRepo('src');
  let head = '' as Oid;
  for (let i = 0; i < 10; i++) {
    head = (
      await src.commit({
        branch: 'main',
        message: `c${i}`,
        author: { ...AUTHOR, timestamp: AUTHOR.timestamp + i },
        changes: [
          { path: 'a.txt', content: text(i) },
          { path: `d${i % 3}/b.txt`, content: text(i * 7) },
        ],
      })
    ).sha;
  }
  const tag = (await src.createTag('v1', 'main', { message: 'first' })).sha;
  return { src, head, tag };
}

/** The pack of `wants` (plus `extra` ids) out of `repo`, as a push into an empty repository sends it. */
async function packOf(repo: Repository, wants: Oid[], extra: Oid[] = []): Promise<Uint8Array> {
  const objects = internalsOf(repo).objects;
  const plan = await planObjects(objects, { wants, ofsDelta: true });
  return collectBytes(packBytes(objects, [...plan.oids, ...extra], true, undefined, { ofsDelta: true }));
}

/** A new repository with `pack` stored into its empty pool and `refs` set. */
async function imported(name: string, pack: Uint8Array, refs: Record<string, Oid>): Promise<Repository> {
  const repo = await engine!.createRepo(name);
  await repo.indexPack([pack]);
  await repo.refs.transaction(Object.entries(refs).map(([ref, newOid]) => ({ ref, newOid })));
  return repo;
}

async function fullClone(repo: Repository, wants: Oid[]): Promise<Set<string>> {
  const pack = await collectBytes((await internalsOf(repo).fetchPack({ wants, ofsDelta: true })).pack);
  return new Set((await readPackBytes(pack)).map((o) => o.oid));
}

async function reached(repo: Repository, wants: Oid[]): Promise<Set<string>> {
  return new Set((await planObjects(internalsOf(repo).objects, { wants, ofsDelta: true })).oids);
}

describe('import plans', () => {
  it('answer the first full clone of a history pushed into an empty pool with what the planner sends, without a walk', async () => {
    const { src, head, tag } = await source();
    const repo = await imported('imp', await packOf(src, [head, tag]), { 'refs/heads/main': head, 'refs/tags/v1': tag });
    const objects = internalsOf(repo).objects;
    const record = await readImportRecord(objects.kv, objects.repoId);
    expect(record?.objects).toBe((await reached(repo, [head, tag])).size);
    expect(record?.commits).toBe(10);
    expect(record?.roots.length).toBe(20); // the tag: it reaches main's commit
    const stats = engine!.packCache.stats;
    const cloned = await fullClone(repo, [head, tag]);
    expect(stats.planFromImport).toBe(1);
    expect(stats.planBuilt).toBe(0);
    expect(cloned).toEqual(await reached(repo, [head, tag]));
    // Stored as a clone plan: the next full clone reads it.
    expect(await fullClone(repo, [head, tag])).toEqual(cloned);
    expect(stats.planServed).toBe(2);
    expect(stats.planFromImport).toBe(1);
  });

  it('are not written by a pack stored into a pool that held objects', async () => {
    const { src, head } = await source();
    const objects = internalsOf(src).objects;
    await src.indexPack([await packOf(src, [head])]);
    expect(await readImportRecord(objects.kv, objects.repoId)).toBeUndefined();
  });

  it('never send what the clone does not reach: garbage in the pack, an ephemeral branch, a ref deleted since', async () => {
    const { src, head, tag } = await source();
    const stats = engine!.packCache.stats;

    // A blob nothing references, pushed along: a root no ref names.
    const loose = utf8('pushed along, referenced by nothing');
    await src.commit({ branch: 'side', message: 'side', author: AUTHOR, changes: [{ path: 'loose.txt', content: loose }] });
    const blob = hashObject('blob', loose);
    const withGarbage = await imported('garbage', await packOf(src, [head], [blob]), { 'refs/heads/main': head });
    const g = internalsOf(withGarbage).objects;
    expect(await g.has([blob])).toEqual([true]);
    expect((await readImportRecord(g.kv, g.repoId))?.roots.length).toBe(40); // main's commit and the blob
    const cloned = await fullClone(withGarbage, [head]);
    expect(cloned.has(blob)).toBe(false);
    expect(cloned).toEqual(await reached(withGarbage, [head]));
    expect(stats.planFromImport).toBe(0);

    // An ephemeral branch since the import: its objects are in the pool, not in a regular clone.
    const eph = await imported('ephemeral', await packOf(src, [head, tag]), { 'refs/heads/main': head, 'refs/tags/v1': tag });
    const scratch = await eph.commit({
      branch: 'agent',
      baseBranch: 'main',
      space: 'ephemeral',
      ttlSeconds: 3600,
      message: 'scratch',
      author: AUTHOR,
      changes: [{ path: 'scratch.txt', content: 'ephemeral only' }],
    });
    const ephClone = await fullClone(eph, [head, tag]);
    expect(ephClone.has(scratch.sha)).toBe(false);
    expect(ephClone).toEqual(await reached(eph, [head, tag]));
    expect(stats.planFromImport).toBe(0);

    // The tag (the import's one root) deleted: main alone does not want it.
    const untagged = await imported('untagged', await packOf(src, [head, tag]), { 'refs/heads/main': head, 'refs/tags/v1': tag });
    await untagged.deleteTag('v1');
    const mainOnly = await fullClone(untagged, [head]);
    expect(mainOnly.has(tag)).toBe(false);
    expect(mainOnly).toEqual(await reached(untagged, [head]));
    expect(stats.planFromImport).toBe(0);
  });
});

describe("an import's first full clone, warmed", () => {
  /** The pack of a full clone of `wants` as `git clone` asks for it (include-tag, ofs-delta). */
  const cloneAsGit = async (repo: Repository, wants: Oid[]) => {
    const includeTags = await internalsOf(repo).annotatedTags('regular');
    return collectBytes((await internalsOf(repo).fetchPack({ wants, includeTags, ofsDelta: true })).pack);
  };
  const warming: PackCacheOptions = { maxBytes: 64 * 1024 * 1024, warm: true };

  it('is made into the pack cache once the refs land: the pack the clone would make, from the import record', async () => {
    const { src, head, tag } = await source(warming);
    await engine!.settled();
    const pack = await packOf(src, [head, tag]);
    const repo = await imported('imp', pack, { 'refs/heads/main': head, 'refs/tags/v1': tag });
    await engine!.settled();
    const objects = internalsOf(repo).objects;
    expect((await readImportRecord(objects.kv, objects.repoId))?.bytes).toBe(pack.length);
    const stats = engine!.packCache.stats;
    const hits = stats.hits;
    const warmed = await cloneAsGit(repo, [head, tag]);
    expect(stats.hits).toBe(hits + 1);
    expect(stats.planFromImport).toBe(0);
    // The same bytes as the first clone makes without the cache: from the record, as a plan.
    engine!.packCache.clear();
    const made = await cloneAsGit(repo, [head, tag]);
    expect(stats.planFromImport).toBe(1);
    expect(warmed).toEqual(made);
    expect(new Set((await readPackBytes(warmed)).map((o) => o.oid))).toEqual(await reached(repo, [head, tag]));
  });

  it('is planned instead when the pushed pack is larger than the cache keeps, and not made once the pool changed', async () => {
    const { src, head, tag } = await source(warming);
    await engine!.settled();
    const pack = await packOf(src, [head, tag]);
    const refs = { 'refs/heads/main': head, 'refs/tags/v1': tag };
    const stats = engine!.packCache.stats;

    // Larger than maxEntryBytes: no pack is made, the clone's plan is stored from the record
    // once the refs land, and the first clone is served from that plan.
    engine!.packCache.options.maxEntryBytes = pack.length - 1;
    const big = await imported('big', pack, refs);
    await engine!.settled();
    expect(stats.planFromImport).toBe(1);
    let hits = stats.hits;
    const served = stats.planServed;
    const bigClone = await cloneAsGit(big, [head, tag]);
    expect(stats.hits).toBe(hits);
    expect(stats.planServed).toBe(served + 1);
    expect(stats.planFromImport).toBe(1);
    expect(new Set((await readPackBytes(bigClone)).map((o) => o.oid))).toEqual(await reached(big, [head, tag]));

    // A commit after the import: the record no longer answers, nothing is made in the background.
    engine!.packCache.options.maxEntryBytes = 64 * 1024 * 1024;
    const changed = await imported('changed', pack, refs);
    await engine!.settled();
    engine!.packCache.clear();
    const next = await changed.commit({ branch: 'main', message: 'after', author: AUTHOR, changes: [{ path: 'after.txt', content: 'later' }] });
    await engine!.settled();
    hits = stats.hits;
    const built = stats.planBuilt;
    const cloned = await cloneAsGit(changed, [next.sha, tag]);
    expect(stats.hits).toBe(hits);
    expect(stats.planBuilt).toBe(built + 1);
    expect(new Set((await readPackBytes(cloned)).map((o) => o.oid))).toEqual(await reached(changed, [next.sha, tag]));
  });

  it('stores no plan ahead where one would walk the history: a pool the record no longer counts', async () => {
    const { src, head, tag } = await source(warming);
    await engine!.settled();
    const pack = await packOf(src, [head, tag]);
    engine!.packCache.options.maxEntryBytes = pack.length - 1;
    const stats = engine!.packCache.stats;
    const repo = await engine!.createRepo('more');
    await repo.indexPack([pack]);
    // Objects beside the import before its refs land (an ephemeral branch): the record's roots
    // are still the clone's tips, but its count no longer matches the pool.
    await repo.commit({
      branch: 'agent',
      space: 'ephemeral',
      ttlSeconds: 3600,
      message: 'scratch',
      author: AUTHOR,
      changes: [{ path: 's.txt', content: 'scratch' }],
    });
    await repo.refs.transaction([
      { ref: 'refs/heads/main', newOid: head },
      { ref: 'refs/tags/v1', newOid: tag },
    ]);
    await engine!.settled();
    expect(stats.planFromImport).toBe(0);
    expect(stats.planBuilt).toBe(0);
    // The first clone plans (and stores the plan) itself.
    const cloned = await cloneAsGit(repo, [head, tag]);
    expect(stats.planBuilt).toBe(1);
    expect(new Set((await readPackBytes(cloned)).map((o) => o.oid))).toEqual(await reached(repo, [head, tag]));
  });

  it('reads a record of the first version (no pack size) and makes nothing from it', async () => {
    const { src, head, tag } = await source(warming);
    await engine!.settled();
    const repo = await imported('old', await packOf(src, [head, tag]), { 'refs/heads/main': head, 'refs/tags/v1': tag });
    await engine!.settled();
    const objects = internalsOf(repo).objects;
    const now = (await readImportRecord(objects.kv, objects.repoId))!;
    // Version 1: version, objects, commits, then the roots.
    const v1 = new Uint8Array(9 + now.roots.length);
    v1[0] = 1;
    new DataView(v1.buffer).setUint32(1, now.objects);
    new DataView(v1.buffer).setUint32(5, now.commits);
    v1.set(now.roots, 9);
    await objects.kv.batch([{ type: 'put', key: importRecordKey(objects.repoId), value: v1 }]);
    expect(await readImportRecord(objects.kv, objects.repoId)).toEqual({ objects: now.objects, commits: now.commits, roots: now.roots });
    // A branch moved with the old record in place: no full clone is made ahead; the clone still plans from it.
    engine!.packCache.clear();
    await repo.refs.transaction([{ ref: 'refs/heads/again', newOid: head }]);
    await engine!.settled();
    const hits = stats(engine!).hits;
    await cloneAsGit(repo, [head, tag]);
    expect(stats(engine!).hits).toBe(hits);
    expect(stats(engine!).planFromImport).toBe(1);
  });
});

const stats = (e: Engine) => e.packCache.stats;
