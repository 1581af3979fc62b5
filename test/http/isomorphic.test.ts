/** isomorphic-git (protocol v1) against the real engine: over HTTP with its node client, and in-process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import httpNode from 'isomorphic-git/http/node';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { createIsomorphicTransport } from '../../src/http/isomorphic-transport.js';
import { startServer, tempDirs } from './helpers.js';

const author = { name: 'Iso', email: 'iso@example.com', timestamp: 1_700_000_000, timezoneOffset: 0 };

describe('isomorphic-git', () => {
  const tmp = tempDirs();
  let engine: Engine;
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    engine = await openEngine({ path: join(tmp.make(), 'db') });
    await engine.createRepo('iso/http', { defaultBranch: 'main' });
    await engine.createRepo('iso/local', { defaultBranch: 'main' });
    server = await startServer(createNodeHandler({ engine }));
  });

  afterAll(async () => {
    await server?.close();
    await engine?.close();
    tmp.cleanup();
  });

  async function roundTrip(http: Parameters<typeof git.clone>[0]['http'], url: string): Promise<void> {
    // Push from a fresh local repository into the empty one.
    const a = tmp.make();
    await git.init({ fs, dir: a, defaultBranch: 'main' });
    fs.writeFileSync(join(a, 'hello.txt'), 'hello\n');
    await git.add({ fs, dir: a, filepath: 'hello.txt' });
    const c1 = await git.commit({ fs, dir: a, message: 'first', author });
    await git.addRemote({ fs, dir: a, remote: 'origin', url });
    const p = await git.push({ fs, http, dir: a, remote: 'origin', ref: 'main' });
    expect(p.ok).toBe(true);
    // Clone it back, full and shallow.
    const b = tmp.make();
    await git.clone({ fs, http, dir: b, url, singleBranch: true });
    expect(fs.readFileSync(join(b, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(await git.resolveRef({ fs, dir: b, ref: 'HEAD' })).toBe(c1);
    // A second commit pushed from the clone, fetched by the first.
    fs.writeFileSync(join(b, 'second.txt'), 'two\n');
    await git.add({ fs, dir: b, filepath: 'second.txt' });
    const c2 = await git.commit({ fs, dir: b, message: 'second', author });
    expect((await git.push({ fs, http, dir: b })).ok).toBe(true);
    const f = await git.fetch({ fs, http, dir: a, remote: 'origin', ref: 'main', singleBranch: true });
    expect(f.fetchHead).toBe(c2);
    const s = tmp.make();
    await git.clone({ fs, http, dir: s, url, depth: 1, singleBranch: true });
    expect((await git.log({ fs, dir: s })).map((e) => e.oid)).toEqual([c2]);
    // Delete a branch.
    await git.branch({ fs, dir: b, ref: 'tmp' });
    expect((await git.push({ fs, http, dir: b, ref: 'tmp' })).ok).toBe(true);
    expect((await git.listServerRefs({ http, url, prefix: 'refs/heads/' })).map((r) => r.ref)).toContain('refs/heads/tmp');
    expect((await git.push({ fs, http, dir: b, ref: 'tmp', delete: true })).ok).toBe(true);
    expect((await git.listServerRefs({ http, url, prefix: 'refs/heads/' })).map((r) => r.ref)).not.toContain('refs/heads/tmp');
  }

  it('clones, pushes and fetches over HTTP', async () => {
    await roundTrip(httpNode, `${server.url}/iso/http.git`);
  });

  it('clones, pushes and fetches through the in-process transport', async () => {
    await roundTrip(createIsomorphicTransport({ engine }), 'http://in-process/iso/local.git');
  });

  it('reports an unknown repository as an HTTP 404 through the transport', async () => {
    await expect(git.listServerRefs({ http: createIsomorphicTransport({ engine }), url: 'http://x/iso/none.git' })).rejects.toThrow(/404/);
  });
});
