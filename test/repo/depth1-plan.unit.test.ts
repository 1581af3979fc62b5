/**
 * Depth-1 plans (repo/depth1-plan.ts): after a branch moves, the ids a depth-1 clone of its tip
 * sends are stored; a depth-1 clone then packs them without planning (no tree or commit-graph
 * read, and no delta lookup when no object of the plan is a delta of another), byte for byte the
 * planner's pack, deltas within the tree included, its ids charged to the request's
 * maxPackObjects. A plan that cannot serve (an object missing, another include-tag list) yields to the planner; a clone that planned stores the plan; the
 * sweep drops the plan of a tip it deletes; a moved branch gets its new tip's plan.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { ObjectStore } from '../../src/object/object-store.js';
import { CommitGraph } from '../../src/repo/commit-graph.js';
import { planObjects, type ObjectPlanInput } from '../../src/repo/walk.js';
import { packBytes } from '../../src/repo/pack-out.js';
import { SeriesWriter, collect, listRecords, normalTips } from '../../src/repo/full-pack-store.js';
import type { Depth1Record } from '../../src/repo/depth1-plan.js';
import type { PackCacheOptions } from '../../src/repo/pack-cache.js';
import { type Oid, hashObject, oidToBytes } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta } from '../../src/object/packed.js';
import { encodeTree, compareEntries, type TreeEntry } from '../../src/object/tree.js';
import { encodeCommit } from '../../src/object/commit.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';
import { utf8 } from '../../src/platform/bytes.js';
import type { KvOp } from '../../src/storage/kv.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';
import { WalkBudget } from '../../src/protocol/walk-budget.js';
import { LimitExceededError } from '../../src/errors.js';
import { enableDepth1Plans } from '../../src/repo/enable.js';

// As the Node entry and Node's HTTP handler do (a browser bundle goes without them).
enableDepth1Plans();

let engine: Engine | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await engine?.close();
  engine = undefined;
});

const body = (i: number, n: number) => Array.from({ length: 40 }, (_, l) => `file ${i} line ${l} ${l % 9 === n % 9 ? n : ''}`).join('\n');

async function setup(packCache: PackCacheOptions = { depth1Plans: { minObjects: 10 } }): Promise<Repository> {
  engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false, ...packCache } });
  return engine.createRepo('d1');
}

/** A commit of `files` files in three directories (about `files` + 5 objects). */
function commit(repo: Repository, n: number, files = 24, branch = 'main') {
  const changes = Array.from({ length: files }, (_, i) => ({ path: `d${i % 3}/f${i}.txt`, content: body(i, n) }));
  return repo.commit({ branch, message: `c${n}`, author: { ...AUTHOR, timestamp: AUTHOR.timestamp + n }, changes });
}

async function tip(repo: Repository, branch = 'main'): Promise<Oid> {
  return (await repo.getRef(`refs/heads/${branch}`))!.oid;
}

/** Runs the job a branch move starts in the background, to its end (where it stores nothing, so racing the engine's own is harmless). */
async function settle(repo: Repository, branch = 'main'): Promise<void> {
  await internalsOf(repo).warmClonePack(await tip(repo, branch));
}

function records(repo: Repository): Promise<Depth1Record[]> {
  const o = internalsOf(repo).objects;
  return listRecords(o.kv, o.repoId, 'depth1') as Promise<Depth1Record[]>;
}

/** Waits for a stored depth-1 plan answering exactly `tips` (the engine's job after a branch move stores it, then stores nothing more). */
async function recordFor(repo: Repository, tips: Oid[]): Promise<Depth1Record> {
  const want = normalTips(tips).join(',');
  for (let i = 0; i < 400; i++) {
    const r = (await records(repo)).find((x) => x.tips.join(',') === want);
    if (r !== undefined) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error('no depth-1 plan appeared');
}

/** As `git clone --depth 1` asks (include-tag with the repository's annotated tags, ofs-delta). */
function depth1Input(head: Oid, includeTags: ObjectPlanInput['includeTags'] = []): ObjectPlanInput {
  return { wants: [head], depth: 1, includeTags, ofsDelta: true };
}

async function clone(repo: Repository, input: ObjectPlanInput): Promise<{ shallow: Oid[]; pack: Uint8Array }> {
  const answer = await internalsOf(repo).fetchPack({ ...input });
  return { shallow: answer.shallow, pack: await collectBytes(answer.pack) };
}

/** The planner's pack and shallow boundary for `input`, as a clone without a stored plan gets them. */
async function planned(repo: Repository, input: ObjectPlanInput): Promise<{ shallow: Oid[]; pack: Uint8Array }> {
  const objects = internalsOf(repo).objects;
  const plan = await planObjects(objects, { ...input });
  return { shallow: plan.shallow, pack: await collectBytes(packBytes(objects, plan.oids, true, undefined, { ofsDelta: true })) };
}

describe('depth-1 plans', () => {
  it('are stored after a branch moves and answer a depth-1 clone with the planner’s bytes, without a walk or a delta lookup', async () => {
    const repo = await setup();
    await commit(repo, 1);
    await commit(repo, 2);
    const head = await tip(repo);
    const record = await recordFor(repo, [head]);
    expect(record.deltas).toBe(0);
    expect(record.bytes).toBe(0); // ids only
    const expected = await planned(repo, depth1Input(head));

    const decode = vi.spyOn(ObjectStore.prototype, 'decodeMany');
    const graph = vi.spyOn(CommitGraph.prototype, 'stored');
    const deltas = vi.spyOn(ObjectStore.prototype, 'getDeltas');
    const stats = engine!.packCache.stats;
    const served = stats.depth1Served;
    const got = await clone(repo, depth1Input(head));
    expect(stats.depth1Served).toBe(served + 1);
    expect(decode).not.toHaveBeenCalled();
    expect(graph).not.toHaveBeenCalled();
    expect(deltas).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(got.shallow).toEqual(expected.shallow);
    expect(got.pack).toEqual(expected.pack);
  });

  it('send deltas within the tree as the planner does', async () => {
    const repo = await setup();
    const objects = internalsOf(repo).objects;
    const pool = objects.repoId;
    // A tree of pairs: g<i> stored only as a delta of f<i>, both in the tree (git push deltas
    // similar files of one commit against each other).
    const ops: KvOp[] = [];
    const put = (type: 'blob' | 'tree' | 'commit', b: Uint8Array): Oid => {
      const oid = hashObject(type, b);
      ops.push({ type: 'put', key: objectKey(pool, oidToBytes(oid)), value: encodePacked(type, b) });
      return oid;
    };
    const entries: TreeEntry[] = [];
    for (let i = 0; i < 12; i++) {
      const f = utf8(body(i, 0));
      const g = utf8(body(i, 5));
      const fo = put('blob', f);
      const go = hashObject('blob', g);
      ops.push({
        type: 'put',
        key: deltaKey(pool, oidToBytes(go)),
        value: encodeStoredDelta('blob', g.length, encodeRefDelta(oidToBytes(fo), createDelta(f, g))),
      });
      entries.push({ mode: '100644', name: `f${i}.txt`, oid: fo }, { mode: '100644', name: `g${i}.txt`, oid: go });
    }
    const tree = put('tree', encodeTree(entries.sort(compareEntries)));
    const who = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };
    const head = put('commit', encodeCommit({ tree, parents: [], author: who, committer: who, message: 'pairs\n' }));
    await objects.kv.batch(ops);
    await internalsOf(repo).transact([{ ref: 'refs/heads/main', newOid: head }], 'push');
    const record = await recordFor(repo, [head]);
    expect(record.deltas).toBe(12);

    const expected = await planned(repo, depth1Input(head));
    const served = engine!.packCache.stats.depth1Served;
    const got = await clone(repo, depth1Input(head));
    expect(engine!.packCache.stats.depth1Served).toBe(served + 1);
    expect(got.pack).toEqual(expected.pack);
    expect(got.shallow).toEqual(expected.shallow);
  });

  it('are stored by a depth-1 clone that planned, kept for a moved branch’s new tip, and dropped by the sweep with a deleted tip', async () => {
    const repo = await setup();
    await commit(repo, 1);
    const first = await tip(repo);
    await recordFor(repo, [first]);
    // Without the plan the branch move stored, the clone plans, and stores its plan once the pack is sent.
    const objects = internalsOf(repo).objects;
    await collect(objects.kv, objects.repoId, () => true, 'depth1');
    expect(await records(repo)).toEqual([]);
    const built = engine!.packCache.stats.depth1Built;
    const expected = await planned(repo, depth1Input(first));
    expect((await clone(repo, depth1Input(first))).pack).toEqual(expected.pack);
    await recordFor(repo, [first]);
    expect(engine!.packCache.stats.depth1Built).toBe(built + 1);

    await commit(repo, 2, 24, 'side');
    const side = await tip(repo, 'side');
    await recordFor(repo, [side]);
    await commit(repo, 3);
    const moved = await tip(repo);
    await recordFor(repo, [moved]);
    const served = engine!.packCache.stats.depth1Served;
    expect((await clone(repo, depth1Input(moved))).pack).toEqual((await planned(repo, depth1Input(moved))).pack);
    expect(engine!.packCache.stats.depth1Served).toBe(served + 1);

    // The side branch deleted: the sweep deletes its tip and drops its plan, and only its.
    await repo.deleteBranch('side');
    await engine!.sweep();
    expect((await records(repo)).map((r) => r.tips[0]).sort()).toEqual([first, moved].sort());
  });

  it('yield to the planner when an object is missing or the include-tag list differs', async () => {
    const repo = await setup();
    await commit(repo, 1);
    const head = await tip(repo);
    const record = await recordFor(repo, [head]);
    const objects = internalsOf(repo).objects;
    const stats = engine!.packCache.stats;
    const served = stats.depth1Served;
    const expected = await planned(repo, depth1Input(head));

    // A plan naming an object the store lacks: the planner's pack, before a byte of the plan's.
    const plan = await planObjects(objects, depth1Input(head));
    const writer = await SeriesWriter.create(objects.kv, objects.repoId);
    await writer.ids([...plan.oids, 'e'.repeat(40) as Oid]);
    await writer.finish<Depth1Record>([head], record.commits, 'depth1', { shallow: record.shallow, tags: record.tags, deltas: 0 });
    writer.close();
    expect((await clone(repo, depth1Input(head))).pack).toEqual(expected.pack);
    expect(stats.depth1Served).toBe(served);

    // Planned for no tags; a request whose include-tag list names one is planned, then stored for it.
    const tagged = depth1Input(head, [{ oid: 'a'.repeat(40) as Oid, peeled: 'b'.repeat(40) as Oid }]);
    expect((await clone(repo, tagged)).pack).toEqual(expected.pack);
    expect(stats.depth1Served).toBe(served);
    for (let i = 0; i < 400 && (await records(repo))[0]?.tags === ''; i++) await new Promise((res) => setTimeout(res, 10));
    expect((await records(repo)).map((r) => r.tags)).toEqual([`${'a'.repeat(40)}>${'b'.repeat(40)}`]);
    expect((await clone(repo, tagged)).pack).toEqual(expected.pack);
    expect(stats.depth1Served).toBe(served + 1);
  });

  it('count against the request’s maxPackObjects when read', async () => {
    const repo = await setup();
    await commit(repo, 1);
    const head = await tip(repo);
    const record = await recordFor(repo, [head]);
    const clone = (max: number) => {
      const walk = new WalkBudget({ maxWalkCommits: 1e6, maxWalkMs: 60_000, maxPackObjects: max });
      return internalsOf(repo).fetchPack({ ...depth1Input(head), walk });
    };
    const refused = await clone(record.count - 1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LimitExceededError);
    expect((refused as LimitExceededError).details).toEqual({ limit: 'maxPackObjects', max: record.count - 1 });
    const served = engine!.packCache.stats.depth1Served;
    expect(await collectBytes((await clone(record.count)).pack)).toEqual((await planned(repo, depth1Input(head))).pack);
    expect(engine!.packCache.stats.depth1Served).toBe(served + 1);
  });

  it('are not stored for small tips, nor when turned off, and serve no other request', async () => {
    const repo = await setup({}); // default minObjects: 1,000
    await commit(repo, 1);
    const head = await tip(repo);
    await settle(repo);
    await clone(repo, depth1Input(head));
    expect(await records(repo)).toEqual([]);
    await engine!.close();

    const off = await setup({ depth1Plans: false });
    await commit(off, 1);
    await settle(off);
    await clone(off, depth1Input(await tip(off)));
    expect(await records(off)).toEqual([]);
    expect(engine!.packCache.stats.depth1Built).toBe(0);
    await engine!.close();

    const on = await setup();
    await commit(on, 1);
    await commit(on, 2);
    const t = await tip(on);
    await recordFor(on, [t]);
    // Depth 2, a filter, or a client with objects: planned.
    await clone(on, { wants: [t], depth: 2, includeTags: [], ofsDelta: true });
    await clone(on, { ...depth1Input(t), filter: { kind: 'blob:none' } });
    await clone(on, { ...depth1Input(t), haves: [t] });
    expect(engine!.packCache.stats.depth1Served).toBe(0);
  });
});
