/**
 * Merges, reverts and cherry-picks through the library (memory-level, no git): refs move through
 * the one ref-update path (hooks see 'merge' and 'revert', a refusal moves nothing), a dry run
 * writes nothing, an ephemeral head merges into a regular branch, and a stale expectation is a
 * compare-and-swap failure.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { enableReview, openEngine, type Engine, type RefUpdateEvent, type Repository } from '../../src/index.js';

enableReview(); // the package root leaves the review services to the app (docs/browser.md)

const AUTHOR = { name: 'Ada', email: 'ada@example.com', timestamp: 1_700_000_000 };
let db: MemoryLevel<any, any>;
let engine: Engine;
let repo: Repository;
const events: RefUpdateEvent[] = [];
let refuse = false;

beforeEach(async () => {
  events.length = 0;
  refuse = false;
  db = new MemoryLevel();
  engine = await openEngine({
    db,
    beforeRefUpdate: (e) => {
      events.push(e);
      return refuse ? 'refused by policy' : undefined;
    },
  });
  repo = await engine.createRepo('r');
  await repo.commit({ branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'a.txt', content: '1\n2\n3\n4\n5\n' }] });
});

afterEach(async () => {
  await engine.close();
  await db.close();
});

describe('merge and revert in the library', () => {
  it('merges an ephemeral head into a regular branch, through the hooks, with a compare-and-swap', async () => {
    const main = (await repo.getRef('refs/heads/main'))!.oid;
    await repo.commit({
      branch: 'agent',
      space: 'ephemeral',
      baseBranch: 'main',
      message: 'agent',
      author: AUTHOR,
      changes: [{ path: 'a.txt', content: '1\nX\n3\n4\n5\n' }],
    });
    await repo.commit({ branch: 'main', message: 'main', author: AUTHOR, changes: [{ path: 'a.txt', content: '1\n2\n3\n4\nY\n' }] });
    const moved = (await repo.getRef('refs/heads/main'))!.oid;
    await expect(repo.merge({ base: 'main', head: 'agent', expectedBaseSha: main })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
    const check = await repo.merge({ base: 'main', head: 'agent', dryRun: true });
    expect(check.mergeable).toBe(true);
    expect((await repo.getRef('refs/heads/main'))!.oid).toBe(moved);
    refuse = true;
    await expect(repo.merge({ base: 'main', head: 'agent' })).rejects.toMatchObject({ code: 'ERR_REF_REJECTED' });
    expect((await repo.getRef('refs/heads/main'))!.oid).toBe(moved);
    refuse = false;
    const r = await repo.merge({ base: 'main', head: 'agent', author: AUTHOR });
    expect(r.tree).toBe(check.tree);
    expect(new TextDecoder().decode(await repo.readFile('main', 'a.txt'))).toBe('1\nX\n3\n4\nY\n');
    expect(events.at(-1)).toMatchObject({ source: 'merge', updates: [{ ref: 'refs/heads/main', oldOid: moved, newOid: r.sha }] });
    const [log] = await repo.log('main', { limit: 1 });
    expect(log!.parents).toEqual([moved, (await repo.getRef('refs/heads/agent', { view: 'ephemeral' }))!.oid]);

    const reverted = await repo.revert({ branch: 'main', commit: moved, author: AUTHOR });
    expect(new TextDecoder().decode(await repo.readFile(reverted.sha, 'a.txt'))).toBe('1\nX\n3\n4\n5\n');
    expect(events.at(-1)!.source).toBe('revert');
    const picked = await repo.cherryPick({ branch: 'main', commit: moved });
    expect(new TextDecoder().decode(await repo.readFile(picked.sha, 'a.txt'))).toBe('1\nX\n3\n4\nY\n');
  });

  it('reports conflicts and moves nothing; fast-forward only when it is one', async () => {
    await repo.createBranch('x', 'main');
    await repo.commit({ branch: 'x', message: 'x', author: AUTHOR, changes: [{ path: 'a.txt', content: '1\nX\n3\n4\n5\n' }] });
    const ff = await repo.merge({ base: 'main', head: 'x', strategy: 'fast-forward' });
    expect(ff).toMatchObject({ fastForward: true, sha: (await repo.getRef('refs/heads/x'))!.oid });
    await repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a.txt', content: '1\nM\n3\n4\n5\n' }] });
    await repo.commit({ branch: 'x', message: 'x2', author: AUTHOR, changes: [{ path: 'a.txt', content: '1\nZ\n3\n4\n5\n' }] });
    const before = (await repo.getRef('refs/heads/main'))!.oid;
    await expect(repo.merge({ base: 'main', head: 'x', strategy: 'fast-forward' })).rejects.toMatchObject({ code: 'ERR_NOT_FAST_FORWARD', status: 409 });
    await expect(repo.merge({ base: 'main', head: 'x', strategy: 'squash' })).rejects.toMatchObject({
      code: 'ERR_MERGE_CONFLICT',
      status: 409,
      details: { conflicts: [{ path: 'a.txt', kind: 'content' }] },
    });
    expect((await repo.getRef('refs/heads/main'))!.oid).toBe(before);
    await expect(repo.merge({ base: 'nope', head: 'x' })).rejects.toMatchObject({ code: 'ERR_REF_NOT_FOUND', status: 404 });
  });
});
