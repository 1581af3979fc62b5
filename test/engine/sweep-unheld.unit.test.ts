/**
 * The engine's sweep over repositories this process never opened: each is opened for its sweep
 * only (engine.ts `#forSweep`), from the one listing of records, and swept like any other:
 * expired ephemeral refs go with their objects; one deleted since the listing is passed over;
 * a repository opened meanwhile by a request is the one swept; an idle one (swept once, no
 * marker, no ephemeral ref) is not opened at all.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';
import { AUTHOR, sandboxTurn } from './helpers.js';
import { sweepWork } from '../../src/engine-sweep.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the sweep of repositories not opened in this process', () => {
  it('expires their ephemeral refs and removes what only those reached', async () => {
    const db = new MemoryLevel();
    const first = await openEngine({ db });
    for (const name of ['a', 'b', 'c']) {
      const repo = await first.createRepo(name);
      await repo.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'README.md', content: `${name}\n` }] });
      await sandboxTurn(repo, { path: 'turn.txt', content: `${name} turn\n` });
    }
    await first.sweep(); // every repository's first object sweep, nothing expired yet
    await first.close();

    // Spied before the second engine's ref stores take it as their clock, moved past the expiry.
    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now');
    const engine = await openEngine({ db });
    try {
      const c = await engine.getRepo('c'); // opened by a request before the sweep: that one is swept
      clock.mockImplementation(() => realNow() + 120_000);
      const r = await engine.sweep();
      expect(r).toMatchObject({ refs: 3, objects: 9 }); // per repository the commit, its root tree and the new blob
      for (const name of ['a', 'b', 'c']) {
        const repo = await engine.getRepo(name);
        expect(await repo.listBranches({ space: 'ephemeral' })).toEqual([]);
        const ids: Oid[] = [];
        for await (const o of internalsOf(repo).objects.allOids()) ids.push(o);
        expect(ids).toHaveLength(3); // main's commit, tree and README
      }
      expect(await engine.getRepo('c')).toBe(c);
    } finally {
      await engine.close();
    }
  });

  it('passes over a repository deleted after the listing', async () => {
    const db = new MemoryLevel();
    const first = await openEngine({ db });
    const a = await first.createRepo('a');
    await a.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'README.md', content: 'a\n' }] });
    await a.createBranch('sandbox', 'main', { space: 'ephemeral', ttlSeconds: 60 });
    const b = await first.createRepo('b');
    await b.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'README.md', content: 'b\n' }] });
    await first.close();

    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now');
    let deleted = false;
    // `a`'s expiry runs while the sweep goes through the listing: `b` is deleted then, after it was listed.
    const engine = await openEngine({
      db,
      afterRefUpdate: async (event) => {
        if (event.source !== 'expire' || deleted) return;
        deleted = true;
        await engine.deleteRepo('b');
      },
    });
    try {
      clock.mockImplementation(() => realNow() + 120_000);
      const r = await engine.sweep();
      expect(deleted).toBe(true);
      expect(r.refs).toBe(1);
      expect(r.failed).toBeUndefined();
      expect((await engine.listRepos()).map((x) => x.name)).toEqual(['a']);
    } finally {
      await engine.close();
    }
  });

  it('knows which repositories have work without opening them: never swept, a marker, ephemeral refs', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    try {
      const ids: Record<string, number> = {};
      for (const name of ['idle', 'marked', 'sandbox', 'fresh']) {
        const repo = await engine.createRepo(name);
        await repo.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'README.md', content: `${name}\n` }] });
        ids[name] = internalsOf(repo).id;
      }
      const fresh = await engine.getRepo('fresh');
      await engine.sweep(); // every pool swept once: a baseline each
      const kv = internalsOf(fresh).objects.kv;
      let work = await sweepWork(kv);
      expect(Object.keys(ids).filter((n) => work(ids[n]!, ids[n]!))).toEqual([]);

      const marked = await engine.getRepo('marked');
      await marked.createBranch('tmp', 'main');
      await marked.deleteBranch('tmp'); // a deleted ref: a marker
      const sandbox = await engine.getRepo('sandbox');
      await sandbox.createBranch('s', 'main', { space: 'ephemeral' });
      await engine.createRepo('new'); // never swept
      const made = internalsOf(await engine.getRepo('new')).id;
      work = await sweepWork(kv);
      expect(Object.keys(ids).filter((n) => work(ids[n]!, ids[n]!))).toEqual(['marked', 'sandbox']);
      expect(work(made, made)).toBe(true);
      // A fork's pool is its source's: the source's state decides.
      expect(work(9999, ids.marked!)).toBe(true);
      expect(work(9999, ids.idle!)).toBe(false);
    } finally {
      await engine.close();
    }
  });
});
