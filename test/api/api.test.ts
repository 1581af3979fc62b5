/** The JSON API through its web-standard handler, over a memory-level engine. */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { MemoryLevel } from 'memory-level';
import fc from 'fast-check';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';
import { decodeBase64 } from '../../src/http/api/body.js';
import { parseRange } from '../../src/http/api/files.js';
import { splitRepoPath } from '../../src/http/api/routes.js';
import { secretsEqual } from '../../src/http/api/auth.js';
import { createRemoteUrl } from '../../src/access/remote-url.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };

let db: MemoryLevel<any, any>;
let engine: Engine;
let tokens: TokenService;
let api: FetchHandler;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': ADMIN }): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const r = await api(new Request(`http://api.test${path}`, init));
  if (!r) throw new Error(`not handled: ${path}`);
  return r;
}

async function jsonOf(r: Response): Promise<any> {
  return JSON.parse(await r.text());
}

async function bearer(repo: string, permissions: ('git:read' | 'git:write')[], extra: { ephemeral?: boolean; ttl?: number } = {}) {
  const { token } = await tokens.mint({ repo, permissions, ...extra });
  return { authorization: `Bearer ${token}` };
}

beforeEach(async () => {
  db = new MemoryLevel();
  engine = await openEngine({ db: db as any });
  tokens = createTokenService({ keys: { secret: SECRET } });
  api = createApiFetchHandler({ engine, tokens, adminKey: ADMIN, maxBodyBytes: 1024 * 1024 });
});

afterEach(async () => {
  await engine.close();
  await db.close();
});

describe('repositories', () => {
  it('creates, lists, reads and deletes', async () => {
    const created = await call('POST', '/api/v1/repos', { name: 'team/project', defaultBranch: 'trunk' });
    expect(created.status).toBe(201);
    const info = await jsonOf(created);
    expect(info).toMatchObject({ name: 'team/project', defaultBranch: 'trunk' });
    expect(typeof info.createdAt).toBe('string');

    expect((await call('POST', '/api/v1/repos', { name: 'team/project' })).status).toBe(409);
    const bad = await call('POST', '/api/v1/repos', { name: '../evil' });
    expect(bad.status).toBe(400);
    expect((await jsonOf(bad)).error.code).toBe('ERR_INVALID_REPO_NAME');

    expect((await jsonOf(await call('GET', '/api/v1/repos'))).repos.map((r: any) => r.name)).toEqual(['team/project']);
    expect((await call('GET', '/api/v1/repos/team/project')).status).toBe(200);
    expect((await jsonOf(await call('GET', '/api/v1/repos/team%2Fproject'))).name).toBe('team/project');
    expect((await call('GET', '/api/v1/repos/nope')).status).toBe(404);

    expect((await call('DELETE', '/api/v1/repos/team/project')).status).toBe(204);
    const gone = await call('GET', '/api/v1/repos/team/project');
    expect(gone.status).toBe(404);
    expect(await jsonOf(gone)).toEqual({ error: { code: 'ERR_REPO_NOT_FOUND', message: expect.any(String) } });
    expect((await call('DELETE', '/api/v1/repos/team/project')).status).toBe(404);
  });

  it('returns undefined for paths it does not own and 404/405 inside its prefix', async () => {
    expect(await api(new Request('http://api.test/team/app.git/info/refs'))).toBeUndefined();
    expect((await call('GET', '/api/v1/nothing')).status).toBe(404);
    const r = await call('PUT', '/api/v1/repos');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toContain('POST');
  });

  it('refuses bad JSON (400) and big bodies (413)', async () => {
    const r = await call('POST', '/api/v1/repos', '{"name": ');
    expect(r.status).toBe(400);
    expect((await jsonOf(r)).error.code).toBe('ERR_INVALID_ARGUMENT');
    expect((await call('POST', '/api/v1/repos', '[1,2]')).status).toBe(400);
    const big = await call('POST', '/api/v1/repos', JSON.stringify({ name: 'x', pad: 'y'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    expect((await jsonOf(big)).error.code).toBe('ERR_LIMIT_EXCEEDED');
  });
});

describe('authentication', () => {
  beforeEach(async () => {
    await engine.createRepo('app');
    await engine.createRepo('other');
  });

  it('needs credentials (401 with a challenge) and a correct admin key', async () => {
    const none = await call('GET', '/api/v1/repos', undefined, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('level-git');
    expect((await call('GET', '/api/v1/repos', undefined, { 'x-api-key': ADMIN + 'x' })).status).toBe(401);
    expect((await call('GET', '/api/v1/repos', undefined, { 'x-api-key': '' })).status).toBe(401);
  });

  it('gives tokens their repository and scope only', async () => {
    const read = await bearer('app', ['git:read']);
    const write = await bearer('app', ['git:write']);
    expect((await call('GET', '/api/v1/repos/app', undefined, read)).status).toBe(200);
    expect((await call('GET', '/api/v1/repos/app/branches', undefined, read)).status).toBe(200);
    // Admin-only calls.
    expect((await call('GET', '/api/v1/repos', undefined, write)).status).toBe(403);
    expect((await call('DELETE', '/api/v1/repos/app', undefined, write)).status).toBe(403);
    expect((await call('POST', '/api/v1/repos/app/remote-url', {}, write)).status).toBe(403);
    // Read-only token cannot write.
    const commit = { branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] };
    const ro = await call('POST', '/api/v1/repos/app/commits', commit, read);
    expect(ro.status).toBe(403);
    expect((await jsonOf(ro)).error.code).toBe('ERR_FORBIDDEN');
    expect((await call('POST', '/api/v1/repos/app/commits', commit, write)).status).toBe(201);
    // Another repository's token.
    expect((await call('GET', '/api/v1/repos/other', undefined, write)).status).toBe(403);
    // A repository that does not exist is not revealed to a token of another one.
    expect((await call('GET', '/api/v1/repos/missing', undefined, write)).status).toBe(403);
  });

  it('refuses tampered and expired tokens with 401', async () => {
    const { token } = await tokens.mint({ repo: 'app', permissions: ['git:write'] });
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.repo = 'other';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect((await call('GET', '/api/v1/repos/other', undefined, { authorization: `Bearer ${tampered}` })).status).toBe(401);
    const past = createTokenService({ keys: { secret: SECRET }, now: () => Date.now() - 7200_000 });
    const old = await past.mint({ repo: 'app', permissions: ['git:read'], ttl: 60 });
    const r = await call('GET', '/api/v1/repos/app', undefined, { authorization: `Bearer ${old.token}` });
    expect(r.status).toBe(401);
    expect((await jsonOf(r)).error.code).toBe('ERR_UNAUTHORIZED');
  });

  it('compares keys by content', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('', 'abc')).toBe(false);
  });
});

describe('commits and reads', () => {
  beforeEach(async () => {
    await engine.createRepo('app');
  });

  const commitBody = (changes: unknown[], extra: Record<string, unknown> = {}) => ({ branch: 'main', message: 'change', author: AUTHOR, changes, ...extra });

  it('commits text, base64 and deletes and reads them back', async () => {
    const binary = new Uint8Array([0, 1, 2, 255, 254, 10, 13]);
    const r1 = await call(
      'POST',
      '/api/v1/repos/app/commits',
      commitBody([
        { path: 'README.md', content: 'hello\n' },
        { path: 'bin/data.bin', content: Buffer.from(binary).toString('base64'), encoding: 'base64' },
        { path: 'run.sh', content: '#!/bin/sh\n', mode: '100755' },
      ]),
    );
    expect(r1.status).toBe(201);
    const c1 = await jsonOf(r1);
    expect(c1).toMatchObject({ branch: 'main', parents: [] });
    expect(c1.sha).toMatch(/^[0-9a-f]{40}$/);

    const f = await call('GET', '/api/v1/repos/app/files/bin/data.bin');
    expect(f.status).toBe(200);
    expect(new Uint8Array(await f.arrayBuffer())).toEqual(binary);

    const tree = await jsonOf(await call('GET', '/api/v1/repos/app/tree?recursive=true'));
    expect(tree.entries.map((e: any) => [e.path, e.type, e.mode])).toEqual([
      ['README.md', 'blob', '100644'],
      ['bin', 'tree', '040000'],
      ['bin/data.bin', 'blob', '100644'],
      ['run.sh', 'blob', '100755'],
    ]);
    expect(tree.entries.find((e: any) => e.path === 'bin/data.bin').size).toBe(binary.length);
    const sub = await jsonOf(await call('GET', '/api/v1/repos/app/tree?path=bin'));
    expect(sub.entries.map((e: any) => e.path)).toEqual(['bin/data.bin']);

    const r2 = await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'bin/data.bin', delete: true }], { expectedHeadSha: c1.sha }));
    expect(r2.status).toBe(201);
    const c2 = await jsonOf(r2);
    expect(c2.parents).toEqual([c1.sha]);
    expect((await call('GET', '/api/v1/repos/app/files/bin/data.bin')).status).toBe(404);
    expect((await call('GET', `/api/v1/repos/app/files/bin/data.bin?ref=${c1.sha}`)).status).toBe(200);

    const log = await jsonOf(await call('GET', '/api/v1/repos/app/commits?limit=10'));
    expect(log.commits.map((c: any) => c.sha)).toEqual([c2.sha, c1.sha]);
    expect(log.commits[0]).toMatchObject({ message: 'change\n', author: { name: 'Ada', email: 'ada@example.com' }, parents: [c1.sha] });
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/commits?limit=1'))).commits).toHaveLength(1);
    expect((await call('GET', '/api/v1/repos/app/commits?limit=0')).status).toBe(400);
  });

  it('refuses a stale expectedHeadSha with 409 and moves nothing', async () => {
    const c1 = await jsonOf(await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'a', content: '1' }])));
    await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'a', content: '2' }]));
    const head = (await jsonOf(await call('GET', '/api/v1/repos/app/branches'))).branches[0].sha;
    const stale = await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'a', content: '3' }], { expectedHeadSha: c1.sha }));
    expect(stale.status).toBe(409);
    expect((await jsonOf(stale)).error.code).toBe('ERR_REF_CONFLICT');
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/branches'))).branches[0].sha).toBe(head);
    expect(await (await call('GET', '/api/v1/repos/app/files/a')).text()).toBe('2');
  });

  it('refuses path attacks with 400', async () => {
    for (const path of ['../x', 'a/../../x', '/etc/passwd', '.git/config', 'a/.GIT/hooks/x', 'a//b', 'a\\b', 'x\u0000y', '', 'git~1/x', '.git. /x']) {
      const r = await call('POST', '/api/v1/repos/app/commits', commitBody([{ path, content: 'x' }]));
      expect(r.status, path).toBe(400);
      expect((await jsonOf(r)).error.code, path).toMatch(/ERR_INVALID_(PATH|ARGUMENT)/);
    }
    expect((await call('GET', '/api/v1/repos/app/files/..%2F..%2Fx')).status).toBe(400);
    expect((await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'a', content: '!!', encoding: 'base64' }]))).status).toBe(400);
    expect((await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'a', content: 'x', encoding: 'latin1' }]))).status).toBe(400);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/branches'))).branches).toEqual([]);
  });

  it('serves ETags, 304 and ranges (206, 416)', async () => {
    await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'docs/a.txt', content: '0123456789' }]));
    const full = await call('GET', '/api/v1/repos/app/files/docs/a.txt');
    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(full.headers.get('content-length')).toBe('10');
    expect((await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, 'if-none-match': etag })).status).toBe(304);
    expect((await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, 'if-none-match': '"abc"' })).status).toBe(200);
    const part = await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, range: 'bytes=2-4' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(await part.text()).toBe('234');
    const tail = await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, range: 'bytes=-3' });
    expect(await tail.text()).toBe('789');
    const open = await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, range: 'bytes=8-' });
    expect(await open.text()).toBe('89');
    const bad = await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, range: 'bytes=10-20' });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */10');
    // If-Range with another validator: the whole file.
    const stale = await call('GET', '/api/v1/repos/app/files/docs/a.txt', undefined, { 'x-api-key': ADMIN, range: 'bytes=0-1', 'if-range': '"other"' });
    expect(stale.status).toBe(200);
    const head = await call('HEAD', '/api/v1/repos/app/files/docs/a.txt');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await call('GET', '/api/v1/repos/app/files/docs')).status).toBe(404);
  });

  it('replays an idempotent commit instead of committing twice, durably', async () => {
    const body = commitBody([{ path: 'a', content: 'once' }], { idempotencyKey: 'req-1' });
    const first = await call('POST', '/api/v1/repos/app/commits', body);
    expect(first.status).toBe(201);
    const a = await jsonOf(first);
    const again = await call('POST', '/api/v1/repos/app/commits', body);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await jsonOf(again)).toEqual(a);
    // Concurrent retries share one run.
    const both = await Promise.all(
      [0, 1, 2].map(() => call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'b', content: 'b' }], { idempotencyKey: 'req-2' }))),
    );
    const shas = new Set(await Promise.all(both.map(async (r) => (await jsonOf(r)).sha)));
    expect(shas.size).toBe(1);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/commits'))).commits).toHaveLength(2);
    // A new handler over the same database still knows the key.
    const api2 = createApiFetchHandler({ engine, tokens, adminKey: ADMIN });
    const r3 = await api2(
      new Request('http://api.test/api/v1/repos/app/commits', { method: 'POST', headers: { 'x-api-key': ADMIN }, body: JSON.stringify(body) }),
    );
    expect((await jsonOf(r3!)).sha).toBe(a.sha);
    // The same key with another request is refused.
    const other = await call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'a', content: 'different' }], { idempotencyKey: 'req-1' }));
    expect(other.status).toBe(400);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/commits'))).commits).toHaveLength(2);
  });
});

describe('branches, refs and promotion', () => {
  let base: string;
  beforeEach(async () => {
    await engine.createRepo('app');
    const r = await call('POST', '/api/v1/repos/app/commits', { branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    base = (await jsonOf(r)).sha;
  });

  it('creates, lists and deletes branches (regular and ephemeral)', async () => {
    const c = await call('POST', '/api/v1/repos/app/branches', { name: 'feature/x', from: 'main' });
    expect(c.status).toBe(201);
    expect(await jsonOf(c)).toMatchObject({ name: 'feature/x', sha: base });
    expect((await call('POST', '/api/v1/repos/app/branches', { name: 'feature/x', from: 'main' })).status).toBe(409);
    expect((await call('POST', '/api/v1/repos/app/branches', { name: 'bad..name', from: 'main' })).status).toBe(400);
    expect((await call('POST', '/api/v1/repos/app/branches', { name: 'y', from: 'nope' })).status).toBe(404);
    expect((await call('POST', '/api/v1/repos/app/branches', { name: 'sandbox', from: 'main', ephemeral: true })).status).toBe(201);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/branches'))).branches.map((b: any) => b.name)).toEqual(['feature/x', 'main']);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/branches?ephemeral=true'))).branches).toEqual([{ name: 'sandbox', sha: base }]);
    expect((await call('DELETE', '/api/v1/repos/app/branches/feature/x')).status).toBe(204);
    expect((await call('DELETE', '/api/v1/repos/app/branches/feature/x')).status).toBe(404);
    expect((await call('DELETE', '/api/v1/repos/app/branches/sandbox?ephemeral=true')).status).toBe(204);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/branches?ephemeral=true'))).branches).toEqual([]);
  });

  it('applies ref updates all-or-nothing', async () => {
    const second = (
      await jsonOf(await call('POST', '/api/v1/repos/app/commits', { branch: 'main', message: '2', author: AUTHOR, changes: [{ path: 'b', content: 'b' }] }))
    ).sha;
    const ok = await call('POST', '/api/v1/repos/app/refs', {
      updates: [
        { ref: 'refs/heads/release', oldSha: '0'.repeat(40), newSha: base },
        { ref: 'refs/tags/v1', newSha: second },
      ],
    });
    expect(ok.status).toBe(200);
    expect((await jsonOf(ok)).updates).toHaveLength(2);
    const failed = await call('POST', '/api/v1/repos/app/refs', {
      updates: [
        { ref: 'refs/heads/other', newSha: base },
        { ref: 'refs/heads/release', oldSha: second, newSha: second },
      ],
    });
    expect(failed.status).toBe(409);
    const names = (await jsonOf(await call('GET', '/api/v1/repos/app/branches'))).branches.map((b: any) => b.name);
    expect(names).toEqual(['main', 'release']);
    expect((await call('POST', '/api/v1/repos/app/refs', { updates: [] })).status).toBe(400);
    expect((await call('POST', '/api/v1/repos/app/refs', { updates: [{ ref: 'refs/heads/x', newSha: 'f'.repeat(40) }] })).status).toBeGreaterThanOrEqual(400);
  });

  it('promotes an ephemeral branch', async () => {
    const eph = await call('POST', '/api/v1/repos/app/commits', {
      branch: 'sandbox',
      baseBranch: 'main',
      ephemeral: true,
      message: 'agent step',
      author: AUTHOR,
      changes: [{ path: 'c', content: 'c' }],
    });
    expect(eph.status).toBe(201);
    const sha = (await jsonOf(eph)).sha;
    expect((await call('GET', '/api/v1/repos/app/files/c?ref=sandbox')).status).toBe(404);
    expect(await (await call('GET', '/api/v1/repos/app/files/c?ref=sandbox&ephemeral=true')).text()).toBe('c');
    const stale = await call('POST', '/api/v1/repos/app/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: '1'.repeat(40) });
    expect(stale.status).toBe(409);
    const p = await call('POST', '/api/v1/repos/app/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: base });
    expect(p.status).toBe(200);
    expect(await jsonOf(p)).toEqual({ targetBranch: 'main', sha });
    expect(await (await call('GET', '/api/v1/repos/app/files/c')).text()).toBe('c');
    expect((await call('POST', '/api/v1/repos/app/ephemeral/promote', { baseBranch: 'sandbox' })).status).toBe(404);
  });

  it('keeps an ephemeral-bound token in the ephemeral namespace', async () => {
    const h = await bearer('app', ['git:write'], { ephemeral: true });
    const r = await call('POST', '/api/v1/repos/app/commits', { branch: 'main', message: 'x', author: AUTHOR, changes: [{ path: 'z', content: 'z' }] }, h);
    expect(r.status).toBe(201);
    expect((await jsonOf(r)).ephemeral).toBe(true);
    expect((await jsonOf(await call('GET', '/api/v1/repos/app/branches'))).branches[0].sha).toBe(base);
    expect(await (await call('GET', '/api/v1/repos/app/files/z', undefined, h)).text()).toBe('z');
    expect((await call('POST', '/api/v1/repos/app/ephemeral/promote', { baseBranch: 'main' }, h)).status).toBe(403);
  });

  it('mints remote URLs', async () => {
    const r = await call('POST', '/api/v1/repos/app/remote-url', { permissions: ['git:read', 'git:write'], ttl: 600, ephemeral: true });
    expect(r.status).toBe(200);
    const v = await jsonOf(r);
    expect(v.url).toBe(`http://t:${v.token}@api.test/app+ephemeral.git`);
    const claims = await tokens.verify(v.token);
    expect(claims).toMatchObject({ repo: 'app', permissions: ['git:read', 'git:write'], ephemeral: true });
    expect(Date.parse(v.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect((await call('POST', '/api/v1/repos/nope/remote-url', {})).status).toBe(404);
    expect((await call('POST', '/api/v1/repos/app/remote-url', { permissions: ['admin'] })).status).toBe(400);
    const u = await createRemoteUrl(tokens, 'team/p', { baseUrl: 'https://git.example.com/git/', permissions: ['read'] });
    expect(u.url).toBe(`https://t:${u.token}@git.example.com/git/team/p.git`);
  });
});

describe('helpers', () => {
  it('splits repository paths', () => {
    expect(splitRepoPath(['app'])).toEqual({ name: 'app', rest: [] });
    expect(splitRepoPath(['app', 'files', 'a'])).toEqual({ name: 'app', rest: ['files', 'a'] });
    expect(splitRepoPath(['team', 'p', 'files', 'a'])).toEqual({ name: 'team/p', rest: ['files', 'a'] });
    expect(splitRepoPath(['team%2Fp', 'tree'])).toEqual({ name: 'team/p', rest: ['tree'] });
    expect(splitRepoPath(['team%2Fcommits', 'commits'])).toEqual({ name: 'team/commits', rest: ['commits'] });
  });

  it('parses single ranges like a model', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1100), fc.nat(1100), (size, a, b) => {
        const r = parseRange(`bytes=${a}-${b}`, size);
        if (b < a) return r === null;
        if (a >= size) return r === 'unsatisfiable';
        return r !== null && r !== 'unsatisfiable' && r.start === a && r.end === Math.min(b, size - 1);
      }),
    );
    expect(parseRange('bytes=0-1,3-4', 10)).toBeNull();
    expect(parseRange('items=0-1', 10)).toBeNull();
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
  });

  it('decodes base64 strictly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(decodeBase64(Buffer.from(bytes).toString('base64'))).toEqual(bytes);
      }),
    );
    expect(() => decodeBase64('abc')).toThrow();
    expect(() => decodeBase64('a$==')).toThrow();
  });
});
