/**
 * Lifecycle events: `repo.created` is raised for every way a repository comes to be (the API,
 * the library's createRepo, an import, a fork) and goes to the engine-wide hooks (`/webhooks`),
 * and for a fork also to its source's hooks (`forkOf`), as GitHub tells a repository about its
 * forks; `repo.deleted` reaches the engine-wide hooks too. The entries are written in the
 * creating batch: an engine that stops before delivering delivers after the restart. The sweep's
 * orphan scan keeps the engine-wide hooks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { enableRemotes, openEngine, type Engine } from '../../src/index.js';
import { createApiNodeHandler } from '../../src/http/node-handler.js';
import { createTokenService } from '../../src/access/tokens.js';
import { TAG } from '../../src/storage/keys.js';
import { startServer } from '../http/helpers.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SECRET = 'lifecycle-secret';
enableRemotes();

interface Received {
  event: string;
  body: Record<string, unknown>;
  signed: boolean;
}

/** A receiver that checks each signature and answers 200. */
async function receiver() {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
      const sig = Buffer.from(String(req.headers['x-levelgit-signature-256'] ?? ''));
      got.push({
        event: String(req.headers['x-levelgit-event']),
        body: JSON.parse(raw.toString('utf8')),
        signed: sig.length === expected.length && timingSafeEqual(sig, expected),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    /** Waits until `pred` holds for `n` deliveries. */
    async until(pred: (r: Received) => boolean, n = 1, ms = 20_000): Promise<Received[]> {
      const end = Date.now() + ms;
      for (;;) {
        const hits = got.filter(pred);
        if (hits.length >= n) return hits;
        if (Date.now() > end)
          throw new Error(`only ${hits.length} of ${n} matching deliveries arrived (got ${JSON.stringify(got.map((g) => [g.event, g.body.repository]))})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const FAST = { pollMs: 50, backoffMs: 50, timeoutMs: 3000 };
let engine: Engine;
let server: Awaited<ReturnType<typeof startServer>>;
const tokens = createTokenService({ keys: { secret: 'x'.repeat(32) } });

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() as never, allowPrivateRemotes: true, webhooks: FAST });
  server = await startServer(createApiNodeHandler({ engine, tokens, adminKey: ADMIN }) as never);
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
});

describe('lifecycle webhooks', () => {
  it('repo.created reaches the engine-wide hooks for the API, the library and forks; repo.deleted too', async () => {
    const r = await receiver();
    try {
      const hook = await api('POST', '/webhooks', { url: r.url, events: ['repo.created', 'repo.deleted'], secret: SECRET });
      expect(hook.status).toBe(201);
      expect(hook.body.secret).toBeUndefined();
      expect((await api('GET', '/webhooks')).body.webhooks.map((h: { id: string }) => h.id)).toEqual([hook.body.id]);

      expect((await api('POST', '/repos', { name: 'by-api', defaultBranch: 'trunk' })).status).toBe(201);
      await engine.createRepo('by-library');
      const commit = { branch: 'trunk', message: 'm', author: { name: 'A', email: 'a@example.com' }, changes: [{ path: 'f', content: 'x' }] };
      expect((await api('POST', '/repos/by-api/commits', commit)).status).toBe(201);
      expect((await api('POST', '/repos/by-api/fork', { name: 'the-fork' })).status).toBe(201);
      expect((await api('DELETE', '/repos/by-library')).status).toBe(204);

      // Delivered concurrently: in any order.
      const created = new Map((await r.until((g) => g.event === 'repo.created', 3)).map((g) => [g.body.repository, g.body]));
      expect([...created.keys()].sort()).toEqual(['by-api', 'by-library', 'the-fork']);
      expect(created.get('by-api')).toMatchObject({ event: 'repo.created', hook: hook.body.id, repository: 'by-api', defaultBranch: 'trunk' });
      expect(created.get('by-api')!.forkOf).toBeUndefined();
      expect(created.get('the-fork')).toMatchObject({ repository: 'the-fork', forkOf: 'by-api', defaultBranch: 'trunk' });
      const [deleted] = await r.until((g) => g.event === 'repo.deleted');
      expect(deleted!.body).toMatchObject({ repository: 'by-library' });
      expect(r.got.every((g) => g.signed)).toBe(true);

      const log = (await api('GET', `/webhooks/${hook.body.id}/deliveries`)).body.deliveries as { event: string; status: number }[];
      expect(log.filter((d) => d.event === 'repo.created' && d.status === 200)).toHaveLength(3);
      expect((await api('DELETE', `/webhooks/${hook.body.id}`)).status).toBe(204);
      expect((await api('GET', '/webhooks')).body.webhooks).toEqual([]);
      // Removed: the next creation tells no one.
      await engine.createRepo('unheard');
      await new Promise((res) => setTimeout(res, 300));
      expect(r.got.filter((g) => g.body.repository === 'unheard')).toEqual([]);
    } finally {
      r.close();
    }
  });

  it("a fork raises repo.created to its source's hooks that subscribed to it", async () => {
    const r = await receiver();
    try {
      await engine.createRepo('upstream');
      const told = await api('POST', '/repos/upstream/webhooks', { url: r.url, events: ['repo.created'], secret: SECRET });
      const deaf = await api('POST', '/repos/upstream/webhooks', { url: `${r.url}?deaf`, events: ['ref.updated'], secret: SECRET });
      expect([told.status, deaf.status]).toEqual([201, 201]);
      await engine.forkRepo('upstream', 'downstream');
      const [got] = await r.until((g) => g.event === 'repo.created');
      expect(got!.body).toMatchObject({ hook: told.body.id, repository: 'downstream', forkOf: 'upstream', defaultBranch: 'main' });
      expect(got!.signed).toBe(true);
      await new Promise((res) => setTimeout(res, 300));
      expect(r.got).toHaveLength(1);
      // The fork itself starts with no hooks.
      expect((await api('GET', '/repos/downstream/webhooks')).body.webhooks).toEqual([]);
    } finally {
      r.close();
    }
  });

  it('an engine-wide hook takes only lifecycle events', async () => {
    const r = await api('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['repo.created', 'push'], secret: SECRET });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/engine-wide webhook takes only repo.created, repo.deleted/);
    expect((await api('GET', '/webhooks')).body.webhooks).toEqual([]);
  });

  it('repo.created is in the creating batch: written before createRepo returns, delivered after a restart', async () => {
    const r = await receiver();
    const db = new MemoryLevel();
    // A process that never delivers (as one stopped right after the creation would not).
    const first = await openEngine({ db: db as never, allowPrivateRemotes: true, webhooks: { ...FAST, deliver: false } });
    try {
      await first.webhooks!.create(null, { url: r.url, events: ['repo.created'], secret: SECRET });
      await first.createRepo('durable');
      const outbox = await db.keys({ gte: new Uint8Array([TAG.outbox]), lt: new Uint8Array([TAG.outbox + 1]), keyEncoding: 'view' }).all();
      expect(outbox).toHaveLength(1);
      await first.close();
      expect(r.got).toEqual([]);
      const second = await openEngine({ db: db as never, allowPrivateRemotes: true, webhooks: FAST });
      try {
        const [got] = await r.until((g) => g.event === 'repo.created');
        expect(got!.body).toMatchObject({ repository: 'durable' });
        // The sweep's scan for keys of ids without a repository leaves the engine-wide hooks (id 0).
        await second.sweep();
        expect((await second.webhooks!.list(null)).map((h) => h.url)).toEqual([r.url]);
      } finally {
        await second.close();
      }
    } finally {
      r.close();
    }
  });
});
