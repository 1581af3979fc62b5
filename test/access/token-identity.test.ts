/**
 * Tokens are bound to the repository they were minted for (its internal id), not only to its
 * name, and can be revoked through the API: the revocation is kept in the database, so it holds
 * for every engine over it and across a reopen.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler, createGitFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';
import { createTokenAuthorizer } from '../../src/http/authorize.js';
import { tempDirs } from '../helpers/tmp.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const dirs = tempDirs();
const open: Engine[] = [];

afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
  dirs.cleanup();
});

async function setup(engine?: Engine): Promise<{ engine: Engine; tokens: TokenService; api: FetchHandler; git: FetchHandler }> {
  const e = engine ?? (await openEngine({ db: new MemoryLevel() as never }));
  open.push(e);
  const tokens = createTokenService({ keys: { secret: SECRET } });
  const api = createApiFetchHandler({ engine: e, tokens, adminKey: ADMIN });
  const git = createGitFetchHandler({ engine: e, authorize: createTokenAuthorizer(tokens) });
  return { engine: e, tokens, api, git };
}

async function call(api: FetchHandler, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  const r = await api(new Request(`http://api.test${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
  if (!r) throw new Error('not handled');
  return r;
}

const admin = { 'x-api-key': ADMIN };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function mintUrl(api: FetchHandler, repo: string, permissions = ['git:write']): Promise<string> {
  const r = await call(api, 'POST', `/api/v1/repos/${repo}/remote-url`, admin, { permissions });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

async function infoRefs(git: FetchHandler, repo: string, token: string): Promise<number> {
  const auth = `Basic ${btoa(`t:${token}`)}`;
  const r = await git(new Request(`http://git.test/${repo}.git/info/refs?service=git-upload-pack`, { headers: { authorization: auth } }));
  return r!.status;
}

describe('tokens bound to the repository, not its name', () => {
  it('a token of a deleted repository is refused by a new repository of the same name (API and Git)', async () => {
    const { api, git } = await setup();
    expect((await call(api, 'POST', '/api/v1/repos', admin, { name: 'app' })).status).toBe(201);
    const token = await mintUrl(api, 'app');
    expect((await call(api, 'GET', '/api/v1/repos/app', bearer(token))).status).toBe(200);
    expect(await infoRefs(git, 'app', token)).toBe(200);

    expect((await call(api, 'DELETE', '/api/v1/repos/app', admin)).status).toBe(204);
    expect((await call(api, 'POST', '/api/v1/repos', admin, { name: 'app' })).status).toBe(201);

    const read = await call(api, 'GET', '/api/v1/repos/app', bearer(token));
    expect(read.status).toBe(401);
    expect(await read.text()).toMatch(/earlier repository/);
    const write = await call(api, 'POST', '/api/v1/repos/app/commits', bearer(token), {
      branch: 'main',
      message: 'x',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 'a', content: 'a' }],
    });
    expect(write.status).toBe(401);
    expect(await infoRefs(git, 'app', token)).toBe(401);
    // A token of the new repository works.
    expect((await call(api, 'GET', '/api/v1/repos/app', bearer(await mintUrl(api, 'app')))).status).toBe(200);
  });

  it('engine.remoteUrl binds its token the same way', async () => {
    const tokens = createTokenService({ keys: { secret: SECRET } });
    const engine = await openEngine({ db: new MemoryLevel() as never, tokens, baseUrl: 'http://git.test' });
    const { git } = await setup(engine);
    await engine.createRepo('svc');
    const { token } = await engine.remoteUrl('svc');
    expect((await tokens.verify(token)).repoId).toBeTypeOf('number');
    await engine.deleteRepo('svc');
    await engine.createRepo('svc');
    expect(await infoRefs(git, 'svc', token)).toBe(401);
  });

  it('a token without rid (another minter) issued before the repository was created is refused; a later one is not', async () => {
    const { api, tokens } = await setup();
    const early = createTokenService({ keys: { secret: SECRET }, now: () => Date.now() - 3600_000 });
    const old = (await early.mint({ repo: 'ext', permissions: ['git:read'], ttl: 7200 })).token;
    expect((await call(api, 'POST', '/api/v1/repos', admin, { name: 'ext' })).status).toBe(201);
    expect((await call(api, 'GET', '/api/v1/repos/ext', bearer(old))).status).toBe(401);
    const fresh = (await tokens.mint({ repo: 'ext', permissions: ['git:read'] })).token;
    expect((await call(api, 'GET', '/api/v1/repos/ext', bearer(fresh))).status).toBe(200);
  });
});

describe('POST /api/v1/tokens/revoke', () => {
  it('revokes (204), after which the token is refused by the API and by Git; non-admins get 403', async () => {
    const { api, git } = await setup();
    await call(api, 'POST', '/api/v1/repos', admin, { name: 'r' });
    const token = await mintUrl(api, 'r');
    const other = await mintUrl(api, 'r');
    expect((await call(api, 'POST', '/api/v1/tokens/revoke', bearer(other), { token })).status).toBe(403);
    expect((await call(api, 'GET', '/api/v1/repos/r', bearer(token))).status).toBe(200);

    expect((await call(api, 'POST', '/api/v1/tokens/revoke', admin, { token })).status).toBe(204);
    const refused = await call(api, 'GET', '/api/v1/repos/r', bearer(token));
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/revoked/);
    expect(await infoRefs(git, 'r', token)).toBe(401);
    expect((await call(api, 'GET', '/api/v1/repos/r', bearer(other))).status).toBe(200);
    // Revoking again is a no-op; garbage is a 400.
    expect((await call(api, 'POST', '/api/v1/tokens/revoke', admin, { token })).status).toBe(204);
    expect((await call(api, 'POST', '/api/v1/tokens/revoke', admin, { token: 'x.y.z' })).status).toBe(400);
    expect((await call(api, 'POST', '/api/v1/tokens/revoke', admin, {})).status).toBe(400);
  });

  it('survives a reopen of the on-disk database, and another engine over the same database sees it', async () => {
    const path = dirs.make();
    const first = await setup(await openEngine({ path }));
    await call(first.api, 'POST', '/api/v1/repos', admin, { name: 'd' });
    const token = await mintUrl(first.api, 'd');
    expect((await call(first.api, 'POST', '/api/v1/tokens/revoke', admin, { token })).status).toBe(204);
    await first.engine.close();
    open.length = 0;

    const again = await setup(await openEngine({ path }));
    expect((await call(again.api, 'GET', '/api/v1/repos/d', bearer(token))).status).toBe(401);
    expect(await infoRefs(again.git, 'd', token)).toBe(401);
  });

  it('two engines over one shared database: a revocation through one is refused by the other', async () => {
    const db = new MemoryLevel();
    const a = await setup(await openEngine({ db: db as never }));
    const b = await setup(await openEngine({ db: db as never }));
    await call(a.api, 'POST', '/api/v1/repos', admin, { name: 's' });
    const token = await mintUrl(a.api, 's');
    expect((await call(b.api, 'GET', '/api/v1/repos/s', bearer(token))).status).toBe(200);
    expect((await call(a.api, 'POST', '/api/v1/tokens/revoke', admin, { token })).status).toBe(204);
    expect((await call(b.api, 'GET', '/api/v1/repos/s', bearer(token))).status).toBe(401);
  });
});
