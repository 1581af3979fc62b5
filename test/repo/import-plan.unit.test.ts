/**
 * Import plans (repo/import-plan.ts): a history pushed into an empty pool is fully cloned the
 * first time without a walk of it, from the count and roots its ingest recorded, with exactly
 * the objects the planner sends; and never when the pool holds anything the clone does not
 * reach (garbage in the pack, an ephemeral branch, a ref deleted since).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { planObjects } from '../../src/repo/walk.js';
import { packBytes } from '../../src/repo/pack-out.js';
import { readImportRecord } from '../../src/repo/full-pack-store.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { utf8 } from '../../src/platform/bytes.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';

let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

const text = (n: number) => Array.from({ length: 120 }, (_, i) => `line ${i} ${i % 5 === n % 5 ? n : ''}`).join('\n');

/** An engine with clone plans past 6 commits, and a source repository of 10 commits on main and a tag. */
async function source(): Promise<{ src: Repository; head: Oid; tag: Oid }> {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, clonePlans: { minCommits: 6 } } });
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
