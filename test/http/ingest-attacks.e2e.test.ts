/**
 * The attack corpus of bounded ingest (docs/security.md), against `level-git serve` in a child
 * process: raw packs built here, pushed straight to git-receive-pack, while /healthz is polled
 * and the server's RSS sampled from /proc. Each must be refused with its limit, the server's
 * RSS must stay within a generous bound of its baseline and /healthz must keep answering.
 * Figures are printed (docs/benchmarks.md quotes them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { createDeflate } from 'node:zlib';
import { adminApi, generatedAdminKey, startCli, type ServeProcess } from '../cli/cli-helpers.js';
import { encodeEntryHeader } from '../../src/pack/entry.js';
import { concat } from '../../src/platform/bytes.js';
import { writePackSync, deltasAfterBase, deltasBeforeBase } from '../pack/crafted-packs.js';
import { rss } from '../helpers/rss.js';

const MiB = 1024 * 1024;
const RSS_BOUND = 512 * MiB;
const HEALTHZ_BOUND_MS = 1000;

let server: ServeProcess;
let adminKey: string;
let pushUrl: URL;

function post(url: URL, path: string, body: Uint8Array, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const auth = url.username
      ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` }
      : {};
    const req = request(
      // agent: false: a kept-alive socket idle past the server's 5 s keep-alive timeout (while this
      // process builds the next pack) would be reused after the server closed it (EPIPE).
      {
        agent: false,
        host: url.hostname,
        port: url.port,
        path: url.pathname + path,
        method: 'POST',
        headers: { ...headers, ...auth, 'content-length': body.length },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('latin1') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function pkt(s: string): Uint8Array {
  return new TextEncoder().encode((s.length + 4).toString(16).padStart(4, '0') + s);
}

/** Pushes `pack` to refs/heads/attack while polling /healthz and sampling RSS. */
async function attack(name: string, pack: Uint8Array): Promise<{ text: string; rssGrowth: number; healthzMaxMs: number; ms: number }> {
  const pid = server.child.pid!;
  const base = rss(pid);
  let peak = base;
  let healthzMax = 0;
  let running = true;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rss(pid));
    } catch {
      // the server died: the assertions below report it
    }
  }, 20);
  const poll = (async () => {
    while (running) {
      const t = performance.now();
      const res = await fetch(`${server.url}/healthz`);
      await res.text();
      healthzMax = Math.max(healthzMax, performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t0 = performance.now();
  const body = concat([pkt(`${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/attack\0report-status\n`), new TextEncoder().encode('0000'), pack]);
  const res = await post(pushUrl, '/git-receive-pack', body, { 'content-type': 'application/x-git-receive-pack-request' });
  const ms = performance.now() - t0;
  running = false;
  await poll;
  clearInterval(sampler);
  peak = Math.max(peak, rss(pid));
  const r = { text: res.text, rssGrowth: peak - base, healthzMaxMs: healthzMax, ms };
  console.log(
    `${name}: pack ${pack.length} bytes, ${Math.round(ms)} ms, RSS +${Math.round(r.rssGrowth / MiB)} MiB, healthz max ${Math.round(healthzMax)} ms: ${/unpack [^\n]*/.exec(res.text)?.[0]}`,
  );
  return r;
}

async function zlibBomb(size: number): Promise<Uint8Array> {
  const z = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  z.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((r) => z.on('end', r));
  const zero = Buffer.alloc(MiB);
  for (let left = size; left > 0; left -= MiB) {
    if (!z.write(left >= MiB ? zero : zero.subarray(0, left))) await new Promise((r) => z.once('drain', r));
  }
  z.end();
  await done;
  return writePackSync([concat([encodeEntryHeader(3, size), new Uint8Array(Buffer.concat(parts))])]);
}

beforeAll(async () => {
  server = await startCli(['--memory', '--port', '0', '--sweep-interval', '0']);
  adminKey = generatedAdminKey(server);
  const api = adminApi(server, adminKey);
  expect((await api('/repos', { name: 'target' })).status).toBe(201);
  const minted = (await (await api('/repos/target/remote-url', { permissions: ['git:read', 'git:write'] })).json()) as { url: string };
  pushUrl = new URL(minted.url);
}, 60_000);

afterAll(async () => {
  if (server?.child.exitCode !== null) console.log(server?.output());
  await server?.stop();
});

describe('bounded ingest under attack (level-git serve)', () => {
  it('refuses four 256 MiB ref-deltas sent before their base (a 66 KB pack)', async () => {
    const r = await attack('4 x 256 MiB deltas before their base', deltasBeforeBase(4, 256 * MiB));
    expect(r.text).toMatch(/unpack .*maxDeferredBytes|unpack .*waiting for their base/);
    expect(r.rssGrowth).toBeLessThan(RSS_BOUND);
    expect(r.healthzMaxMs).toBeLessThan(HEALTHZ_BOUND_MS);
  }, 120_000);

  it('refuses a zlib bomb (one 511 MiB blob in a 520 KB pack) before inflating it', async () => {
    const r = await attack('zlib bomb, 511 MiB blob', await zlibBomb(511 * MiB));
    expect(r.text).toMatch(/unpack .*inflates to more than/);
    expect(r.rssGrowth).toBeLessThan(RSS_BOUND);
    expect(r.healthzMaxMs).toBeLessThan(HEALTHZ_BOUND_MS);
  }, 120_000);

  it('refuses 16 deltas of 128 MiB waiting for their base (a 66 KB pack)', async () => {
    const r = await attack('16 x 128 MiB deltas before their base', deltasBeforeBase(16, 128 * MiB));
    expect(r.text).toMatch(/unpack .*waiting for their base/);
    expect(r.rssGrowth).toBeLessThan(RSS_BOUND);
    expect(r.healthzMaxMs).toBeLessThan(HEALTHZ_BOUND_MS);
  }, 120_000);

  it('refuses four 256 MiB ref-deltas sent after their base once they inflate past the budget', async () => {
    const r = await attack('4 x 256 MiB deltas after their base', deltasAfterBase(4, 256 * MiB));
    expect(r.text).toMatch(/unpack .*inflates to more than/);
    expect(r.rssGrowth).toBeLessThan(RSS_BOUND);
    expect(r.healthzMaxMs).toBeLessThan(HEALTHZ_BOUND_MS);
  }, 180_000);

  it('still serves afterwards', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
