/**
 * A big incompressible blob pushed to `level-git serve` (on disk) and cloned back with stock
 * git: the push streams it through hashing and storage in chunks (object/chunked.ts), so the
 * server's RSS grows far less than the blob's size; the clone streams the chunks out and passes
 * `git fsck`. An NDJSON commit of a big file streams too: with a declared size in one pass, within
 * issue 13's +64 MiB of peak RSS (all of it, mapped files included); without, its chunks are
 * read back once to hash them. Sizes: LEVEL_GIT_BIG_MIB (default 256, to keep `npm test` short;
 * docs/benchmarks.md quotes a run at 512) and LEVEL_GIT_NDJSON_MIB (default 200).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriteStream } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { adminApi, generatedAdminKey, startCli, type ServeProcess } from '../cli/cli-helpers.js';
import { gitRunner } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { quiet, sampleRss } from '../helpers/rss.js';

const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.LEVEL_GIT_BIG_MIB ?? 256);
/** Issue 10's target is +256 MiB over the baseline; the bound leaves room for a loaded machine. */
const PUSH_RSS_BOUND = 320 * MiB;
const NDJSON_MIB = Number(process.env.LEVEL_GIT_NDJSON_MIB ?? 200);
/** Without a declared size (a second pass reads the chunks back): anonymous memory only, the database's mapped files not counted (see the test). */
const NDJSON_RSS_BOUND = 96 * MiB;
/** The files route reading the file back: anonymous memory, once the commit's background work is done. */
const READ_RSS_BOUND = 64 * MiB;
/** Issue 13's target (+64 MiB), asserted as is on anonymous memory for a file that declares its size. */
const NDJSON_DECLARED_RSS_BOUND = 64 * MiB;
/** All of the RSS, mapped files included: measured +29 to +33 MiB (+26 to +29 anonymous); LevelDB's compaction maps files the engine does not control, so the bound leaves room. */
const NDJSON_DECLARED_TOTAL_BOUND = 96 * MiB;

let server: ServeProcess;
let tmp: { dir: string; cleanup: () => void };
let url: string;
let adminKey: string;
const git = () => gitRunner(tmp.dir);

/** Runs `fn` while sampling the server's RSS; returns its result and the growth over the baseline. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number; anonGrowth: number; ms: number }> {
  const sampler = sampleRss(server.child.pid!, 25);
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    return { value, ms, ...sampler.stop() };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

async function writeRandom(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= MiB) {
    if (!out.write(randomBytes(Math.min(MiB, left)))) await new Promise((r) => out.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Starts a fresh server (each test measures its own) with repositories `big` and `nd`. */
async function start(): Promise<void> {
  await server?.stop();
  server = await startCli([
    '--port',
    '0',
    '--data',
    join(tmp.dir, `data-${Date.now()}`),
    '--sweep-interval',
    '0',
    '--max-commit-bytes',
    String(2 * NDJSON_MIB * MiB),
  ]);
  adminKey = generatedAdminKey(server);
  const api = adminApi(server, adminKey);
  expect((await api('/repos', { name: 'big' })).status).toBe(201);
  expect((await api('/repos', { name: 'nd' })).status).toBe(201);
  url = ((await (await api('/repos/big/remote-url', { permissions: ['git:read', 'git:write'] })).json()) as { url: string }).url;
}

beforeAll(() => {
  tmp = tempDir('level-git-big-');
});

afterAll(async () => {
  await server?.stop();
  tmp?.cleanup();
});

describe(`a ${SIZE_MIB} MiB incompressible blob`, () => {
  it('is pushed with bounded server memory and cloned back intact', async () => {
    await start();
    const work = join(tmp.dir, 'work');
    const { ok } = git();
    await ok(['init', '-q', '-b', 'main', work]);
    await writeRandom(join(work, 'big.bin'), SIZE_MIB * MiB);
    // No compression on the client: the test measures the server, not zlib on random bytes.
    await ok(['-c', 'core.compression=0', 'add', 'big.bin'], work);
    await ok(['commit', '-qm', 'big'], work);
    const blob = await ok(['rev-parse', 'HEAD:big.bin'], work);

    const push = await measured(() => ok(['-c', 'pack.compression=0', 'push', '-q', url, 'HEAD:refs/heads/main'], work));
    console.log(
      `push of ${SIZE_MIB} MiB: ${(push.ms / 1000).toFixed(1)} s, server RSS +${Math.round(push.growth / MiB)} MiB (anonymous +${Math.round(push.anonGrowth / MiB)} MiB)`,
    );
    expect(push.growth).toBeLessThan(PUSH_RSS_BOUND);

    const clone = join(tmp.dir, 'clone');
    const cloned = await measured(() => ok(['clone', '-q', url, clone]));
    console.log(
      `clone of ${SIZE_MIB} MiB: ${(cloned.ms / 1000).toFixed(1)} s, server RSS +${Math.round(cloned.growth / MiB)} MiB (anonymous +${Math.round(cloned.anonGrowth / MiB)} MiB)`,
    );
    expect(await ok(['rev-parse', 'HEAD:big.bin'], clone)).toBe(blob);
    await ok(['fsck', '--strict'], clone);
  }, 900_000);
});

/**
 * Posts an NDJSON commit of one file of random bytes, sent as 1 MiB base64 lines as the socket
 * takes them (with `size` on the first line when `declare`); returns the status and the blob's id.
 */
function postNdjson(bytes: number, declare = false, path = 'big.bin'): Promise<{ status: number; text: string; blob: string }> {
  const hash = createHash('sha1').update(`blob ${bytes}\0`);
  const u = new URL(`${server.url}/api/v1/repos/nd/commits`);
  return new Promise((resolve, reject) => {
    // A connection of its own (agent: false): a kept-alive socket the server closed while idle would fail the next request.
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        agent: false,
        method: 'POST',
        headers: { 'x-api-key': adminKey, 'content-type': 'application/x-ndjson' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, blob: hash.digest('hex') }));
      },
    );
    req.on('error', reject);
    (async () => {
      const write = async (line: unknown) => {
        if (!req.write(`${JSON.stringify(line)}\n`)) await new Promise((r) => req.once('drain', r));
      };
      await write({ branch: 'main', message: 'big file', author: { name: 'A', email: 'a@example.com' } });
      for (let at = 0; at < bytes; at += MiB) {
        const piece = randomBytes(Math.min(MiB, bytes - at));
        hash.update(piece);
        const first = declare ? { size: bytes } : {};
        await write({ path, encoding: 'base64', content: piece.toString('base64'), ...(at === 0 ? first : { append: true }) });
      }
      req.end();
    })().catch(reject);
  });
}

describe(`an NDJSON commit of a ${NDJSON_MIB} MiB file`, () => {
  it('streams into chunks with bounded server memory, and back out of the files route', async () => {
    await start();
    const r = await measured(() => postNdjson(NDJSON_MIB * MiB));
    console.log(
      `NDJSON commit of ${NDJSON_MIB} MiB: ${(r.ms / 1000).toFixed(1)} s, server RSS +${Math.round(r.growth / MiB)} MiB (anonymous +${Math.round(r.anonGrowth / MiB)} MiB)`,
    );
    expect(r.value.status).toBe(201);
    // Anonymous memory: the heap and buffers. The database's files mapped while it reads the
    // chunks back to hash them are page cache (file-backed), printed above with the total.
    expect(r.anonGrowth).toBeLessThan(NDJSON_RSS_BOUND);
    const tree = (await (await fetch(`${server.url}/api/v1/repos/nd/tree?ref=main`, { headers: { 'x-api-key': adminKey } })).json()) as {
      entries: { path: string; sha: string }[];
    };
    expect(tree.entries.find((e) => e.path === 'big.bin')?.sha).toBe(r.value.blob);

    // The files route inflates the chunks piece by piece as the client reads. Measured once the
    // commit's background work (the branch's warm-up) is done: the route's memory alone.
    await quiet(server.child.pid!);
    const read = await measured(async () => {
      const res = await fetch(`${server.url}/api/v1/repos/nd/files/big.bin`, { headers: { 'x-api-key': adminKey } });
      const hash = createHash('sha1');
      let n = 0;
      for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (n === 0) hash.update(`blob ${Number(res.headers.get('content-length'))}\0`);
        hash.update(piece);
        n += piece.length;
      }
      return { n, sha: hash.digest('hex') };
    });
    console.log(
      `files route read of ${NDJSON_MIB} MiB: ${(read.ms / 1000).toFixed(1)} s, server RSS +${Math.round(read.growth / MiB)} MiB (anonymous +${Math.round(read.anonGrowth / MiB)} MiB)`,
    );
    expect(read.value).toEqual({ n: NDJSON_MIB * MiB, sha: r.value.blob });
    // +17 to +26 MiB measured alone (+69 to +100 MiB while the warm-up still ran beside it).
    expect(read.anonGrowth).toBeLessThan(READ_RSS_BOUND);
  }, 900_000);

  it('with a declared size: one pass (hashed and deflated as the bytes arrive), total RSS within the target', async () => {
    await start();
    const r = await measured(() => postNdjson(NDJSON_MIB * MiB, true, 'declared.bin'));
    console.log(
      `NDJSON commit of ${NDJSON_MIB} MiB with a declared size: ${(r.ms / 1000).toFixed(1)} s, server RSS +${Math.round(r.growth / MiB)} MiB (anonymous +${Math.round(r.anonGrowth / MiB)} MiB)`,
    );
    expect(r.value.status).toBe(201);
    // Nothing is read back, so the whole RSS, the database's mapped files included, stays bounded.
    expect(r.growth).toBeLessThan(NDJSON_DECLARED_TOTAL_BOUND);
    expect(r.anonGrowth).toBeLessThan(NDJSON_DECLARED_RSS_BOUND);
    const tree = (await (await fetch(`${server.url}/api/v1/repos/nd/tree?ref=main`, { headers: { 'x-api-key': adminKey } })).json()) as {
      entries: { path: string; sha: string }[];
    };
    expect(tree.entries.find((e) => e.path === 'declared.bin')?.sha).toBe(r.value.blob);
  }, 900_000);
});
