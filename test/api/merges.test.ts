/**
 * Review and merge through the JSON API, end to end: `createServer` on 127.0.0.1 over a
 * memory-level engine, a sandbox that pushes to the ephemeral namespace with stock git, then
 * compare (JSON and the unified text `git diff base...head` prints), merge (merge commit and
 * squash), revert, and a stock `git clone` that sees the right parents. Then bad input: unknown
 * refs, a missing base branch, already up to date, conflicts, stale expectations, fast-forward
 * refusals, ref policies and scopes, huge files, binary detection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService } from '../../src/access/tokens.js';
import { createServer } from '../../src/http/node-server.js';
import { gitRunner } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AH = { 'x-api-key': ADMIN };
const AUTHOR = { name: 'Ada', email: 'ada@example.com', timestamp: 1_700_000_000 };
const tokens = createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } });
const dirs = tempDirs();

let db: MemoryLevel<any, any>;
let engine: Engine;
let server: Server;
let base: string;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AH) {
  const r = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, text, json, type: r.headers.get('content-type') };
}

beforeAll(async () => {
  db = new MemoryLevel();
  engine = await openEngine({ db });
  server = createServer({ engine, tokens, adminKey: ADMIN });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await engine.close();
  await db.close();
  dirs.cleanup();
});

describe('a sandbox branch reviewed and merged through the API', () => {
  it('pushes to the ephemeral namespace, compares, merges and squashes; git clone sees the parents', async () => {
    const home = dirs.make('merge-home-');
    const g = gitRunner(home);
    await call('POST', '/api/v1/repos', { name: 'app' });
    const first = await call('POST', '/api/v1/repos/app/commits', {
      branch: 'main',
      message: 'init',
      author: AUTHOR,
      changes: [
        { path: 'src/app.ts', content: 'export function run() {\n  return 1;\n}\n' },
        { path: 'README.md', content: '# app\n' },
      ],
    });
    expect(first.status).toBe(201);
    const eurl = (await call('POST', '/api/v1/repos/app/remote-url', { permissions: ['git:write'], ephemeral: true })).json.url as string;
    const url = (await call('POST', '/api/v1/repos/app/remote-url', { permissions: ['git:write'] })).json.url as string;
    const work = join(home, 'work');
    await g.ok(['clone', '-q', url, work]);
    writeFileSync(join(work, 'src/app.ts'), 'export function run() {\n  return 2;\n}\n');
    writeFileSync(join(work, 'NOTES.md'), 'agent notes\n');
    await g.ok(['add', '-A'], work);
    await g.ok(['commit', '-qm', 'agent step'], work);
    await g.ok(['push', '-q', eurl, 'HEAD:refs/heads/agent/try'], work);
    // main moves on meanwhile.
    await call('POST', '/api/v1/repos/app/commits', {
      branch: 'main',
      message: 'docs',
      author: AUTHOR,
      changes: [{ path: 'README.md', content: '# app\n\nmore\n' }],
    });

    const cmp = await call('GET', '/api/v1/repos/app/compare?base=main&head=agent/try&ephemeral=true');
    expect(cmp.status).toBe(200);
    expect(cmp.json).toMatchObject({ mergeBase: first.json.sha, ahead: 1, behind: 1 });
    expect(cmp.json.commits.map((c: any) => c.message)).toEqual(['agent step\n']);
    expect(cmp.json.files.map((f: any) => [f.path, f.status, f.additions, f.deletions])).toEqual([
      ['NOTES.md', 'added', 1, 0],
      ['src/app.ts', 'modified', 1, 1],
    ]);
    // The unified text is what git prints for base...head.
    const text = await call('GET', '/api/v1/repos/app/compare?base=main&head=agent/try&ephemeral=true&format=diff');
    expect(text.type).toContain('text/x-diff');
    await g.ok(['fetch', '-q', url, 'main'], work);
    expect(text.text).toBe(await g.ok(['diff', 'FETCH_HEAD...HEAD'], work).then((s) => s + '\n'));

    const dry = await call('POST', '/api/v1/repos/app/merges', { base: 'main', head: 'agent/try', dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ mergeable: true, conflicts: [] });

    const merged = await call('POST', '/api/v1/repos/app/merges', { base: 'main', head: 'agent/try', author: AUTHOR });
    expect(merged.status).toBe(201);
    expect(merged.json).toMatchObject({ strategy: 'merge', fastForward: false });
    const again = await call('POST', '/api/v1/repos/app/merges', { base: 'main', head: 'agent/try' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ sha: merged.json.sha, upToDate: true });

    // Squash the same work into another branch that starts from the first commit.
    await call('POST', '/api/v1/repos/app/branches', { name: 'release', from: first.json.sha });
    const squashed = await call('POST', '/api/v1/repos/app/merges', { base: 'release', head: 'agent/try', strategy: 'squash', message: 'agent work' });
    expect(squashed.status).toBe(201);

    const clone = join(home, 'clone');
    await g.ok(['clone', '-q', '--no-single-branch', url, clone]);
    const graph = await g.ok(['log', '--format=%s %p', '--topo-order', 'origin/main'], clone);
    expect(graph.split('\n')[0]).toMatch(/^Merge branch 'agent\/try' [0-9a-f]+ [0-9a-f]+$/);
    expect(await g.ok(['show', 'origin/main:src/app.ts'], clone)).toContain('return 2;');
    expect(await g.ok(['show', 'origin/main:README.md'], clone)).toContain('more');
    const squashLog = await g.ok(['log', '--format=%s|%P', 'origin/release'], clone);
    expect(squashLog.split('\n')).toEqual([`agent work|${first.json.sha}`, 'init|']);
    expect(await g.ok(['rev-parse', 'origin/release^{tree}'], clone)).toBe(await g.ok(['rev-parse', 'HEAD^{tree}'], work));

    // Revert the agent step on main.
    const agentSha = cmp.json.commits[0].sha;
    const rev = await call('POST', '/api/v1/repos/app/reverts', { branch: 'main', commit: agentSha, author: AUTHOR });
    expect(rev.status).toBe(201);
    await g.ok(['fetch', '-q', 'origin'], clone);
    expect(await g.ok(['show', 'origin/main:src/app.ts'], clone)).toContain('return 1;');
    expect(await g.ok(['log', '-1', '--format=%s', 'origin/main'], clone)).toBe('Revert "agent step"');

    // The diff of one commit against its parent.
    const one = await call('GET', `/api/v1/repos/app/commits/${rev.json.sha}/diff`);
    expect(one.json.files.map((f: any) => f.path)).toEqual(['NOTES.md', 'src/app.ts']);
  });
});

describe('bad input', () => {
  it('answers the documented errors and moves nothing', async () => {
    await call('POST', '/api/v1/repos', { name: 'bad' });
    const c1 = await call('POST', '/api/v1/repos/bad/commits', {
      branch: 'main',
      message: 'one',
      author: AUTHOR,
      changes: [{ path: 'a.txt', content: 'a\nb\nc\n' }],
    });
    await call('POST', '/api/v1/repos/bad/branches', { name: 'x', from: 'main' });
    await call('POST', '/api/v1/repos/bad/branches', { name: 'y', from: 'main' });
    await call('POST', '/api/v1/repos/bad/commits', { branch: 'x', message: 'x', author: AUTHOR, changes: [{ path: 'a.txt', content: 'a\nX\nc\n' }] });
    await call('POST', '/api/v1/repos/bad/commits', { branch: 'y', message: 'y', author: AUTHOR, changes: [{ path: 'a.txt', content: 'a\nY\nc\n' }] });

    expect((await call('GET', '/api/v1/repos/bad/compare?base=main&head=nope')).status).toBe(404);
    expect((await call('GET', '/api/v1/repos/bad/diff?base=main')).status).toBe(400);
    expect((await call('POST', '/api/v1/repos/bad/merges', { base: 'nope', head: 'x' })).json.error.code).toBe('ERR_REF_NOT_FOUND');
    const same = await call('POST', '/api/v1/repos/bad/merges', { base: 'main', head: 'main' });
    expect(same.status).toBe(200);
    expect(same.json).toMatchObject({ sha: c1.json.sha, upToDate: true });

    await call('POST', '/api/v1/repos/bad/merges', { base: 'main', head: 'x', strategy: 'fast-forward' });
    const conflict = await call('POST', '/api/v1/repos/bad/merges', { base: 'main', head: 'y' });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toMatchObject({ code: 'ERR_MERGE_CONFLICT', conflicts: [{ path: 'a.txt', kind: 'content' }] });
    const ff = await call('POST', '/api/v1/repos/bad/merges', { base: 'x', head: 'y', strategy: 'fast-forward' });
    expect(ff.json.error.code).toBe('ERR_NOT_FAST_FORWARD');
    const stale = await call('POST', '/api/v1/repos/bad/merges', { base: 'main', head: 'x', expectedBaseSha: c1.json.sha });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('ERR_REF_CONFLICT');
    expect((await call('POST', '/api/v1/repos/bad/merges', { base: 'main', head: 'x', strategy: 'rebase' })).status).toBe(400);

    // Scopes and ref policies.
    const read = (await tokens.mint({ repo: 'bad', permissions: ['git:read'] })).token;
    expect((await call('GET', '/api/v1/repos/bad/compare?base=main&head=y', undefined, { authorization: `Bearer ${read}` })).status).toBe(200);
    expect((await call('POST', '/api/v1/repos/bad/merges', { base: 'y', head: 'main' }, { authorization: `Bearer ${read}` })).status).toBe(403);
    const guarded = (await tokens.mint({ repo: 'bad', permissions: ['git:write'], refs: [['refs/heads/main', ['no-push']]] })).token;
    const refused = await call('POST', '/api/v1/repos/bad/reverts', { branch: 'main', commit: 'x' }, { authorization: `Bearer ${guarded}` });
    expect(refused.status).toBe(403);
    expect((await engine.getRepo('bad').then((r) => r.getRef('refs/heads/main')))!.oid).toBe(
      (await call('GET', '/api/v1/repos/bad/branches')).json.branches.find((b: any) => b.name === 'main').sha,
    );
  });

  it('caps huge files and detects binary files as git does', async () => {
    const repo = await engine.createRepo('big');
    const big = 'line\n'.repeat(1000);
    const a = await repo.commit({
      branch: 'main',
      message: 'a',
      author: AUTHOR,
      changes: [
        { path: 'big.txt', content: big },
        { path: 'bin', content: new Uint8Array(9000).fill(65) },
      ],
    });
    const late = new Uint8Array(9000).fill(65);
    late[8500] = 0; // a NUL past the first 8,000 bytes: still text for git
    const early = new Uint8Array(100).fill(65);
    early[7999 % 100] = 0;
    const b = await repo.commit({
      branch: 'main',
      message: 'b',
      author: AUTHOR,
      changes: [
        { path: 'big.txt', content: big + 'more\n' },
        { path: 'bin', content: late },
        { path: 'early', content: early },
      ],
    });
    const d = await repo.diff(a.sha, b.sha, { maxFileBytes: 4000 });
    expect(d.truncated).toBe(true);
    const byPath = Object.fromEntries(d.files.map((f) => [f.path, f]));
    expect(byPath['big.txt']).toMatchObject({ truncated: true, additions: 0 });
    expect(byPath['early']).toMatchObject({ binary: true });
    const d2 = await repo.diff(a.sha, b.sha);
    expect(d2.truncated).toBeUndefined();
    expect(Object.fromEntries(d2.files.map((f) => [f.path, [f.binary, f.additions]]))).toEqual({ 'big.txt': [false, 1], bin: [false, 1], early: [true, 0] });
  });
});
