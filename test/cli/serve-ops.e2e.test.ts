/**
 * Operations of `level-git serve` (child process): the data folder is narrowed to 0700 / 0600
 * whatever created it; a generated admin key goes to a 0600 file whose path is printed, never
 * the key; `--max-connections`; `--base-url` or a warning; timeouts suited to Git: a push that
 * keeps sending is never cut however long it lasts, a stalled one is; `--max-pack-objects`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { startCli, runCli, type ServeProcess } from './cli-helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { git as gitSync, runGit } from '../helpers/git.js';

let tmp: string;
let cleanupTmp: (() => void) | undefined;

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every path under `dir` (itself included) with its mode, for the assertion message. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>([[dir, mode(dir)]]);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) for (const [k, v] of modes(p)) out.set(k, v);
    else out.set(p, mode(p));
  }
  return out;
}

async function adminCall(server: ServeProcess, key: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function keyFileOf(server: ServeProcess): string {
  const m = /admin key written to (\S+) \(mode 0600\)/.exec(server.output());
  expect(m, server.output()).not.toBeNull();
  return m![1]!;
}

beforeAll(() => {
  ({ dir: tmp, cleanup: cleanupTmp } = tempDir('level-git-ops-'));
});

afterAll(() => cleanupTmp?.());

describe('level-git serve: data folder and admin key', () => {
  it('narrows the data folder to 0700 and its files to 0600 on every start, whatever created them', async () => {
    const data = join(tmp, 'data-modes');
    let server = await startCli(['--port', '0', '--data', data, '--sweep-interval', '0']);
    const key = readFileSync(keyFileOf(server), 'utf8').trim();
    expect(server.output()).not.toContain(key);
    expect(keyFileOf(server)).toBe(join(data, 'admin-key'));
    expect((await adminCall(server, key, '/repos', { name: 'm' })).status).toBe(201);
    await server.stop();
    // An older version, a deployment script or a restore left everything readable.
    for (const [p] of modes(data)) chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    writeFileSync(join(data, 'notes.txt'), 'left by someone', { mode: 0o644 });
    server = await startCli(['--port', '0', '--data', data, '--sweep-interval', '0']);
    expect(server.output()).not.toContain('admin key');
    expect((await adminCall(server, key, '/repos')).status).toBe(200);
    await server.stop();
    const all = modes(data);
    expect(all.size).toBeGreaterThan(5); // the database's own files are among them
    for (const [p, m] of all) expect(`${p} ${m.toString(8)}`).toBe(`${p} ${statSync(p).isDirectory() ? '700' : '600'}`);
  }, 60_000);

  it('with --memory writes the generated key to a 0600 file it prints (never the key) and removes it on stop', async () => {
    const server = await startCli(['--memory', '--port', '0', '--sweep-interval', '0']);
    const file = keyFileOf(server);
    expect(mode(file)).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(server.output()).not.toContain(key);
    expect((await adminCall(server, key, '/repos')).status).toBe(200);
    await server.stop();
    expect(existsSync(file)).toBe(false);
  }, 60_000);

  it('builds remote URLs on --base-url, and warns at start without it', async () => {
    const plain = await startCli(['--memory', '--port', '0', '--sweep-interval', '0']);
    // stderr is a pipe of its own: its line may come just after "listening on".
    for (let i = 0; i < 100 && !plain.output().includes('warning: no --base-url'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(plain.output()).toContain('warning: no --base-url');
    await plain.stop();
    const server = await startCli(['--memory', '--port', '0', '--sweep-interval', '0', '--base-url', 'https://git.example.com/']);
    const key = readFileSync(keyFileOf(server), 'utf8').trim();
    expect((await adminCall(server, key, '/repos', { name: 'b' })).status).toBe(201);
    const minted = await adminCall(server, key, '/repos/b/remote-url', { permissions: ['git:read'] });
    expect(new URL(minted.json.url).host).toBe('git.example.com');
    await server.stop();
    expect(server.output()).not.toContain('warning: no --base-url');
    const bad = await runCli(['serve', '--memory', '--port', '0', '--base-url', 'ftp://x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--base-url');
  }, 60_000);

  it('bounds the objects of one pack with --max-pack-objects: a full clone past it fails with the reason, a depth-1 clone is served', async () => {
    const server = await startCli(['--memory', '--port', '0', '--sweep-interval', '0', '--max-pack-objects', '4']);
    try {
      const key = readFileSync(keyFileOf(server), 'utf8').trim();
      expect((await adminCall(server, key, '/repos', { name: 'p' })).status).toBe(201);
      const author = { name: 'A', email: 'a@example.com' };
      // Two commits of one file: 6 objects in a full clone, 3 in a depth-1 clone.
      for (const n of [1, 2]) {
        const c = await adminCall(server, key, '/repos/p/commits', {
          branch: 'main',
          message: `c${n}`,
          author,
          changes: [{ path: 'a.txt', content: `${n}\n` }],
        });
        expect(c.status).toBe(201);
      }
      const url = (await adminCall(server, key, '/repos/p/remote-url', { permissions: ['git:read'] })).json.url as string;
      const full = await runGit(['clone', '-q', '--bare', url, join(tmp, 'limit-full')]);
      expect(full.code).not.toBe(0);
      expect(full.stderr).toContain('more than 4 objects (maxPackObjects)');
      const shallow = await runGit(['clone', '-q', '--bare', '--depth', '1', url, join(tmp, 'limit-depth1')]);
      expect(shallow.code, shallow.stderr).toBe(0);
    } finally {
      await server.stop();
    }
    const bad = await runCli(['serve', '--memory', '--port', '0', '--max-pack-objects', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--max-pack-objects');
  }, 60_000);
});

describe('level-git serve: connections and timeouts', () => {
  let server: ServeProcess;
  let writeUrl: URL;
  let body: Buffer;

  beforeAll(async () => {
    server = await startCli(['--memory', '--port', '0', '--sweep-interval', '0', '--idle-timeout', '1', '--max-connections', '3']);
    const key = readFileSync(keyFileOf(server), 'utf8').trim();
    expect((await adminCall(server, key, '/repos', { name: 't' })).status).toBe(201);
    writeUrl = new URL((await adminCall(server, key, '/repos/t/remote-url', { permissions: ['git:read', 'git:write'] })).json.url);
    // A receive-pack request as git sends it: one ref update, then the pack.
    const work = join(tmp, 'push-src');
    gitSync(undefined, ['init', '-q', '-b', 'main', work]);
    writeFileSync(join(work, 'a.txt'), 'slow but steady\n'.repeat(200));
    gitSync(work, ['add', '-A']);
    gitSync(work, ['commit', '-q', '-m', 'one']);
    const sha = gitSync(work, ['rev-parse', 'HEAD']).toString().trim();
    const pack = gitSync(work, ['pack-objects', '--stdout', '--revs'], `${sha}\n`);
    const line = `${'0'.repeat(40)} ${sha} refs/heads/slow\0report-status\n`;
    body = Buffer.concat([Buffer.from((line.length + 4).toString(16).padStart(4, '0') + line + '0000'), pack]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  /** A receive-pack POST whose body is written by `send`; resolves with the answer, or 'cut' when the server closed the connection. */
  function push(send: (write: (b: Buffer) => void, end: () => void) => void): Promise<{ status: number; text: string } | 'cut'> {
    return new Promise((resolve) => {
      const req = httpRequest(new URL(`${writeUrl.pathname}/git-receive-pack`, server.url), {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${writeUrl.username}:${decodeURIComponent(writeUrl.password)}`).toString('base64')}`,
          'content-type': 'application/x-git-receive-pack-request',
          'content-length': String(body.length),
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('latin1')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', () => resolve('cut'));
      send(
        (b) => req.write(b),
        () => req.end(),
      );
    });
  }

  it('never cuts a push that keeps sending, however long it lasts; cuts one that stalls', async () => {
    const started = Date.now();
    const slow = await push((write, end) => {
      // 4 s in all, more than the 1 s idle timeout, a slice every 250 ms.
      const slices = 16;
      const size = Math.ceil(body.length / slices);
      let i = 0;
      const timer = setInterval(() => {
        write(body.subarray(i * size, (i + 1) * size));
        if (++i === slices) {
          clearInterval(timer);
          end();
        }
      }, 250);
    });
    expect(Date.now() - started).toBeGreaterThan(3500);
    expect(slow).not.toBe('cut');
    expect(slow !== 'cut' && slow.text).toContain('ok refs/heads/slow');

    const stalledAt = Date.now();
    const stalled = await Promise.race([
      push((write) => write(body.subarray(0, body.length >> 1))),
      new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 10_000)),
    ]);
    expect(stalled).toBe('cut');
    expect(Date.now() - stalledAt).toBeLessThan(8_000);
  }, 60_000);

  it('refuses connections past --max-connections', async () => {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = connect(Number(new URL(server.url).port), '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    // Idle connections are cut after the idle timeout: keep these busy with a request that never ends.
    const held = await Promise.all([open(), open(), open()]);
    for (const s of held) s.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    const refused = await fetch(`${server.url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 30_000);
});
