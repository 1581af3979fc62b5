/**
 * Import (`repo.fetchFrom`, `POST /repos` with `source`) and mirror out (`repo.pushTo`) against
 * C git's `git http-backend`: the imported repository has the source's ref ids and clones into
 * a `git fsck --strict`-clean repository; the mirrored remote has ours. Failures are typed: a
 * 401, a remote that hangs, and private targets refused by default (400 ERR_FORBIDDEN_TARGET).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { enableRemotes, openEngine, type Engine, isLevelGitError } from '../../src/index.js';
import { createApiNodeHandler } from '../../src/http/node-handler.js';
import { createTokenService } from '../../src/access/tokens.js';
import { startHttpBackend } from '../../bench/e2e/servers/http-backend.js';
import { createGitNodeHandler } from '../../src/http/node-handler.js';
import { git, gitText, runGit } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { startServer } from '../http/helpers.js';
import { fetchOutbound, fetchStreamsBodies } from '../../src/remote/http-client.js';

const dirs = tempDirs();
enableRemotes(); // what the Node entry does at load
let backend: Awaited<ReturnType<typeof startHttpBackend>>;
let engine: Engine;
let gitServer: Awaited<ReturnType<typeof startServer>>;
const ADMIN = 'admin-key-0123456789abcdef';

function refsOf(bare: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of gitText(bare, ['for-each-ref', '--format=%(objectname) %(refname)']).split('\n')) {
    if (line === '') continue;
    const [oid, name] = line.split(' ');
    out[name!] = oid!;
  }
  return out;
}

async function listenOn(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  const root = dirs.make('remotes-root-');
  const work = dirs.make('remotes-work-');
  // A source with merges, tags (annotated and light) and a second branch.
  git(work, ['init', '-q', '-b', 'main']);
  for (let i = 0; i < 6; i++) {
    git(work, ['-c', 'core.autocrlf=false', 'commit', '-q', '--allow-empty', '-m', `c${i}`]);
    git(work, ['update-index', '--add', '--cacheinfo', `100644,${gitText(work, ['hash-object', '-w', '--stdin'], `file ${i}\n`)},f${i % 3}.txt`]);
    git(work, ['commit', '-q', '-m', `files ${i}`]);
  }
  git(work, ['tag', '-a', 'v1', '-m', 'release one']);
  git(work, ['tag', 'light', 'HEAD~2']);
  git(work, ['branch', 'side', 'HEAD~3']);
  git(undefined, ['clone', '-q', '--bare', work, join(root, 'src.git')]);
  backend = await startHttpBackend(root, 'git http-backend');
  engine = await openEngine({ db: new MemoryLevel() as never, allowPrivateRemotes: true, remotes: { timeoutMs: 2000, idleTimeoutMs: 2000 } });
  gitServer = await startServer(createGitNodeHandler({ engine }) as never);
}, 60_000);

afterAll(async () => {
  await gitServer?.close();
  await engine?.close();
  await backend?.stop();
  dirs.cleanup();
});

describe('import from a Git URL', () => {
  it('a full import has the source ref ids and clones fsck-clean', async () => {
    const repo = await engine.createRepo('full');
    const r = await repo.fetchFrom(backend.url('src'), { setHead: true });
    expect(r.protocol).toBe(2);
    const source = refsOf(join(backend.root, 'src.git'));
    const ours = Object.fromEntries((await repo.listRefs()).map(([n, v]) => [n, v.oid]));
    expect(ours).toEqual(source);
    expect(r.head).toBe('refs/heads/main');
    const clone = join(dirs.make('clone-'), 'c');
    const c = await runGit(['clone', '-q', '--mirror', gitServer.url + '/full.git', clone]);
    expect(c.code, c.stderr).toBe(0);
    expect(refsOf(clone)).toEqual(source);
    expect((await runGit(['fsck', '--strict'], { cwd: clone })).code).toBe(0);
    // Fetching again: nothing new, refs unchanged.
    const again = await repo.fetchFrom(backend.url('src'));
    expect(again.objects).toBe(0);
  });

  it('a shallow import of one branch stores its tip and clones at depth 1', async () => {
    const repo = await engine.createRepo('shallow');
    const r = await repo.fetchFrom(backend.url('src'), { ref: 'main', depth: 1 });
    const source = refsOf(join(backend.root, 'src.git'));
    expect(r.refs).toEqual([{ ref: 'refs/heads/main', oid: source['refs/heads/main'] }]);
    expect(r.shallow).toEqual([source['refs/heads/main']]);
    expect(r.objects).toBeLessThan(10);
    const clone = join(dirs.make('clone-'), 'c');
    const c = await runGit(['clone', '-q', '--depth', '1', gitServer.url + '/shallow.git', clone]);
    expect(c.code, c.stderr).toBe(0);
    expect(gitText(clone, ['rev-parse', 'HEAD'])).toBe(source['refs/heads/main']);
    expect((await runGit(['fsck'], { cwd: clone })).code).toBe(0);
    // The history's hole is on purpose: a sweep (after a branch moved away) marks around it.
    await repo.commit({
      branch: 'tmp',
      baseBranch: 'main',
      message: 't',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 't', content: 't' }],
    });
    await repo.deleteBranch('tmp');
    const swept = await repo.sweep();
    expect(swept.objects).toBeGreaterThan(0);
    expect(gitText(clone, ['rev-parse', 'HEAD'])).toBe((await repo.getRef('refs/heads/main'))!.oid);
  });

  it('speaks protocol v0 to a server that does not answer v2', async () => {
    // A proxy that drops the Git-Protocol header: http-backend then answers v0.
    const target = new URL(backend.url('src'));
    const proxy = await listenOn((req, res) => {
      const headers = { ...req.headers };
      delete headers['git-protocol'];
      const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (up: IncomingMessage) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      req.pipe(out);
    });
    try {
      const repo = await engine.createRepo('v0');
      const r = await repo.fetchFrom(`${proxy.url}/src.git`, { depth: 2 });
      expect(r.protocol).toBe(0);
      const ours = Object.fromEntries((await repo.listRefs()).map(([n, v]) => [n, v.oid]));
      expect(ours).toEqual(refsOf(join(backend.root, 'src.git')));
    } finally {
      proxy.server.close();
    }
  });

  it('a 401 from the remote is reported clearly, without the password', async () => {
    const s = await listenOn((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
      res.end('no');
    });
    try {
      const repo = await engine.createRepo('auth');
      const err = await repo.fetchFrom(`${s.url}/x.git`, { username: 'u', password: 'sekrit-password' }).catch((e: unknown) => e);
      expect(isLevelGitError(err, 'ERR_REMOTE_AUTH')).toBe(true);
      expect((err as Error).message).toMatch(/401/);
      expect(JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details })).not.toContain('sekrit');
    } finally {
      s.server.close();
    }
  });

  it('a remote that hangs times out', async () => {
    const s = await listenOn(() => undefined); // accepts, never answers
    try {
      const repo = await engine.createRepo('hang');
      const t0 = Date.now();
      const err = await repo.fetchFrom(`${s.url}/x.git`).catch((e: unknown) => e);
      expect(isLevelGitError(err, 'ERR_REMOTE_TIMEOUT')).toBe(true);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      s.server.closeAllConnections();
      s.server.close();
    }
  });

  it('refuses private and loopback targets by default, and other schemes always (API: 400 ERR_FORBIDDEN_TARGET)', async () => {
    const strict = await openEngine({ db: new MemoryLevel() as never });
    try {
      const repo = await strict.createRepo('r');
      for (const url of [
        backend.url('src'),
        'http://localhost:1/x.git',
        'http://10.1.2.3/x.git',
        'http://[::1]:80/x',
        'http://169.254.169.254/latest',
        'http://[::ffff:127.0.0.1]/x',
      ]) {
        const err = await repo.fetchFrom(url).catch((e: unknown) => e);
        expect(isLevelGitError(err, 'ERR_FORBIDDEN_TARGET'), `${url}: ${String(err)}`).toBe(true);
      }
      const scheme = await repo.fetchFrom('file:///etc/passwd').catch((e: unknown) => e);
      expect(isLevelGitError(scheme, 'ERR_FORBIDDEN_TARGET')).toBe(true);
      const api = await startServer(
        createApiNodeHandler({ engine: strict, tokens: createTokenService({ keys: { secret: 'x'.repeat(32) } }), adminKey: ADMIN }) as never,
      );
      try {
        const res = await fetch(`${api.url}/api/v1/repos`, {
          method: 'POST',
          headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'imp', source: { url: backend.url('src'), password: 'pw-never-echoed' } }),
        });
        const text = await res.text();
        expect(res.status).toBe(400);
        expect(JSON.parse(text).error.code).toBe('ERR_FORBIDDEN_TARGET');
        expect(text).not.toContain('pw-never-echoed');
        expect(await strict.findRepo('imp')).toBeUndefined(); // a failed import leaves nothing behind
      } finally {
        await api.close();
      }
    } finally {
      await strict.close();
    }
  });

  it('imports through the API (201) when private remotes are allowed', async () => {
    const api = await startServer(createApiNodeHandler({ engine, tokens: createTokenService({ keys: { secret: 'x'.repeat(32) } }), adminKey: ADMIN }) as never);
    try {
      const res = await fetch(`${api.url}/api/v1/repos`, {
        method: 'POST',
        headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'via-api', source: { url: backend.url('src'), ref: 'side' } }),
      });
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(201);
      expect(body.import.refs).toEqual([{ ref: 'refs/heads/side', oid: refsOf(join(backend.root, 'src.git'))['refs/heads/side'] }]);
      expect(body.defaultBranch).toBe('side'); // as git clone --branch side
      expect(body.head).toBe('refs/heads/side');
    } finally {
      await api.close();
    }
  });
});

describe('mirror out', () => {
  it('pushes every branch and tag; the remote refs equal ours; then only what changed', async () => {
    await backend.createRepo('mirror');
    const repo = await engine.getRepo('full');
    const first = await repo.pushTo(backend.url('mirror'));
    expect(first.updates.every((u) => u.status === 'ok')).toBe(true);
    const ours = Object.fromEntries((await repo.listRefs()).map(([n, v]) => [n, v.oid]));
    expect(refsOf(join(backend.root, 'mirror.git'))).toEqual(ours);
    expect((await runGit(['fsck', '--strict'], { cwd: join(backend.root, 'mirror.git') })).code).toBe(0);

    await repo.commit({ branch: 'main', message: 'more', author: { name: 'A', email: 'a@example.com' }, changes: [{ path: 'new.txt', content: 'new\n' }] });
    const second = await repo.pushTo(backend.url('mirror'), { refs: ['main', 'side'] });
    expect(second.updates).toEqual([
      { ref: 'refs/heads/main', status: 'ok' },
      { ref: 'refs/heads/side', status: 'up-to-date' },
    ]);
    expect(refsOf(join(backend.root, 'mirror.git'))['refs/heads/main']).toBe((await repo.getRef('refs/heads/main'))!.oid);
    expect((await runGit(['fsck', '--strict'], { cwd: join(backend.root, 'mirror.git') })).code).toBe(0);

    // An incremental fetch from the mirror: the tips here are the haves, only the new objects come.
    const partial = await engine.getRepo('via-api');
    const inc = await partial.fetchFrom(backend.url('mirror'));
    expect(inc.objects).toBeGreaterThan(0);
    expect(Object.fromEntries((await partial.listRefs()).map(([n, v]) => [n, v.oid]))).toEqual(refsOf(join(backend.root, 'mirror.git')));

    // A remote that moved elsewhere: rejected without force, overwritten with it.
    const other = await engine.createRepo('diverge');
    await other.fetchFrom(backend.url('src'));
    await other.commit({ branch: 'main', message: 'elsewhere', author: { name: 'B', email: 'b@example.com' }, changes: [{ path: 'b.txt', content: 'b\n' }] });
    const rejected = await other.pushTo(backend.url('mirror'), { refs: ['main'] });
    expect(rejected.updates).toEqual([{ ref: 'refs/heads/main', status: 'rejected', reason: 'fetch first' }]);
    const forced = await other.pushTo(backend.url('mirror'), { refs: ['main'], force: true });
    expect(forced.updates).toEqual([{ ref: 'refs/heads/main', status: 'ok' }]);
    expect(refsOf(join(backend.root, 'mirror.git'))['refs/heads/main']).toBe((await other.getRef('refs/heads/main'))!.oid);
    expect((await runGit(['fsck', '--strict'], { cwd: join(backend.root, 'mirror.git') })).code).toBe(0);
  });
});

describe('mirror out of a large pack', () => {
  /** Peak RSS growth while `fn` runs (sampled every 10 ms). */
  async function rssGrowth(fn: () => Promise<unknown>): Promise<number> {
    const base = process.memoryUsage.rss();
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return Math.max(peak, process.memoryUsage.rss()) - base;
  }

  it('streams the pack into receive-pack: RSS grows far less than the pack; the remote passes fsck --strict', async () => {
    // 96 MiB of incompressible blobs (16 KiB each, stored whole): the old push held the pack twice.
    // Its own engine: the shared one's 2 s timeouts are for the hanging-remote test, too tight for 96 MiB on a loaded machine.
    const big = await openEngine({ db: new MemoryLevel() as never, allowPrivateRemotes: true, remotes: { timeoutMs: 60_000, idleTimeoutMs: 60_000 } });
    onTestFinished(() => big.close());
    const repo = await big.createRepo('big-mirror');
    const FILES = 6144;
    const SIZE = 16 * 1024;
    for (let c = 0; c < 6; c++) {
      const changes = [];
      for (let i = 0; i < FILES / 6; i++) {
        const content = new Uint8Array(SIZE);
        crypto.getRandomValues(content);
        changes.push({ path: `d${c}/f${i}.bin`, content });
      }
      await repo.commit({ branch: 'main', message: `batch ${c}`, author: { name: 'A', email: 'a@example.com' }, changes });
    }
    await backend.createRepo('big-mirror');
    let result: Awaited<ReturnType<typeof repo.pushTo>> | undefined;
    const growth = await rssGrowth(async () => {
      result = await repo.pushTo(backend.url('big-mirror'));
    });
    expect(result!.updates).toEqual([{ ref: 'refs/heads/main', status: 'ok' }]);
    const remote = join(backend.root, 'big-mirror.git');
    expect(refsOf(remote)['refs/heads/main']).toBe((await repo.getRef('refs/heads/main'))!.oid);
    expect((await runGit(['fsck', '--strict'], { cwd: remote })).code).toBe(0);
    const packBytes = Number(gitText(remote, ['count-objects', '-v']).match(/size-pack: (\d+)/)![1]) * 1024;
    expect(packBytes).toBeGreaterThan(FILES * SIZE);
    console.log(`mirror of a ${(packBytes / 2 ** 20).toFixed(0)} MiB pack: RSS +${(growth / 2 ** 20).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(80 * 1024 * 1024); // the old push: +140 MiB (the pack held twice)
  }, 300_000);

  it('streams through the portable runtime too (fetch with duplex "half")', async () => {
    expect(fetchStreamsBodies()).toBe(true);
    const portable = await openEngine({ db: new MemoryLevel() as never, allowPrivateRemotes: true, remotes: { outbound: fetchOutbound } });
    try {
      const repo = await portable.createRepo('portable');
      await repo.fetchFrom(backend.url('src'), { setHead: true });
      await repo.commit({ branch: 'main', message: 'portable', author: { name: 'A', email: 'a@example.com' }, changes: [{ path: 'p.txt', content: 'p\n' }] });
      await backend.createRepo('portable-mirror');
      const r = await repo.pushTo(backend.url('portable-mirror'));
      expect(r.updates.every((u) => u.status === 'ok')).toBe(true);
      const remote = join(backend.root, 'portable-mirror.git');
      expect(refsOf(remote)).toEqual(Object.fromEntries((await repo.listRefs()).map(([n, v]) => [n, v.oid])));
      expect((await runGit(['fsck', '--strict'], { cwd: remote })).code).toBe(0);
    } finally {
      await portable.close();
    }
  }, 120_000);
});
