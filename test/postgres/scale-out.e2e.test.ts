/**
 * Several `level-git serve --db postgres://...` processes over one PostgreSQL database, driven
 * with the real git binary: they behave as one server. A remote URL minted by one process works
 * on the other (the token secret lives in the database) and a revocation through one is seen by
 * the other; a clone through one right after a push through the other gets the new head; a
 * process killed with SIGKILL in the middle of a push loses no acknowledged push and leaves a
 * repository that a fresh clone checks clean (`git fsck --strict`); the database going away gives
 * 503 ERR_STORAGE without crashing anyone, and service comes back by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PostgresLevel } from '../../src/postgres/index.js';
import { startCli, git, type ServeProcess } from '../cli/cli-helpers.js';
import { git as gitSync } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { findPostgres, havePostgres, startPostgres, type PostgresServer } from './server.js';

const ADMIN = 'scale-out-admin-key-0123456789';

describe.skipIf(!havePostgres())('serve --db: several processes over one PostgreSQL database', () => {
  let pg: PostgresServer;
  let database: string;
  let a: ServeProcess;
  let b: ServeProcess;
  let tmp: string;
  let cleanup: (() => void) | undefined;
  let n = 0;

  const start = () => startCli(['--db', database, '--port', '0', '--sweep-interval', '0'], { LEVEL_GIT_ADMIN_KEY: ADMIN }, 60_000);

  async function api(server: ServeProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': ADMIN }) {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text };
  }

  /** A read-write remote URL minted by `minter`, pointed at `via`. */
  async function remote(minter: ServeProcess, via: ServeProcess, repo: string): Promise<{ url: string; token: string }> {
    const r = await api(minter, 'POST', `/repos/${repo}/remote-url`, { permissions: ['git:read', 'git:write'], ttl: 3600 });
    expect(r.status, r.text).toBe(200);
    const url = new URL(r.json.url as string);
    const target = new URL(via.url);
    url.host = target.host;
    return { url: url.toString(), token: r.json.token as string };
  }

  /** A fresh local repository with one commit of `files` random files of `bytes` each. */
  function localRepo(files: number, bytes: number): string {
    const dir = join(tmp, `local-${n++}`);
    mkdirSync(dir, { recursive: true });
    gitSync(dir, ['init', '-q', '-b', 'main']);
    addFiles(dir, files, bytes);
    return dir;
  }

  function addFiles(dir: string, files: number, bytes: number): string {
    const sub = `d${n++}`;
    mkdirSync(join(dir, sub), { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(join(dir, sub, `f${i}.bin`), randomBytes(bytes));
    gitSync(dir, ['add', '-A']);
    gitSync(dir, ['commit', '-q', '-m', `add ${sub}`]);
    return gitSync(dir, ['rev-parse', 'HEAD']).toString().trim();
  }

  /** A fresh clone through `url`; checks it with `git fsck --strict`; returns its HEAD. */
  async function cloneAndCheck(url: string, depth?: number): Promise<string> {
    const dir = join(tmp, `clone-${n++}`);
    const r = await git(['clone', '-q', ...(depth ? ['--depth', String(depth)] : []), url, dir], { home: tmp });
    expect(r.code, r.stderr).toBe(0);
    if (!depth) {
      const f = await git(['fsck', '--strict', '--no-dangling'], { cwd: dir, home: tmp });
      expect(f.code, f.stderr + f.stdout).toBe(0);
    }
    return (await git(['rev-parse', 'HEAD'], { cwd: dir, home: tmp })).stdout.trim();
  }

  beforeAll(async () => {
    ({ dir: tmp, cleanup } = tempDir('level-git-scale-'));
    pg = await startPostgres(findPostgres() as never);
    database = pg.createDatabase('scale');
    // Both start at once: the first start of a database creates its table and token secret; they must agree.
    [a, b] = await Promise.all([start(), start()]);
  }, 150_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    pg?.stop();
    cleanup?.();
  });

  it('a remote URL minted by one process works on the other; a revocation through one is refused by the other', async () => {
    expect((await api(a, 'POST', '/repos', { name: 'tok' })).status).toBe(201);
    const dir = localRepo(3, 100);
    const { url, token } = await remote(a, b, 'tok');
    const push = await git(['push', '-q', url, 'main'], { cwd: dir, home: tmp });
    expect(push.code, push.stderr).toBe(0);
    expect((await api(b, 'GET', '/repos/tok', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);

    expect((await api(a, 'POST', '/tokens/revoke', { token })).status).toBe(204);
    expect((await api(b, 'GET', '/repos/tok', undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    const ls = await git(['ls-remote', url], { home: tmp });
    expect(ls.code).not.toBe(0);
    // A token minted by the other process still works there.
    const fresh = await remote(b, b, 'tok');
    expect((await git(['ls-remote', fresh.url], { home: tmp })).code).toBe(0);
  }, 60_000);

  it('a clone through one process right after a push through the other gets the new head', async () => {
    expect((await api(b, 'POST', '/repos', { name: 'fresh' })).status).toBe(201);
    const dir = localRepo(20, 200);
    const viaA = (await remote(a, a, 'fresh')).url;
    const viaB = (await remote(a, b, 'fresh')).url;
    expect((await git(['push', '-q', viaA, 'main'], { cwd: dir, home: tmp })).code).toBe(0);
    for (let round = 0; round < 3; round++) {
      // B has cloned (and cached a pack of) the previous head before each push.
      await cloneAndCheck(viaB, 1);
      const head = addFiles(dir, 5, 200);
      const push = await git(['push', '-q', viaA, 'main'], { cwd: dir, home: tmp });
      expect(push.code, push.stderr).toBe(0);
      expect(await cloneAndCheck(viaB, 1)).toBe(head);
      expect(await cloneAndCheck(viaB)).toBe(head);
    }
  }, 120_000);

  it('kill -9 of a process during a push: no acknowledged push lost, a fresh clone is fsck --strict clean', async () => {
    expect((await api(a, 'POST', '/repos', { name: 'kill' })).status).toBe(201);
    const dir = localRepo(50, 1000);
    const viaA = (await remote(b, a, 'kill')).url;
    const viaB = (await remote(b, b, 'kill')).url;
    const acked = (await git(['push', '-q', viaA, 'main'], { cwd: dir, home: tmp })).code === 0 ? gitSync(dir, ['rev-parse', 'HEAD']).toString().trim() : '';
    expect(acked).not.toBe('');
    // A push big enough to be in flight when the process dies (random bytes do not compress).
    const big = addFiles(dir, 250, 40_000);
    const pushing = git(['push', '-q', viaA, 'main'], { cwd: dir, home: tmp });
    // Killed once the push is being received: its write is recorded in the database ('L' id 'w' ...).
    const client = new PostgresLevel({ connectionString: database, poolSize: 1 });
    await client.open();
    try {
      const until = Date.now() + 60_000;
      for (;;) {
        const { rows } = await client.query(
          `SELECT count(*)::int AS n FROM level_git WHERE k >= '\\x4c'::bytea AND k < '\\x4d'::bytea AND get_byte(k, 5) = 119`,
        );
        if (rows[0].n > 0 || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await client.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    a.child.kill('SIGKILL');
    const killed = await pushing;
    expect(killed.code).not.toBe(0); // never acknowledged
    const tip = (await git(['ls-remote', viaB, 'refs/heads/main'], { home: tmp })).stdout.split('\t')[0];
    expect(tip).toBe(acked);
    expect(await cloneAndCheck(viaB)).toBe(acked);
    // The other process takes the same push, and the result is clean too.
    const again = await git(['push', '-q', viaB, 'main'], { cwd: dir, home: tmp });
    expect(again.code, again.stderr).toBe(0);
    expect(await cloneAndCheck(viaB)).toBe(big);
    a = await start();
    expect(await cloneAndCheck((await remote(b, a, 'kill')).url)).toBe(big);
  }, 180_000);

  it('the database stopped: 503 ERR_STORAGE, no process exits; restarted: service resumes by itself', async () => {
    expect((await api(a, 'POST', '/repos', { name: 'outage' })).status).toBe(201);
    const dir = localRepo(5, 100);
    const viaA = (await remote(a, a, 'outage')).url;
    expect((await git(['push', '-q', viaA, 'main'], { cwd: dir, home: tmp })).code).toBe(0);

    pg.halt();
    try {
      for (const server of [a, b]) {
        const r = await api(server, 'GET', '/repos');
        expect(r.status, r.text).toBe(503);
        expect(r.json?.error?.code).toBe('ERR_STORAGE');
      }
      expect((await git(['ls-remote', viaA], { home: tmp })).code).not.toBe(0);
      const commit = await api(b, 'POST', '/repos/outage/commits', {
        branch: 'main',
        message: 'during the outage',
        changes: [{ path: 'x', content: 'x' }],
      });
      expect(commit.status).toBe(503);
      expect(a.child.exitCode).toBeNull();
      expect(b.child.exitCode).toBeNull();
    } finally {
      pg.restart();
    }
    const until = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < until && status !== 200) {
      status = (await api(a, 'GET', '/repos').catch(() => ({ status: 0 }))).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    const head = addFiles(dir, 2, 100);
    expect((await git(['push', '-q', viaA, 'main'], { cwd: dir, home: tmp })).code).toBe(0);
    expect(await cloneAndCheck((await remote(a, b, 'outage')).url)).toBe(head);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  }, 120_000);
});
