/**
 * End to end through the CLI-started server: `level-git serve --port 0 --data <tmp>` in a child
 * process, driven with fetch() and the real git binary.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { startCli, runCli, git, type ServeProcess } from './cli-helpers.js';
import { tempDir } from '../helpers/tmp.js';

const AUTHOR = { name: 'Ada', email: 'ada@example.com' };

let tmp: string;
let cleanupTmp: (() => void) | undefined;
let data: string;
let home: string;
let server: ServeProcess;
let adminKey: string;
let pubFile: string;
let privateKey: KeyObject;
let counter = 0;

const serveArgs = () => ['--port', '0', '--data', data, '--public-key', pubFile, '--sweep-interval', '1'];

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': adminKey }) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

async function remote(repo: string, opts: Record<string, unknown> = {}): Promise<string> {
  const r = await api('POST', `/repos/${encodeURIComponent(repo)}/remote-url`, opts);
  expect(r.status).toBe(200);
  return r.json.url as string;
}

function dir(name: string): string {
  return join(tmp, `${name}-${++counter}`);
}

async function ok(args: string[], cwd?: string, env?: Record<string, string>): Promise<string> {
  const r = await git(args, { cwd, home, env });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout.trim();
}

async function lsRemote(url: string): Promise<Map<string, string>> {
  const out = await ok(['ls-remote', url]);
  const m = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [sha, ref] = line.split('\t');
    m.set(ref!, sha!);
  }
  return m;
}

async function commitFile(cwd: string, path: string, content: string | Buffer, message: string): Promise<string> {
  mkdirSync(join(cwd, path, '..'), { recursive: true });
  writeFileSync(join(cwd, path), content);
  await ok(['add', '-A'], cwd);
  await ok(['commit', '-q', '-m', message], cwd);
  return ok(['rev-parse', 'HEAD'], cwd);
}

beforeAll(async () => {
  ({ dir: tmp, cleanup: cleanupTmp } = tempDir('level-git-cli-'));
  data = join(tmp, 'data');
  home = join(tmp, 'home');
  mkdirSync(home);
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  privateKey = pair.privateKey;
  pubFile = join(tmp, 'minter.pub.pem');
  writeFileSync(pubFile, pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  server = await startCli(serveArgs());
  const m = /admin key written to (\S+)/.exec(server.output());
  expect(m, server.output()).not.toBeNull();
  expect(m![1]).toBe(join(data, 'admin-key'));
  adminKey = readFileSync(m![1]!, 'utf8').trim();
  expect(server.output()).not.toContain(adminKey);
  expect(existsSync(join(data, 'secret'))).toBe(true);
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  cleanupTmp?.();
});

describe('level-git serve', () => {
  it('answers the API statuses over HTTP', async () => {
    expect((await api('POST', '/repos', { name: 'app' })).status).toBe(201);
    expect((await api('POST', '/repos', { name: 'app' })).status).toBe(409);
    expect((await api('POST', '/repos', { name: 'bad name' })).status).toBe(400);
    expect((await api('POST', '/repos', '{oops')).status).toBe(400);
    expect((await api('GET', '/repos/app')).status).toBe(200);
    expect((await api('GET', '/repos/missing')).status).toBe(404);
    expect((await api('GET', '/repos', undefined, {})).status).toBe(401);
    expect((await api('GET', '/repos')).json.repos.map((r: any) => r.name)).toContain('app');
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    // Over the 32 MiB default body limit: 413 (declared length, and streamed without one).
    const big = await api('POST', '/repos/app/commits', 'x'.repeat(33 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('ERR_LIMIT_EXCEEDED');
    let sent = 0;
    const chunks = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(new Uint8Array(1024 * 1024).fill(32));
        else controller.close();
      },
    });
    const streamed = await fetch(`${server.url}/api/v1/repos/app/commits`, {
      method: 'POST',
      headers: { 'x-api-key': adminKey },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('has operator commands create-repo and remote-url', async () => {
    const created = await runCli(['create-repo', 'team/tools', '--url', server.url, '--data', data]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'team/tools', defaultBranch: 'main' });
    const again = await runCli(['create-repo', 'team/tools', '--url', server.url, '--admin-key', adminKey]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('409');
    const url = await runCli(['remote-url', 'team/tools', '--write', '--ttl', '600', '--url', server.url], { LEVEL_GIT_ADMIN_KEY: adminKey });
    expect(url.code, url.stderr).toBe(0);
    expect(url.stdout.trim()).toMatch(/^http:\/\/t:[\w.-]+@127\.0\.0\.1:\d+\/team\/tools\.git$/);
    // Push through the printed URL: an empty repository takes a first push.
    const w = dir('tools');
    await ok(['init', '-q', '-b', 'main', w]);
    await commitFile(w, 'x.txt', 'x\n', 'first');
    await ok(['push', '-q', url.stdout.trim(), 'main'], w);
    const bad = await runCli(['frobnicate']);
    expect(bad.code).toBe(2);
  });

  it('writes API commits (text, base64, deletes) that git clones byte for byte', async () => {
    await api('POST', '/repos', { name: 'team/bytes' });
    const bin = randomBytes(3000);
    const c1 = await api('POST', '/repos/team/bytes/commits', {
      branch: 'main',
      message: 'add files',
      author: AUTHOR,
      changes: [
        { path: 'README.md', content: 'héllo wörld\n' },
        { path: 'assets/blob.bin', content: bin.toString('base64'), encoding: 'base64' },
        { path: 'assets/gone.txt', content: 'soon gone' },
        { path: 'tool.sh', content: '#!/bin/sh\necho hi\n', mode: '100755' },
      ],
    });
    expect(c1.status).toBe(201);
    const c2 = await api('POST', '/repos/team%2Fbytes/commits', {
      branch: 'main',
      message: 'delete one',
      author: AUTHOR,
      changes: [{ path: 'assets/gone.txt', delete: true }],
      expectedHeadSha: c1.json.sha,
    });
    expect(c2.status).toBe(201);

    const w = dir('bytes');
    await ok(['clone', '-q', await remote('team/bytes'), w]);
    expect(await ok(['rev-parse', 'HEAD'], w)).toBe(c2.json.sha);
    expect(readFileSync(join(w, 'README.md'), 'utf8')).toBe('héllo wörld\n');
    expect(readFileSync(join(w, 'assets/blob.bin')).equals(bin)).toBe(true);
    expect(existsSync(join(w, 'assets/gone.txt'))).toBe(false);
    expect(await ok(['ls-files', '-s', 'tool.sh'], w)).toMatch(/^100755 /);
    await ok(['fsck', '--strict'], w);
    // The API reads what git sees.
    const f = await fetch(`${server.url}/api/v1/repos/team/bytes/files/assets/blob.bin`, { headers: { 'x-api-key': adminKey } });
    expect(Buffer.from(await f.arrayBuffer()).equals(bin)).toBe(true);
    expect(f.headers.get('etag')).toBe(`"${await ok(['rev-parse', 'HEAD:assets/blob.bin'], w)}"`);

    // A stale expectation: 409 and the branch does not move.
    const stale = await api('POST', '/repos/team/bytes/commits', {
      branch: 'main',
      message: 'x',
      author: AUTHOR,
      changes: [{ path: 'y', content: 'y' }],
      expectedHeadSha: c1.json.sha,
    });
    expect(stale.status).toBe(409);
    expect((await lsRemote(await remote('team/bytes'))).get('refs/heads/main')).toBe(c2.json.sha);
    // Path attacks: 400 and nothing moves.
    for (const path of ['../escape', '.git/hooks/post-checkout', '/abs', 'a/./b']) {
      const r = await api('POST', '/repos/team/bytes/commits', { branch: 'main', message: 'x', author: AUTHOR, changes: [{ path, content: 'evil' }] });
      expect(r.status, path).toBe(400);
    }
    expect((await lsRemote(await remote('team/bytes'))).get('refs/heads/main')).toBe(c2.json.sha);
  });

  it('refuses missing, read-only, wrong-repository, tampered and expired credentials', async () => {
    await api('POST', '/repos', { name: 'secure' });
    await api('POST', '/repos', { name: 'elsewhere' });
    await api('POST', '/repos/secure/commits', { branch: 'main', message: 'init', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });

    const anon = await fetch(`${server.url}/secure.git/info/refs?service=git-upload-pack`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe('Basic realm="level-git"');
    const plain = await git(['ls-remote', `${server.url}/secure.git`], { home });
    expect(plain.code).not.toBe(0);

    // Read-only: clone works, push is refused with 403.
    const readUrl = await remote('secure', { permissions: ['git:read'] });
    const w = dir('secure');
    await ok(['clone', '-q', readUrl, w]);
    await commitFile(w, 'b', 'b', 'second');
    const push = await git(['push', 'origin', 'main'], { cwd: w, home });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/403|read-only/);

    // A token for another repository: 403.
    const otherUrl = await remote('elsewhere', { permissions: ['git:write'] });
    const token = new URL(otherUrl).password;
    const wrong = await git(['ls-remote', `http://t:${token}@${new URL(server.url).host}/secure.git`], { home });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/403/);

    // Tampered: git reports an authentication failure (401).
    const [h, p, s] = new URL(readUrl).password.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.scope = 'git:read git:write';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    const tampered = await git(['ls-remote', `http://t:${forged}@${new URL(server.url).host}/secure.git`], { home });
    expect(tampered.code).not.toBe(0);
    expect(tampered.stderr).toMatch(/Authentication failed/);
    const apiTampered = await api('GET', '/repos/secure', undefined, { authorization: `Bearer ${forged}` });
    expect(apiTampered.status).toBe(401);

    // Expired (minted outside the engine with the configured ES256 key).
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ repo: 'secure', scope: 'git:read' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .setJti('expired-1')
      .sign(privateKey);
    const late = await git(['ls-remote', `http://t:${expired}@${new URL(server.url).host}/secure.git`], { home });
    expect(late.code).not.toBe(0);
    expect(late.stderr).toMatch(/Authentication failed/);
  });

  it('accepts a token minted outside the engine with an ES256 private key', async () => {
    await api('POST', '/repos', { name: 'external' });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ repo: 'external', scope: 'git:read git:write' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti('external-1')
      .sign(privateKey);
    const url = `http://t:${token}@${new URL(server.url).host}/external.git`;
    const w = dir('external');
    await ok(['init', '-q', '-b', 'main', w]);
    const sha = await commitFile(w, 'e.txt', 'external\n', 'from outside');
    await ok(['push', '-q', url, 'main'], w);
    expect((await lsRemote(url)).get('refs/heads/main')).toBe(sha);
    const r = await api('GET', '/repos/external/files/e.txt', undefined, { authorization: `Bearer ${token}` });
    expect(r.text).toBe('external\n');
  });

  it('runs the ephemeral flow: sandbox push, invisible to regular clones, promote, clone', async () => {
    await api('POST', '/repos', { name: 'team/agent' });
    const base = await api('POST', '/repos/team/agent/commits', {
      branch: 'main',
      message: 'base',
      author: AUTHOR,
      changes: [{ path: 'base.txt', content: 'base' }],
    });
    const regular = await remote('team/agent', { permissions: ['git:read', 'git:write'] });
    const ephemeral = await remote('team/agent', { permissions: ['git:read', 'git:write'], ephemeral: true });
    expect(ephemeral).toMatch(/\/team\/agent\+ephemeral\.git$/);

    const w = dir('agent');
    await ok(['clone', '-q', '--depth', '1', '--single-branch', ephemeral, w]);
    await ok(['checkout', '-q', '-b', 'sandbox'], w);
    const tip = await commitFile(w, 'work.txt', 'agent work\n', 'agent step');
    await ok(['push', '-q', 'origin', 'sandbox'], w);

    expect((await lsRemote(ephemeral)).get('refs/heads/sandbox')).toBe(tip);
    expect((await lsRemote(regular)).has('refs/heads/sandbox')).toBe(false);
    expect((await api('GET', '/repos/team/agent/branches')).json.branches.map((b: any) => b.name)).toEqual(['main']);
    expect((await api('GET', '/repos/team/agent/branches?ephemeral=true')).json.branches).toEqual([{ name: 'sandbox', sha: tip }]);

    const stale = await api('POST', '/repos/team/agent/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: tip });
    expect(stale.status).toBe(409);
    const p = await api('POST', '/repos/team/agent/ephemeral/promote', { baseBranch: 'sandbox', targetBranch: 'main', expectedTargetSha: base.json.sha });
    expect(p.status).toBe(200);
    expect(p.json).toEqual({ targetBranch: 'main', sha: tip });

    const c = dir('promoted');
    await ok(['clone', '-q', '-b', 'main', regular, c]);
    expect(await ok(['rev-parse', 'HEAD'], c)).toBe(tip);
    expect(readFileSync(join(c, 'work.txt'), 'utf8')).toBe('agent work\n');
    expect((await lsRemote(ephemeral)).has('refs/heads/sandbox')).toBe(false);
  });

  it('sweeps an ephemeral ref past its lifetime', async () => {
    await api('POST', '/repos', { name: 'sweepme' });
    await api('POST', '/repos/sweepme/commits', { branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const ephemeral = await remote('sweepme', { permissions: ['git:read', 'git:write'], ephemeral: true });
    const w = dir('sweep');
    await ok(['clone', '-q', ephemeral, w]);
    const tip = await commitFile(w, 'temp.txt', `temporary ${Date.now()}\n`, 'short-lived');
    await ok(['push', '-q', '-o', 'ttl=1', 'origin', 'HEAD:refs/heads/short'], w);
    expect((await lsRemote(ephemeral)).get('refs/heads/short')).toBe(tip);
    // The commit is readable by sha while the ref lives...
    expect((await api('GET', `/repos/sweepme/files/temp.txt?ref=${tip}`)).status).toBe(200);
    // ...and once the ref expired and the periodic sweep (every second) ran, its objects are gone.
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await api('GET', `/repos/sweepme/files/temp.txt?ref=${tip}`)).status;
      if (status === 404) break;
    }
    expect(status).toBe(404);
    expect((await lsRemote(ephemeral)).has('refs/heads/short')).toBe(false);
    expect((await lsRemote(ephemeral)).has('refs/heads/main')).toBe(true);
  }, 20_000);

  it('enforces a no-force-push policy, for the whole push with --atomic', async () => {
    await api('POST', '/repos', { name: 'guarded' });
    const first = await api('POST', '/repos/guarded/commits', { branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'a', content: '1' }] });
    const url = await remote('guarded', { permissions: ['git:read', 'git:write'], refs: [['refs/heads/main', ['no-force-push']]] });
    const w = dir('guarded');
    await ok(['clone', '-q', url, w]);
    // A fast-forward is fine.
    const ff = await commitFile(w, 'b', '2', 'two');
    await ok(['push', '-q', 'origin', 'main'], w);
    // Rewrite history and force-push: refused.
    await ok(['reset', '-q', '--hard', first.json.sha], w);
    await commitFile(w, 'c', '3', 'rewritten');
    const forced = await git(['push', '--force', 'origin', 'main'], { cwd: w, home });
    expect(forced.code).not.toBe(0);
    expect(forced.stderr).toMatch(/non-fast-forward|not allowed/);
    // With --atomic, an allowed new branch in the same push is refused too.
    const atomic = await git(['push', '--atomic', '--force', 'origin', 'main', 'HEAD:refs/heads/side'], { cwd: w, home });
    expect(atomic.code).not.toBe(0);
    const refs = await lsRemote(url);
    expect(refs.get('refs/heads/main')).toBe(ff);
    expect(refs.has('refs/heads/side')).toBe(false);
    // Without --atomic the allowed branch goes through and main still does not move.
    await git(['push', '--force', 'origin', 'main', 'HEAD:refs/heads/side'], { cwd: w, home });
    const after = await lsRemote(url);
    expect(after.get('refs/heads/main')).toBe(ff);
    expect(after.has('refs/heads/side')).toBe(true);
  });

  it('keeps data across a restart (clean shutdown on SIGTERM)', async () => {
    await api('POST', '/repos', { name: 'durable' });
    const c = await api('POST', '/repos/durable/commits', {
      branch: 'main',
      message: 'keep me',
      author: AUTHOR,
      changes: [{ path: 'k.txt', content: 'kept' }],
      idempotencyKey: 'restart-1',
    });
    expect(c.status).toBe(201);
    const url = await remote('durable', { permissions: ['git:read', 'git:write'], ttl: 3600 });

    // A request in flight when SIGTERM arrives still completes.
    const body = JSON.stringify({ branch: 'main', message: 'in flight', author: AUTHOR, changes: [{ path: 'late.txt', content: 'late' }] });
    let sent!: () => void;
    let rest!: () => void;
    const headersSent = new Promise<void>((r) => (sent = r));
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/api/v1/repos/durable/commits`, {
        method: 'POST',
        headers: { 'x-api-key': adminKey, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10), () => sent());
      rest = () => req.end(body.slice(10));
    });
    // The headers are in the server's socket; a /healthz answered on another connection after
    // that means the server has accepted the first one (a fixed pause could come too early on a
    // loaded machine). The rest of the body follows the signal.
    await headersSent;
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const stopped = server.stop('SIGTERM');
    setTimeout(rest, 500);
    const late = await inFlight;
    expect(late.status, late.text).toBe(201);
    const code = await stopped;
    expect(code).toBe(0);
    expect(server.output()).toContain('stopped');
    server = await startCli(serveArgs());
    expect(server.output()).not.toContain('admin key');

    // The port changed; the old token (same secret) still works.
    const moved = new URL(url);
    moved.host = new URL(server.url).host;
    const w = dir('durable');
    await ok(['clone', '-q', moved.toString(), w]);
    expect(await ok(['rev-parse', 'HEAD'], w)).toBe(JSON.parse(late.text).sha);
    expect(readFileSync(join(w, 'k.txt'), 'utf8')).toBe('kept');
    expect(readFileSync(join(w, 'late.txt'), 'utf8')).toBe('late');
    // The idempotency record survived too: the retry returns the first commit.
    const retry = await api('POST', '/repos/durable/commits', {
      branch: 'main',
      message: 'keep me',
      author: AUTHOR,
      changes: [{ path: 'k.txt', content: 'kept' }],
      idempotencyKey: 'restart-1',
    });
    expect(retry.status).toBe(201);
    expect(retry.json.sha).toBe(c.json.sha);
    expect((await api('GET', '/repos/durable/commits')).json.commits).toHaveLength(2);
  }, 40_000);

  it('answers 404 for a deleted repository', async () => {
    await api('POST', '/repos', { name: 'doomed' });
    await api('POST', '/repos/doomed/commits', { branch: 'main', message: 'x', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
    const url = await remote('doomed');
    await lsRemote(url);
    expect((await api('DELETE', '/repos/doomed')).status).toBe(204);
    expect((await api('GET', '/repos/doomed')).status).toBe(404);
    expect((await api('GET', '/repos/doomed/files/a')).status).toBe(404);
    const info = await fetch(`${url.replace(/\/\/t:[^@]+@/, '//')}/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${new URL(url).password}` },
    });
    expect(info.status).toBe(404);
    const clone = await git(['clone', '-q', url, dir('doomed')], { home });
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toMatch(/not found|404/);
  });
});
