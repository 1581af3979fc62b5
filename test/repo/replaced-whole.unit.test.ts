/**
 * Whole entries of replaced versions (repo/replaced-whole.ts): after API commits on a branch,
 * each version a commit replaced, stored whole beside the delta its commit kept, lets its whole
 * entry go once the branch's warm-up runs, unless a branch tip of the pool still has it; chains
 * stay within 50, and every version reads back.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Repository } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { type Oid, hashObject, oidToBytes } from '../../src/object/oid.js';
import { decodeStoredDelta } from '../../src/object/packed.js';
import { deltaKey, objectKey } from '../../src/storage/keys.js';
import { concat, utf8 } from '../../src/platform/bytes.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';

const author = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000 };

/** File `i` with `extra` lines added: each version a delta of the one before, under half its size. */
function text(i: number, extra: number): Uint8Array {
  let s = '';
  for (let l = 0; l < 60; l++) s += `file ${i} line ${l}: ${'x'.repeat(20 + ((i * 7 + l) % 13))}\n`;
  for (let l = 0; l < extra; l++) s += `added ${l}\n`;
  return utf8(s);
}

/** Stored forms of `oid`: [has a whole entry, has a delta]. */
async function forms(repo: Repository, oid: Oid): Promise<[boolean, boolean]> {
  const { objects } = internalsOf(repo);
  const [o, d] = await objects.kv.getMany([objectKey(objects.repoId, oidToBytes(oid)), deltaKey(objects.repoId, oidToBytes(oid))]);
  return [o !== undefined, d !== undefined];
}

/** Links from `oid` to the first object stored whole, following stored deltas. */
async function chainLength(repo: Repository, oid: Oid): Promise<number> {
  const { objects } = internalsOf(repo);
  let n = 0;
  for (let at = oid; !(await forms(repo, at))[0]; n++) {
    at = decodeStoredDelta((await objects.kv.get(deltaKey(objects.repoId, oidToBytes(at))))!).base as Oid;
  }
  return n;
}

/** Warm-ups of `branch` until `done` holds (the background ones run too), at most 10 s. */
async function settle(repo: Repository, branch: string, done: () => Promise<boolean>): Promise<void> {
  for (const t = Date.now(); !(await done()) && Date.now() - t < 10_000; ) await internalsOf(repo).warmClonePack(await repo.resolve(branch));
}

describe('replaced versions', () => {
  it('let their whole entries go after API commits, keep chains within 50 and read back', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    const repo = await engine.createRepo('agent');
    const versions: Uint8Array[] = [];
    for (let k = 0; k <= 60; k++) {
      versions.push(text(0, k));
      const changes = [{ path: 'a.txt', content: versions[k]! }, ...(k === 0 ? [{ path: 'b.txt', content: text(1, 0) }] : [])];
      await repo.commit({ branch: 'main', message: `turn ${k}`, author, changes });
    }
    const ids = versions.map((v) => hashObject('blob', v));
    const whole = async () => (await Promise.all(ids.map((id) => forms(repo, id)))).filter(([o]) => o).length;
    // The first version (no delta: nothing before it), the tip, and a whole one where a chain
    // would pass 50 (where depends on the order the warm-ups met the versions in): 61 versions,
    // at most five whole, against all 61 before.
    await settle(repo, 'main', async () => (await whole()) <= 4);
    expect(await whole()).toBeLessThanOrEqual(5);
    expect(await forms(repo, ids[60]!)).toEqual([true, true]);
    for (const id of ids) expect(await chainLength(repo, id)).toBeLessThanOrEqual(50);
    const read = await internalsOf(repo).objects.readMany(ids);
    read.forEach((o, k) => expect(Buffer.from(o!.body).equals(Buffer.from(versions[k]!))).toBe(true));
    await engine.close();
  });

  it('keeps the whole entries a branch tip of the pool still has', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    const repo = await engine.createRepo('agent');
    const a = [text(0, 0), text(0, 1)];
    const b = [text(1, 0), text(1, 1)];
    await repo.commit({
      branch: 'main',
      message: 'one',
      author,
      changes: [
        { path: 'a.txt', content: a[0]! },
        { path: 'b.txt', content: b[0]! },
      ],
    });
    // A branch made from main edits a.txt, then b.txt: main still has both old versions.
    await repo.commit({ branch: 'feature', baseBranch: 'main', message: 'two', author, changes: [{ path: 'a.txt', content: a[1]! }] });
    await repo.commit({ branch: 'feature', message: 'three', author, changes: [{ path: 'b.txt', content: b[1]! }] });
    // main moves on: its a.txt is replaced by a version with a delta, then by another.
    const a2 = text(0, 2);
    const a3 = text(0, 3);
    await repo.commit({ branch: 'main', message: 'four', author, changes: [{ path: 'a.txt', content: a2 }] });
    await repo.commit({ branch: 'main', message: 'five', author, changes: [{ path: 'a.txt', content: a3 }] });
    const id = (body: Uint8Array) => hashObject('blob', body);
    // a2 (main's previous version, with the delta its commit kept) goes: no tip has it.
    await settle(repo, 'main', async () => !(await forms(repo, id(a2)))[0]);
    expect(await forms(repo, id(a2))).toEqual([false, true]);
    // feature's tip has a[1] and b[1], main's a3 and b[0]: all keep their whole entries.
    for (const body of [a[1]!, b[1]!, a3, b[0]!]) expect((await forms(repo, id(body)))[0]).toBe(true);
    await engine.close();
  });

  it('past 32 branches, keeps only what the default branch has, and another branch clones what went', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0, warm: false } });
    const repo = await engine.createRepo('agent');
    const a = [0, 1, 2].map((k) => text(0, k));
    const id = (body: Uint8Array) => hashObject('blob', body);
    await repo.commit({ branch: 'main', message: 'one', author, changes: [{ path: 'a.txt', content: a[0]! }] });
    await repo.commit({ branch: 'main', message: 'two', author, changes: [{ path: 'a.txt', content: a[1]! }] });
    // A branch per agent task, each made from main (their tips have a[1]) with a file of its own.
    for (let t = 0; t < 40; t++) {
      await repo.commit({
        branch: `task-${t}`,
        baseBranch: 'main',
        message: `task ${t}`,
        author,
        changes: [{ path: `task-${t}.txt`, content: text(100 + t, 0) }],
      });
    }
    // main moves on: a[1], which every task branch still has, is replaced.
    await repo.commit({ branch: 'main', message: 'three', author, changes: [{ path: 'a.txt', content: a[2]! }] });
    await settle(repo, 'main', async () => !(await forms(repo, id(a[1]!)))[0]);
    expect(await forms(repo, id(a[1]!))).toEqual([false, true]);
    // One more task branch replaces main's current version on its own: main still has it, kept.
    await repo.commit({ branch: 'task-40', baseBranch: 'main', message: 'made', author, changes: [{ path: 'task-40.txt', content: text(140, 0) }] });
    await repo.commit({ branch: 'task-40', message: 'edit', author, changes: [{ path: 'a.txt', content: text(0, 3) }] });
    for (let k = 0; k < 3; k++) await internalsOf(repo).warmClonePack(await repo.resolve('task-40'));
    expect((await forms(repo, id(a[2]!)))[0]).toBe(true);
    // A depth-1 clone of a task branch sends a[1] as it is, and stores it whole again on the way.
    const parts: Uint8Array[] = [];
    for await (const p of repo.packObjects({ wants: [await repo.resolve('task-7')], depth: 1 })) parts.push(p);
    const sent = (await readPackBytes(concat(parts))).find((o) => o.oid === id(a[1]!));
    expect(sent && Buffer.from(sent.body).equals(Buffer.from(a[1]!))).toBe(true);
    expect((await forms(repo, id(a[1]!)))[0]).toBe(true);
    await engine.close();
  });
});
