/**
 * Refusals git can print: a push refused while git is still uploading its pack (an object over
 * the size limit, a corrupt pack) is answered after the rest of the body is read (bounded), so
 * stock git prints the real reason and exits non-zero, never "RPC failed; curl 55 ... Connection
 * reset by peer" followed by "Everything up-to-date". A gzip body that decodes past its bound
 * is refused while decoding, having read only a little of what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine } from '../../src/engine.js';
import { createGitNodeHandler } from '../../src/http/node-handler.js';
import { createGitFetchHandler } from '../../src/http/fetch-handler.js';
import { gitRunner, startServer, tempDirs } from './helpers.js';

const dirs = tempDirs();
let engine: Engine;
let server: { url: string; close(): Promise<void> };
let g: ReturnType<typeof gitRunner>;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() as never, ingest: { maxObjectSize: 64 * 1024 } });
  server = await startServer(createGitNodeHandler({ engine }));
  g = gitRunner(dirs.make('lg-home-'));
});

afterAll(async () => {
  await server.close();
  await engine.close();
  dirs.cleanup();
});

async function pushBig(repo: string, bytes: number): Promise<{ code: number; stderr: string }> {
  await engine.createRepo(repo);
  const dir = dirs.make('lg-refusal-');
  await g.ok(['init', '-q', '-b', 'main', dir]);
  writeFileSync(join(dir, 'small.txt'), 'hello\n');
  // Random bytes do not compress: the pack stays as big as the file, so git is still sending when the server refuses.
  writeFileSync(join(dir, 'big.bin'), randomBytes(bytes));
  await g.ok(['add', '-A'], dir);
  await g.ok(['commit', '-q', '-m', 'big'], dir);
  const r = await g.run(['push', `${server.url}/${repo}.git`, 'main'], dir);
  return { code: r.code, stderr: r.stderr };
}

describe('a push refused early', () => {
  it('an object over the size limit: git prints the reason, exits non-zero, and the connection is not reset', async () => {
    const r = await pushBig('limit', 24 * 1024 * 1024);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/RPC failed/);
    expect(r.stderr).not.toMatch(/Everything up-to-date/);
    expect(r.stderr).toMatch(/exceeds|limit/i);
    expect(r.stderr).toMatch(/remote rejected|unpack/);
    expect(await (await engine.getRepo('limit')).refs.list()).toEqual([]);
  }, 60_000);
});

/** A push of one blob whose zlib stream is stored blocks of zeros: the pack is as big as the blob, and gzip shrinks it ~1000×. */
function storedZerosPush(blobBytes: number): Uint8Array {
  const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
  const head = new TextEncoder().encode(`${pkt(`${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/main\0report-status\n`)}0000`);
  const packHeader = new Uint8Array([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 1]);
  const entry: number[] = [];
  let size = blobBytes;
  entry.push(0x80 | (3 << 4) | (size & 0x0f)); // type 3 (blob), size continues
  size = Math.floor(size / 16);
  while (size > 0) {
    entry.push((size > 0x7f ? 0x80 : 0) | (size & 0x7f));
    size = Math.floor(size / 128);
  }
  entry.push(0x78, 0x01); // zlib header
  const blocks: Uint8Array[] = [];
  for (let left = blobBytes; left > 0; ) {
    const n = Math.min(left, 65535);
    left -= n;
    const block = new Uint8Array(5 + n);
    block.set([left === 0 ? 1 : 0, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff]);
    blocks.push(block);
  }
  const parts = [head, packHeader, new Uint8Array(entry), ...blocks];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

describe('gzip request bodies', () => {
  it('are bounded after decoding: a bomb of stored zlib blocks is refused while decoding, with bounded memory', async () => {
    const bombEngine = await openEngine({ db: new MemoryLevel() as never });
    const git = createGitFetchHandler({ engine: bombEngine, limits: { maxGzipBody: 4 * 1024 * 1024 } });
    await bombEngine.createRepo('bomb');
    const bomb = gzipSync(storedZerosPush(64 * 1024 * 1024), { level: 9 }); // ~100 KB that decode to 64 MiB
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= bomb.length) return c.close();
        const part = bomb.subarray(sent, sent + 4096);
        sent += part.length;
        c.enqueue(part);
      },
    });
    const res = await git(
      new Request('http://git.test/bomb.git/git-receive-pack', {
        method: 'POST',
        headers: { 'content-type': 'application/x-git-receive-pack-request', 'content-encoding': 'gzip' },
        body,
        duplex: 'half',
      } as RequestInit),
    );
    const text = await res!.text();
    expect(text).toMatch(/unpack gzip request body decodes to more than 4194304 bytes/);
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * 1024 * 1024);
    expect(await (await bombEngine.getRepo('bomb')).refs.list()).toEqual([]);
    await bombEngine.close();
  });
});
