/**
 * The advertisement of an empty repository, byte for byte against C git's own server
 * (`git http-backend` behind a small CGI bridge started here): upload-pack lists no ref at
 * all (no `capabilities^{}` line: clients such as go-git tell "remote repository is empty"
 * from it), receive-pack sends `capabilities^{}` with its capability list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/index.js';
import { createNodeHandler } from '../../src/http/node-handler.js';
import { decodeAllPkts, pktText } from '../../src/protocol/pkt-line.js';
import { gitRunner, startServer, tempDirs } from '../http/helpers.js';

const dirs = tempDirs();
let engine: Engine;
let ours: { url: string; close(): Promise<void> };
let theirs: { url: string; close(): Promise<void> };

/** Serves `root` with `git http-backend` (CGI): request headers in, status and headers out. */
function httpBackend(root: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url!, 'http://x');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        REQUEST_METHOD: req.method!,
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
        REMOTE_USER: 'test',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(child.stdin);
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('close', () => {
      const all = Buffer.concat(out);
      const end = all.indexOf('\r\n\r\n');
      let status = 200;
      for (const line of all.subarray(0, end).toString().split('\r\n')) {
        const [k, v] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()];
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else res.setHeader(k, v);
      }
      res.writeHead(status).end(all.subarray(end + 4));
    });
  };
}

async function get(base: string, service: string, protocol?: string): Promise<{ type: string | null; body: Uint8Array }> {
  const r = await fetch(`${base}/e.git/info/refs?service=${service}`, { headers: protocol ? { 'Git-Protocol': protocol } : {} });
  expect(r.status).toBe(200);
  return { type: r.headers.get('content-type'), body: new Uint8Array(await r.arrayBuffer()) };
}

/** The pkt-lines of an advertisement with the capability list (after the NUL) replaced by `<caps>`. */
function withoutCapabilities(body: Uint8Array): string[] {
  return decodeAllPkts(body).map((p) => (p.type === 'data' ? pktText(p.data).replace(/\0.*$/, '\0<caps>') : p.type));
}

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
  await engine.createRepo('e');
  ours = await startServer(createNodeHandler({ engine }) as never);
  const root = dirs.make('lg-empty-');
  await gitRunner(dirs.make('lg-home-')).ok(['init', '-q', '--bare', '-b', 'main', `${root}/e.git`]);
  theirs = await startServer(httpBackend(root));
});

afterAll(async () => {
  await ours?.close();
  await theirs?.close();
  await engine?.close();
  dirs.cleanup();
});

describe('empty repository advertisement, against git http-backend', () => {
  for (const protocol of [undefined, 'version=1']) {
    it(`upload-pack ${protocol ?? 'v0'}: byte for byte what C git sends (no ref line)`, async () => {
      const a = await get(ours.url, 'git-upload-pack', protocol);
      const b = await get(theirs.url, 'git-upload-pack', protocol);
      expect(a.type).toBe(b.type);
      expect(Buffer.from(a.body).toString('latin1')).toBe(Buffer.from(b.body).toString('latin1'));
      expect(Buffer.from(a.body).toString('latin1')).not.toContain('capabilities^{}');
    });

    it(`receive-pack ${protocol ?? 'v0'}: the same lines as C git (capabilities^{}), only the capability list differs`, async () => {
      const a = await get(ours.url, 'git-receive-pack', protocol);
      const b = await get(theirs.url, 'git-receive-pack', protocol);
      expect(a.type).toBe(b.type);
      expect(withoutCapabilities(a.body)).toEqual(withoutCapabilities(b.body));
      expect(withoutCapabilities(a.body)).toContain(`${'0'.repeat(40)} capabilities^{}\0<caps>`);
    });
  }

  it('git clones the empty repository from both alike (v0 and v2)', async () => {
    const g = gitRunner(dirs.make('lg-home-'));
    for (const v of [0, 2]) {
      for (const base of [ours.url, theirs.url]) {
        const r = await g.run(['-c', `protocol.version=${v}`, 'clone', `${base}/e.git`, `${dirs.make('lg-c-')}/c`]);
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/cloned an empty repository/);
      }
    }
  });
});
