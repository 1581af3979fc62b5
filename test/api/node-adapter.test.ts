/** The API's Node adapter inside Express: it handles its prefix and passes everything else on. */
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createTokenService } from '../../src/access/tokens.js';
import { createApiNodeHandler } from '../../src/http/node-handler.js';

const ADMIN = 'admin-key-0123456789abcdef';

let server: Server | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  if (server) await new Promise<void>((r) => (server!.closeAllConnections(), server!.close(() => r())));
  await engine?.close();
  server = undefined;
});

describe('createApiNodeHandler', () => {
  it('serves the API in Express and falls through to next() elsewhere', async () => {
    engine = await openEngine({ db: new MemoryLevel() as any });
    const tokens = createTokenService({ keys: { secret: 'a-test-secret-of-at-least-32-bytes-long!' } });
    const app = express();
    app.use(createApiNodeHandler({ engine, tokens, adminKey: ADMIN }) as unknown as express.RequestHandler);
    app.use((_req, res) => void res.status(418).send('next handler'));
    server = createServer(app);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const created = await fetch(`${base}/api/v1/repos`, { method: 'POST', headers: { 'x-api-key': ADMIN }, body: JSON.stringify({ name: 'team/app' }) });
    expect(created.status).toBe(201);
    expect((await created.json()).name).toBe('team/app');
    const commit = await fetch(`${base}/api/v1/repos/team/app/commits`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN },
      body: JSON.stringify({ branch: 'main', message: 'm', author: { name: 'A', email: 'a@b' }, changes: [{ path: 'f', content: 'hi' }] }),
    });
    expect(commit.status).toBe(201);
    const file = await fetch(`${base}/api/v1/repos/team/app/files/f`, { headers: { 'x-api-key': ADMIN, range: 'bytes=1-' } });
    expect(file.status).toBe(206);
    expect(await file.text()).toBe('i');
    const url = await fetch(`${base}/api/v1/repos/team/app/remote-url`, { method: 'POST', headers: { 'x-api-key': ADMIN } });
    expect((await url.json()).url).toMatch(/^http:\/\/t:[^@]+@127\.0\.0\.1:\d+\/team\/app\.git$/);
    const other = await fetch(`${base}/elsewhere`);
    expect(other.status).toBe(418);
  });
});
