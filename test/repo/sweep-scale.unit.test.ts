/**
 * The sweep at history scale: it walks objects only when something may have become
 * unreachable (a ref deleted, rewound or expired, a push or commit whose ref update failed
 * after its objects were stored), `engine.close()` stops a running sweep without waiting for
 * it and without losing anything, a push that lands after its repository was deleted leaves
 * no keys behind once the sweep ran, and the bases of live kept deltas survive.
 */
import { createDelta } from '../../src/pack/delta.js';
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { RepoGitBackend } from '../../src/repo/git-backend.js';
import { type Oid, ZERO_OID, oidToBytes } from '../../src/object/oid.js';
import { encodeRefDelta } from '../../src/object/packed.js';
import { REPO_TAGS, objectKey, repoPrefix } from '../../src/storage/keys.js';
import { concat } from '../../src/platform/bytes.js';
import type { Repository } from '../../src/repo/repository.js';

const author = { name: 'A', email: 'a@example.com' };
const OBJECT = 0x4f;

/** A memory database that counts object reads and object-range listings (and can be slowed down). */
function countedDb(): { db: MemoryLevel; counts: { reads: number; scans: number; delayMs: number; getManys: number } } {
  const db = new MemoryLevel();
  const counts = { reads: 0, scans: 0, delayMs: 0, getManys: 0 };
  const getMany = db.getMany.bind(db) as (keys: Uint8Array[], o: unknown) => Promise<unknown[]>;
  const keys = db.keys.bind(db) as (o: { gte?: Uint8Array }) => unknown;
  Object.assign(db, {
    getMany: async (ks: Uint8Array[], o: unknown) => {
      counts.getManys++;
      for (const k of ks) if (k[0] === OBJECT) counts.reads++;
      if (counts.delayMs > 0) await new Promise((r) => setTimeout(r, counts.delayMs));
      return getMany(ks, o);
    },
    keys: (o: { gte?: Uint8Array }) => {
      if (o?.gte?.[0] === OBJECT) counts.scans++;
      return keys(o);
    },
  });
  return { db, counts };
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return concat(parts);
}

async function countObjects(repo: Repository): Promise<number> {
  let n = 0;
  for await (const _ of internalsOf(repo).objects.allOids()) n++;
  return n;
}

/** Every key of the database whose per-repository id is `id`. */
async function keysOfId(db: MemoryLevel, id: number): Promise<number> {
  let n = 0;
  for (const tag of REPO_TAGS) {
    const gte = repoPrefix(tag, id);
    const lt = repoPrefix(tag, id + 1);
    for await (const _ of db.keys({ gte, lt, keyEncoding: 'view' })) n++;
  }
  return n;
}

describe('the sweep walks objects only when needed', () => {
  it('skips the object walk after creates and fast-forwards, and removes exactly what a delete or a rewind let go', async () => {
    const { db, counts } = countedDb();
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('r');
    await repo.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'a.txt', content: 'a' }] });
    await repo.commit({ branch: 'tmp', message: 'tmp', author, changes: [{ path: 'tmp.txt', content: 'tmp only' }] });
    // A repository never swept is walked once (a database from before the markers, too).
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 0 });
    expect(counts.reads).toBeGreaterThan(0);

    counts.reads = 0;
    counts.scans = 0;
    await repo.createBranch('side', 'main');
    await repo.commit({ branch: 'main', message: 'two', author, changes: [{ path: 'b.txt', content: 'b' }] });
    await repo.commit({ branch: 'main', message: 'three', author, changes: [{ path: 'c.txt', content: 'c' }] });
    await repo.createTag('v1', 'main', { message: 'tagged' });
    const beforeSweep = counts.reads;
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 0 });
    expect(counts.reads).toBe(beforeSweep);
    expect(counts.scans).toBe(0);

    // A deleted branch: its commit, root tree and blob go, nothing else.
    const total = await countObjects(repo);
    await repo.deleteBranch('tmp');
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 3 });
    expect(await countObjects(repo)).toBe(total - 3);
    counts.reads = 0;
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 0 });
    expect(counts.reads).toBe(0);

    // A rewind (forced move back to the parent): the commit left behind, its tree and new blob
    // go, and the annotated tag that pointed at it.
    const [tip, parent] = await repo.log('main', { limit: 2 });
    await repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: tip!.sha, newOid: parent!.sha }]);
    await repo.deleteTag('v1'); // the tag object pointed at the old tip
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 3 + 1 });
    expect(new TextDecoder().decode(await repo.readFile('main', 'b.txt'))).toBe('b');
    expect((await repo.listTree('side', { recursive: true })).map((e) => e.path)).toEqual(['a.txt']);
    expect(await repo.resolve('main')).toBe(parent!.sha);
    await engine.close();
  });

  it('a push whose ref update fails leaves its objects to the next sweep; one that lands leaves no walk', async () => {
    const { db, counts } = countedDb();
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const source = await engine.createRepo('src');
    const one = await source.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'x/a.txt', content: 'pushed a' }] });
    const pack = await collect(source.packObjects({ wants: [one.sha] }));
    const dst = await engine.createRepo('dst');
    await dst.commit({ branch: 'base', message: 'base', author, changes: [{ path: 'base.txt', content: 'base' }] });
    await engine.sweep();
    const backend = new RepoGitBackend(dst);
    // Expects main at a value it does not have: the objects are stored, the ref is refused.
    const refused = await backend.receive(
      [{ ref: 'refs/heads/main', oldOid: one.sha, newOid: one.sha }],
      (async function* () {
        yield pack;
      })(),
      { pushOptions: [], atomic: false },
    );
    expect(refused.results[0]!.ok).toBe(false);
    expect(await internalsOf(dst).objects.has([one.sha])).toEqual([true]);
    expect((await engine.sweep()).objects).toBe(4); // commit, root tree, x/, x/a.txt

    const landed = await backend.receive(
      [{ ref: 'refs/heads/main', oldOid: ZERO_OID, newOid: one.sha }],
      (async function* () {
        yield pack;
      })(),
      { pushOptions: [], atomic: false },
    );
    expect(landed.results[0]!.ok).toBe(true);
    counts.reads = 0;
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 0 });
    expect(counts.reads).toBe(0);
    await engine.close();
  });
});

describe('writes during the mark phase', () => {
  it('are not held back by it, and a branch deleted meanwhile is collected by the next sweep', async () => {
    const { db, counts } = countedDb();
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('m');
    // ~2,400 trees: with every read slowed down, marking them takes far longer than the
    // deletion and the small commit made meanwhile, even on a loaded machine.
    const changes = Array.from({ length: 3000 }, (_, i) => ({ path: `d${i % 300}/e${i % 7}/f${i}.txt`, content: `file ${i}` }));
    await repo.commit({ branch: 'main', message: 'many', author, changes });
    await repo.commit({ branch: 'tmp', message: 'tmp', author, changes: [{ path: 'tmp.txt', content: 'deleted during the sweep' }] });
    await repo.commit({ branch: 'x', message: 'x', author, changes: [{ path: 'x.txt', content: 'deleted before the sweep' }] });
    await engine.sweep();
    await repo.deleteBranch('x');
    counts.delayMs = 10;
    counts.getManys = 0;
    let done = false;
    const sweep = repo.sweep().then((r) => ((done = true), r));
    while (counts.getManys < 3) await new Promise((r) => setTimeout(r, 2));
    // Neither the ref lock nor the write gate is held while marking.
    await repo.deleteBranch('tmp');
    await repo.commit({ branch: 'main', message: 'during', author, changes: [{ path: 'new.txt', content: 'written while marking' }] });
    expect(done).toBe(false);
    expect(await sweep).toEqual({ refs: 0, objects: 3 }); // x's commit, tree and blob
    counts.delayMs = 0;
    expect(new TextDecoder().decode(await repo.readFile('main', 'new.txt'))).toBe('written while marking');
    // The marker of the deletion made during the sweep survived it.
    expect(await repo.sweep()).toEqual({ refs: 0, objects: 3 });
    expect(await repo.sweep()).toEqual({ refs: 0, objects: 0 });
    await engine.close();
  });
});

describe('engine.close() during a sweep', () => {
  it('returns promptly, deletes nothing, and leaves the store whole', async () => {
    const { db, counts } = countedDb();
    let engine: Engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('big');
    const changes = Array.from({ length: 3000 }, (_, i) => ({ path: `d${i % 300}/e${i % 7}/f${i}.txt`, content: `file ${i}` }));
    await repo.commit({ branch: 'main', message: 'many', author, changes });
    await repo.commit({ branch: 'tmp', message: 'tmp', author, changes: [{ path: 'tmp.txt', content: 'garbage' }] });
    await repo.deleteBranch('tmp');
    const before = await countObjects(repo);
    // Every read of the database now takes 20 ms: a sweep of ~2,400 trees takes many seconds.
    counts.delayMs = 20;
    counts.getManys = 0;
    const sweep = engine.sweep();
    const outcome = sweep.then(
      () => 'finished',
      (err: { code?: string }) => err.code,
    );
    let settled = false;
    void outcome.then(() => (settled = true));
    while (counts.getManys < 5) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await engine.close();
    const took = Date.now() - started;
    // Closed with the sweep stopped (not left running against a closing database), promptly.
    expect(settled).toBe(true);
    expect(took).toBeLessThan(5000);
    expect(await outcome).toBe('ERR_CLOSED');
    counts.delayMs = 0;

    engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const again = await engine.getRepo('big');
    expect(await countObjects(again)).toBe(before);
    expect((await again.listTree('main', { recursive: true })).filter((e) => e.type === 'blob').length).toBe(3000);
    // The marker survived the aborted sweep: the next one collects the garbage.
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 3 });
    await engine.close();
  });
});

describe('no keys outlive a deleted repository', () => {
  it('a push that lands while its repository is deleted leaves nothing after the next sweep', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const source = await engine.createRepo('a-source'); // id 1
    const changes = Array.from({ length: 200 }, (_, i) => ({ path: `f${i}.txt`, content: `content ${i}\n`.repeat(50) }));
    const c = await source.commit({ branch: 'main', message: 'big', author, changes });
    const pack = await collect(source.packObjects({ wants: [c.sha] }));
    const doomed = await engine.createRepo('doomed'); // id 2
    let consumed!: () => void;
    const halfway = new Promise<void>((r) => (consumed = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const half = Math.floor(pack.length / 2);
    const body = (async function* () {
      yield pack.subarray(0, half);
      consumed();
      await gate;
      yield pack.subarray(half);
    })();
    const push = new RepoGitBackend(doomed).receive([{ ref: 'refs/heads/main', oldOid: ZERO_OID, newOid: c.sha }], body, { pushOptions: [], atomic: false });
    await halfway;
    await engine.deleteRepo('doomed');
    expect(await keysOfId(db, 2)).toBe(0);
    release();
    const result = await push;
    expect(result.results[0]!.ok).toBe(false);
    // The pack landed under the dead id after the delete had cleared it.
    expect(await keysOfId(db, 2)).toBeGreaterThan(200);
    const swept = await engine.sweep();
    expect(swept.reclaimed).toBe(1);
    expect(await keysOfId(db, 2)).toBe(0);
    expect(await keysOfId(db, 1)).toBeGreaterThan(200);
    await engine.close();
  });

  it('keys left under an id with no record (a crash, an older version) are cleared by the first sweep', async () => {
    const db = new MemoryLevel();
    let engine = await openEngine({ db });
    const keep = await engine.createRepo('keep');
    await keep.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'a', content: 'a' }] });
    const gone = await engine.createRepo('gone');
    await gone.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'b', content: 'b' }] });
    await engine.close();
    // What a version without the reclaim left: the record gone, a stray object under the id.
    await db.del(repoPrefix(0x52, 2), { keyEncoding: 'view' });
    await db.del(new Uint8Array([0x4e, ...new TextEncoder().encode('gone')]), { keyEncoding: 'view' });
    await db.put(objectKey(2, new Uint8Array(20).fill(7)), new Uint8Array([1]), { keyEncoding: 'view', valueEncoding: 'view' });
    engine = await openEngine({ db });
    const swept = await engine.sweep();
    expect(swept.reclaimed).toBe(1);
    expect(await keysOfId(db, 2)).toBe(0);
    expect(await keysOfId(db, 1)).toBeGreaterThan(0);
    expect((await engine.listRepos()).map((r) => r.name)).toEqual(['keep']);
    await engine.close();
  });
});

describe('kept deltas', () => {
  it('stores whole a live object kept as a delta of dead ones, and removes its dead chain and dead deltas with their bases', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db, commitDeltas: false });
    const repo = await engine.createRepo('d');
    const c = await repo.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'x.txt', content: 'live object' }] });
    const x = (await repo.listTree(c.sha)).find((e) => e.path === 'x.txt')!.sha as Oid;
    const objects = internalsOf(repo).objects;
    const w = objects.writer();
    const bytes = (s: string) => new TextEncoder().encode(s);
    const body = { x: bytes('live object'), base1: bytes('base one, referenced by no tree'), base2: bytes('base two, the base of base one') };
    const deadBody = { delta: bytes('a dead delta'), base: bytes('the base of a dead delta') };
    const base1 = w.add('blob', body.base1);
    const base2 = w.add('blob', body.base2);
    const deadDelta = w.add('blob', deadBody.delta);
    const deadBase = w.add('blob', deadBody.base);
    w.addDelta(x, encodeRefDelta(oidToBytes(base1), createDelta(body.base1, body.x)));
    w.addDelta(base1, encodeRefDelta(oidToBytes(base2), createDelta(body.base2, body.base1)));
    w.addDelta(deadDelta, encodeRefDelta(oidToBytes(deadBase), createDelta(deadBody.base, deadBody.delta)));
    await w.flush();
    // base1 and the dead delta are stored only as deltas, as the delta layout stores them.
    await db.batch(
      [base1, deadDelta].map((o) => ({ type: 'del' as const, key: objectKey(1, oidToBytes(o)) })),
      { keyEncoding: 'view' },
    );
    // A repository never swept is walked: x is reachable, base1 and base2 are not.
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 4 });
    expect(await objects.has([x, base1, base2, deadDelta, deadBase])).toEqual([true, false, false, false, false]);
    expect((await objects.getDeltas([x])).map((d) => d !== undefined)).toEqual([false]);
    expect(new TextDecoder().decode((await objects.read(x)).body)).toBe('live object');
    // The next sweep (nothing changed) finds nothing to do.
    expect((await engine.sweep()).objects).toBe(0);
    await engine.close();
  });
});
