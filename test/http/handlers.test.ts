/** HTTP behaviour: framework mounting, access decisions, gzip bodies, limits, Expect, aborts, the fetch adapter. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { openEngine, type Engine } from '../../src/index.js';
import { createGitNodeHandler, createNodeHandler } from '../../src/http/node-handler.js';
import { createGitFetchHandler, createFetchHandler } from '../../src/http/fetch-handler.js';
import { parseGitPath } from '../../src/http/git-http.js';
import type { AccessDecision, AuthorizeContext } from '../../src/http/authorize.js';
import { encodePkt } from '../../src/protocol/pkt-line.js';
import { commitFiles, gitRunner, startServer, tempDirs } from './helpers.js';

describe('http handlers', () => {
  const tmp = tempDirs();
  let engine: Engine;
  let g: ReturnType<typeof gitRunner>;
  let tip: string;

  beforeAll(async () => {
    engine = await openEngine({ path: join(tmp.make(), 'db') });
    await engine.createRepo('team/app', { defaultBranch: 'main' });
    g = gitRunner(tmp.make());
    const work = tmp.make();
    await g.ok(['init', '-q', '-b', 'main', work]);
    tip = await commitFiles(g, work, { 'a.txt': 'a\n' }, 'one');
    const s = await startServer(createGitNodeHandler({ engine }));
    await g.ok(['push', '-q', `${s.url}/team/app.git`, 'main'], work);
    await s.close();
  });

  afterAll(async () => {
    await engine?.close();
    tmp.cleanup();
  });

  it('keeps the old handler names as aliases of the paired ones, all exported by the public index', async () => {
    expect(createNodeHandler).toBe(createGitNodeHandler);
    expect(createFetchHandler).toBe(createGitFetchHandler);
    const index = await import('../../src/index.js');
    for (const name of [
      'createGitNodeHandler',
      'createGitFetchHandler',
      'createApiNodeHandler',
      'createApiFetchHandler',
      'createNodeHandler',
      'createFetchHandler',
      'createApiHandler',
    ]) {
      expect(typeof (index as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(index.createApiHandler).toBe(index.createApiFetchHandler);
  });

  it('parses routes: owner prefix, optional .git, +ephemeral, base path', () => {
    expect(parseGitPath('/team/app.git/info/refs')).toEqual({ repo: 'team/app', ephemeral: false, endpoint: 'info/refs' });
    expect(parseGitPath('/app/git-upload-pack')).toEqual({ repo: 'app', ephemeral: false, endpoint: 'git-upload-pack' });
    expect(parseGitPath('/git/a/b+ephemeral.git/git-receive-pack', '/git')).toEqual({ repo: 'a/b', ephemeral: true, endpoint: 'git-receive-pack' });
    expect(parseGitPath('/a/b/c.git/info/refs')).toBeNull();
    expect(parseGitPath('/../x.git/info/refs')).toBeNull();
    expect(parseGitPath('/x.git/info/refs', '/git')).toBeNull();
    expect(parseGitPath('/x.git/objects/info/packs')).toBeNull();
  });

  it('serves under Express mounted at a path, passing other paths to next()', async () => {
    const app = express();
    app.use('/git', createGitNodeHandler({ engine }));
    app.get('/health', (_req, res) => void res.send('ok'));
    const s = await startServer(app);
    try {
      expect(await g.ok(['ls-remote', `${s.url}/git/team/app.git`, 'refs/heads/main'])).toContain(tip);
      const dest = join(tmp.make(), 'c');
      await g.ok(['clone', '-q', '--depth', '1', `${s.url}/git/team/app.git`, dest]);
      expect(await (await fetch(`${s.url}/health`)).text()).toBe('ok');
      expect((await fetch(`${s.url}/git/nothing-here`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it('serves under Fastify through the raw request (hijacked before body parsing)', async () => {
    const app = Fastify();
    const handler = createGitNodeHandler({ engine, basePath: '/git' });
    app.addHook('onRequest', (request, reply, done) => {
      if (!request.url.startsWith('/git/')) return done();
      reply.hijack();
      handler(request.raw, reply.raw, () => {
        reply.raw.statusCode = 404;
        reply.raw.end();
      });
    });
    app.get('/health', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      const dest = join(tmp.make(), 'c');
      await g.ok(['clone', '-q', `${url}/git/team/app.git`, dest]);
      expect(await g.ok(['rev-parse', 'HEAD'], dest)).toBe(tip);
      await commitFiles(g, dest, { 'b.txt': 'b\n' }, 'from fastify clone');
      await g.ok(['push', '-q', 'origin', 'HEAD:refs/heads/fastify'], dest);
      expect(await (await fetch(`${url}/health`)).text()).toBe('ok');
    } finally {
      await app.close();
    }
  });

  it('applies the authorize hook: 401 with WWW-Authenticate, 403, ephemeral override, ref policy', async () => {
    const seen: AuthorizeContext[] = [];
    const asked: { space: 'regular' | 'ephemeral' }[] = [];
    const authorize = async (ctx: AuthorizeContext): Promise<AccessDecision> => {
      seen.push(ctx);
      const auth = ctx.headers.get('authorization');
      if (!auth) return { allow: false, status: 401, message: 'credentials required' };
      if (ctx.action === 'write' && auth !== `Basic ${Buffer.from('x:writer').toString('base64')}`)
        return { allow: false, status: 403, message: 'read-only token' };
      return {
        allow: true,
        ephemeral: ctx.action === 'write' ? false : undefined,
        policy: (u) => (u.ref === 'refs/heads/protected' ? 'protected branch' : null),
      };
    };
    const s = await startServer(
      createGitNodeHandler({
        engine: { gitBackend: (name, opts) => (asked.push(opts), engine.gitBackend(name, opts)) },
        authorize,
      }),
    );
    try {
      const r = await fetch(`${s.url}/team/app.git/info/refs?service=git-upload-pack`);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="level-git"');
      const anon = await g.run(['ls-remote', `${s.url}/team/app.git`]);
      expect(anon.code).not.toBe(0);
      const reader = `http://x:reader@${s.url.slice(7)}/team/app.git`;
      expect(await g.ok(['ls-remote', reader, 'refs/heads/main'])).toContain(tip);
      const work = tmp.make();
      await g.ok(['clone', '-q', reader, work]);
      const denied = await g.run(['push', reader, 'HEAD:refs/heads/other'], work);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/403/);
      const writer = `http://x:writer@${s.url.slice(7)}/team/app+ephemeral.git`;
      const p = await g.run(['push', writer, 'HEAD:refs/heads/protected', 'HEAD:refs/heads/fine'], work);
      expect(p.stderr).toMatch(/\[remote rejected\] HEAD -> protected \(protected branch\)/);
      expect(p.stderr).toMatch(/\[new branch\]\s+HEAD -> fine/);
      const writeCtx = seen.find((c) => c.action === 'write' && c.ephemeral)!;
      expect(writeCtx).toMatchObject({ repo: 'team/app', service: 'git-receive-pack' });
      expect(asked.at(-1)).toEqual({ space: 'regular' });
    } finally {
      await s.close();
    }
  });

  it('fetch adapter: gzip request bodies, content types, ERR packets, 404 and fallthrough', async () => {
    const handler = createGitFetchHandler({ engine, basePath: '/git' });
    const adv = (await handler(new Request('http://h/git/team/app.git/info/refs?service=git-upload-pack', { headers: { 'Git-Protocol': 'version=2' } })))!;
    expect(adv.status).toBe(200);
    expect(adv.headers.get('content-type')).toBe('application/x-git-upload-pack-advertisement');
    expect(adv.headers.get('cache-control')).toContain('no-cache');
    const text = await adv.text();
    expect(text.startsWith('000eversion 2\n')).toBe(true);
    expect(text).toContain('fetch=shallow filter wait-for-done');
    const body = Buffer.concat([
      encodePkt('command=ls-refs\n'),
      Buffer.from('0001'),
      encodePkt('symrefs\n'),
      encodePkt('ref-prefix HEAD\n'),
      Buffer.from('0000'),
    ]);
    const ls = (await handler(
      new Request('http://h/git/team/app.git/git-upload-pack', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Encoding': 'gzip', 'Git-Protocol': 'version=2' },
        body: gzipSync(body),
      }),
    ))!;
    expect(ls.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    expect(await ls.text()).toBe(`${(4 + 41 + 4 + 1 + 30).toString(16).padStart(4, '0')}${tip} HEAD symref-target:refs/heads/main\n0000`);
    const bad = (await handler(
      new Request('http://h/git/team/app.git/git-upload-pack', {
        method: 'POST',
        headers: { 'Content-Encoding': 'gzip' },
        body: Buffer.from('not gzip at all'),
      }),
    ))!;
    expect(await bad.text()).toMatch(/^[0-9a-f]{4}ERR request body is not valid gzip/);
    expect((await handler(new Request('http://h/git/team/none.git/info/refs?service=git-upload-pack')))!.status).toBe(404);
    expect((await handler(new Request('http://h/elsewhere')))!.status).toBe(404);
    expect(await createGitFetchHandler({ engine, fallthrough: true })(new Request('http://h/elsewhere'))).toBeUndefined();
    const dumb = (await handler(new Request('http://h/git/team/app.git/info/refs')))!;
    expect(dumb.status).toBe(403);
  });

  it('enforces the body limit on decoded bytes (gzip bomb) and keeps serving', async () => {
    const handler = createGitFetchHandler({ engine, limits: { maxUploadPackBody: 1000 } });
    const bomb = gzipSync(Buffer.alloc(10_000_000, 0x30));
    const r = (await handler(new Request('http://h/team/app.git/git-upload-pack', { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body: bomb })))!;
    expect(await r.text()).toMatch(/ERR request body exceeds 1000 bytes/);
    const ok = (await handler(new Request('http://h/team/app.git/info/refs?service=git-upload-pack')))!;
    expect(ok.status).toBe(200);
  });

  it('answers Expect: 100-continue and survives a client that aborts mid-request', async () => {
    const s = await startServer(createGitNodeHandler({ engine }));
    const port = Number(new URL(s.url).port);
    try {
      const status = await new Promise<{ cont: boolean; status: number }>((resolve, reject) => {
        let cont = false;
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/team/app.git/git-receive-pack',
          headers: { Expect: '100-continue', 'Content-Type': 'application/x-git-receive-pack-request' },
        });
        req.on('continue', () => {
          cont = true;
          req.end(Buffer.from('0000'));
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ cont, status: res.statusCode! }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(status).toEqual({ cont: true, status: 200 });
      // A client that starts a push and disappears.
      await new Promise<void>((resolve) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/team/app.git/git-receive-pack',
          headers: { 'Content-Type': 'application/x-git-receive-pack-request', 'Transfer-Encoding': 'chunked' },
        });
        req.on('error', () => resolve());
        req.write(encodePkt(`${'0'.repeat(40)} ${tip} refs/heads/aborted\0report-status\n`));
        req.write('0000PACK\0\0\0\x02\0\0\0\x05');
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(await g.ok(['ls-remote', `${s.url}/team/app.git`, 'refs/heads/main'])).toContain(tip);
      expect(await g.ok(['ls-remote', `${s.url}/team/app.git`, 'refs/heads/aborted'])).toBe('');
    } finally {
      await s.close();
    }
  });
});
