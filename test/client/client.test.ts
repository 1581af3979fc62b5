/**
 * `level-git/client` against a real server (`createServer` on 127.0.0.1 over a memory-level
 * engine): every call of the SDK, made through a `fetch` that validates each answer against the
 * server's own openapi.json, so the SDK, the route table and the OpenAPI description are held
 * together. A stock git clones and pushes with URLs the SDK minted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MemoryLevel } from 'memory-level';
import { enableRemotes, openEngine, type Engine } from '../../src/index.js';
import { createTokenService } from '../../src/access/tokens.js';
import { createServer } from '../../src/http/node-server.js';
import { LevelGitClient, LevelGitClientError, type RemoteRepo } from '../../src/client/index.js';
import { LevelGitError } from '../../src/errors.js';
import { gitRunner } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { openApiFetch } from './openapi-validator.js';

const ADMIN = 'admin-key-0123456789abcdef';
const AUTHOR = { name: 'Ada', email: 'ada@example.com', timestamp: 1_700_000_000, timezone: '+0000' };
const tokens = createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } });
const dirs = tempDirs();
enableRemotes(); // what the Node entry does at load

let db: MemoryLevel<any, any>;
let engine: Engine;
let server: Server;
let base: string;
let checked: ReturnType<typeof openApiFetch>;
let store: LevelGitClient;

async function rejection(p: Promise<unknown>): Promise<LevelGitClientError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LevelGitClientError);
    expect(err).toBeInstanceOf(LevelGitError);
    return err as LevelGitClientError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  db = new MemoryLevel();
  // Private remotes allowed: the imports, mirrors and webhooks below reach this same loopback server.
  engine = await openEngine({ db, allowPrivateRemotes: true, webhooks: { pollMs: 50, backoffMs: 50, timeoutMs: 3000 } });
  server = createServer({ engine, tokens, adminKey: ADMIN });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The description is public: an anonymous client reads it.
  const doc = await new LevelGitClient({ url: base }).openapi();
  expect(doc.openapi).toBe('3.1.0');
  checked = openApiFetch(doc as any);
  store = new LevelGitClient({ url: base, apiKey: ADMIN, fetch: checked.fetch });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await engine.close();
  await db.close();
  dirs.cleanup();
});

describe('level-git/client against a real server', () => {
  let repo: RemoteRepo;
  let first: string;

  it('creates, finds and lists repositories; errors carry the server code and status', async () => {
    repo = await store.createRepo({ id: 'team/app', defaultBranch: 'main' });
    expect(repo.id).toBe('team/app');
    expect(repo.defaultBranch).toBe('main');
    expect((await store.findOne({ id: 'team/app' }))?.info?.name).toBe('team/app');
    expect(await store.findOne({ id: 'team/none' })).toBeNull();
    expect((await store.listRepos()).repos.map((r) => r.name)).toContain('team/app');
    expect((await repo.describe()).defaultBranch).toBe('main');

    const exists = await rejection(store.createRepo({ id: 'team/app' }));
    expect([exists.code, exists.status]).toEqual(['ERR_REPO_EXISTS', 409]);
    const bad = await rejection(store.createRepo({ id: '../x' }));
    expect([bad.code, bad.status]).toEqual(['ERR_INVALID_REPO_NAME', 400]);
    const anon = await rejection(new LevelGitClient({ url: base, fetch: checked.fetch }).listRepos());
    expect([anon.code, anon.status]).toEqual(['ERR_UNAUTHORIZED', 401]);
  });

  it('commits text and bytes, reads them back, lists trees, history and branches', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255, 254]);
    const c = await repo.createCommit({
      branch: 'main',
      message: 'first',
      author: AUTHOR,
      changes: [
        { path: 'README.md', content: 'hello\n' },
        { path: 'img/logo.png', content: png },
        { path: 'bin/run', content: '#!/bin/sh\n', mode: '100755' },
      ],
    });
    first = c.sha;
    expect(c).toMatchObject({ branch: 'main', ref: 'refs/heads/main', parents: [], ephemeral: false });
    expect(await repo.getFile({ path: 'img/logo.png' })).toEqual(png);
    expect(await repo.getFileText({ path: 'README.md', ref: first })).toBe('hello\n');
    const head = await store.transport.request('HEAD', `/repos/team%2Fapp/files/README.md`);
    expect(head.headers.get('etag')).toMatch(/^"[0-9a-f]{40}"$/);
    expect((await repo.listFiles({ recursive: true })).filter((e) => e.type === 'blob').map((e) => [e.path, e.mode])).toEqual([
      ['README.md', '100644'],
      ['bin/run', '100755'],
      ['img/logo.png', '100644'],
    ]);
    expect((await repo.listFiles({ path: 'img' })).map((e) => e.path)).toEqual(['img/logo.png']);
    expect((await repo.listCommits({ limit: 5 })).commits.map((x) => x.sha)).toEqual([first]);
    expect(await repo.listBranches()).toEqual([{ name: 'main', sha: first }]);
    const missing = await rejection(repo.getFile({ path: 'nope.txt' }));
    expect(missing.status).toBe(404);
    const stale = await rejection(
      repo.createCommit({ branch: 'main', message: 'x', author: AUTHOR, changes: [{ path: 'a', content: 'a' }], expectedHeadSha: '0'.repeat(39) + '1' }),
    );
    expect(stale.status).toBe(409);
  });

  it('branches, compares, diffs, merges, reverts and moves refs', async () => {
    await repo.createBranch({ name: 'feature', from: 'main' });
    const f = await repo.createCommit({ branch: 'feature', message: 'feature', author: AUTHOR, changes: [{ path: 'README.md', content: 'hello\nworld\n' }] });
    const cmp = await repo.compare({ base: 'main', head: 'feature' });
    expect(cmp).toMatchObject({ mergeBase: first, ahead: 1, behind: 0 });
    expect(cmp.files.map((x) => [x.path, x.status, x.additions])).toEqual([['README.md', 'modified', 1]]);
    expect((await repo.diff({ base: 'main', head: 'feature' })).files).toHaveLength(1);
    expect(await repo.diffText({ base: 'main', head: 'feature' })).toContain('+world\n');
    expect(await repo.diffText({ base: 'main', head: 'feature', compare: true })).toContain('diff --git a/README.md b/README.md');
    expect((await repo.commitDiff({ sha: f.sha })).files[0]!.path).toBe('README.md');

    expect(await repo.merge({ base: 'main', head: 'feature', dryRun: true })).toMatchObject({ mergeable: true, conflicts: [] });
    const m = await repo.merge({ base: 'main', head: 'feature', strategy: 'merge', message: 'merge feature', author: AUTHOR });
    expect(m).toMatchObject({ strategy: 'merge', fastForward: false });
    const r = await repo.revert({ branch: 'main', commit: f.sha, author: AUTHOR });
    expect(await repo.getFileText({ path: 'README.md', ref: r.sha })).toBe('hello\n');

    // A conflict: both sides change the same line.
    await repo.createBranch({ name: 'other', from: first });
    await repo.createCommit({ branch: 'other', message: 'o', author: AUTHOR, changes: [{ path: 'README.md', content: 'bye\n' }] });
    await repo.createCommit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'README.md', content: 'hi\n' }] });
    const conflict = await rejection(repo.merge({ base: 'main', head: 'other' }));
    expect(conflict.code).toBe('ERR_MERGE_CONFLICT');
    expect(conflict.details.conflicts).toEqual([{ path: 'README.md', kind: 'content' }]);

    const updates = await repo.updateRefs({ updates: [{ ref: 'refs/heads/pinned', oldSha: '0'.repeat(40), newSha: first }] });
    expect(updates).toEqual([{ ref: 'refs/heads/pinned', space: 'regular', oldSha: '0'.repeat(40), newSha: first }]);
    await repo.deleteBranch({ name: 'pinned', expectedSha: first });
    expect((await repo.listBranches()).map((b) => b.name)).toEqual(['feature', 'main', 'other']);
  });

  it('mints remote URLs that stock git uses, promotes a sandbox branch, and revokes tokens', async () => {
    const home = dirs.make();
    const git = gitRunner(home);
    const writeUrl = await repo.getRemoteURL({ permissions: ['git:write'], ttl: 600 });
    const work = join(home, 'work');
    await git.ok(['clone', '--depth', '1', writeUrl, work]);
    expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('hi\n');

    const sandboxUrl = await repo.getEphemeralRemoteURL({ ttl: 600 });
    writeFileSync(join(work, 'agent.txt'), 'done\n');
    await git.ok(['add', '.'], work);
    await git.ok(['commit', '-m', 'agent turn'], work);
    await git.ok(['push', sandboxUrl, 'HEAD:refs/heads/agent-1'], work);
    expect((await repo.listBranches({ ephemeral: true })).map((b) => b.name)).toEqual(['agent-1']);
    const promoted = await repo.promoteEphemeralBranch({ baseBranch: 'agent-1', targetBranch: 'agent-work' });
    expect(await repo.getFileText({ path: 'agent.txt', ref: promoted.sha })).toBe('done\n');

    // A read token: reads work, writes are 403, and after revocation everything is 401.
    const minted = await repo.createRemoteURL({ ttl: 600 });
    const reader = new LevelGitClient({ url: base, token: minted.token, fetch: checked.fetch }).repo('team/app');
    expect(await reader.getFileText({ path: 'README.md' })).toBe('hi\n');
    const denied = await rejection(reader.createBranch({ name: 'x' }));
    expect([denied.code, denied.status]).toEqual(['ERR_FORBIDDEN', 403]);
    await store.revokeToken({ token: minted.token });
    const revoked = await rejection(reader.listBranches());
    expect(revoked.status).toBe(401);
  });

  it('forks, archives, tags, imports, mirrors out and delivers webhooks', async () => {
    const seen: { event: string; body: any }[] = [];
    const receiver = (await import('node:http')).createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        seen.push({ event: String(req.headers['x-levelgit-event']), body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const hook = await repo.createWebhook({ url: hookUrl, events: ['push', 'ref.updated'], secret: 'a-webhook-secret' });
      expect((await repo.listWebhooks()).map((h) => [h.id, h.url])).toEqual([[hook.id, hookUrl]]);
      expect(JSON.stringify(await repo.listWebhooks())).not.toContain('a-webhook-secret');

      const tip = await repo.createCommit({
        branch: 'main',
        message: 'for the archive',
        author: AUTHOR,
        changes: [{ path: 'docs/guide.md', content: 'guide\n' }],
      });
      const tag = await repo.createTag({ name: 'v1.0.0', target: tip.sha, message: 'first release', tagger: AUTHOR });
      expect(tag.name).toBe('v1.0.0');
      expect((await repo.listTags()).map((t) => t.name)).toEqual(['v1.0.0']);

      const tar = await repo.archive({ ref: 'v1.0.0', format: 'tar', prefix: 'app/' });
      expect(new TextDecoder().decode(tar)).toContain('app/docs/guide.md');
      const zip = await repo.archive({ ref: 'main', format: 'zip', path: 'docs' });
      expect([zip[0], zip[1]]).toEqual([0x50, 0x4b]);
      const stream = await repo.archiveStream({ format: 'tar.gz' });
      let gz = 0;
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) gz += chunk.length;
      expect(gz).toBeGreaterThan(20);

      // An engine-wide hook hears of every repository created (the fork below), with its source.
      const wide = await store.createWebhook({ url: hookUrl, events: ['repo.created'], secret: 'a-webhook-secret' });
      expect((await store.listWebhooks()).map((h) => [h.id, h.events])).toEqual([[wide.id, ['repo.created']]]);
      const fork = await repo.fork({ name: 'team/app-fork', branches: ['main'] });

      expect((await fork.listBranches()).map((b) => b.name)).toEqual(['main']);
      expect(await fork.getFileText({ path: 'docs/guide.md' })).toBe('guide\n');

      // Import from a Git URL (this same server), then mirror out to another repository of it.
      const source = await repo.createRemoteURL({ ttl: 600 });
      const imported = await store.createRepo({ id: 'team/imported', source: { url: `${base}/team/app.git`, username: 't', password: source.token } });
      expect((await imported.listBranches()).find((b) => b.name === 'main')?.sha).toBe(tip.sha);
      const mirror = await store.createRepo({ id: 'team/mirror' });
      const target = await mirror.createRemoteURL({ permissions: ['git:write'], ttl: 600 });
      const updates = await repo.pushTo({ url: `${base}/team/mirror.git`, refs: ['refs/heads/main'], username: 't', password: target.token });
      expect(updates).toEqual([{ ref: 'refs/heads/main', status: 'ok' }]);
      expect((await mirror.listBranches()).map((b) => [b.name, b.sha])).toEqual([['main', tip.sha]]);
      const created = () => seen.filter((s) => s.event === 'repo.created').map((s) => s.body);
      for (let i = 0; i < 100 && created().length < 3; i++) await new Promise((r) => setTimeout(r, 100));
      expect(created().find((b) => b.repository === 'team/app-fork')).toMatchObject({ forkOf: 'team/app' });
      expect(
        created()
          .map((b) => b.repository)
          .sort(),
      ).toEqual(['team/app-fork', 'team/imported', 'team/mirror']);
      expect((await store.listDeliveries({ id: wide.id })).some((d) => d.event === 'repo.created' && d.status === 200)).toBe(true);
      await store.deleteWebhook({ id: wide.id });
      expect(await store.listWebhooks()).toEqual([]);

      await repo.deleteTag({ name: 'v1.0.0' });
      expect(await repo.listTags()).toEqual([]);
      for (let i = 0; i < 100 && !seen.some((s) => s.event === 'push' || s.event === 'ref.updated'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(seen.length).toBeGreaterThan(0);
      const deliveries = await repo.listDeliveries({ id: hook.id });
      expect(deliveries.some((d) => d.status === 200)).toBe(true);
      await repo.deleteWebhook({ id: hook.id });
      expect(await repo.listWebhooks()).toEqual([]);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  it('deletes a repository', async () => {
    const tmp = await store.createRepo({ id: 'scratch' });
    await tmp.delete();
    expect(await store.findOne({ id: 'scratch' })).toBeNull();
    await store.createRepo({ id: 'scratch2' });
    await store.deleteRepo({ id: 'scratch2' });
    expect(await store.findOne({ id: 'scratch2' })).toBeNull();
  });

  it('every answer matched openapi.json, and every operation was exercised', () => {
    expect(checked.problems).toEqual([]);
    const missed = checked.operations.filter((k) => !checked.covered.has(k) && k !== 'GET /api/v1/openapi.json');
    expect(missed).toEqual([]);
  });
});

describe('the README', () => {
  it('runs the SDK snippet of "From another program" as written against a server', async () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### From another program'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const src = pathToFileURL(join(__dirname, '..', '..', 'src', 'client', 'index.ts')).href;
    const dir = dirs.make();
    const file = join(dir, 'sdk-snippet.ts');
    writeFileSync(
      file,
      code
        .replace(`from 'level-git/client'`, `from '${src}'`)
        .replace(`'http://127.0.0.1:8080'`, JSON.stringify(base))
        .replace('process.env.KEY', JSON.stringify(ADMIN)) + '\nexport { sha, sandboxUrl, readUrl, files };\n',
    );
    const mod = await import(pathToFileURL(file).href);
    expect(mod.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(mod.sandboxUrl).toContain('agents/app-1+ephemeral.git');
    expect(mod.files.map((f: { path: string }) => f.path)).toEqual(['index.html', 'logo.png']);
  });
});
