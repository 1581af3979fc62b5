/**
 * Tags and listings of the JSON API: tags created (lightweight or annotated), listed and deleted
 * under the token's ref policy; repositories and a path's history a page at a time, through
 * opaque cursors that refuse tampering with a 400.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService, type TokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler, type FetchHandler } from '../../src/http/fetch-handler.js';
import type { RefPolicy } from '../../src/access/types.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AUTHOR = { name: 'Ada', email: 'ada@example.com' };
let engine: Engine;
let tokens: TokenService;
let api: FetchHandler;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': ADMIN }): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return (await api(new Request(`http://api.test/api/v1${path}`, init)))!;
}

beforeEach(async () => {
  engine = await openEngine({ db: new MemoryLevel() as never });
  tokens = createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } });
  api = createApiFetchHandler({ engine, tokens, adminKey: ADMIN });
});

afterEach(async () => {
  await engine.close();
});

/** Flips one character of a cursor's body. */
function tamper(cursor: string): string {
  const i = Math.floor(cursor.indexOf('.') / 2);
  return cursor.slice(0, i) + (cursor[i] === 'A' ? 'B' : 'A') + cursor.slice(i + 1);
}

describe('tags', () => {
  it('creates lightweight and annotated tags, lists and deletes them', async () => {
    const repo = await engine.createRepo('t');
    const c = await repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const light = await call('POST', '/repos/t/tags', { name: 'v1', target: 'main' });
    expect(light.status).toBe(201);
    expect(await light.json()).toEqual({ name: 'v1', sha: c.sha, annotated: false });
    const annotated = await call('POST', '/repos/t/tags', { name: 'v2', target: c.sha, message: 'release', tagger: AUTHOR });
    expect(annotated.status).toBe(201);
    const a = await annotated.json();
    expect(a.sha).not.toBe(c.sha);
    expect((await repo.readObject(a.sha)).type).toBe('tag');
    expect((await (await call('GET', '/repos/t/tags')).json()).tags).toEqual([
      { name: 'v1', sha: c.sha },
      { name: 'v2', sha: a.sha, peeled: c.sha },
    ]);
    expect((await call('POST', '/repos/t/tags', { name: 'v1', target: 'main' })).status).toBe(409);
    expect((await call('POST', '/repos/t/tags', { name: 'bad..name', target: 'main' })).status).toBe(400);
    expect((await call('DELETE', '/repos/t/tags/v1')).status).toBe(204);
    expect((await (await call('GET', '/repos/t/tags')).json()).tags.map((t: { name: string }) => t.name)).toEqual(['v2']);
  });

  it("applies the token's ref policies", async () => {
    const repo = await engine.createRepo('p');
    await repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const token = async (refs: RefPolicy[]) => ({ authorization: `Bearer ${(await tokens.mint({ repo: 'p', permissions: ['git:write'], refs })).token}` });
    const frozen = await token([['refs/tags/*', ['no-push']]]);
    const refused = await call('POST', '/repos/p/tags', { name: 'v1', target: 'main' }, frozen);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('ERR_REF_REJECTED');
    expect(await repo.listTags()).toEqual([]);
    const open = await token([['refs/heads/*', ['no-push']]]);
    expect((await call('POST', '/repos/p/tags', { name: 'v1', target: 'main' }, open)).status).toBe(201);
    expect((await call('DELETE', '/repos/p/tags/v1', undefined, frozen)).status).toBe(403);
    expect((await call('GET', '/repos/p/tags', undefined, frozen)).status).toBe(200);
  });
});

describe('listing repositories', () => {
  it('pages by name through an opaque cursor, with a prefix, and refuses a tampered cursor', async () => {
    const names = [...Array(23)].map((_, i) => `r${String(i).padStart(2, '0')}`);
    for (const n of [...names, 'team/a', 'team/b', 'zz']) await engine.createRepo(n);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await (await call('GET', `/repos?limit=10${q}`)).json();
      expect(page.repos.length).toBeLessThanOrEqual(10);
      for (const r of page.repos) expect(Object.keys(r).sort()).toEqual(['createdAt', 'defaultBranch', 'name']);
      seen.push(...page.repos.map((r: { name: string }) => r.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...names, 'team/a', 'team/b', 'zz']);

    const team = await (await call('GET', '/repos?prefix=team/&limit=1')).json();
    expect(team.repos.map((r: { name: string }) => r.name)).toEqual(['team/a']);
    const rest = await (await call('GET', `/repos?prefix=team/&limit=1&cursor=${encodeURIComponent(team.nextCursor)}`)).json();
    expect(rest).toEqual({ repos: [expect.objectContaining({ name: 'team/b' })], nextCursor: null });

    const first = await (await call('GET', '/repos?limit=2')).json();
    for (const bad of [tamper(first.nextCursor), 'garbage', `${first.nextCursor}x`]) {
      const r = await call('GET', `/repos?limit=2&cursor=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect((await r.json()).error.code).toBe('ERR_INVALID_ARGUMENT');
    }
    // A cursor of another prefix is refused too.
    expect((await call('GET', `/repos?prefix=team/&cursor=${encodeURIComponent(first.nextCursor)}`)).status).toBe(400);
    expect((await call('GET', '/repos?limit=0')).status).toBe(400);
    expect((await (await call('GET', '/repos')).json()).repos).toHaveLength(26);
  });
});

describe('history of a path', () => {
  it('lists the commits that change a path, a page at a time, and equals the log without one', async () => {
    const repo = await engine.createRepo('h');
    const touchA: string[] = [];
    for (let i = 0; i < 9; i++) {
      const path = i % 3 === 0 ? 'dir/a.txt' : `b${i}.txt`;
      const c = await repo.commit({
        branch: 'main',
        message: `c${i}`,
        author: { ...AUTHOR, timestamp: 1_700_000_000 + i },
        changes: [{ path, content: `v${i}` }],
      });
      if (path === 'dir/a.txt') touchA.unshift(c.sha);
    }
    const pageThrough = async (query: string) => {
      const out: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const r = await call('GET', `/repos/h/commits?${query}&limit=2${q}`);
        expect(r.status).toBe(200);
        const page = await r.json();
        out.push(...page.commits.map((c: { sha: string }) => c.sha));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return out;
    };
    expect(await pageThrough('path=dir/a.txt')).toEqual(touchA);
    expect(await pageThrough('path=dir')).toEqual(touchA);
    expect(await pageThrough('ref=main')).toEqual((await repo.log('main')).map((c) => c.sha));
    const first = await (await call('GET', '/repos/h/commits?path=dir/a.txt&limit=1')).json();
    expect((await call('GET', `/repos/h/commits?path=dir/a.txt&limit=1&cursor=${encodeURIComponent(tamper(first.nextCursor))}`)).status).toBe(400);
    expect((await call('GET', `/repos/h/commits?path=b1.txt&limit=1&cursor=${encodeURIComponent(first.nextCursor)}`)).status).toBe(400);
    // A branch that moved on meanwhile continues the same pages.
    await repo.commit({
      branch: 'main',
      message: 'later',
      author: { ...AUTHOR, timestamp: 1_700_000_100 },
      changes: [{ path: 'dir/a.txt', content: 'later' }],
    });
    const next = await (await call('GET', `/repos/h/commits?path=dir/a.txt&limit=10&cursor=${encodeURIComponent(first.nextCursor)}`)).json();
    expect(next.commits.map((c: { sha: string }) => c.sha)).toEqual(touchA.slice(1));
  });
});
