/**
 * Reachability is a boundary of the JSON API: a read by sha answers only when a ref the caller
 * sees reaches the object (upload-pack's "not our ref"), else 404 as for a missing object. The
 * admin key reads anything. Writes cannot point a ref at an unreachable commit either.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };
let engine: Engine;
let tokens: TokenService;
let api: FetchHandler;

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  const r = await api(new Request(`http://api.test${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
  if (!r) throw new Error('not handled');
  return r;
}

beforeEach(async () => {
  engine = await openEngine({ db: new MemoryLevel() as never });
  tokens = createTokenService({ keys: { secret: SECRET } });
  api = createApiFetchHandler({ engine, tokens, adminKey: ADMIN });
});
afterEach(async () => engine.close());

describe('reads by sha', () => {
  it('a deleted branch’s commit is 404 for a read token and 200 for the admin; reachable shas stay readable', async () => {
    const repo = await engine.createRepo('r');
    const first = await repo.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'a.txt', content: 'public\n' }] });
    const second = await repo.commit({ branch: 'main', message: 'two', author: AUTHOR, changes: [{ path: 'a.txt', content: 'public 2\n' }] });
    const secret = await repo.commit({
      branch: 'leak',
      baseBranch: 'main',
      message: 'oops',
      author: AUTHOR,
      changes: [{ path: 'key.txt', content: 'secret\n' }],
    });
    await repo.deleteBranch('leak');

    const read = { authorization: `Bearer ${(await tokens.mint({ repo: 'r', permissions: ['git:write'] })).token}` };
    const admin = { 'x-api-key': ADMIN };
    for (const path of [
      `/files/key.txt?ref=${secret.sha}`,
      `/tree?ref=${secret.sha}`,
      `/commits?ref=${secret.sha}`,
      `/compare?base=main&head=${secret.sha}`,
      `/diff?base=${secret.sha}&head=main`,
      `/commits/${secret.sha}/diff`,
    ]) {
      const r = await call('GET', `/api/v1/repos/r${path}`, read);
      expect(r.status, path).toBe(404);
      expect(await r.text()).toContain('ERR_OBJECT_NOT_FOUND');
      expect((await call('GET', `/api/v1/repos/r${path}`, admin)).status, path).toBe(200);
    }
    // Upper-case spelling of the sha is the same object.
    expect((await call('GET', `/api/v1/repos/r/files/key.txt?ref=${secret.sha.toUpperCase()}`, read)).status).toBe(404);
    // A tip and an ancestor of one are readable.
    expect(await (await call('GET', `/api/v1/repos/r/files/a.txt?ref=${second.sha}`, read)).text()).toBe('public 2\n');
    expect(await (await call('GET', `/api/v1/repos/r/files/a.txt?ref=${first.sha}`, read)).text()).toBe('public\n');
    // Writes cannot resurrect it: a branch from it, or a ref pointed at it, is 404 too.
    expect((await call('POST', '/api/v1/repos/r/branches', read, { name: 'again', from: secret.sha })).status).toBe(404);
    expect((await call('POST', '/api/v1/repos/r/refs', read, { updates: [{ ref: 'refs/heads/again', newSha: secret.sha }] })).status).toBe(404);
    expect((await call('POST', '/api/v1/repos/r/branches', read, { name: 'old', from: first.sha })).status).toBe(201);
  });

  it('a commit reachable only from an ephemeral branch is readable through the ephemeral view', async () => {
    const repo = await engine.createRepo('e');
    await repo.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const eph = await repo.commit({
      branch: 'work',
      baseBranch: 'main',
      space: 'ephemeral',
      message: 'e',
      author: AUTHOR,
      changes: [{ path: 'b', content: 'b' }],
    });
    const read = { authorization: `Bearer ${(await tokens.mint({ repo: 'e' })).token}` };
    expect((await call('GET', `/api/v1/repos/e/files/b?ref=${eph.sha}`, read)).status).toBe(404);
    expect((await call('GET', `/api/v1/repos/e/files/b?ref=${eph.sha}&ephemeral=true`, read)).status).toBe(200);
  });

  it('an ancestor stays readable when clocks were skewed (a tip dated years before it)', async () => {
    const repo = await engine.createRepo('s');
    const at = (timestamp: number) => ({ ...AUTHOR, timestamp });
    const old = await repo.commit({ branch: 'main', message: 'one', author: at(1_800_000_000), changes: [{ path: 'a', content: 'first\n' }] });
    await repo.commit({ branch: 'main', message: 'two', author: at(1_800_000_000), changes: [{ path: 'a', content: 'second\n' }] });
    // The tip's clock was years behind its ancestors'.
    await repo.commit({ branch: 'main', message: 'three', author: at(1_700_000_000), changes: [{ path: 'b', content: 'b\n' }] });
    const read = { authorization: `Bearer ${(await tokens.mint({ repo: 's' })).token}` };
    const r = await call('GET', `/api/v1/repos/s/files/a?ref=${old.sha}`, read);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('first\n');
  });
});
