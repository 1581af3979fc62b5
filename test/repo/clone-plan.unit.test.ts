/**
 * Clone plans (repo/clone-plan.ts): the first full clone of a history past `minCommits` stores
 * the ids it sends; later full clones pack them without planning, byte for byte the planner's
 * pack; a fast-forward extends the plan in the background, a force push leaves it to the next
 * full clone, the sweep drops it with its tips, and a plan that cannot serve (ids gone, an object
 * missing) yields to the planner.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { ObjectStore } from '../../src/object/object-store.js';
import { CommitGraph } from '../../src/repo/commit-graph.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { planObjects } from '../../src/repo/walk.js';
import { packBytes } from '../../src/repo/pack-out.js';
import { SeriesWriter, listRecords, normalTips } from '../../src/repo/full-pack-store.js';
import type { PackCacheOptions } from '../../src/repo/pack-cache.js';
import type { Oid } from '../../src/object/oid.js';
import { TAG, prefixRange, repoKey } from '../../src/storage/keys.js';
import { fromHex } from '../../src/platform/bytes.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';
import { WalkBudget } from '../../src/protocol/walk-budget.js';
import { LimitExceededError } from '../../src/errors.js';

let engine: Engine | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await engine?.close();
  engine = undefined;
});

const text = (n: number) => Array.from({ length: 200 }, (_, i) => `line ${i} ${i % 7 === n % 7 ? n : ''}`).join('\n');

async function setup(packCache: PackCacheOptions, commits = 8): Promise<Repository> {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, ...packCache } });
  const repo = await engine.createRepo('cp');
  for (let i = 0; i < commits; i++) await commitOne(repo, i);
  return repo;
}

function commitOne(repo: Repository, i: number, branch = 'main') {
  return repo.commit({
    branch,
    message: `c${i}`,
    author: { ...AUTHOR, timestamp: AUTHOR.timestamp + i },
    changes: [
      { path: 'a.txt', content: text(i) },
      { path: `d${i % 3}/b.txt`, content: text(i * 5) },
    ],
  });
}

function plans(repo: Repository) {
  const o = internalsOf(repo).objects;
  return listRecords(o.kv, o.repoId, 'plan');
}

/** Waits for the background job after a ref move: a plan answering exactly `tips`. */
async function planFor(repo: Repository, tips: Oid[]) {
  const want = normalTips(tips).join(',');
  for (let i = 0; i < 400; i++) {
    const r = (await plans(repo)).find((x) => x.tips.join(',') === want);
    if (r !== undefined) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error('no clone plan appeared');
}

/** Runs the job a ref move starts in the background for the current tip, to its end. */
async function settle(repo: Repository): Promise<void> {
  await internalsOf(repo).warmClonePack(await tip(repo));
}

async function tip(repo: Repository): Promise<Oid> {
  return (await repo.getRef('refs/heads/main'))!.oid;
}

/** The planner's pack of a full clone of `wants`, as a clone without a plan gets it. */
async function plannerPack(repo: Repository, wants: Oid[]): Promise<Uint8Array> {
  const objects = internalsOf(repo).objects;
  const plan = await planObjects(objects, { wants, ofsDelta: true });
  // As a planned full clone packs (serve-packs.ts): deltas and whole entries by range reads.
  return collectBytes(packBytes(objects, plan.oids, true, undefined, { ofsDelta: true, scanDeltas: true }));
}

async function fullClone(repo: Repository, wants: Oid[]): Promise<Uint8Array> {
  return collectBytes((await internalsOf(repo).fetchPack({ wants, ofsDelta: true })).pack);
}

async function objectSet(pack: Uint8Array): Promise<Set<string>> {
  return new Set((await readPackBytes(pack)).map((o) => o.oid));
}

/** An engine whose sweeps keep mark records of any size, with clone plans past 6 commits. */
function withMarkRecords(): Promise<Engine> {
  return openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, clonePlans: { minCommits: 6 } }, sweepMarkRecords: { minObjects: 1 } });
}

describe('clone plans', () => {
  it('are stored by the first full clone past minCommits and answer later ones with the planner’s bytes, without planning', async () => {
    const repo = await setup({ clonePlans: { minCommits: 8 } });
    const head = await tip(repo);
    const expected = await plannerPack(repo, [head]);
    // Not made by the ref moves alone: only a pool that was fully cloned pays for one.
    await settle(repo);
    expect(await plans(repo)).toEqual([]);
    expect(await fullClone(repo, [head])).toEqual(expected);
    const record = await planFor(repo, [head]);
    expect(record.bytes).toBe(0); // ids only
    expect(engine!.packCache.stats.planBuilt).toBe(1);

    const decode = vi.spyOn(ObjectStore.prototype, 'decodeMany');
    const graph = vi.spyOn(CommitGraph.prototype, 'stored');
    const served = engine!.packCache.stats.planServed;
    const pack = await fullClone(repo, [head]);
    expect(engine!.packCache.stats.planServed).toBe(served + 1);
    expect(decode).not.toHaveBeenCalled();
    expect(graph).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(pack).toEqual(expected);
  });

  it('are not stored for short histories, nor when turned off', async () => {
    const repo = await setup({}, 8); // default minCommits: 1,000
    await fullClone(repo, [await tip(repo)]);
    expect(await plans(repo)).toEqual([]);
    await engine!.close();
    const off = await setup({ clonePlans: false });
    await fullClone(off, [await tip(off)]);
    expect(await plans(off)).toEqual([]);
    expect(engine!.packCache.stats.planBuilt).toBe(0);
  });

  it('give way to full-clone packs when those are on', async () => {
    const repo = await setup({ clonePlans: { minCommits: 3 }, fullPacks: { minCommits: 3 } });
    await fullClone(repo, [await tip(repo)]);
    expect(await plans(repo)).toEqual([]);
    expect(engine!.packCache.stats.fullServed).toBe(1);
  });

  it('are extended after a fast-forward and rebuilt by the next full clone after a force push; the sweep drops the dead tips’ plans', async () => {
    const repo = await setup({ clonePlans: { minCommits: 6 } });
    const old = await tip(repo);
    await fullClone(repo, [old]);
    await planFor(repo, [old]);
    const stats = engine!.packCache.stats;

    const extended = stats.planExtended;
    await commitOne(repo, 100);
    const ff = await tip(repo);
    await planFor(repo, [ff]);
    expect(stats.planExtended).toBe(extended + 1);
    const served = stats.planServed;
    expect(await objectSet(await fullClone(repo, [ff]))).toEqual(await objectSet(await plannerPack(repo, [ff])));
    expect(stats.planServed).toBe(served + 1);

    // Force push: back to the 5th commit, then a new line. No stored plan extends to it: the
    // background leaves it alone, the next full clone builds it.
    const fifth = (await repo.log('main', { limit: 20 })).at(-5)!.sha;
    await internalsOf(repo).transact([{ ref: 'refs/heads/main', newOid: fifth }], 'push');
    const built = stats.planBuilt;
    await commitOne(repo, 200);
    const forced = await tip(repo);
    await settle(repo);
    expect(stats.planBuilt).toBe(built);
    expect(await fullClone(repo, [forced])).toEqual(await plannerPack(repo, [forced]));
    expect(stats.planBuilt).toBe(built + 1);

    await engine!.sweep();
    const left = await plans(repo);
    expect(left.map((r) => r.tips)).toEqual([[forced]]);
  });

  it('count against the request’s maxPackObjects, when built and when read', async () => {
    const repo = await setup({ clonePlans: { minCommits: 3 } });
    const head = await tip(repo);
    const total = (await planObjects(internalsOf(repo).objects, { wants: [head] })).oids.length;
    const clone = (max: number) => {
      const walk = new WalkBudget({ maxWalkCommits: 1e6, maxWalkMs: 60_000, maxPackObjects: max });
      return internalsOf(repo).fetchPack({ wants: [head], ofsDelta: true, walk });
    };
    // The first full clone builds the plan under the request's budget: refused, nothing stored.
    await expect(clone(total - 1)).rejects.toThrow(LimitExceededError);
    expect(await plans(repo)).toEqual([]);
    await collectBytes((await clone(total)).pack);
    await planFor(repo, [head]);
    // A stored plan is read whole: its ids count too.
    const refused = await clone(total - 1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LimitExceededError);
    expect((refused as LimitExceededError).details).toEqual({ limit: 'maxPackObjects', max: total - 1 });
    expect(await collectBytes((await clone(total)).pack)).toEqual(await plannerPack(repo, [head]));
  });

  it('yield to the planner when their ids are gone or an object is missing', async () => {
    const repo = await setup({ clonePlans: { minCommits: 3 } });
    const head = await tip(repo);
    const expected = await plannerPack(repo, [head]);
    expect(await fullClone(repo, [head])).toEqual(expected);
    const record = await planFor(repo, [head]);
    const objects = internalsOf(repo).objects;
    const stats = engine!.packCache.stats;
    const served = stats.planServed;

    // The ids' rows gone (a series collected under the record).
    const ids = new Uint8Array(9);
    ids[0] = 0x02;
    ids.set(fromHex(record.series), 1);
    await objects.kv.clear(prefixRange(repoKey(TAG.fullPack, objects.repoId, ids)));
    expect(await fullClone(repo, [head])).toEqual(expected);

    // A plan naming an object the store lacks.
    const plan = await planObjects(objects, { wants: [head] });
    const writer = await SeriesWriter.create(objects.kv, objects.repoId);
    await writer.ids([...plan.oids, 'e'.repeat(40) as Oid]);
    await writer.finish([head], record.commits, 'plan');
    writer.close();
    expect(await fullClone(repo, [head])).toEqual(expected);
    expect(stats.planServed).toBe(served);
  });

  it('are made from the sweep’s mark record when there is none to extend, and only when the clone reaches all of it', async () => {
    engine = await withMarkRecords();
    const repo = await engine.createRepo('cp');
    for (let i = 0; i < 8; i++) await commitOne(repo, i);
    await repo.sweep(); // a repository's first sweep writes the mark record of its regular refs
    await commitOne(repo, 100); // the branch moved on since
    const head = await tip(repo);
    const expected = await objectSet(await plannerPack(repo, [head]));
    const stats = engine.packCache.stats;
    const pack = await fullClone(repo, [head]);
    expect(stats.planFromMark).toBe(1);
    expect(stats.planBuilt).toBe(0);
    expect(await objectSet(pack)).toEqual(expected);
    expect((await planFor(repo, [head])).count).toBe(expected.size);
    // Served from the plan it made, with the same objects.
    expect(await objectSet(await fullClone(repo, [head]))).toEqual(expected);

    // A ref outside what a clone wants (a history of its own under refs/other/): the mark record
    // names objects the clone does not reach, so it is planned as before.
    await engine.close();
    engine = await withMarkRecords();
    const other = await engine.createRepo('cp');
    for (let i = 0; i < 8; i++) await commitOne(other, i);
    const side = await other.commit({ branch: 'side', message: 'root', author: AUTHOR, changes: [{ path: 'side.txt', content: 'elsewhere' }] });
    await other.refs.transaction([{ ref: 'refs/other/side', newOid: side.sha }]);
    await other.deleteBranch('side');
    await other.sweep();
    const main = await tip(other);
    const wanted = await objectSet(await plannerPack(other, [main]));
    const cloned = await objectSet(await fullClone(other, [main]));
    expect(engine.packCache.stats.planFromMark).toBe(0);
    expect(engine.packCache.stats.planBuilt).toBe(1);
    expect(cloned).toEqual(wanted);
    expect(cloned.has(side.sha)).toBe(false);
  });
});
