/**
 * The engine's per-id state is held weakly (engine-held.ts): one object per id while anything
 * uses it, forgotten once nothing does, so a process that touched or deleted many repositories
 * does not keep an entry for each. Sweep guards and deletion stay shared by every object of a
 * repository, including one maxOpenRepos closed that a caller still holds.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { SweepGuard } from '../../src/repo/sweep.js';
import { HeldTable } from '../../src/engine-held.js';
import { isLevelGitError } from '../../src/errors.js';
import { AUTHOR } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `done` holds (finalizers run in later tasks), at most `rounds` times. */
async function collectUntil(done: () => boolean, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('HeldTable', () => {
  it('hands out one object per id while it is held, and forgets the ones nothing holds', async () => {
    let made = 0;
    const table = new HeldTable(() => (made++, new SweepGuard()));
    const held = table.of(1);
    expect(table.of(1)).toBe(held);
    for (let id = 2; id <= 1000; id++) table.of(id);
    expect(table.size).toBe(1000);
    await collectUntil(() => table.size === 1);
    expect(table.size).toBe(1);
    expect(table.of(1)).toBe(held);
    expect(table.peek(2)).toBeUndefined();
    expect(made).toBe(1000);
    table.of(2);
    expect(made).toBe(1001);
    table.delete(1);
    expect(table.of(1)).not.toBe(held);
  });
});

describe('sweep guards of repositories closed by maxOpenRepos', () => {
  it('a write through a closed repository object still holds back the sweep of its reopened one', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), maxOpenRepos: 1, sweepWaitMs: 20 });
    try {
      const old = await engine.createRepo('r');
      await old.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'f.txt', content: '0\n' }] });
      await engine.createRepo('s'); // `r` is closed
      await collectUntil(() => false, 5); // a guard nothing but `old` holds must survive this
      let release!: () => void;
      const writing = internalsOf(old).withWrite(() => new Promise<void>((r) => (release = r)));
      const fresh = await engine.getRepo('r');
      expect(fresh).not.toBe(old);
      expect((await fresh.sweep({ waitMs: 20 })).busy).toBe(true);
      release();
      await writing;
      expect((await fresh.sweep({ waitMs: 20 })).busy).toBeUndefined();
    } finally {
      await engine.close();
    }
  });

  it('a deleted repository fails its next call through every object of it, a closed one included', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), maxOpenRepos: 1 });
    try {
      const old = await engine.createRepo('r');
      await old.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'f.txt', content: '0\n' }] });
      await engine.createRepo('s'); // `r` is closed
      const fresh = await engine.getRepo('r');
      expect(fresh).not.toBe(old);
      await engine.deleteRepo('r');
      for (const repo of [old, fresh]) {
        const err = await repo.listBranches().catch((e: unknown) => e);
        expect(isLevelGitError(err, 'ERR_REPO_NOT_FOUND')).toBe(true);
      }
      // A new repository of the same name is another one.
      const again = await engine.createRepo('r');
      expect(await again.listBranches()).toEqual([]);
      expect(isLevelGitError(await old.listBranches().catch((e: unknown) => e), 'ERR_REPO_NOT_FOUND')).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
