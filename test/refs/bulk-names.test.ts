/**
 * git's file/directory rule for transactions that create many refs at once (a push of every
 * tag): above 16 creates the check runs against one listing of each space. The same rule as
 * for small transactions: a created ref may not sit above or below a live ref of its space
 * (an ephemeral one: of either space), counting the transaction's own creates and deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, ZERO_OID, type Engine, type Repository } from '../../src/index.js';
import { AUTHOR } from '../engine/helpers.js';

let engine: Engine;
let repo: Repository;
let sha: string;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
  repo = await engine.createRepo('bulk');
  sha = (await repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'f', content: 'f' }] })).sha;
  await repo.refs.transaction([
    { ref: 'refs/heads/taken', newOid: sha },
    { ref: 'refs/heads/dir/leaf', newOid: sha },
    { ref: 'refs/heads/old', newOid: sha },
  ]);
});
afterAll(async () => {
  await engine.close();
});

const many = (prefix: string, n = 20) => Array.from({ length: n }, (_, i) => ({ ref: `${prefix}${i}`, newOid: sha }));

describe('name conflicts in large transactions', () => {
  it('creates 20 refs at once', async () => {
    const applied = await repo.refs.transaction(many('refs/tags/t'));
    expect(applied).toHaveLength(20);
  });

  for (const [what, extra, conflictsWith] of [
    ['below an existing ref', { ref: 'refs/heads/taken/x', newOid: '' }, 'refs/heads/taken'],
    ['above an existing ref', { ref: 'refs/heads/dir', newOid: '' }, 'refs/heads/dir/leaf'],
    ['next to a ref the same transaction creates', { ref: 'refs/heads/new/child', newOid: '' }, 'refs/heads/new/child'],
  ] as const) {
    it(`refuses a create ${what}, and nothing moves`, async () => {
      const before = await repo.listRefs();
      const updates = [...many('refs/tags/c'), { ref: 'refs/heads/new', newOid: sha }, { ...extra, newOid: sha }];
      await expect(repo.refs.transaction(updates)).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT', details: { conflictsWith } });
      expect(await repo.listRefs()).toEqual(before);
    });
  }

  it("counts the transaction's own deletes: a deleted ref frees its name as a directory", async () => {
    const applied = await repo.refs.transaction([
      ...many('refs/tags/d'),
      { ref: 'refs/heads/old', oldOid: sha, newOid: ZERO_OID },
      { ref: 'refs/heads/old/new', newOid: sha },
    ]);
    expect(applied).toHaveLength(22);
    expect((await repo.refs.get('refs/heads/old/new'))?.oid).toBe(sha);
    expect(await repo.refs.get('refs/heads/old')).toBeUndefined();
  });

  it('checks ephemeral creates against the regular space too', async () => {
    const updates = [
      ...many('refs/tags/e').map((u) => ({ ...u, space: 'ephemeral' as const })),
      { ref: 'refs/heads/taken/e', newOid: sha, space: 'ephemeral' as const },
    ];
    await expect(repo.refs.transaction(updates)).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT', details: { conflictsWith: 'refs/heads/taken' } });
    expect(await repo.listRefs({ space: 'ephemeral' })).toEqual([]);
  });
});
