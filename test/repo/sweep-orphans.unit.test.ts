/**
 * The sweep and live objects stored as deltas of dead ones (repo/sweep-orphans.ts): after a
 * history is rewritten and the old one deleted, the versions that survive but arrived as deltas
 * of versions that did not are stored whole, and the dead versions go; a pack being sent that
 * holds such an object keeps its base until the next sweep.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';
import { concat } from '../../src/platform/bytes.js';
import type { Repository } from '../../src/repo/repository.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { hashObject, oidToBytes } from '../../src/object/oid.js';
import { encodePacked, encodeRefDelta, encodeStoredDelta } from '../../src/object/packed.js';
import { createDelta } from '../../src/pack/delta.js';
import { deltaKey, objectKey, reachKey } from '../../src/storage/keys.js';
import { decodeReach } from '../../src/repo/chain-reach.js';

const author = { name: 'A', email: 'a@example.com' };

/** A 300-line file with line `edit` changed. */
function version(edit: number): string {
  return Array.from({ length: 300 }, (_, i) => (i === edit ? `line ${i}, edited` : `line ${i} of a long file that stays the same`)).join('\n');
}

const view = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/** Runs `fn` with an engine over a fresh memory database (pack cache off), closed after. */
async function withEngine(fn: (engine: Engine, db: MemoryLevel) => Promise<void>): Promise<void> {
  const db = new MemoryLevel();
  const engine = await openEngine({ db, packCache: { maxBytes: 0, warm: false } });
  try {
    await fn(engine, db);
  } finally {
    await engine.close();
  }
}

async function storedIds(repo: Repository): Promise<Set<Oid>> {
  const out = new Set<Oid>();
  for await (const o of internalsOf(repo).objects.allOids()) out.add(o);
  return out;
}

async function blobOf(repo: Repository, commit: string, path: string): Promise<Oid> {
  return (await repo.listTree(commit)).find((e) => e.path === path)!.sha as Oid;
}

/**
 * `dst` holds `main` (two commits: f at v1, then v2) and `squash` (one root commit with f at
 * v2), pushed as one pack: v2 arrived as a delta of v1, which only main reaches.
 */
async function rewritten(engine: Engine): Promise<{ dst: Repository; v1: Oid; v2: Oid; squash: string }> {
  const src = await engine.createRepo('src');
  await src.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'f.txt', content: version(1) }] });
  const c2 = await src.commit({ branch: 'main', message: 'two', author, changes: [{ path: 'f.txt', content: version(2) }] });
  const sq = await src.commit({ branch: 'squash', message: 'squashed', author, changes: [{ path: 'f.txt', content: version(2) }] });
  const parts: Uint8Array[] = [];
  for await (const p of src.packObjects({ wants: [c2.sha, sq.sha] })) parts.push(p);
  const dst = await engine.createRepo('dst');
  await dst.indexPack([concat(parts)]);
  await dst.createBranch('main', c2.sha);
  await dst.createBranch('squash', sq.sha);
  const v1 = await blobOf(src, c2.parents[0]!, 'f.txt');
  const v2 = await blobOf(src, c2.sha, 'f.txt');
  // The case under test: v2 is kept as a delta of v1.
  const [d] = await internalsOf(dst).objects.getDeltas([v2]);
  expect(d?.base).toBe(v1);
  return { dst, v1, v2, squash: sq.sha };
}

describe('the sweep and live objects stored as deltas of dead ones', () => {
  it('stores the survivor whole and lets the rewritten history go, its delta bases included', () =>
    withEngine(async (engine) => {
      const { dst, v1, v2, squash } = await rewritten(engine);
      await dst.deleteBranch('main');
      expect((await engine.sweep()).objects).toBeGreaterThanOrEqual(3); // two commits, their tree, v1
      const objects = internalsOf(dst).objects;
      expect(await objects.has([v1, v2])).toEqual([false, true]);
      expect(await objects.getDeltas([v2])).toEqual([undefined]);
      expect(new TextDecoder().decode((await objects.read(v2)).body)).toBe(version(2));
      // Nothing is left but what squash reaches: its commit, its tree, v2.
      expect([...(await storedIds(dst))].sort()).toEqual([squash, (await objects.commit(squash as Oid)).tree, v2].sort());
      // A full clone of what is left reads back.
      const parts: Uint8Array[] = [];
      for await (const p of dst.packObjects({ wants: [squash] })) parts.push(p);
      expect((await readPackBytes(concat(parts))).map((o) => o.oid).sort()).toEqual([...(await storedIds(dst))].sort());
    }));

  it('keeps the base while a pack being sent holds the survivor, and lets it go at the next sweep', () =>
    withEngine(async (engine) => {
      const { dst, v1, v2, squash } = await rewritten(engine);
      const objects = internalsOf(dst).objects;
      const tree = (await objects.commit(squash as Oid)).tree;
      const stream = internalsOf(dst)
        .streamPack([squash as Oid, tree, v2], { deltas: true })
        [Symbol.asyncIterator]();
      await stream.next(); // the pack has begun: its objects are pinned
      await dst.deleteBranch('main');
      await engine.sweep();
      expect(await objects.has([v1, v2])).toEqual([true, true]);
      const rest: Uint8Array[] = [];
      for (let r = await stream.next(); !r.done; r = await stream.next()) rest.push(r.value);
      expect(rest.length).toBeGreaterThan(0);
      // The pack is done: the sweep it left a marker for lets v1 go.
      expect((await engine.sweep()).objects).toBe(1);
      expect(await objects.has([v1, v2])).toEqual([false, true]);
      expect(await objects.getDeltas([v2])).toEqual([undefined]);
      expect(new TextDecoder().decode((await objects.read(v2)).body)).toBe(version(2));
    }));

  it('gives a survivor the reach record of the chain it ended, less its depth', () =>
    withEngine(async (engine, db) => {
      const repo = await engine.createRepo('r');
      const internals = internalsOf(repo);
      const pool = internals.objects.repoId;
      // v0 whole, v1..v19 each a delta of the one before: v0's reach is 19, recorded.
      const bodies = Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(version(i)));
      const oids = bodies.map((b) => hashObject('blob', b));
      const ops = [{ key: objectKey(pool, oidToBytes(oids[0]!)), value: encodePacked('blob', bodies[0]!) }];
      for (let i = 1; i < 20; i++) {
        const entry = encodeRefDelta(oidToBytes(oids[i - 1]!), createDelta(bodies[i - 1]!, bodies[i]!));
        ops.push({ key: deltaKey(pool, oidToBytes(oids[i]!)), value: encodeStoredDelta('blob', bodies[i]!.length, entry) });
      }
      ops.push({ key: reachKey(pool, oidToBytes(oids[0]!)), value: Uint8Array.of(19) }, { key: reachKey(pool), value: Uint8Array.of(1) });
      await db.batch(
        ops.map((o) => ({ type: 'put' as const, ...o })),
        view,
      );
      // Only v5 and v15 are reachable (tags): both are stored whole, everything else goes.
      for (const i of [5, 15]) await internals.transact([{ ref: `refs/tags/v${i}`, oldOid: '0'.repeat(40) as Oid, newOid: oids[i]!, space: 'regular' }], 'api');
      expect((await repo.sweep()).objects).toBe(18);
      expect(await internals.objects.has(oids)).toEqual(oids.map((_, i) => i === 5 || i === 15));
      expect(await internals.objects.getDeltas([oids[5]!, oids[15]!])).toEqual([undefined, undefined]);
      const reach = async (i: number) => decodeReach(await db.get(reachKey(pool, oidToBytes(oids[i]!)), view));
      // v5 was 5 links from v0: chains through it were at most 19 - 5 long; v15's bound (4) is under the records' floor.
      expect(await reach(5)).toBe(14);
      expect(await db.get(reachKey(pool, oidToBytes(oids[15]!)), view)).toBeUndefined();
      expect(await db.get(reachKey(pool, oidToBytes(oids[0]!)), view)).toBeUndefined();
      for (const i of [5, 15]) expect(new TextDecoder().decode((await internals.objects.read(oids[i]!)).body)).toBe(version(i));
    }));

  it('keeps the delta and its base of a survivor whose whole entry went before the gate closed', () =>
    withEngine(async (engine, db) => {
      const { dst, v1, v2, squash } = await rewritten(engine);
      const internals = internalsOf(dst);
      const pool = internals.objects.repoId;
      const wholeKey = objectKey(pool, oidToBytes(v2));
      for (let k = 0; k < 3; k++) await internals.warmClonePack(squash as Oid);
      await db.del(wholeKey, view); // v2 kept as its delta only, as a push stores it
      await dst.deleteBranch('main');
      // A write in flight holds the sweep's last phase back; meanwhile the whole entry the sweep
      // gave v2 goes again (as replaced-whole.ts drops a replaced version's).
      let release!: () => void;
      const writing = internals.withWrite(() => new Promise<void>((r) => (release = r)));
      const sweeping = engine.sweep({ waitMs: 10_000 });
      for (const t = Date.now(); (await db.get(wholeKey, view)) === undefined && Date.now() - t < 5000; ) await new Promise((r) => setTimeout(r, 2));
      expect(await db.get(wholeKey, view)).toBeDefined();
      await db.del(wholeKey, view);
      release();
      await writing;
      await sweeping;
      const objects = internals.objects;
      expect(await objects.has([v1, v2])).toEqual([true, true]);
      expect((await objects.getDeltas([v2]))[0]?.base).toBe(v1);
      expect(new TextDecoder().decode((await objects.read(v2)).body)).toBe(version(2));
      // The next sweep stores it whole again and lets v1 go.
      await engine.sweep({ waitMs: 10_000 });
      expect(await objects.has([v1, v2])).toEqual([false, true]);
      expect(new TextDecoder().decode((await objects.read(v2)).body)).toBe(version(2));
    }));
});
