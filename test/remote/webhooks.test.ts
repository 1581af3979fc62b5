/**
 * Webhooks end to end: a receiver in the test verifies every signature; a receiver that fails
 * twice gets the event on the third attempt (same delivery id, logged as 500, 500, 200); a
 * receiver that never answers does not delay a push; private webhook URLs are refused by
 * default; and a `level-git serve` killed with SIGKILL while a delivery is in flight delivers
 * the event after its restart.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { enableRemotes, openEngine, type Engine } from '../../src/index.js';
import { createApiNodeHandler } from '../../src/http/node-handler.js';
import { createTokenService } from '../../src/access/tokens.js';
import { startServer } from '../http/helpers.js';
import { createGitNodeHandler } from '../../src/http/node-handler.js';
import { gitEnv, runGit } from '../helpers/git.js';
import { tempDirs } from '../helpers/tmp.js';
import { startCli } from '../cli/cli-helpers.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SECRET = 'webhook-secret';
const dirs = tempDirs();
enableRemotes(); // what the Node entry does at load

interface Received {
  event: string;
  delivery: string;
  body: Record<string, unknown>;
  signed: boolean;
}

/** A receiver that checks the signature of every request and answers with `answer(n)` (or never, for null). */
async function receiver(answer: (n: number) => number | null) {
  const got: Received[] = [];
  const waiting: (() => void)[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
      const sig = Buffer.from(String(req.headers['x-levelgit-signature-256'] ?? ''));
      got.push({
        event: String(req.headers['x-levelgit-event']),
        delivery: String(req.headers['x-levelgit-delivery']),
        body: JSON.parse(raw.toString('utf8')),
        signed: sig.length === expected.length && timingSafeEqual(sig, expected),
      });
      for (const w of waiting.splice(0)) w();
      const status = answer(got.length);
      if (status === null) hanging.push(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    async until(n: number, ms = 30_000): Promise<void> {
      const end = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > end) throw new Error(`only ${got.length} of ${n} deliveries arrived`);
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

const commitBody = (n: number) => ({
  branch: 'main',
  message: `c${n}`,
  author: { name: 'A', email: 'a@example.com' },
  changes: [{ path: 'f.txt', content: `v${n}\n` }],
});

let engine: Engine;
let server: Awaited<ReturnType<typeof startServer>>;
const tokens = createTokenService({ keys: { secret: 'x'.repeat(32) } });

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() as never, allowPrivateRemotes: true, webhooks: { pollMs: 50, backoffMs: 50, timeoutMs: 3000 } });
  server = await startServer(createApiNodeHandler({ engine, tokens, adminKey: ADMIN }) as never);
  await engine.createRepo('hooked');
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('webhooks', () => {
  it('signs deliveries, retries a failing receiver until the third attempt succeeds, and logs each attempt', async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 200));
    try {
      const created = await api(server.url, 'POST', '/repos/hooked/webhooks', { url: r.url, events: ['push', 'ref.updated'], secret: SECRET });
      expect(created.status).toBe(201);
      expect(created.body.secret).toBeUndefined();
      const listed = await api(server.url, 'GET', '/repos/hooked/webhooks');
      expect(listed.body.webhooks).toEqual([{ id: created.body.id, url: r.url, events: ['push', 'ref.updated'], createdAt: expect.any(String) }]);
      expect(JSON.stringify(listed.body)).not.toContain(SECRET);

      const commit = await api(server.url, 'POST', '/repos/hooked/commits', commitBody(1));
      expect(commit.status).toBe(201);
      await r.until(3);
      expect(r.got.every((g) => g.signed)).toBe(true);
      expect(new Set(r.got.map((g) => g.delivery)).size).toBe(1); // one delivery, three attempts
      const event = r.got[2]!;
      expect(event.event).toBe('ref.updated');
      expect(event.body).toMatchObject({
        event: 'ref.updated',
        repository: 'hooked',
        source: 'commit',
        updates: [{ ref: 'refs/heads/main', new: commit.body.sha }],
      });

      let log = await api(server.url, 'GET', `/repos/hooked/webhooks/${created.body.id}/deliveries`);
      for (let i = 0; i < 50 && log.body.deliveries.length < 3; i++) {
        await new Promise((res) => setTimeout(res, 50));
        log = await api(server.url, 'GET', `/repos/hooked/webhooks/${created.body.id}/deliveries`);
      }
      expect(log.body.deliveries.map((d: { status: number; attempt: number }) => [d.attempt, d.status])).toEqual([
        [3, 200],
        [2, 500],
        [1, 500],
      ]);
      expect((await api(server.url, 'DELETE', `/repos/hooked/webhooks/${created.body.id}`)).status).toBe(204);
      expect((await api(server.url, 'GET', '/repos/hooked/webhooks')).body.webhooks).toEqual([]);
    } finally {
      r.close();
    }
  });

  it('a receiver that never answers does not delay commits', async () => {
    const r = await receiver(() => null);
    try {
      const created = await api(server.url, 'POST', '/repos/hooked/webhooks', { url: r.url, events: ['ref.updated'], secret: SECRET });
      for (let n = 2; n < 5; n++) {
        const t0 = Date.now();
        expect((await api(server.url, 'POST', '/repos/hooked/commits', commitBody(n))).status).toBe(201);
        expect(Date.now() - t0).toBeLessThan(2500); // the receiver's 3 s timeout is not waited for
      }
      await r.until(1);
      await api(server.url, 'DELETE', `/repos/hooked/webhooks/${created.body.id}`);
    } finally {
      r.close();
    }
  });

  it('a git push raises push; deleting the repository raises repo.deleted', async () => {
    const r = await receiver(() => 200);
    const git = await startServer(createGitNodeHandler({ engine }) as never);
    try {
      await engine.createRepo('pushed');
      await engine.webhooks!.create('pushed', { url: r.url, events: ['push', 'repo.deleted'], secret: SECRET });
      const work = dirs.make('hooks-push-');
      const env = gitEnv(work);
      for (const args of [
        ['init', '-q', '-b', 'main'],
        ['commit', '-q', '--allow-empty', '-m', 'one'],
        ['push', '-q', `${git.url}/pushed.git`, 'main'],
      ]) {
        const out = await runGit(args, { cwd: work, env, inheritEnv: false });
        expect(out.code, out.stderr).toBe(0);
      }
      await r.until(1);
      expect(r.got[0]).toMatchObject({ event: 'push', signed: true, body: { source: 'push', updates: [{ ref: 'refs/heads/main', old: '0'.repeat(40) }] } });
      await engine.deleteRepo('pushed');
      await r.until(2);
      expect(r.got[1]).toMatchObject({ event: 'repo.deleted', signed: true, body: { repository: 'pushed' } });
    } finally {
      await git.close();
      r.close();
    }
  });

  it('refuses private webhook URLs by default and unknown events always', async () => {
    const strict = await openEngine({ db: new MemoryLevel() as never });
    const s = await startServer(createApiNodeHandler({ engine: strict, tokens, adminKey: ADMIN }) as never);
    try {
      await strict.createRepo('r');
      const priv = await api(s.url, 'POST', '/repos/r/webhooks', { url: 'http://127.0.0.1:9/x', events: ['push'], secret: SECRET });
      expect(priv.status).toBe(400);
      expect(priv.body.error.code).toBe('ERR_FORBIDDEN_TARGET');
      const bad = await api(s.url, 'POST', '/repos/r/webhooks', { url: 'https://example.com/x', events: ['nope'], secret: SECRET });
      expect(bad.status).toBe(400);
    } finally {
      await s.close();
      await strict.close();
    }
  });

  it('an event whose delivery was in flight when the server was killed arrives after the restart', async () => {
    const data = dirs.make('hooks-serve-');
    let kill = true;
    const r = await receiver(() => (kill ? null : 200));
    const env = { LEVEL_GIT_ADMIN_KEY: ADMIN, LEVEL_GIT_SECRET: 'y'.repeat(32) };
    const args = ['--data', data, '--port', '0', '--allow-private-remotes', '--sweep-interval', '0'];
    let cli = await startCli(args, env);
    try {
      expect((await api(cli.url, 'POST', '/repos', { name: 'k' })).status).toBe(201);
      expect((await api(cli.url, 'POST', '/repos/k/webhooks', { url: r.url, events: ['ref.updated'], secret: SECRET })).status).toBe(201);
      const commit = await api(cli.url, 'POST', '/repos/k/commits', commitBody(1));
      expect(commit.status).toBe(201);
      await r.until(1); // the delivery is in flight, unanswered
      cli.child.kill('SIGKILL');
      await new Promise((res) => cli.child.once('exit', res));
      kill = false;
      cli = await startCli(args, env);
      await r.until(2, 60_000);
      expect(r.got[1]!.delivery).toBe(r.got[0]!.delivery);
      expect(r.got[1]!.signed).toBe(true);
      expect(r.got[1]!.body).toMatchObject({ repository: 'k', updates: [{ ref: 'refs/heads/main', new: commit.body.sha }] });
    } finally {
      await cli.stop();
      r.close();
    }
  }, 120_000);
});
