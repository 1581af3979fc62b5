/**
 * Promotion with `expectedSourceSha`: the ephemeral branch must still be at the tip the caller
 * judged when the transaction commits, so what lands in the regular space is exactly what was
 * reviewed (the JSON API pins the tip its ref policy judged the same way). A stale expectation
 * is a 409 ERR_REF_CONFLICT and nothing moves.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import type { Repository } from '../../src/repo/repository.js';
import { createApiFetchHandler } from '../../src/http/fetch-handler.js';
import { createTokenService } from '../../src/access/tokens.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };

let engine: Engine;
let repo: Repository;
let first: string;
let second: string;

beforeEach(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
  repo = await engine.createRepo('app');
  await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
  first = (await repo.commit({ branch: 'try', message: 'one', author: AUTHOR, baseBranch: 'main', space: 'ephemeral', changes: [{ path: 'b', content: '1' }] }))
    .sha;
  second = (await repo.commit({ branch: 'try', message: 'two', author: AUTHOR, space: 'ephemeral', changes: [{ path: 'b', content: '2' }] })).sha;
});
afterEach(() => engine.close());

async function refs() {
  return { regular: await repo.refs.list(), ephemeral: await repo.refs.list({ space: 'ephemeral' }) };
}

describe('promote with expectedSourceSha', () => {
  it('moves the target to the expected tip while the source is there', async () => {
    expect(await repo.promote({ baseBranch: 'try', targetBranch: 'feature', expectedSourceSha: second })).toEqual({ targetBranch: 'feature', sha: second });
    expect((await repo.refs.get('refs/heads/feature'))?.oid).toBe(second);
    expect(await repo.refs.get('refs/heads/try', { space: 'ephemeral' })).toBeUndefined();
  });

  it('refuses with ERR_REF_CONFLICT and moves nothing when the source moved on', async () => {
    const before = await refs();
    await expect(repo.promote({ baseBranch: 'try', targetBranch: 'feature', expectedSourceSha: first })).rejects.toMatchObject({ code: 'ERR_REF_CONFLICT' });
    expect(await refs()).toEqual(before);
  });

  it('refuses a malformed expectation as an invalid argument', async () => {
    await expect(repo.promote({ baseBranch: 'try', expectedSourceSha: 'nope' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('is a field of the JSON route: 409 for a stale tip, 200 for the current one', async () => {
    const tokens = createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } });
    const api = createApiFetchHandler({ engine, tokens, adminKey: ADMIN });
    const promote = async (body: unknown) =>
      (await api(
        new Request('http://api.test/api/v1/repos/app/ephemeral/promote', { method: 'POST', headers: { 'x-api-key': ADMIN }, body: JSON.stringify(body) }),
      ))!;
    const before = await refs();
    const stale = await promote({ baseBranch: 'try', targetBranch: 'feature', expectedSourceSha: first });
    expect(stale.status).toBe(409);
    expect((await stale.json()).error.code).toBe('ERR_REF_CONFLICT');
    expect(await refs()).toEqual(before);
    const ok = await promote({ baseBranch: 'try', targetBranch: 'feature', expectedSourceSha: second });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ targetBranch: 'feature', sha: second });
  });
});
