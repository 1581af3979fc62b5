/**
 * Edge cases of the JSON API and its tokens, the way a user meets them: real HTTP requests
 * (fetch, node:http) to `createServer` listening on 127.0.0.1 in this process, over a
 * memory-level engine. Every refused request must answer the documented status and
 * `{"error": {"code", "message"}}` and move nothing (refs are read back from the engine).
 *
 * Eight level-git bugs this suite found are fixed; their tests say what should happen and why.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import { createDenyList } from '../../src/access/revocation.js';
import { createServer } from '../../src/http/node-server.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };
const ZERO = '0'.repeat(40);
const MAX_BODY = 512 * 1024;
const AH = { 'x-api-key': ADMIN };

interface Res {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text: string;
  json: any;
}

interface Harness {
  engine: Engine;
  server: Server;
  base: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Res>;
}

async function startHarness(db: MemoryLevel<any, any>, tokens: TokenService, engineOptions: Record<string, unknown> = {}): Promise<Harness> {
  const engine = await openEngine({ db: db as any, ...engineOptions });
  const server = createServer({ engine, tokens, adminKey: ADMIN, maxBodyBytes: MAX_BODY });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = AH): Promise<Res> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body);
    const r = await fetch(base + path, init);
    const bytes = new Uint8Array(await r.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: r.headers, bytes, text, json };
  };
  return { engine, server, base, call };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await new Promise<void>((r) => (h.server.closeAllConnections(), h.server.close(() => r())));
  await h.engine.close();
}

/** The documented error answer: status, JSON content type, exactly `{error: {code, message}}`. */
function expectError(r: Res, status: number, code: string, what = ''): void {
  expect(r.status, `${what} ${r.text}`).toBe(status);
  expect(r.headers.get('content-type'), what).toMatch(/^application\/json/);
  expect(r.json, what).toEqual({ error: { code, message: expect.any(String) } });
  expect(r.json.error.message.length, what).toBeGreaterThan(0);
}

const b64u = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** A JWS signed with HMAC over the test secret (any `alg` header, any claims). */
function hmacJwt(header: Record<string, unknown>, payload: Record<string, unknown>, hash = 'sha256', secret = SECRET): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  repo: 'app',
  scope: 'git:read git:write',
  iat: now(),
  exp: now() + 600,
  jti: `j-${Math.random()}`,
  ...extra,
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const commitBody = (changes: unknown[], extra: Record<string, unknown> = {}) => ({ branch: 'main', message: 'change', author: AUTHOR, changes, ...extra });

// ---------------------------------------------------------------------------------------------

let h: Harness;
let tokens: TokenService;
const deny = createDenyList();
let repoCounter = 0;

/** Everything a refused request must leave alone: repositories, refs of both spaces, HEAD. */
async function snapshot(engine: Engine = h.engine): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const info of await engine.listRepos()) {
    const repo = await engine.getRepo(info.name);
    out[info.name] = { info, regular: await repo.refs.list(), ephemeral: await repo.refs.list({ space: 'ephemeral' }), head: await repo.refs.head() };
  }
  return out;
}

/** A fresh repository with one commit on main (a, dir/b, empty). */
async function freshRepo(prefix = 'r'): Promise<{ name: string; base: string; tree: string }> {
  const name = `${prefix}${++repoCounter}`;
  const repo = await h.engine.createRepo(name);
  const c = await repo.commit({
    branch: 'main',
    message: 'base',
    author: AUTHOR,
    changes: [
      { path: 'a.txt', content: '0123456789' },
      { path: 'dir/b.txt', content: 'bee\n' },
      { path: 'empty', content: '' },
    ],
  });
  return { name, base: c.sha, tree: c.tree };
}

async function headOf(name: string, branch = 'main', ephemeral = false): Promise<string | undefined> {
  return (await (await h.engine.getRepo(name)).refs.get(`refs/heads/${branch}`, { space: ephemeral ? 'ephemeral' : 'regular' }))?.oid;
}

beforeAll(async () => {
  tokens = createTokenService({ keys: { secret: SECRET }, isRevoked: (jti) => deny.isRevoked(jti) });
  h = await startHarness(new MemoryLevel(), tokens);
});

afterAll(async () => {
  await stopHarness(h);
});

// ---------------------------------------------------------------------------------------------

describe('request shape on every route', () => {
  let name: string;
  beforeAll(async () => {
    ({ name } = await freshRepo('shape'));
    await (await h.engine.getRepo(name)).createBranch('sandbox', 'main', { space: 'ephemeral' });
  });

  const writeRoutes = (n: string): [string, string][] => [
    ['POST', '/api/v1/repos'],
    ['POST', `/api/v1/repos/${n}/remote-url`],
    ['POST', `/api/v1/repos/${n}/commits`],
    ['POST', `/api/v1/repos/${n}/branches`],
    ['POST', `/api/v1/repos/${n}/refs`],
    ['POST', `/api/v1/repos/${n}/ephemeral/promote`],
  ];

  it('refuses malformed JSON bodies on every write route with 400 ERR_INVALID_ARGUMENT and moves nothing', async () => {
    const before = await snapshot();
    const bodies: (string | Uint8Array)[] = [
      '{"name": ',
      '[1,2]',
      '"text"',
      '42',
      'null',
      'true',
      '{"a":1}{',
      "{'a':1}",
      new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
    ];
    for (const [method, path] of writeRoutes(name)) {
      for (const body of bodies) {
        const r = await h.call(method, path, body, { ...AH, 'content-type': 'application/json' });
        expectError(r, 400, 'ERR_INVALID_ARGUMENT', `${path} ${String(body)}`);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses missing required fields and wrong types with 400 and moves nothing', async () => {
    const before = await snapshot();
    const n = name;
    const cases: [string, unknown][] = [
      ['/api/v1/repos', {}],
      ['/api/v1/repos', { name: 5 }],
      ['/api/v1/repos', { name: 'fine-name', defaultBranch: 5 }],
      [`/api/v1/repos/${n}/remote-url`, { permissions: 'git:read' }],
      [`/api/v1/repos/${n}/remote-url`, { permissions: [] }],
      [`/api/v1/repos/${n}/remote-url`, { permissions: ['admin'] }],
      [`/api/v1/repos/${n}/remote-url`, { ttl: 0 }],
      [`/api/v1/repos/${n}/remote-url`, { ttl: 1.5 }],
      [`/api/v1/repos/${n}/remote-url`, { ttl: '60' }],
      [`/api/v1/repos/${n}/remote-url`, { ephemeral: 'true' }],
      [`/api/v1/repos/${n}/remote-url`, { refs: 'refs/*' }],
      [`/api/v1/repos/${n}/remote-url`, { sub: 5 }],
      [`/api/v1/repos/${n}/commits`, {}],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { branch: 5 })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { message: 5 })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { message: undefined })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { author: undefined })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { author: 'Ada <ada@example.com>' })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { author: { name: 5, email: 'e' } })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { committer: 'x' })],
      [`/api/v1/repos/${n}/commits`, commitBody('x' as never)],
      [`/api/v1/repos/${n}/commits`, commitBody([5])],
      [`/api/v1/repos/${n}/commits`, commitBody([null])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ content: 'x' }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 5, content: 'x' }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x' }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 5 }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x', encoding: 'latin1' }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', delete: 'yes' }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x', mode: true }])],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { ephemeral: 'true' })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { ephemeral: true, ttl: '60' })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { ephemeral: true, ttl: -1 })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { expectedHeadSha: 5 })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { expectedHeadSha: 'abc' })],
      [`/api/v1/repos/${n}/commits`, commitBody([{ path: 'x', content: 'x' }], { baseBranch: 5 })],
      [`/api/v1/repos/${n}/branches`, {}],
      [`/api/v1/repos/${n}/branches`, { name: 5 }],
      [`/api/v1/repos/${n}/branches`, { name: 'x', from: 5 }],
      [`/api/v1/repos/${n}/branches`, { name: 'x', ephemeral: 'yes' }],
      [`/api/v1/repos/${n}/branches`, { name: 'x', ephemeral: true, ttl: 0 }],
      [`/api/v1/repos/${n}/refs`, {}],
      [`/api/v1/repos/${n}/refs`, { updates: 'refs/heads/x' }],
      [`/api/v1/repos/${n}/refs`, { updates: [] }],
      [`/api/v1/repos/${n}/refs`, { updates: [5] }],
      [`/api/v1/repos/${n}/refs`, { updates: [null] }],
      [`/api/v1/repos/${n}/refs`, { updates: [{ ref: 5, newSha: ZERO }] }],
      [`/api/v1/repos/${n}/refs`, { updates: [{ ref: 'refs/heads/x' }] }],
      [`/api/v1/repos/${n}/refs`, { updates: [{ ref: 'refs/heads/x', newSha: 'nope' }] }],
      [`/api/v1/repos/${n}/refs`, { updates: [{ ref: 'refs/heads/x', newSha: ZERO, oldSha: 5 }] }],
      [`/api/v1/repos/${n}/refs`, { updates: [{ ref: 'refs/heads/x', newSha: ZERO }], ephemeral: 'yes' }],
      [`/api/v1/repos/${n}/ephemeral/promote`, {}],
      [`/api/v1/repos/${n}/ephemeral/promote`, { baseBranch: 5 }],
      [`/api/v1/repos/${n}/ephemeral/promote`, { baseBranch: 'sandbox', targetBranch: 5 }],
      [`/api/v1/repos/${n}/ephemeral/promote`, { baseBranch: 'sandbox', expectedTargetSha: 5 }],
      [`/api/v1/repos/${n}/ephemeral/promote`, { baseBranch: 'sandbox', expectedTargetSha: 'xyz' }],
    ];
    for (const [path, body] of cases) {
      const r = await h.call('POST', path, body);
      expectError(r, 400, 'ERR_INVALID_ARGUMENT', `${path} ${JSON.stringify(body)}`);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('accepts JSON whatever the Content-Type says (curl -d sends form encoding) and ignores unknown fields', async () => {
    for (const ct of ['application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8']) {
      const r = await h.call(
        'POST',
        `/api/v1/repos/${name}/commits`,
        commitBody([{ path: `ct/${ct.split(/[/;]/)[1]}`, content: ct, extra: 1 }], { unknown: { deep: true } }),
        { ...AH, 'content-type': ct },
      );
      expect(r.status, ct).toBe(201);
    }
  });

  it('limits bodies: exactly maxBodyBytes is read, one byte more is 413 (declared or chunked), and the server keeps serving', async () => {
    const json = (size: number, repoName: string) => {
      const head = `{"name":"${repoName}","pad":"`;
      return head + 'x'.repeat(size - head.length - 2) + '"}';
    };
    const exact = json(MAX_BODY, 'limit-exact');
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY);
    expect((await h.call('POST', '/api/v1/repos', exact)).status).toBe(201);
    const before = await snapshot();
    const over = await h.call('POST', '/api/v1/repos', json(MAX_BODY + 1, 'limit-over'));
    expectError(over, 413, 'ERR_LIMIT_EXCEEDED');
    // The same body without Content-Length (chunked): refused while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${h.base}/api/v1/repos`, { method: 'POST', headers: { ...AH, 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      const all = json(MAX_BODY + 1, 'limit-chunked');
      for (let o = 0; o < all.length; o += 16 * 1024) req.write(all.slice(o, o + 16 * 1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.code).toBe('ERR_LIMIT_EXCEEDED');
    // A declared Content-Length above the limit is refused before the body is read.
    const declared = await h.call('POST', `/api/v1/repos/${name}/commits`, json(MAX_BODY + 100, 'x'));
    expectError(declared, 413, 'ERR_LIMIT_EXCEEDED');
    expect(await snapshot()).toEqual(before);
    expect((await h.call('GET', `/api/v1/repos/${name}`)).status).toBe(200);
  });

  it('answers unknown methods with 405 ERR_METHOD_NOT_ALLOWED and an Allow header listing the documented methods', async () => {
    const routes: [string, string[]][] = [
      ['/api/v1/repos', ['GET', 'POST']],
      [`/api/v1/repos/${name}`, ['GET', 'DELETE']],
      [`/api/v1/repos/${name}/remote-url`, ['POST']],
      [`/api/v1/repos/${name}/commits`, ['GET', 'POST']],
      [`/api/v1/repos/${name}/files/a.txt`, ['GET']],
      [`/api/v1/repos/${name}/tree`, ['GET']],
      [`/api/v1/repos/${name}/branches`, ['GET', 'POST']],
      [`/api/v1/repos/${name}/branches/main`, ['DELETE']],
      [`/api/v1/repos/${name}/refs`, ['POST']],
      [`/api/v1/repos/${name}/ephemeral/promote`, ['POST']],
    ];
    const before = await snapshot();
    for (const [path, allowed] of routes) {
      for (const method of ['PUT', 'PATCH', 'OPTIONS', 'PROPFIND']) {
        const r = await h.call(method, path, method === 'OPTIONS' || method === 'PROPFIND' ? undefined : '{}');
        expectError(r, 405, 'ERR_METHOD_NOT_ALLOWED', `${method} ${path}`);
        const allow = (r.headers.get('allow') ?? '').split(/\s*,\s*/);
        for (const m of allowed) expect(allow, `${method} ${path}`).toContain(m);
      }
    }
    expect(await snapshot()).toEqual(before);
    // Unknown paths inside the prefix: 404 with the JSON body; unknown repository: ERR_REPO_NOT_FOUND.
    expectError(await h.call('GET', '/api/v1/nothing'), 404, 'ERR_NOT_FOUND');
    expectError(await h.call('GET', `/api/v1/repos/${name}/commits/abc`), 404, 'ERR_NOT_FOUND');
    expectError(await h.call('GET', `/api/v1/repos/${name}/ephemeral`), 404, 'ERR_NOT_FOUND');
    expectError(await h.call('GET', '/api/v1/repos/no-such-repo/tree'), 404, 'ERR_REPO_NOT_FOUND');
  });

  it('answers HEAD on every GET route with the GET status and headers and no body', async () => {
    for (const path of [
      '/api/v1/repos',
      `/api/v1/repos/${name}`,
      `/api/v1/repos/${name}/commits`,
      `/api/v1/repos/${name}/files/a.txt`,
      `/api/v1/repos/${name}/tree`,
      `/api/v1/repos/${name}/branches`,
    ]) {
      const get = await h.call('GET', path);
      const head = await h.call('HEAD', path);
      expect(head.status, path).toBe(get.status);
      expect(head.text, path).toBe('');
      expect(head.headers.get('content-type'), path).toBe(get.headers.get('content-type'));
    }
    const missing = await h.call('HEAD', `/api/v1/repos/${name}/files/nope`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('');
  });

  it('treats trailing slashes like their absence', async () => {
    for (const path of [
      '/api/v1/repos',
      `/api/v1/repos/${name}`,
      `/api/v1/repos/${name}/tree`,
      `/api/v1/repos/${name}/branches`,
      `/api/v1/repos/${name}/commits`,
    ]) {
      const plain = await h.call('GET', path);
      const slash = await h.call('GET', `${path}/`);
      expect(slash.status, path).toBe(200);
      expect(slash.json, path).toEqual(plain.json);
    }
    const r = await h.call('POST', `/api/v1/repos/${name}/branches/`, { name: 'slash-made' });
    expect(r.status).toBe(201);
    expect(await headOf(name, 'slash-made')).toBe(await headOf(name));
  });
});

describe('repository names', () => {
  it('reads owner/name, owner%2Fname and owner%2fname alike; sub-resource words need %2F', async () => {
    expect((await h.call('POST', '/api/v1/repos', { name: 'team/project' })).status).toBe(201);
    expect((await h.call('POST', '/api/v1/repos', { name: 'team/commits' })).status).toBe(201);
    for (const p of ['team/project', 'team%2Fproject', 'team%2fproject']) {
      const r = await h.call('GET', `/api/v1/repos/${p}`);
      expect(r.status, p).toBe(200);
      expect(r.json.name, p).toBe('team/project');
    }
    const c = await h.call('POST', '/api/v1/repos/team%2Fcommits/commits', commitBody([{ path: 'f', content: 'f' }]));
    expect(c.status).toBe(201);
    expect(await (await h.engine.getRepo('team/commits')).refs.get('refs/heads/main')).toMatchObject({ oid: c.json.sha });
    // Documented: `team/commits/...` is repository `team`, sub-resource `commits`.
    expectError(await h.call('GET', '/api/v1/repos/team/commits'), 404, 'ERR_REPO_NOT_FOUND');
    expect((await h.call('GET', '/api/v1/repos/team%2Fcommits/files/f')).text).toBe('f');
    expectError(await h.call('GET', '/api/v1/repos/%E0%A4%A/tree'), 400, 'ERR_INVALID_ARGUMENT');
    expectError(await h.call('GET', '/api/v1/repos/team%252Fproject'), 404, 'ERR_REPO_NOT_FOUND');
    const del = await h.call('DELETE', '/api/v1/repos/team%2Fproject');
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expectError(await h.call('GET', '/api/v1/repos/team/project'), 404, 'ERR_REPO_NOT_FOUND');
    expectError(await h.call('DELETE', '/api/v1/repos/team/project'), 404, 'ERR_REPO_NOT_FOUND');
  });

  it('refuses invalid names with 400 ERR_INVALID_REPO_NAME and creates nothing', async () => {
    const before = await snapshot();
    for (const n of [
      '',
      '../evil',
      'a/b/c',
      'x.git',
      'X.GIT',
      'café',
      'a b',
      '.hidden',
      'a/..',
      'a..b',
      '-dash',
      'a'.repeat(101),
      'owner/',
      '/abs',
      'a\\b',
      'x.lock',
    ]) {
      expectError(await h.call('POST', '/api/v1/repos', { name: n }), 400, 'ERR_INVALID_REPO_NAME', JSON.stringify(n));
    }
    expectError(await h.call('POST', '/api/v1/repos', { name: 'ok-name', defaultBranch: 'a..b' }), 400, 'ERR_INVALID_REF_NAME');
    expect(await snapshot()).toEqual(before);
  });

  it('creates a name exactly once under concurrent requests (one 201, the rest 409 ERR_REPO_EXISTS)', async () => {
    const rs = await Promise.all([...Array(8)].map(() => h.call('POST', '/api/v1/repos', { name: 'race/once' })));
    expect(rs.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of rs.filter((x) => x.status !== 201)) expectError(r, 409, 'ERR_REPO_EXISTS');
    expect((await h.engine.listRepos()).filter((r) => r.name === 'race/once')).toHaveLength(1);
  });

  it('round-trips unicode and reserved characters in file paths through percent-encoding', async () => {
    const { name } = await freshRepo('paths');
    const files: [string, string][] = [
      ['dïr/ファイル.txt', 'unicode'],
      ['a b%c?d#e&f=g+h', 'reserved'],
      ['x%2Fy', 'literal percent-2F'],
      ['emoji 😀/ü', 'emoji'],
    ];
    const c = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody(files.map(([path, content]) => ({ path, content }))));
    expect(c.status).toBe(201);
    for (const [path, content] of files) {
      const url = `/api/v1/repos/${name}/files/${path.split('/').map(encodeURIComponent).join('/')}`;
      const r = await h.call('GET', url);
      expect(r.status, path).toBe(200);
      expect(r.text, path).toBe(content);
    }
    const tree = await h.call('GET', `/api/v1/repos/${name}/tree?recursive=true`);
    const paths = tree.json.entries.map((e: any) => e.path);
    for (const [path] of files) expect(paths).toContain(path);
    const sub = await h.call('GET', `/api/v1/repos/${name}/tree?path=${encodeURIComponent('dïr')}`);
    expect(sub.json.entries.map((e: any) => e.path)).toEqual(['dïr/ファイル.txt']);
  });
});

describe('commits', () => {
  it('refuses invalid base64 (400) and accepts whitespace inside it; nothing moves on a refusal', async () => {
    const { name } = await freshRepo('b64');
    const before = await snapshot();
    for (const content of ['!!!!', 'abc', 'ab=c', 'a===', '====', 'YWJj-_==', 'YWJj\u0000', 'Y', 'YW Jj=']) {
      const r = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'bin', content, encoding: 'base64' }]));
      expectError(r, 400, 'ERR_INVALID_ARGUMENT', JSON.stringify(content));
    }
    expect(await snapshot()).toEqual(before);
    const ok = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'bin', content: 'AAEC\n/w==\n', encoding: 'base64' }]));
    expect(ok.status).toBe(201);
    const f = await h.call('GET', `/api/v1/repos/${name}/files/bin`);
    expect([...f.bytes]).toEqual([0, 1, 2, 255]);
  });

  it('refuses deleting a missing path or a directory (404 ERR_PATH_NOT_FOUND), duplicate paths and bad modes (400); nothing moves', async () => {
    const { name } = await freshRepo('del');
    const before = await snapshot();
    const post = (changes: unknown[]) => h.call('POST', `/api/v1/repos/${name}/commits`, commitBody(changes));
    expectError(await post([{ path: 'nope.txt', delete: true }]), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await post([{ path: 'dir', delete: true }]), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await post([{ path: 'a.txt/under-a-file', delete: true }]), 404, 'ERR_PATH_NOT_FOUND');
    expectError(
      await post([
        { path: 'new', content: '1' },
        { path: 'nope.txt', delete: true },
      ]),
      404,
      'ERR_PATH_NOT_FOUND',
    );
    expectError(
      await post([
        { path: 'x', content: '1' },
        { path: 'x', content: '2' },
      ]),
      400,
      'ERR_INVALID_ARGUMENT',
    );
    for (const mode of ['040000', '40000', '160000', '100664', '644', 'abc', '']) {
      expectError(await post([{ path: 'x', content: '1', mode }]), 400, 'ERR_INVALID_ARGUMENT', mode);
    }
    for (const path of ['dir/', '/a', 'a//b', '.git/x', 'x/../y', 'A/.GiT/config', 'a\\b', '.', '..']) {
      expectError(await post([{ path, content: '1' }]), 400, 'ERR_INVALID_PATH', path);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('changes only a mode, keeps a mode when none is given, and stores symlinks (120000)', async () => {
    const { name, base } = await freshRepo('mode');
    const file = (p: string, ref = 'main') => h.call('GET', `/api/v1/repos/${name}/files/${p}?ref=${ref}`);
    const etag = (await file('a.txt')).headers.get('etag');
    const m = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'a.txt', content: '0123456789', mode: '100755' }]));
    expect(m.status).toBe(201);
    expect(m.json.parents).toEqual([base]);
    const after = await file('a.txt');
    expect(after.headers.get('x-git-mode')).toBe('100755');
    expect(after.headers.get('etag')).toBe(etag); // same blob
    // A content change without a mode keeps 100755.
    await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'a.txt', content: 'new' }]));
    expect((await file('a.txt')).headers.get('x-git-mode')).toBe('100755');
    // Symlink.
    const l = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'link', content: 'dir/b.txt', mode: '120000' }]));
    expect(l.status).toBe(201);
    const link = await file('link');
    expect(link.text).toBe('dir/b.txt');
    expect(link.headers.get('x-git-mode')).toBe('120000');
    const tree = await h.call('GET', `/api/v1/repos/${name}/tree`);
    expect(tree.json.entries.find((e: any) => e.path === 'link')).toMatchObject({ mode: '120000', type: 'blob', size: 9 });
    // The old commit still reads the old mode.
    expect((await file('a.txt', base)).headers.get('x-git-mode')).toBe('100644');
  });

  it('makes an empty change list a commit with the parent tree', async () => {
    const { name, base, tree } = await freshRepo('empty');
    const r = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([]));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ parents: [base], tree });
  });

  // git rm a; mkdir a: an explicit delete of a file and a write under the same name as a
  // directory replace the file (level-git once refused it as a path conflict).
  it('replaces a file by a directory in one commit when the file is deleted explicitly', async () => {
    const { name, base } = await freshRepo('f2d');
    const r = await h.call(
      'POST',
      `/api/v1/repos/${name}/commits`,
      commitBody([
        { path: 'a.txt', delete: true },
        { path: 'a.txt/inner', content: 'now a dir' },
      ]),
    );
    expect(r.status, r.text).toBe(201);
    expect(r.json.parents).toEqual([base]);
    expect((await h.call('GET', `/api/v1/repos/${name}/files/a.txt/inner`)).text).toBe('now a dir');
  });

  // The reverse: deleting the directory's files and writing a file of the same name.
  it('replaces a directory by a file in one commit when its files are deleted explicitly', async () => {
    const { name } = await freshRepo('d2f');
    const r = await h.call(
      'POST',
      `/api/v1/repos/${name}/commits`,
      commitBody([
        { path: 'dir/b.txt', delete: true },
        { path: 'dir', content: 'now a file' },
      ]),
    );
    expect(r.status, r.text).toBe(201);
    expect((await h.call('GET', `/api/v1/repos/${name}/files/dir`)).text).toBe('now a file');
  });

  it('commits 1,000 files in one request', async () => {
    const { name, base } = await freshRepo('many');
    const changes = [...Array(1000)].map((_, i) => ({ path: `bulk/d${i % 10}/f${String(i).padStart(4, '0')}.txt`, content: `file ${i}\n` }));
    const r = await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody(changes));
    expect(r.status).toBe(201);
    expect(r.json.parents).toEqual([base]);
    const tree = await h.call('GET', `/api/v1/repos/${name}/tree?path=bulk&recursive=true`);
    expect(tree.json.entries.filter((e: any) => e.type === 'blob')).toHaveLength(1000);
    expect(tree.json.entries.filter((e: any) => e.type === 'tree')).toHaveLength(10);
    expect((await h.call('GET', `/api/v1/repos/${name}/files/bulk/d7/f0997.txt`)).text).toBe('file 997\n');
    const flat = await h.call('GET', `/api/v1/repos/${name}/tree?path=bulk/d3`);
    expect(flat.json.entries).toHaveLength(100);
  });

  it('refuses identities that would corrupt the commit object and branch names check-ref-format refuses; nothing moves', async () => {
    const { name } = await freshRepo('ident');
    const before = await snapshot();
    const post = (extra: Record<string, unknown>) => h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'x', content: 'x' }], extra));
    for (const author of [
      { name: 'A\ncommitter evil <e> 1 +0000', email: 'a@b' },
      { name: 'A <x>', email: 'a@b' },
      { name: 'A', email: 'a>b' },
      { name: '', email: 'a@b' },
      { name: 'A', email: 'a@b', timestamp: -1 },
      { name: 'A', email: 'a@b', timestamp: 'yesterday' },
      { name: 'A', email: 'a@b', timezone: 'CET' },
    ]) {
      expectError(await post({ author }), 400, 'ERR_INVALID_ARGUMENT', JSON.stringify(author));
    }
    for (const branch of ['a..b', 'a.lock', '.hidden', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', 'a/', '/a', 'a//b', 'a.', '@{x}', '', 'x\u007f']) {
      expectError(await post({ branch }), 400, 'ERR_INVALID_REF_NAME', JSON.stringify(branch));
    }
    expect(await snapshot()).toEqual(before);
  });

  it('lets exactly one of many concurrent commits with the same expectedHeadSha land (201), the rest 409', async () => {
    const { name, base } = await freshRepo('cas');
    const rs = await Promise.all(
      [...Array(12)].map((_, i) =>
        h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: `c${i}`, content: `${i}` }], { expectedHeadSha: base })),
      ),
    );
    const won = rs.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const r of rs.filter((x) => x.status !== 201)) expectError(r, 409, 'ERR_REF_CONFLICT');
    expect(await headOf(name)).toBe(won[0]!.json.sha);
    expect(won[0]!.json.parents).toEqual([base]);
    const log = await h.call('GET', `/api/v1/repos/${name}/commits`);
    expect(log.json.commits.map((c: any) => c.sha)).toEqual([won[0]!.json.sha, base]);
  });

  it('applies expectedHeadSha zero-sha semantics and moves nothing on a conflict', async () => {
    const { name, base } = await freshRepo('zero');
    const before = await snapshot();
    expectError(
      await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'x', content: 'x' }], { expectedHeadSha: ZERO })),
      409,
      'ERR_REF_CONFLICT',
    );
    expectError(
      await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'x', content: 'x' }], { branch: 'new', expectedHeadSha: base })),
      409,
      'ERR_REF_CONFLICT',
    );
    expect(await snapshot()).toEqual(before);
    const created = await h.call(
      'POST',
      `/api/v1/repos/${name}/commits`,
      commitBody([{ path: 'x', content: 'x' }], { branch: 'new', expectedHeadSha: ZERO, baseBranch: 'main' }),
    );
    expect(created.status).toBe(201);
    expect(created.json.parents).toEqual([base]);
    // Upper-case sha is the same sha.
    const up = await h.call(
      'POST',
      `/api/v1/repos/${name}/commits`,
      commitBody([{ path: 'y', content: 'y' }], { branch: 'new', expectedHeadSha: created.json.sha.toUpperCase() }),
    );
    expect(up.status).toBe(201);
    expectError(
      await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'z', content: 'z' }], { branch: 'other', baseBranch: 'missing' })),
      404,
      'ERR_REF_NOT_FOUND',
    );
  });
});

describe('idempotency keys', () => {
  it('refuses a key reused with a different request (400) instead of replaying, and moves nothing', async () => {
    const { name } = await freshRepo('idem');
    const body = commitBody([{ path: 'once', content: 'once' }], { idempotencyKey: 'key-1' });
    const first = await h.call('POST', `/api/v1/repos/${name}/commits`, body);
    expect(first.status).toBe(201);
    const replay = await h.call('POST', `/api/v1/repos/${name}/commits`, { ...body, author: { ...AUTHOR, timestamp: 1_700_000_000 } });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toEqual(first.json);
    const before = await snapshot();
    const variants: Record<string, unknown>[] = [
      { ...body, message: 'other message' },
      { ...body, branch: 'other' },
      { ...body, changes: [{ path: 'once', content: 'twice' }] },
      { ...body, changes: [{ path: 'once', content: 'b25jZQ==', encoding: 'base64', mode: '100755' }] },
      { ...body, ephemeral: true },
      { ...body, author: { name: 'Bob', email: 'bob@example.com' } },
      { ...body, expectedHeadSha: first.json.sha },
    ];
    for (const v of variants) {
      const r = await h.call('POST', `/api/v1/repos/${name}/commits`, v);
      expectError(r, 400, 'ERR_INVALID_ARGUMENT', JSON.stringify(v));
      expect(r.headers.get('idempotent-replayed')).toBeNull();
    }
    for (const key of [5, '', 'has space', 'é', 'k'.repeat(201)]) {
      expectError(await h.call('POST', `/api/v1/repos/${name}/commits`, { ...body, idempotencyKey: key }), 400, 'ERR_INVALID_ARGUMENT', String(key));
    }
    expect(await snapshot()).toEqual(before);
  });

  it('commits once for concurrent retries with the same body and key', async () => {
    const { name, base } = await freshRepo('idemc');
    const body = commitBody([{ path: 'c', content: 'c' }], { idempotencyKey: 'retry-1' });
    const rs = await Promise.all([...Array(6)].map(() => h.call('POST', `/api/v1/repos/${name}/commits`, body)));
    for (const r of rs) expect(r.status).toBe(201);
    expect(new Set(rs.map((r) => r.json.sha)).size).toBe(1);
    expect(rs.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const log = await h.call('GET', `/api/v1/repos/${name}/commits`);
    expect(log.json.commits.map((c: any) => c.sha)).toEqual([rs[0]!.json.sha, base]);
  });
});

describe('files', () => {
  let name: string;
  let base: string;
  beforeAll(async () => {
    ({ name, base } = await freshRepo('files'));
  });
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    h.call(method, `/api/v1/repos/${name}/files/${path}`, undefined, { ...AH, ...headers });

  it('serves single ranges (a-b, a-, -n) with 206 and Content-Range', async () => {
    const cases: [string, string, string][] = [
      ['bytes=0-0', '0', 'bytes 0-0/10'],
      ['bytes=2-4', '234', 'bytes 2-4/10'],
      ['bytes=8-', '89', 'bytes 8-9/10'],
      ['bytes=9-100', '9', 'bytes 9-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=-50', '0123456789', 'bytes 0-9/10'],
    ];
    for (const [range, body, cr] of cases) {
      const r = await get('a.txt', { range });
      expect(r.status, range).toBe(206);
      expect(r.text, range).toBe(body);
      expect(r.headers.get('content-range'), range).toBe(cr);
      expect(r.headers.get('content-length'), range).toBe(String(body.length));
    }
    const head = await get('a.txt', { range: 'bytes=2-4' }, 'HEAD');
    expect(head.status).toBe(206);
    expect(head.text).toBe('');
    expect(head.headers.get('content-range')).toBe('bytes 2-4/10');
  });

  it('answers 416 with Content-Range bytes */size beyond the end, the whole file for several or malformed ranges', async () => {
    for (const range of ['bytes=10-', 'bytes=10-20', 'bytes=999999999999999999-', 'bytes=-0']) {
      const r = await get('a.txt', { range });
      expectError(r, 416, 'ERR_RANGE_NOT_SATISFIABLE', range);
      expect(r.headers.get('content-range'), range).toBe('bytes */10');
    }
    for (const range of ['bytes=0-1,3-4', 'bytes=0-1, 5-', 'items=0-1', 'bytes=abc', 'bytes=5-2', 'bytes=-', 'bytes 0-1']) {
      const r = await get('a.txt', { range });
      expect(r.status, range).toBe(200);
      expect(r.text, range).toBe('0123456789');
      expect(r.headers.get('content-range'), range).toBeNull();
    }
    const empty = await get('empty', { range: 'bytes=0-' });
    expectError(empty, 416, 'ERR_RANGE_NOT_SATISFIABLE');
    expect(empty.headers.get('content-range')).toBe('bytes */0');
  });

  // An empty file has no last bytes: a suffix range is 416 `bytes */0` (or a plain 200), never
  // `bytes 0--1/0` (RFC 9110 §14.4: last-pos is 1*DIGIT).
  it('answers a suffix range on an empty file with 416 or 200, never an invalid Content-Range', async () => {
    const r = await get('empty', { range: 'bytes=-5' });
    expect([200, 416], `${r.status} ${r.headers.get('content-range')}`).toContain(r.status);
    const cr = r.headers.get('content-range');
    if (cr !== null) expect(cr).toMatch(/^bytes (\d+-\d+|\*)\/\d+$/);
  });

  it('answers If-None-Match with 304 for the ETag (weak, listed, *), 200 otherwise; If-Range picks ranges', async () => {
    const full = await get('a.txt');
    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('cache-control')).toBe('no-cache');
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const r = await get('a.txt', { 'if-none-match': inm });
      expect(r.status, inm).toBe(304);
      expect(r.text, inm).toBe('');
      expect(r.headers.get('etag'), inm).toBe(etag);
      expect((await get('a.txt', { 'if-none-match': inm }, 'HEAD')).status, inm).toBe(304);
    }
    expect((await get('a.txt', { 'if-none-match': '"0000000000000000000000000000000000000000"' })).status).toBe(200);
    expect((await get('a.txt', { range: 'bytes=0-1', 'if-range': etag })).status).toBe(206);
    expect((await get('a.txt', { range: 'bytes=0-1', 'if-range': `W/${etag}` })).status).toBe(200);
    expect((await get('a.txt', { range: 'bytes=0-1', 'if-range': 'Wed, 21 Oct 2015 07:28:00 GMT' })).status).toBe(200);
    // A sha ref is immutable.
    const bySha = await get(`a.txt?ref=${base}`);
    expect(bySha.headers.get('cache-control')).toContain('immutable');
    expect(bySha.headers.get('etag')).toBe(etag);
  });

  it('answers a directory, a missing path, a missing ref and a sha prefix with 404 and the right code', async () => {
    expectError(await get('dir'), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await get('nope'), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await get('a.txt/below'), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await get('dir/b.txt?ref=no-such-branch'), 404, 'ERR_REF_NOT_FOUND');
    expectError(await get(`dir/b.txt?ref=${base.slice(0, 7)}`), 404, 'ERR_REF_NOT_FOUND');
    expectError(await get(`dir/b.txt?ref=${'e'.repeat(40)}`), 404, 'ERR_OBJECT_NOT_FOUND');
    expect((await get(`dir/b.txt?ref=${base.toUpperCase()}`)).text).toBe('bee\n');
    expect((await get('dir/b.txt?ref=refs/heads/main')).text).toBe('bee\n');
    expectError(await get('..%2F..%2Fetc%2Fpasswd'), 400, 'ERR_INVALID_PATH');
    expectError(await get('.git%2Fconfig'), 400, 'ERR_INVALID_PATH');
    expectError(await get('dir/b.txt?ephemeral=yes'), 400, 'ERR_INVALID_ARGUMENT');
    expectError(await h.call('GET', `/api/v1/repos/${name}/files`), 400, 'ERR_INVALID_ARGUMENT');
  });
});

describe('tree, commits and branches routes', () => {
  let name: string;
  let base: string;
  let second: string;
  beforeAll(async () => {
    ({ name, base } = await freshRepo('reads'));
    const repo = await h.engine.getRepo(name);
    second = (await repo.commit({ branch: 'main', message: 'second', author: AUTHOR, changes: [{ path: 'c.txt', content: 'c' }] })).sha;
    await repo.commit({
      branch: 'sandbox',
      baseBranch: 'main',
      space: 'ephemeral',
      message: 'eph',
      author: AUTHOR,
      changes: [{ path: 'eph.txt', content: 'e' }],
    });
    await repo.createTag('v1', base, { message: 'release 1' });
    await repo.createTag('light', second);
  });

  it('bounds limit to 1..1000 integers', async () => {
    for (const limit of ['0', '-1', '1001', '1.5', 'abc', '', 'NaN', 'Infinity']) {
      expectError(await h.call('GET', `/api/v1/repos/${name}/commits?limit=${limit}`), 400, 'ERR_INVALID_ARGUMENT', limit);
    }
    expect((await h.call('GET', `/api/v1/repos/${name}/commits?limit=1`)).json.commits.map((c: any) => c.sha)).toEqual([second]);
    expect((await h.call('GET', `/api/v1/repos/${name}/commits?limit=1000`)).json.commits).toHaveLength(2);
    expect((await h.call('GET', `/api/v1/repos/${name}/commits?ref=v1`)).json.commits.map((c: any) => c.sha)).toEqual([base]);
    expect((await h.call('GET', `/api/v1/repos/${name}/commits?ref=${base}`)).json.commits).toHaveLength(1);
    expectError(await h.call('GET', `/api/v1/repos/${name}/commits?ref=nope`), 404, 'ERR_REF_NOT_FOUND');
  });

  it('lists trees flat or recursive, by path, in both views', async () => {
    const flat = await h.call('GET', `/api/v1/repos/${name}/tree`);
    expect(flat.json.entries.map((e: any) => e.path)).toEqual(['a.txt', 'c.txt', 'dir', 'empty']);
    const rec = await h.call('GET', `/api/v1/repos/${name}/tree?recursive=1`);
    expect(rec.json.entries.map((e: any) => e.path)).toEqual(['a.txt', 'c.txt', 'dir', 'dir/b.txt', 'empty']);
    expect((await h.call('GET', `/api/v1/repos/${name}/tree?recursive=false`)).json).toEqual(flat.json);
    expect((await h.call('GET', `/api/v1/repos/${name}/tree?path=dir/`)).json.entries.map((e: any) => e.path)).toEqual(['dir/b.txt']);
    expectError(await h.call('GET', `/api/v1/repos/${name}/tree?path=a.txt`), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await h.call('GET', `/api/v1/repos/${name}/tree?path=nope`), 404, 'ERR_PATH_NOT_FOUND');
    expectError(await h.call('GET', `/api/v1/repos/${name}/tree?path=../x`), 400, 'ERR_INVALID_PATH');
    expectError(await h.call('GET', `/api/v1/repos/${name}/tree?recursive=yes`), 400, 'ERR_INVALID_ARGUMENT');
    expectError(await h.call('GET', `/api/v1/repos/${name}/tree?ref=sandbox`), 404, 'ERR_REF_NOT_FOUND');
    const eph = await h.call('GET', `/api/v1/repos/${name}/tree?ref=sandbox&ephemeral=true`);
    expect(eph.json.entries.map((e: any) => e.path)).toContain('eph.txt');
    // The ephemeral view sees regular refs too.
    expect((await h.call('GET', `/api/v1/repos/${name}/tree?ephemeral=1`)).json).toEqual(flat.json);
    expectError(await h.call('GET', `/api/v1/repos/${name}/tree?ref=${second.slice(0, 12)}`), 404, 'ERR_REF_NOT_FOUND');
  });

  it('lists one ref space per call', async () => {
    const regular = await h.call('GET', `/api/v1/repos/${name}/branches`);
    expect(regular.json.branches).toEqual([{ name: 'main', sha: second }]);
    const eph = await h.call('GET', `/api/v1/repos/${name}/branches?ephemeral=true`);
    expect(eph.json.branches.map((b: any) => b.name)).toEqual(['sandbox']);
    expectError(await h.call('GET', `/api/v1/repos/${name}/branches?ephemeral=maybe`), 400, 'ERR_INVALID_ARGUMENT');
  });

  it('creates branches from a branch, an annotated tag, a lightweight tag and a sha; refuses the rest', async () => {
    const post = (body: unknown) => h.call('POST', `/api/v1/repos/${name}/branches`, body);
    expect((await post({ name: 'from-tag', from: 'v1' })).json).toEqual({ name: 'from-tag', sha: base, ephemeral: false });
    expect((await post({ name: 'from-light', from: 'light' })).json).toEqual({ name: 'from-light', sha: second, ephemeral: false });
    expect((await post({ name: 'from-sha', from: base })).json).toEqual({ name: 'from-sha', sha: base, ephemeral: false });
    expect((await post({ name: 'from-default' })).json).toEqual({ name: 'from-default', sha: second, ephemeral: false });
    expect((await post({ name: 'refs/heads/full-name', from: 'main' })).json.name).toBe('full-name');
    const before = await snapshot();
    expectError(await post({ name: 'from-tag', from: 'main' }), 409, 'ERR_REF_CONFLICT');
    expectError(await post({ name: 'main/sub', from: 'main' }), 409, 'ERR_REF_CONFLICT');
    expectError(await post({ name: 'x', from: 'nope' }), 404, 'ERR_REF_NOT_FOUND');
    expectError(await post({ name: 'x', from: 'e'.repeat(40) }), 404, 'ERR_OBJECT_NOT_FOUND');
    const tree = (await h.call('GET', `/api/v1/repos/${name}/commits?limit=1`)).json.commits[0].tree;
    expectError(await post({ name: 'x', from: tree }), 400, 'ERR_INVALID_OBJECT');
    expectError(await post({ name: 'bad..name' }), 400, 'ERR_INVALID_REF_NAME');
    expect(await snapshot()).toEqual(before);
  });

  it('deletes branches with 204, answers 404 for missing ones, 409 for a stale expectedSha, 400 for a bad one', async () => {
    const repo = await h.engine.getRepo(name);
    await repo.createBranch('doomed', 'main');
    await repo.createBranch('doomed-eph', 'main', { space: 'ephemeral' });
    const before = await snapshot();
    expectError(await h.call('DELETE', `/api/v1/repos/${name}/branches/never-was`), 404, 'ERR_REF_NOT_FOUND');
    expectError(await h.call('DELETE', `/api/v1/repos/${name}/branches/doomed-eph`), 404, 'ERR_REF_NOT_FOUND');
    expectError(await h.call('DELETE', `/api/v1/repos/${name}/branches/doomed?ephemeral=true`), 404, 'ERR_REF_NOT_FOUND');
    expectError(await h.call('DELETE', `/api/v1/repos/${name}/branches/doomed?expectedSha=${base}`), 409, 'ERR_REF_CONFLICT');
    expectError(await h.call('DELETE', `/api/v1/repos/${name}/branches/doomed?expectedSha=xyz`), 400, 'ERR_INVALID_ARGUMENT');
    expectError(await h.call('DELETE', `/api/v1/repos/${name}/branches/bad..name`), 400, 'ERR_INVALID_REF_NAME');
    expect(await snapshot()).toEqual(before);
    const ok = await h.call('DELETE', `/api/v1/repos/${name}/branches/doomed?expectedSha=${second}`);
    expect(ok.status).toBe(204);
    expect(ok.text).toBe('');
    expect(await headOf(name, 'doomed')).toBeUndefined();
    expect((await h.call('DELETE', `/api/v1/repos/${name}/branches/doomed-eph?ephemeral=true`)).status).toBe(204);
    expect(await headOf(name, 'doomed-eph', true)).toBeUndefined();
  });
});

describe('refs route', () => {
  it('is all-or-nothing: one bad update (stale, missing object, bad name, duplicate) applies none', async () => {
    const { name, base } = await freshRepo('refs');
    const post = (updates: unknown[]) => h.call('POST', `/api/v1/repos/${name}/refs`, { updates });
    const good = { ref: 'refs/heads/good', oldSha: ZERO, newSha: base };
    const before = await snapshot();
    expectError(await post([good, { ref: 'refs/heads/main', oldSha: 'e'.repeat(40), newSha: base }]), 409, 'ERR_REF_CONFLICT');
    expectError(await post([good, { ref: 'refs/heads/other', newSha: 'e'.repeat(40) }]), 400, 'ERR_MISSING_OBJECTS');
    expectError(await post([good, { ref: 'refs/heads/a..b', newSha: base }]), 400, 'ERR_INVALID_REF_NAME');
    expectError(await post([good, { ref: 'refs/heads/good', newSha: base }]), 400, 'ERR_INVALID_ARGUMENT');
    expectError(await post([good, { ref: 'refs/heads/main', oldSha: ZERO, newSha: base }]), 409, 'ERR_REF_CONFLICT');
    expectError(await post([good, { ref: 'refs/heads/main/x', newSha: base }]), 409, 'ERR_REF_CONFLICT');
    expectError(await post([...Array(1001)].map((_, i) => ({ ref: `refs/heads/many/${i}`, newSha: base }))), 413, 'ERR_LIMIT_EXCEEDED');
    expect(await snapshot()).toEqual(before);
    const ok = await post([good, { ref: 'refs/tags/t', newSha: base }]);
    expect(ok.status).toBe(200);
    expect(ok.json.updates).toEqual([
      { ref: 'refs/heads/good', space: 'regular', oldSha: ZERO, newSha: base },
      { ref: 'refs/tags/t', space: 'regular', oldSha: ZERO, newSha: base },
    ]);
    // Zero newSha deletes, checked against oldSha.
    expectError(await post([{ ref: 'refs/heads/good', oldSha: 'e'.repeat(40), newSha: ZERO }]), 409, 'ERR_REF_CONFLICT');
    expect((await post([{ ref: 'refs/heads/good', oldSha: base, newSha: ZERO }])).status).toBe(200);
    expect(await headOf(name, 'good')).toBeUndefined();
  });

  it('refuses HEAD and other symbolic or short names (400 ERR_INVALID_REF_NAME); HEAD keeps pointing at main', async () => {
    const { name, base } = await freshRepo('sym');
    const before = await snapshot();
    for (const ref of ['HEAD', 'main', 'heads/main', 'refs/heads', 'refs/', 'ORIG_HEAD', 'refs/heads/main/']) {
      expectError(await h.call('POST', `/api/v1/repos/${name}/refs`, { updates: [{ ref, newSha: base }] }), 400, 'ERR_INVALID_REF_NAME', ref);
    }
    expect(await snapshot()).toEqual(before);
    expect(await (await h.engine.getRepo(name)).refs.head()).toBe('refs/heads/main');
  });

  it('refuses exactly the names git check-ref-format refuses', async () => {
    const { name, base } = await freshRepo('crf');
    const names = [
      'refs/heads/ok',
      'refs/heads/a/b/c',
      'refs/heads/ü-ß',
      'refs/heads/-dash',
      'refs/heads/@',
      'refs/heads/a@b',
      'refs/heads/x.y',
      'refs/heads/a..b',
      'refs/heads/a.lock',
      'refs/heads/a/b.lock/c',
      'refs/heads/.a',
      'refs/heads/a/.b',
      'refs/heads/a b',
      'refs/heads/a~1',
      'refs/heads/a^',
      'refs/heads/a:b',
      'refs/heads/a?',
      'refs/heads/a*',
      'refs/heads/a[',
      'refs/heads/a\\b',
      'refs/heads/a/',
      'refs/heads//a',
      'refs/heads/a.',
      'refs/heads/a@{1}',
      'refs/heads/a\tb',
      'refs/heads/a\u007fb',
    ];
    for (const ref of names) {
      let gitOk = true;
      try {
        execFileSync('git', ['check-ref-format', ref], { stdio: 'ignore' });
      } catch {
        gitOk = false;
      }
      const r = await h.call('POST', `/api/v1/repos/${name}/refs`, { updates: [{ ref, oldSha: ZERO, newSha: base }] });
      if (gitOk) expect(r.status, `${JSON.stringify(ref)}: ${r.text}`).toBe(200);
      else expectError(r, 400, 'ERR_INVALID_REF_NAME', JSON.stringify(ref));
    }
  });

  // refs/heads/* only accepts commits: git's ref store refuses "trying to write non-commit
  // object ... to branch", and every read of such a branch would fail.
  it('refuses pointing a branch at a blob or a tree', async () => {
    const { name, tree } = await freshRepo('nonc');
    const blob = (await h.call('GET', `/api/v1/repos/${name}/tree`)).json.entries.find((e: any) => e.path === 'a.txt').sha;
    const before = await snapshot();
    for (const sha of [blob, tree]) {
      const r = await h.call('POST', `/api/v1/repos/${name}/refs`, { updates: [{ ref: 'refs/heads/not-a-commit', newSha: sha }] });
      expect(r.status, r.text).toBe(400);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('promote', () => {
  it('answers 404 for a missing ephemeral branch, 409 for a stale or zero expectedTargetSha, and moves nothing', async () => {
    const { name, base } = await freshRepo('prom');
    const repo = await h.engine.getRepo(name);
    const eph = await repo.commit({
      branch: 'sandbox',
      baseBranch: 'main',
      space: 'ephemeral',
      message: 'e',
      author: AUTHOR,
      changes: [{ path: 'e', content: 'e' }],
    });
    await repo.createBranch('expired', 'main', { space: 'ephemeral', ttlSeconds: 1 });
    const post = (body: unknown) => h.call('POST', `/api/v1/repos/${name}/ephemeral/promote`, body);
    const before = await snapshot();
    expectError(await post({ baseBranch: 'nope' }), 404, 'ERR_REF_NOT_FOUND');
    expectError(await post({ baseBranch: 'main' }), 404, 'ERR_REF_NOT_FOUND'); // regular only
    expectError(await post({ baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: 'e'.repeat(40) }), 409, 'ERR_REF_CONFLICT');
    expectError(await post({ baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: ZERO }), 409, 'ERR_REF_CONFLICT');
    expectError(await post({ baseBranch: 'sandbox', targetBranch: 'main/x' }), 409, 'ERR_REF_CONFLICT');
    expectError(await post({ baseBranch: 'sandbox', targetBranch: 'bad..name' }), 400, 'ERR_INVALID_REF_NAME');
    expect(await snapshot()).toEqual(before);
    await new Promise((r) => setTimeout(r, 1100));
    expectError(await post({ baseBranch: 'expired' }), 404, 'ERR_REF_NOT_FOUND');
    // Target equal to the source name (the default): a regular branch appears, the ephemeral one goes.
    const same = await post({ baseBranch: 'sandbox' });
    expect(same.status).toBe(200);
    expect(same.json).toEqual({ targetBranch: 'sandbox', sha: eph.sha });
    expect(await headOf(name, 'sandbox')).toBe(eph.sha);
    expect(await headOf(name, 'sandbox', true)).toBeUndefined();
    expect(await headOf(name)).toBe(base);
    expectError(await post({ baseBranch: 'sandbox' }), 404, 'ERR_REF_NOT_FOUND');
  });
  // An empty expectedTargetSha is a malformed compare-and-swap (400), as an empty expectedHeadSha
  // or oldSha is, never "no expectation" (which would overwrite the target).
  it('refuses an empty expectedTargetSha (400) instead of promoting unconditionally', async () => {
    const { name } = await freshRepo('prom-empty');
    const repo = await h.engine.getRepo(name);
    await repo.commit({ branch: 'sandbox', baseBranch: 'main', space: 'ephemeral', message: 'e', author: AUTHOR, changes: [{ path: 'e', content: 'e' }] });
    expectError(
      await h.call('POST', `/api/v1/repos/${name}/commits`, commitBody([{ path: 'x', content: 'x' }], { expectedHeadSha: '' })),
      400,
      'ERR_INVALID_ARGUMENT',
    );
    expectError(
      await h.call('POST', `/api/v1/repos/${name}/refs`, { updates: [{ ref: 'refs/heads/main', oldSha: '', newSha: ZERO }] }),
      400,
      'ERR_INVALID_ARGUMENT',
    );
    const before = await snapshot();
    const r = await h.call('POST', `/api/v1/repos/${name}/ephemeral/promote`, { baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: '' });
    expectError(r, 400, 'ERR_INVALID_ARGUMENT');
    expect(await snapshot()).toEqual(before);
  });
});

describe('repository lifecycle', () => {
  it('answers reads of a repository without commits with 404 ERR_REF_NOT_FOUND and an empty branch list', async () => {
    expect((await h.call('POST', '/api/v1/repos', { name: 'bare-new', defaultBranch: 'trunk' })).status).toBe(201);
    for (const path of ['commits', 'tree', 'files/x']) expectError(await h.call('GET', `/api/v1/repos/bare-new/${path}`), 404, 'ERR_REF_NOT_FOUND', path);
    expect((await h.call('GET', '/api/v1/repos/bare-new/branches')).json).toEqual({ branches: [] });
    const first = await h.call('POST', '/api/v1/repos/bare-new/commits', commitBody([{ path: 'x', content: 'x' }], { branch: 'trunk' }));
    expect(first.json.parents).toEqual([]);
    expect((await h.call('GET', '/api/v1/repos/bare-new/files/x')).text).toBe('x');
  });

  it('forgets refs and idempotency keys when a repository is deleted and its name reused', async () => {
    expect((await h.call('POST', '/api/v1/repos', { name: 'reborn' })).status).toBe(201);
    const body = commitBody([{ path: 'a', content: '1' }], { idempotencyKey: 'same-key' });
    const old = await h.call('POST', '/api/v1/repos/reborn/commits', body);
    expect(old.status).toBe(201);
    expect((await h.call('DELETE', '/api/v1/repos/reborn')).status).toBe(204);
    expectError(await h.call('GET', '/api/v1/repos/reborn/files/a'), 404, 'ERR_REPO_NOT_FOUND');
    expectError(await h.call('POST', '/api/v1/repos/reborn/commits', body), 404, 'ERR_REPO_NOT_FOUND');
    expect((await h.call('POST', '/api/v1/repos', { name: 'reborn' })).status).toBe(201);
    expect((await h.call('GET', '/api/v1/repos/reborn/branches')).json).toEqual({ branches: [] });
    const other = await h.call('POST', '/api/v1/repos/reborn/commits', commitBody([{ path: 'b', content: '2' }], { idempotencyKey: 'same-key' }));
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expectError(await h.call('GET', '/api/v1/repos/reborn/files/a'), 404, 'ERR_PATH_NOT_FOUND');
  });
});

describe('tokens', () => {
  let base: string;
  beforeAll(async () => {
    const existing = await h.engine.findRepo('app');
    if (!existing) await h.engine.createRepo('app');
    const repo = await h.engine.getRepo('app');
    base = (await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] })).sha;
    await repo.createBranch('sandbox', 'main', { space: 'ephemeral' });
    if (!(await h.engine.findRepo('other'))) await h.engine.createRepo('other');
  });

  const mint = async (repo: string, permissions: ('git:read' | 'git:write')[], extra: Record<string, unknown> = {}) =>
    bearer((await tokens.mint({ repo, permissions, ...extra })).token);
  const writeCalls = (): [string, string, unknown][] => [
    ['POST', '/api/v1/repos/app/commits', commitBody([{ path: 'w', content: 'w' }])],
    ['POST', '/api/v1/repos/app/branches', { name: 'tok-branch' }],
    ['DELETE', '/api/v1/repos/app/branches/main', undefined],
    ['POST', '/api/v1/repos/app/refs', { updates: [{ ref: 'refs/heads/tok', newSha: base }] }],
    ['POST', '/api/v1/repos/app/ephemeral/promote', { baseBranch: 'sandbox' }],
  ];
  const readCalls = (repo: string): string[] => [
    `/api/v1/repos/${repo}`,
    `/api/v1/repos/${repo}/commits`,
    `/api/v1/repos/${repo}/files/a`,
    `/api/v1/repos/${repo}/tree`,
    `/api/v1/repos/${repo}/branches`,
  ];

  it('gives a read token 403 ERR_FORBIDDEN on every write route and admin route, and moves nothing', async () => {
    const read = await mint('app', ['git:read']);
    const before = await snapshot();
    for (const [method, path, body] of writeCalls()) expectError(await h.call(method, path, body, read), 403, 'ERR_FORBIDDEN', `${method} ${path}`);
    const write = await mint('app', ['git:write']);
    for (const [method, path, body] of [
      ['GET', '/api/v1/repos', undefined],
      ['POST', '/api/v1/repos', { name: 'by-token' }],
      ['DELETE', '/api/v1/repos/app', undefined],
      ['POST', '/api/v1/repos/app/remote-url', {}],
    ] as [string, string, unknown][]) {
      expectError(await h.call(method, path, body, write), 403, 'ERR_FORBIDDEN', `${method} ${path}`);
    }
    expect(await snapshot()).toEqual(before);
    for (const path of readCalls('app')) expect((await h.call('GET', path, undefined, read)).status, path).toBe(200);
  });

  it('gives a token of another repository 403 everywhere, whether the named repository exists or not', async () => {
    const other = await mint('other', ['git:write']);
    const before = await snapshot();
    for (const path of [...readCalls('app'), ...readCalls('missing-repo'), '/api/v1/repos/App', '/api/v1/repos/app%2F']) {
      expectError(await h.call('GET', path, undefined, other), 403, 'ERR_FORBIDDEN', path);
    }
    for (const [method, path, body] of writeCalls()) expectError(await h.call(method, path, body, other), 403, 'ERR_FORBIDDEN', `${method} ${path}`);
    expect(await snapshot()).toEqual(before);
    // owner/name tokens work through %2F as well.
    await h.engine.createRepo('team/tok');
    const team = await mint('team/tok', ['git:read']);
    expect((await h.call('GET', '/api/v1/repos/team%2Ftok', undefined, team)).status).toBe(200);
    expect((await h.call('GET', '/api/v1/repos/team/tok', undefined, team)).status).toBe(200);
  });

  it('refuses invalid tokens with 401, ERR_UNAUTHORIZED and a Bearer challenge', async () => {
    const t = now();
    const bad: [string, string][] = [
      ['expired', hmacJwt({ alg: 'HS256' }, claims({ iat: t - 700, exp: t - 100 }))],
      ['nbf in the future', hmacJwt({ alg: 'HS256' }, claims({ nbf: t + 600 }))],
      ['iat in the future', hmacJwt({ alg: 'HS256' }, claims({ iat: t + 600, exp: t + 1200 }))],
      ['lifetime above 24 h', hmacJwt({ alg: 'HS256' }, claims({ exp: t + 25 * 3600 }))],
      ['exp before iat', hmacJwt({ alg: 'HS256' }, claims({ exp: t - 1, iat: t }))],
      ['alg none, no signature', `${b64u(JSON.stringify({ alg: 'none' }))}.${b64u(JSON.stringify(claims()))}.`],
      ['alg none, some signature', `${b64u(JSON.stringify({ alg: 'none' }))}.${b64u(JSON.stringify(claims()))}.${b64u('x')}`],
      ['alg HS512', hmacJwt({ alg: 'HS512' }, claims(), 'sha512')],
      ['alg ES256 header with an HMAC', hmacJwt({ alg: 'ES256' }, claims())],
      ['wrong secret', hmacJwt({ alg: 'HS256' }, claims(), 'sha256', 'another-secret-of-at-least-32-bytes!!')],
      ['unknown scope', hmacJwt({ alg: 'HS256' }, claims({ scope: 'git:read git:admin' }))],
      ['double space in scope', hmacJwt({ alg: 'HS256' }, claims({ scope: 'git:read  git:write' }))],
      ['empty scope', hmacJwt({ alg: 'HS256' }, claims({ scope: '' }))],
      ['scope as array', hmacJwt({ alg: 'HS256' }, claims({ scope: ['git:read'] }))],
      ['no jti', hmacJwt({ alg: 'HS256' }, claims({ jti: undefined }))],
      ['no repo', hmacJwt({ alg: 'HS256' }, claims({ repo: undefined }))],
      ['ephemeral as a string', hmacJwt({ alg: 'HS256' }, claims({ ephemeral: 'true' }))],
      ['malformed refs', hmacJwt({ alg: 'HS256' }, claims({ refs: [['heads/*', ['no-push']]] }))],
      ['unknown ref op', hmacJwt({ alg: 'HS256' }, claims({ refs: [['refs/*', ['no-delete']]] }))],
      ['two parts', 'abc.def'],
      ['garbage', 'not a token at all'],
      ['too long', `${'a'.repeat(9000)}.b.c`],
    ];
    const before = await snapshot();
    for (const [why, token] of bad) {
      for (const [method, path, body] of [
        ['GET', '/api/v1/repos/app', undefined],
        ['POST', '/api/v1/repos/app/commits', commitBody([{ path: 'x', content: 'x' }])],
      ] as [string, string, unknown][]) {
        const r = await h.call(method, path, body, bearer(token));
        expectError(r, 401, 'ERR_UNAUTHORIZED', `${why} ${method}`);
        expect(r.headers.get('www-authenticate'), why).toMatch(/^Bearer realm="level-git"/);
      }
    }
    for (const headers of <Record<string, string>[]>[
      {},
      { authorization: 'Bearer' },
      { authorization: 'Basic !!!' },
      { authorization: `Basic ${Buffer.from('t').toString('base64')}` },
      { 'x-api-key': '' },
      { 'x-api-key': ADMIN.slice(0, -1) },
    ]) {
      expectError(await h.call('GET', '/api/v1/repos/app', undefined, headers), 401, 'ERR_UNAUTHORIZED', JSON.stringify(headers));
    }
    expect(await snapshot()).toEqual(before);
  });

  it('accepts well-formed tokens in every documented form, with extra claims ignored', async () => {
    const t = now();
    const good: [string, Record<string, string>][] = [
      ['Bearer', bearer(hmacJwt({ alg: 'HS256', typ: 'JWT' }, claims()))],
      ['lower-case scheme', { authorization: `bearer ${hmacJwt({ alg: 'HS256' }, claims())}` }],
      [
        'extra claims',
        bearer(
          hmacJwt(
            { alg: 'HS256', kid: 'unknown-kid', x5u: 'https://example.com' },
            claims({ custom: { deep: [1, 2] }, aud: 'someone', iss: 'me', sub: 'agent-7' }),
          ),
        ),
      ],
      ['nbf in the past', bearer(hmacJwt({ alg: 'HS256' }, claims({ nbf: t - 10 })))],
      ['iat within the clock tolerance', bearer(hmacJwt({ alg: 'HS256' }, claims({ iat: t + 10, exp: t + 600 })))],
      ['write implies read', bearer(hmacJwt({ alg: 'HS256' }, claims({ scope: 'git:write' })))],
      ['Basic password', { authorization: `Basic ${Buffer.from(`t:${hmacJwt({ alg: 'HS256' }, claims())}`).toString('base64')}` }],
      ['Basic user, empty password', { authorization: `Basic ${Buffer.from(`${hmacJwt({ alg: 'HS256' }, claims())}:`).toString('base64')}` }],
    ];
    for (const [why, headers] of good) expect((await h.call('GET', '/api/v1/repos/app/tree', undefined, headers)).status, why).toBe(200);
  });

  it('refuses a revoked token id (401) from the moment it is revoked', async () => {
    const minted = await tokens.mint({ repo: 'app', permissions: ['git:read'] });
    expect((await h.call('GET', '/api/v1/repos/app', undefined, bearer(minted.token))).status).toBe(200);
    deny.revoke(minted.claims.jti, minted.claims.exp);
    expectError(await h.call('GET', '/api/v1/repos/app', undefined, bearer(minted.token)), 401, 'ERR_UNAUTHORIZED');
  });

  it('mints remote URLs only within the maximum lifetime and with valid policies', async () => {
    const before = await snapshot();
    for (const body of [
      { ttl: 86401 },
      { ttl: 10 ** 9 },
      { ttl: 0 },
      { ttl: -5 },
      { refs: [['refs/heads/*', ['no-delete']]] },
      { refs: [['heads/x', []]] },
      { refs: [['refs/heads/a..b', ['no-push']]] },
      { refs: [...Array(65)].map((_, i) => [`refs/heads/p${i}`, []]) },
      { sub: '' },
    ]) {
      expectError(await h.call('POST', '/api/v1/repos/app/remote-url', body), 400, 'ERR_INVALID_ARGUMENT', JSON.stringify(body).slice(0, 80));
    }
    expectError(await h.call('POST', '/api/v1/repos/missing-repo/remote-url', {}), 404, 'ERR_REPO_NOT_FOUND');
    expect(await snapshot()).toEqual(before);
    const max = await h.call('POST', '/api/v1/repos/app/remote-url', { ttl: 86400, permissions: ['read'] });
    expect(max.status).toBe(200);
    expect(Math.abs(Date.parse(max.json.expiresAt) - Date.now() - 86400_000)).toBeLessThan(5000);
    expect(max.json.url).toBe(`http://t:${max.json.token}@${new URL(h.base).host}/app.git`);
    const dflt = await h.call('POST', '/api/v1/repos/app/remote-url', {});
    expect(Math.abs(Date.parse(dflt.json.expiresAt) - Date.now() - 3600_000)).toBeLessThan(5000);
    // A default (read) remote-url token cannot write through the API.
    expectError(await h.call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'x', content: 'x' }]), bearer(dflt.json.token)), 403, 'ERR_FORBIDDEN');
  });

  it('keeps an ephemeral-bound write token out of the regular ref space on every write route', async () => {
    const eph = bearer((await h.call('POST', '/api/v1/repos/app/remote-url', { permissions: ['git:write'], ephemeral: true })).json.token);
    const regularBefore = await (await h.engine.getRepo('app')).refs.list();
    const c = await h.call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'agent', content: 'a' }], { ephemeral: false }), eph);
    expect(c.status).toBe(201);
    expect(c.json.ephemeral).toBe(true);
    const b = await h.call('POST', '/api/v1/repos/app/branches', { name: 'agent-branch', ephemeral: false }, eph);
    expect(b.status).toBe(201);
    expect(b.json.ephemeral).toBe(true);
    const r = await h.call('POST', '/api/v1/repos/app/refs', { updates: [{ ref: 'refs/heads/agent-ref', newSha: base }], ephemeral: false }, eph);
    expect(r.status).toBe(200);
    expect(r.json.updates[0].space).toBe('ephemeral');
    expectError(await h.call('POST', '/api/v1/repos/app/ephemeral/promote', { baseBranch: 'main' }, eph), 403, 'ERR_FORBIDDEN');
    // Its reads see the ephemeral view.
    expect((await h.call('GET', '/api/v1/repos/app/files/agent', undefined, eph)).text).toBe('a');
    expectError(await h.call('GET', '/api/v1/repos/app/files/agent'), 404, 'ERR_PATH_NOT_FOUND');
    // Deleting "main" removes only its ephemeral main; a branch that exists only regularly is not found.
    expect((await h.call('DELETE', '/api/v1/repos/app/branches/main?ephemeral=false', undefined, eph)).status).toBe(204);
    expectError(await h.call('DELETE', '/api/v1/repos/app/branches/main', undefined, eph), 404, 'ERR_REF_NOT_FOUND');
    expect(await (await h.engine.getRepo('app')).refs.list()).toEqual(regularBefore);
    expect(await headOf('app')).toBe(base);
  });

  // docs/security.md: a token's ref policies decide "which refs may move how" on every write
  // path, the JSON API as well as git push: 403 ERR_REF_REJECTED and nothing moved.
  it('honours the token ref policies (no-push, no-force-push) on API writes', async () => {
    const url = await h.call('POST', '/api/v1/repos/app/remote-url', {
      permissions: ['git:write'],
      refs: [
        ['refs/heads/agent/*', []],
        ['refs/heads/main', ['no-force-push']],
        ['refs/*', ['no-push']],
      ],
    });
    const policy = bearer(url.json.token);
    // main one commit ahead of base, so that moving it back to base is a non-fast-forward.
    if ((await headOf('app')) === base) {
      expect((await h.call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'ahead', content: 'ahead' }]))).status).toBe(201);
    }
    const before = await snapshot();
    const head = await headOf('app');
    const attempts: [string, string, unknown][] = [
      ['POST', '/api/v1/repos/app/commits', commitBody([{ path: 'p', content: 'p' }], { branch: 'release' })],
      ['POST', '/api/v1/repos/app/branches', { name: 'release', from: 'main' }],
      ['POST', '/api/v1/repos/app/refs', { updates: [{ ref: 'refs/tags/v9', newSha: head }] }],
      ['POST', '/api/v1/repos/app/refs', { updates: [{ ref: 'refs/heads/main', newSha: base }] }],
      ['DELETE', '/api/v1/repos/app/branches/main', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const r = await h.call(method, path, body, policy);
      expectError(r, 403, 'ERR_REF_REJECTED', `${method} ${path} ${JSON.stringify(body)}`);
    }
    expect(await snapshot()).toEqual(before);
    // What the policy allows still works.
    expect(
      (await h.call('POST', '/api/v1/repos/app/commits', commitBody([{ path: 'p', content: 'p' }], { branch: 'agent/x', baseBranch: 'main' }), policy)).status,
    ).toBe(201);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * A memory-level database whose next batch writes can be held back, the way a disk write
 * sometimes takes longer than a neighbour's: it makes request interleavings reproducible.
 */
class LaggyLevel extends MemoryLevel<any, any> {
  readonly delays: number[] = [];
  async _batch(operations: any, options: any): Promise<void> {
    const d = this.delays.shift();
    if (d) await new Promise((r) => setTimeout(r, d));
    return (MemoryLevel.prototype as any)._batch.call(this, operations, options);
  }
}

describe('concurrent requests on storage with uneven write latency', () => {
  let s: Harness;
  let db: LaggyLevel;
  beforeAll(async () => {
    db = new LaggyLevel();
    s = await startHarness(db, createTokenService({ keys: { secret: SECRET } }), { packCache: { maxBytes: 0 } });
  });
  afterAll(async () => {
    await stopHarness(s);
  });

  /** Sends `first`, then `second` while the first object write is held back for 500 ms. */
  async function interleave(first: () => Promise<Res>, second: () => Promise<Res>): Promise<[Res, Res]> {
    await new Promise((r) => setTimeout(r, 30)); // let background work settle
    db.delays.push(500);
    const a = first();
    await new Promise((r) => setTimeout(r, 80));
    const b = second();
    return Promise.all([a, b]);
  }

  it('keeps expectedHeadSha exclusive on a regular branch', async () => {
    const repo = await s.engine.createRepo('lag-regular');
    const base = (await repo.commit({ branch: 'main', message: 'b', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] })).sha;
    const post = (p: string) => () => s.call('POST', '/api/v1/repos/lag-regular/commits', commitBody([{ path: p, content: p }], { expectedHeadSha: base }));
    const [a, b] = await interleave(post('first'), post('second'));
    expect([a.status, b.status].sort()).toEqual([201, 409]);
  });

  // In the ephemeral space too, the compare-and-swap is against the value expectedHeadSha was
  // checked with, so a commit that lands meanwhile is never overwritten (one 201, one 409).
  it('keeps expectedHeadSha exclusive on an ephemeral branch (one 201, one 409, no lost commit)', async () => {
    const repo = await s.engine.createRepo('lag-ephemeral');
    await repo.commit({ branch: 'main', message: 'b', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const base = (await repo.createBranch('sandbox', 'main', { space: 'ephemeral' })).sha;
    const post = (p: string) => () =>
      s.call(
        'POST',
        '/api/v1/repos/lag-ephemeral/commits',
        commitBody([{ path: p, content: p }], { branch: 'sandbox', ephemeral: true, expectedHeadSha: base }),
      );
    const [a, b] = await interleave(post('first'), post('second'));
    const tip = (await repo.refs.get('refs/heads/sandbox', { space: 'ephemeral' }))!.oid;
    const log = await s.call('GET', '/api/v1/repos/lag-ephemeral/commits?ref=sandbox&ephemeral=true');
    const reachable = log.json.commits.map((c: any) => c.sha);
    expect(reachable[0]).toBe(tip);
    // Every commit answered 201 must be on the branch; at most one may be answered 201.
    for (const r of [a, b].filter((x) => x.status === 201)) expect(reachable, 'a commit answered 201 was lost').toContain(r.json.sha);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
  });

  // A concurrent retry of an idempotent commit with expectedHeadSha: the one that lands second
  // fails its expectation, finds the first one's record and answers as a replay.
  it('replays a concurrent idempotent retry that carries expectedHeadSha', async () => {
    const repo = await s.engine.createRepo('lag-idem');
    const base = (await repo.commit({ branch: 'main', message: 'b', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] })).sha;
    const body = commitBody([{ path: 'i', content: 'i' }], { expectedHeadSha: base, idempotencyKey: 'agent-step-1' });
    const post = () => s.call('POST', '/api/v1/repos/lag-idem/commits', body);
    const [a, b] = await interleave(post, post);
    expect([a.status, b.status], `${a.text} ${b.text}`).toEqual([201, 201]);
    expect(a.json.sha).toBe(b.json.sha);
    expect([a, b].filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);
  });
});
